/**
 * Exec and attach: a session over one WebSocket speaking the channel protocol (see `channels.ts`), exposed as Node
 * streams and an exit-code promise.
 */
import { Readable, Writable } from 'node:stream';
import type WebSocket from 'ws';
import { ArgumentError, ResponseTooLargeError, StreamError, TransportError, type RequestInfo } from '../errors.js';
import { describeNetworkError } from '../transport/network-errors.js';
import type { Transport } from '../transport/transport.js';
import {
  closeFrame,
  errorChannel,
  exitCodeOf,
  frames,
  remoteCommandProtocols,
  resizeFrame,
  stderrChannel,
  stdinChannel,
  stdoutChannel,
  v5ChannelProtocol,
  type TerminalSize,
} from './channels.js';
import { openWebSocket } from './websocket.js';

/** What exec and attach share. Undefined fields take their defaults. */
export interface RemoteCommandOptions {
  /** The container; may be left out when the pod has one container. */
  container?: string;
  /** Give the process a terminal: stderr then comes merged into stdout, and `resize()` reaches it. Default: false. */
  tty?: boolean;
  /** Closes the connection and every stream; the exit-code promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of `execStream`. */
export interface ExecStreamOptions extends RemoteCommandOptions {
  /** The command and its arguments, run without a shell (`['sh', '-c', '…']` for one). */
  command: readonly string[];
  /** Open the process's stdin (`stream.stdin`). Default: false. */
  stdin?: boolean;
  /** Read the process's stdout. Default: true. */
  stdout?: boolean;
  /** Read the process's stderr. Default: true, false with `tty`. */
  stderr?: boolean;
}

/** Options of `attachStream`: as {@link ExecStreamOptions}, without a command (the container's own process). */
export type AttachStreamOptions = Omit<ExecStreamOptions, 'command'>;

/** Options of the buffered `exec`. */
export interface ExecOptions extends RemoteCommandOptions {
  /** The command and its arguments, run without a shell (`['sh', '-c', '…']` for one). */
  command: readonly string[];
  /** Sent to stdin, which is then closed (half-closed: needs a `v5.channel.k8s.io` server). Default: no stdin. */
  input?: string | Uint8Array;
  /** Past this many bytes of stdout plus stderr the call fails with ERR_KUBE_RESPONSE_TOO_LARGE. Default: 256 MiB. */
  maxOutputBytes?: number;
}

/** The buffered answer of `exec`: the output, decoded as UTF-8, and the exit code. */
export interface ExecResult {
  stdout: string;
  stderr: string;
  /** 0 for success, or the process's non-zero exit code. */
  exitCode: number;
}

/**
 * A running exec or attach.
 *
 * Guarantees: `stdout` and `stderr` end once the process ended and its output was read; a slow reader holds the
 * server back (reading pauses). Ending `stdin` half-closes it (the process sees EOF) on a `v5.channel.k8s.io` server;
 * a v4 server has no way to say so, and `protocol` tells which one answered.
 *
 * Errors: `exitCode` rejects with an {@link ApiError} when the server refused the call (403 for a user without
 * `pods/exec`, 400 or 404 for a missing pod or container), a StreamError `ERR_KUBE_REMOTE_COMMAND` when the command
 * could not run, `ERR_KUBE_STREAM_BROKEN` when the connection ended before the exit status came, and the signal's
 * reason on abort. `stdout` and `stderr` are destroyed with the same error when they have an `error` listener (as
 * under `pipeline`), and otherwise just end, so a failed call never throws from a stream nobody listens to.
 */
export interface ExecStream {
  /** The process's stdin; `null` unless `stdin: true`. Writes wait for the connection. */
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  /** `null` with `tty` (merged into stdout) or `stderr: false`. */
  readonly stderr: Readable | null;
  /** The subprotocol the server chose, once connected. */
  readonly protocol: Promise<string>;
  /** The exit code, once the process ended and the server said so. */
  readonly exitCode: Promise<number>;
  /** Tells the terminal's new size (with `tty`); sent once connected. */
  resize(size: TerminalSize): void;
  /** Closes the connection now; `exitCode` rejects with `ERR_KUBE_STREAM_BROKEN` if it had not come. */
  close(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/** How much may wait in a socket's send buffer before stdin writes wait for it to drain. */
const maxBufferedBytes = 1024 * 1024;

/** Where and how a remote command connects: the built path with its query. */
export interface RemoteCommandTarget {
  transport: Transport;
  path: string;
  request: RequestInfo;
}

interface Channels {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The query of exec and attach: `command` repeated, and the booleans kubectl sends. */
export function remoteCommandQuery(options: ExecStreamOptions | AttachStreamOptions, command?: readonly string[]) {
  const tty = options.tty === true;
  const channels: Channels = {
    stdin: options.stdin === true,
    stdout: options.stdout !== false,
    stderr: tty ? false : options.stderr !== false,
    tty,
  };
  const query = new URLSearchParams();
  if (command) {
    if (!Array.isArray(command) || command.length === 0 || command.some((c) => typeof c !== 'string')) {
      throw new ArgumentError('command must be a non-empty array of strings, such as ["sh", "-c", "echo hi"]');
    }
    for (const part of command) query.append('command', part);
  }
  if (options.container) query.set('container', options.container);
  query.set('stdin', String(channels.stdin));
  query.set('stdout', String(channels.stdout));
  query.set('stderr', String(channels.stderr));
  query.set('tty', String(channels.tty));
  return { query, channels };
}

/** Starts an exec or attach session; see {@link ExecStream}. */
export function startRemoteCommand(
  target: RemoteCommandTarget,
  channels: Channels,
  signal: AbortSignal | undefined,
): ExecStream {
  return new RemoteCommandSession(target, channels, signal);
}

class OutputStream extends Readable {
  constructor(private readonly onRead: () => void) {
    super({ highWaterMark: 256 * 1024 });
  }
  override _read(): void {
    this.onRead();
  }
}

class RemoteCommandSession implements ExecStream {
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly protocol: Promise<string>;
  readonly exitCode: Promise<number>;
  #ws: WebSocket | undefined;
  #pendingSize: TerminalSize | undefined;
  #statusText = '';
  #finished = false;
  #closedByUs = false;
  #resolveExit!: (code: number) => void;
  #rejectExit!: (err: unknown) => void;
  readonly #opened: Promise<WebSocket>;
  readonly #request: RequestInfo;
  readonly #host: string;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.#fail(this.#signal?.reason);

  constructor(target: RemoteCommandTarget, channels: Channels, signal: AbortSignal | undefined) {
    this.#request = target.request;
    this.#host = target.transport.host;
    this.#signal = signal;
    this.exitCode = new Promise<number>((resolve, reject) => {
      this.#resolveExit = resolve;
      this.#rejectExit = reject;
    });
    const resume = (): void => this.#ws?.resume();
    this.stdout = channels.stdout ? new OutputStream(resume) : null;
    this.stderr = channels.stderr ? new OutputStream(resume) : null;
    this.stdin = channels.stdin ? this.#stdinStream() : null;
    this.#opened = openWebSocket(target.transport, {
      path: target.path,
      protocols: remoteCommandProtocols,
      signal,
      onMessage: (data, ws) => this.#onMessage(ws, data),
    });
    this.protocol = this.#opened.then((ws) => ws.protocol);
    // Each is reported where it is read (a caller that only pipes the streams never sees an unhandled rejection).
    this.protocol.catch(() => undefined);
    this.exitCode.catch(() => undefined);
    this.#opened.then(
      (ws) => this.#attach(ws),
      (err: unknown) => this.#fail(err),
    );
    signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  resize(size: TerminalSize): void {
    if (!Number.isInteger(size.width) || !Number.isInteger(size.height) || size.width < 0 || size.height < 0) {
      throw new ArgumentError('resize needs whole, non-negative width and height');
    }
    if (this.#ws) this.#ws.send(resizeFrame(size));
    else this.#pendingSize = size;
  }

  close(): void {
    this.#closedByUs = true;
    this.#fail(new StreamError('ERR_KUBE_STREAM_BROKEN', 'closed before the command ended', this.#request));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.exitCode.catch(() => undefined);
  }

  #stdinStream(): Writable {
    return new Writable({
      highWaterMark: 64 * 1024,
      write: (chunk: Buffer, _encoding, callback) => void this.#write(chunk, callback),
      final: (callback) => void this.#endStdin(callback),
    });
  }

  /** Waits for the connection, then sends; a connection that never opened drops the bytes (exitCode says why). */
  async #write(chunk: Buffer, callback: (err?: Error | null) => void): Promise<void> {
    let ws: WebSocket;
    try {
      ws = await this.#opened;
    } catch {
      callback();
      return;
    }
    this.#send(ws, frames(stdinChannel, chunk), callback);
  }

