/**
 * Port-forward over WebSocket, as the kubelet serves it (`v4.channel.k8s.io`, passed through by the API server): the
 * query names the ports; port `i` gets data on channel `2i` and errors on `2i + 1`, and the server starts each channel
 * with the port as two little-endian bytes. One connection per WebSocket: the protocol cannot say that one TCP
 * connection ended and another began, so each local connection opens its own (as kubectl's per-connection streams).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { ArgumentError, StreamError, TransportError, type RequestInfo } from '../errors.js';
import { describeNetworkError } from '../transport/network-errors.js';
import type { Transport } from '../transport/transport.js';
import { frames, portForwardProtocols } from './channels.js';
import { openWebSocket } from './websocket.js';

/** The close code of a connection that ended without a close frame (RFC 6455 section 7.1.5). */
const abnormalClosure = 1006;

/** How much may wait in a socket's send buffer before writes wait for it to drain. */
const maxBufferedBytes = 1024 * 1024;

/** Options of `portForwardStream`. */
export interface PortForwardStreamOptions {
  /** The pod's ports to reach, each 1–65535. */
  ports: readonly number[];
  /** Closes the connection and every port's stream. */
  signal?: AbortSignal;
}

/**
 * One WebSocket to a pod carrying one TCP connection per requested port, each a Node `Duplex`.
 *
 * Guarantees: bytes arrive in order and unchanged; a slow reader of one port pauses the whole connection. A port's
 * stream ends when the pod side closed its connection. Ending the writable side sends nothing (the protocol cannot
 * half-close); destroy the stream, or `close()`, when done.
 *
 * Errors: `opened` rejects with the ApiError of a refused call (403 without `pods/portforward`, 404 for a missing pod)
 * or a TransportError; a port the kubelet could not reach reports `ERR_KUBE_PORT_FORWARD` with its message; the
 * connection ending while a port is open is `ERR_KUBE_STREAM_BROKEN`. Streams are destroyed with the error when they
 * have an `error` listener, and otherwise just end; `closed` rejects with the first error.
 */
export interface PortForwardStream {
  /** The stream of `remotePort`, one of `ports`. */
  port(remotePort: number): Duplex;
  /** Resolves once the server accepted the connection. */
  readonly opened: Promise<void>;
  /** Resolves when the connection closed cleanly, rejects with the first error. */
  readonly closed: Promise<void>;
  /** Closes the connection now. */
  close(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Where the connection goes: the pod's `portforward` path (without query). */
export interface PortForwardTarget {
  transport: Transport;
  path: string;
  request: RequestInfo;
}

function checkPort(port: unknown, what: string): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ArgumentError(`${what} must be a whole number from 1 to 65535, not ${JSON.stringify(port)}`);
  }
  return port;
}

/** Opens one port-forward connection; see {@link PortForwardStream}. */
export function openPortForward(target: PortForwardTarget, options: PortForwardStreamOptions): PortForwardStream {
  if (!Array.isArray(options.ports) || options.ports.length === 0) {
    throw new ArgumentError('ports must name at least one port of the pod');
  }
  const ports = options.ports.map((p, i) => checkPort(p, `ports[${i}]`));
  if (new Set(ports).size !== ports.length) throw new ArgumentError('ports names a port twice');
  return new PortForwardSession(target, ports, options.signal);
}

class PortStream extends Duplex {
  /** Bytes of the port prefix still to strip from the data channel. */
  prefix = 2;
  errorPrefix = 2;
  errorText = '';

  constructor(
    private readonly session: PortForwardSession,
    readonly channel: number,
  ) {
    super({ highWaterMark: 256 * 1024, allowHalfOpen: true });
  }

  override _read(): void {
    this.session.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.session.send(this.channel, chunk, callback);
  }

  override _final(callback: (err?: Error | null) => void): void {
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.session.streamDestroyed(this);
    callback(err);
  }
}

class PortForwardSession implements PortForwardStream {
  readonly opened: Promise<void>;
  readonly closed: Promise<void>;
  readonly #streams = new Map<number, PortStream>();
  readonly #byChannel = new Map<number, PortStream>();
  readonly #request: RequestInfo;
  readonly #host: string;
  readonly #signal: AbortSignal | undefined;
  readonly #ws: Promise<WebSocket>;
  #socket: WebSocket | undefined;
  #finished = false;
  #resolveClosed!: () => void;
  #rejectClosed!: (err: unknown) => void;
  readonly #onAbort = (): void => this.#fail(this.#signal?.reason);