  async #endStdin(callback: (err?: Error | null) => void): Promise<void> {
    const ws = await this.#opened.catch(() => undefined);
    // v4 has no way to say stdin ended: the process keeps waiting for input.
    if (ws?.protocol === v5ChannelProtocol && ws.readyState === ws.OPEN) ws.send(closeFrame(stdinChannel));
    callback();
  }

  #send(ws: WebSocket, messages: Buffer[], callback: (err?: Error | null) => void): void {
    if (ws.readyState !== ws.OPEN) {
      callback(
        new StreamError('ERR_KUBE_STREAM_BROKEN', 'stdin was written after the connection closed', this.#request),
      );
      return;
    }
    const last = messages.length - 1;
    messages.forEach((message, i) => {
      if (i < last) ws.send(message);
      else if (ws.bufferedAmount < maxBufferedBytes) {
        ws.send(message);
        callback();
      } else ws.send(message, () => callback());
    });
  }

  #attach(ws: WebSocket): void {
    if (this.#finished) {
      ws.terminate();
      return;
    }
    this.#ws = ws;
    if (this.#pendingSize) ws.send(resizeFrame(this.#pendingSize));
    ws.on('error', (err: Error) => {
      this.#fail(new TransportError(describeNetworkError(err, this.#host), this.#request, { cause: err }));
    });
    ws.on('close', () => this.#onClose());
    // It may have closed between the handshake and now.
    if (ws.readyState === 3) this.#onClose();
  }

  #onMessage(ws: WebSocket, data: Buffer): void {
    if (data.length === 0) return;
    const channel = data[0];
    const payload = data.subarray(1);
    if (payload.length === 0) return;
    const out = channel === stdoutChannel ? this.stdout : channel === stderrChannel ? this.stderr : null;
    if (out) {
      if (!out.push(payload)) ws.pause();
    } else if (channel === errorChannel) {
      this.#statusText += payload.toString('utf8');
    }
  }

  #onClose(): void {
    if (this.#finished) return;
    if (this.#statusText === '') {
      const why = this.#closedByUs ? 'closed before the command ended' : 'the connection ended without an exit status';
      this.#fail(new StreamError('ERR_KUBE_STREAM_BROKEN', why, this.#request));
      return;
    }
    let code: number;
    try {
      code = exitCodeOf(this.#statusText, this.#request);
    } catch (err) {
      this.#fail(err);
      return;
    }
    this.#finish();
    this.stdout?.push(null);
    this.stderr?.push(null);
    this.#resolveExit(code);
  }

  #finish(): void {
    this.#finished = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
  }

  #fail(err: unknown): void {
    if (this.#finished) return;
    this.#finish();
    this.#ws?.terminate();
    for (const stream of [this.stdout, this.stderr]) {
      if (!stream || stream.destroyed) continue;
      if (stream.listenerCount('error') > 0) stream.destroy(err as Error);
      else stream.push(null);
    }
    if (this.stdin && !this.stdin.destroyed) this.stdin.destroy();
    this.#rejectExit(err);
  }
}

/**
 * Runs a session to its end and collects its output: stdout and stderr as UTF-8, the exit code. Output past
 * `maxOutputBytes` closes the session with ResponseTooLargeError.
 */
export async function collectOutput(
  session: ExecStream,
  input: string | Uint8Array | undefined,
  maxOutputBytes: number,
  request: RequestInfo,
): Promise<ExecResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let size = 0;
  let tooLarge: ResponseTooLargeError | undefined;
  const collect = (stream: Readable | null, into: Buffer[]): void => {
    stream?.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (maxOutputBytes > 0 && size > maxOutputBytes && !tooLarge) {
        tooLarge = new ResponseTooLargeError('the output of the command', maxOutputBytes, request);
        session.close();
        return;
      }
      into.push(chunk);
    });
    // Failures reach the caller through exitCode.
    stream?.on('error', () => undefined);
  };
  collect(session.stdout, out);
  collect(session.stderr, err);
  if (session.stdin) {
    session.stdin.on('error', () => undefined);
    session.stdin.end(input);
  }
  const ended = [session.stdout, session.stderr].map((stream) =>
    stream ? new Promise<void>((resolve) => stream.once('end', resolve).once('close', resolve)) : Promise.resolve(),
  );
  let exitCode: number;
  try {
    exitCode = await session.exitCode;
  } catch (e) {
    throw tooLarge ?? e;
  }
  // Every chunk read before the exit status is in once the streams ended.
  await Promise.all(ended);
  return { stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), exitCode };
}