  constructor(target: PortForwardTarget, ports: number[], signal: AbortSignal | undefined) {
    this.#request = target.request;
    this.#host = target.transport.host;
    this.#signal = signal;
    ports.forEach((port, i) => {
      const stream = new PortStream(this, 2 * i);
      this.#streams.set(port, stream);
      this.#byChannel.set(2 * i, stream);
    });
    this.closed = new Promise<void>((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    this.closed.catch(() => undefined);
    const query = new URLSearchParams();
    for (const port of ports) query.append('ports', String(port));
    this.#ws = openWebSocket(target.transport, {
      path: `${target.path}?${query}`,
      protocols: portForwardProtocols,
      signal,
      onMessage: (data, ws) => this.#onMessage(ws, data),
    });
    this.opened = this.#ws.then(() => undefined);
    this.opened.catch(() => undefined);
    this.#ws.then(
      (ws) => this.#attach(ws),
      (err: unknown) => this.#fail(err),
    );
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  port(remotePort: number): Duplex {
    const stream = this.#streams.get(remotePort);
    if (!stream) throw new ArgumentError(`port ${remotePort} was not among the ports of this port-forward`);
    return stream;
  }

  close(): void {
    this.#end(undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.closed.catch(() => undefined);
  }

  resume(): void {
    this.#socket?.resume();
  }

  send(channel: number, chunk: Buffer, callback: (err?: Error | null) => void): void {
    void this.#send(channel, chunk, callback);
  }

  async #send(channel: number, chunk: Buffer, callback: (err?: Error | null) => void): Promise<void> {
    let ws: WebSocket;
    try {
      ws = await this.#ws;
    } catch (err) {
      callback(err as Error);
      return;
    }
    if (ws.readyState !== ws.OPEN) {
      callback(new StreamError('ERR_KUBE_STREAM_BROKEN', 'written after the connection closed', this.#request));
      return;
    }
    const messages = frames(channel, chunk);
    const last = messages.length - 1;
    messages.forEach((message, i) => {
      if (i < last) ws.send(message);
      else if (ws.bufferedAmount < maxBufferedBytes) {
        ws.send(message);
        callback();
      } else ws.send(message, () => callback());
    });
  }

  streamDestroyed(stream: PortStream): void {
    this.#byChannel.delete(stream.channel);
    if (this.#byChannel.size === 0) this.#end(undefined);
  }

  #attach(ws: WebSocket): void {
    if (this.#finished) {
      ws.terminate();
      return;
    }
    this.#socket = ws;
    ws.on('error', (err: Error) => {
      this.#fail(new TransportError(describeNetworkError(err, this.#host), this.#request, { cause: err }));
    });
    ws.on('close', (code: number) => this.#onClose(code));
    // It may have closed between the handshake and now (the code is then unknown: taken as clean).
    if (ws.readyState === 3) this.#onClose(1005);
  }

  #onMessage(ws: WebSocket, data: Buffer): void {
    if (data.length === 0) return;
    const channel = data[0]!;
    let payload = data.subarray(1);
    const stream = this.#byChannel.get(channel - (channel % 2));
    if (!stream) return;
    if (channel % 2 === 0) {
      const strip = Math.min(stream.prefix, payload.length);
      stream.prefix -= strip;
      payload = payload.subarray(strip);
      if (payload.length > 0 && !stream.push(payload)) ws.pause();
      return;
    }
    const strip = Math.min(stream.errorPrefix, payload.length);
    stream.errorPrefix -= strip;
    stream.errorText += payload.subarray(strip).toString('utf8');
  }

  /** `code` 1006: the connection ended without a close frame (cut, reset, PINGs unanswered), not a clean end. */
  #onClose(code: number): void {
    for (const stream of this.#byChannel.values()) {
      if (stream.errorText) {
        this.#fail(new StreamError('ERR_KUBE_PORT_FORWARD', stream.errorText, this.#request));
        return;
      }
    }
    if (code === abnormalClosure && !this.#finished) {
      this.#fail(
        new StreamError('ERR_KUBE_STREAM_BROKEN', 'the connection ended without a close frame', this.#request),
      );
      return;
    }
    this.#end(undefined);
  }

  /** Ends every stream: with `err` (destroyed when listened to), or cleanly (their readable side ends). */
  #end(err: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#socket?.terminate();
    for (const stream of this.#streams.values()) {
      if (stream.destroyed) continue;
      if (err !== undefined && stream.listenerCount('error') > 0) stream.destroy(err as Error);
      else {
        stream.push(null);
        if (err !== undefined) stream.destroy();
      }
    }
    if (err === undefined) this.#resolveClosed();
    else this.#rejectClosed(err);
  }

  #fail(err: unknown): void {
    this.#end(err ?? new StreamError('ERR_KUBE_STREAM_BROKEN', 'the connection failed', this.#request));
  }
}

/** One local-to-pod port of `portForward`: `local` is the port listened on (chosen by the system for `:80`). */
export interface ForwardedPort {
  local: number;
  remote: number;
}

/** Options of `portForward`. */
export interface PortForwardOptions {
  /**
   * What to forward, as kubectl writes it: `'8080:80'` (local 8080 to the pod's 80), `':80'` (a free local port to 80),
   * `'80'` or `80` (local 80 to 80).
   */
  ports: readonly (string | number)[];
  /** The local address to listen on. Default: `127.0.0.1`. */
  address?: string;
  /** Called with the error of one forwarded connection (the pod refused it, the connection broke); it is then closed. */
  onError?: (err: Error, port: ForwardedPort) => void;
  /** Closes the listeners and every forwarded connection. */
  signal?: AbortSignal;
}

/**
 * Local TCP listeners forwarding to a pod, like `kubectl port-forward`: each accepted connection gets a WebSocket of
 * its own to the pod's port.
 *
 * Guarantees: `ports` holds the local port of each listener (the system's choice for `':80'`). After `close()`
 * resolves, no listener, local connection or WebSocket is left open.
 *
 * Errors: `portForward` rejects with `ERR_KUBE_PORT_FORWARD` when a local port cannot be listened on (in use), and
 * closes the listeners it had opened. A refused or failed connection to the pod closes that local connection and goes
 * to `onError`; the listeners stay.
 */
export interface PortForward {
  readonly ports: readonly ForwardedPort[];
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** `'8080:80'`, `':80'`, `'80'`, `80` → local and remote ports (local 0: any free port). */
export function parsePortSpec(spec: string | number): { local: number; remote: number } {
  if (typeof spec === 'number') {
    const port = checkPort(spec, 'a port');
    return { local: port, remote: port };
  }
  const match = /^(\d*)(?::(\d+))?$/.exec(typeof spec === 'string' ? spec.trim() : '');
  if (!match || (match[2] === undefined && !match[1])) {
    throw new ArgumentError(`port ${JSON.stringify(spec)} is not LOCAL:REMOTE, :REMOTE or PORT (such as "8080:80")`);
  }
  const [, localText, remoteText] = match;
  if (remoteText === undefined) {
    const port = checkPort(Number(localText), `port ${JSON.stringify(spec)}`);
    return { local: port, remote: port };
  }
  const remote = checkPort(Number(remoteText), `the remote port of ${JSON.stringify(spec)}`);
  const local = localText ? checkPort(Number(localText), `the local port of ${JSON.stringify(spec)}`) : 0;
  return { local, remote };
}

/** Starts local listeners; see {@link PortForward}. */
export async function startPortForward(target: PortForwardTarget, options: PortForwardOptions): Promise<PortForward> {
  if (!Array.isArray(options.ports) || options.ports.length === 0) {
    throw new ArgumentError('ports must name at least one port, such as ["8080:80"]');
  }
  const specs = options.ports.map(parsePortSpec);
  const address = options.address ?? '127.0.0.1';
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  const sessions = new Set<PortForwardStream>();
  const forwarded: ForwardedPort[] = [];
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      options.signal?.removeEventListener('abort', onAbort);
      for (const session of sessions) session.close();
      for (const socket of sockets) socket.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    })());
  const onAbort = (): void => void close();
  options.signal?.throwIfAborted();
  try {
    for (const spec of specs) {
      const server = createServer({ noDelay: true }, (socket) => {
        const port = { local: (server.address() as AddressInfo).port, remote: spec.remote };
        forwardConnection(target, socket, port, sockets, sessions, options.onError);
      });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(spec.local, address, () => {
          server.off('error', reject);
          resolve();
        });
      });
      forwarded.push({ local: (server.address() as AddressInfo).port, remote: spec.remote });
    }
  } catch (err) {
    await close();
    throw new StreamError(
      'ERR_KUBE_PORT_FORWARD',
      `could not listen on ${address}: ${(err as Error).message}`,
      undefined,
      { cause: err },
    );
  }
  options.signal?.addEventListener('abort', onAbort, { once: true });
  return { ports: forwarded, close, [Symbol.asyncDispose]: close };
}

function forwardConnection(
  target: PortForwardTarget,
  socket: Socket,
  port: ForwardedPort,
  sockets: Set<Socket>,
  sessions: Set<PortForwardStream>,
  onError: PortForwardOptions['onError'],
): void {
  sockets.add(socket);
  const session = openPortForward(target, { ports: [port.remote] });
  sessions.add(session);
  const remote = session.port(port.remote);
  let reported = false;
  const report = (err: unknown): void => {
    if (reported || !onError) return;
    reported = true;
    onError(err as Error, port);
  };
  remote.on('error', () => undefined);
  socket.on('error', () => undefined);
  // A clean end of the pod's side ends the local connection through the pipe, after its last bytes.
  session.closed.catch((err: unknown) => {
    report(err);
    socket.destroy();
  });
  socket.pipe(remote);
  remote.pipe(socket);
  socket.once('close', () => {
    sockets.delete(socket);
    sessions.delete(session);
    session.close();
  });
}
