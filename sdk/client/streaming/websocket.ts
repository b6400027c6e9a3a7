/**
 * Opens the WebSocket of an exec, attach or port-forward call to the API server, authenticated as every other request
 * of the same RestConfig (see {@link Transport.webSocketTarget}).
 *
 * Why `ws` and not undici's `WebSocket`: a refused handshake must become the server's answer (a 403 for a user without
 * `pods/exec`, a 400 naming a missing container), and undici's WebSocket reports any non-101 answer only as an
 * `error` event without status or body; `ws` hands over the response (`unexpected-response`). `ws` also pauses
 * reading (`pause()`), so a slow consumer of stdout or of a forwarded port holds the server back instead of
 * buffering without bound. TLS goes through Node's `tls` with the config's CA, client certificate and server name
 * (verified unless the config sets `insecureSkipTLSVerify`), and an HTTP(S) proxy is reached with a CONNECT tunnel
 * made here.
 */
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { ClientOptions } from 'ws';
import type WebSocket from 'ws';
import { ApiError, ConfigError, StreamError, TransportError, type RequestInfo } from '../errors.js';
import { describeNetworkError } from '../transport/network-errors.js';
import type { Transport, WebSocketTarget } from '../transport/transport.js';

/** The largest frame accepted from the server (a Status, or a chunk of output: the kubelet sends at most 32 KiB). */
const maxPayloadBytes = 64 * 1024 * 1024;
/** How much of a refused handshake's body is read: a Status is small. */
const maxErrorBodyBytes = 1024 * 1024;

export interface OpenWebSocketOptions {
  /** Path and query, relative to the host. */
  path: string;
  /** Subprotocols, most preferred first. */
  protocols: readonly string[];
  signal?: AbortSignal | undefined;
  /**
   * Each message, from the first: registered before the handshake completes, since the server may send right after
   * it (the port-forward prefixes) and a listener added once the promise resolved would miss those.
   */
  onMessage: (data: Buffer, ws: WebSocket) => void;
}

/**
 * Connects and completes the handshake; `protocol` of the WebSocket is the subprotocol the server chose. Errors: a non-101 answer is the {@link ApiError} of its status and body (a 401
 * with rotating credentials reads them again and tries once more); no connection is a {@link TransportError}; a
 * subprotocol outside `protocols` is `ERR_KUBE_STREAM_PROTOCOL`; an abort rejects with the signal's reason and leaves
 * no socket open.
 */
export async function openWebSocket(transport: Transport, options: OpenWebSocketOptions): Promise<WebSocket> {
  const request: RequestInfo = { method: 'GET', path: options.path };
  // ws loads with the first stream, not with the client: most processes open none.
  const { default: WebSocketClient } = await import('ws');
  for (let attempt = 0; ; attempt++) {
    const target = await transport.webSocketTarget(options.path, options.signal);
    try {
      return await handshake(WebSocketClient, target, options, request, transport.host);
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 401 && attempt === 0 && transport.invalidateCredentials()) {
        continue;
      }
      throw err;
    }
  }
}

const zeroMask = (mask: Buffer): void => {
  mask.fill(0);
};

function handshake(
  WebSocketClient: typeof WebSocket,
  target: WebSocketTarget,
  options: OpenWebSocketOptions,
  request: RequestInfo,
  host: string,
): Promise<WebSocket> {
  const { signal } = options;
  signal?.throwIfAborted();
  const wsOptions: ClientOptions = {
    headers: target.headers,
    perMessageDeflate: false,
    followRedirects: false,
    maxPayload: maxPayloadBytes,
    ...target.tls,
    // Inside TLS, an all-zero masking key: ws then sends the payload as it is instead of copying and XOR-ing every
    // byte in JavaScript (a third of a port-forward's CPU). Masking protects intermediaries that parse the plain
    // WebSocket stream from payloads a browser script chose (RFC 6455 section 10.3); no intermediary reads inside
    // TLS. A plain `ws:` connection keeps random keys.
    ...(target.url.startsWith('wss:') && { generateMask: zeroMask }),
  };
  if (target.proxyUrl) wsOptions.createConnection = tunnelThrough(target, request);
  const ws = new WebSocketClient(target.url, [...options.protocols], wsOptions);
  ws.on('message', (data: Buffer) => options.onMessage(data, ws));
  return new Promise<WebSocket>((resolve, reject) => {
    let settled = false;
    const settle = (err: unknown, value?: WebSocket): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (err === undefined && value) resolve(value);
      else {
        ws.terminate();
        reject(err);
      }
    };
    const onAbort = (): void => settle(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    ws.on('unexpected-response', (_req, res) => {
      readError(res)
        .then((body) => settle(ApiError.fromResponse(res.statusCode ?? 0, body, request)))
        .catch((err: unknown) => settle(new TransportError(describeNetworkError(err, host), request, { cause: err })));
    });
    ws.once('error', (err) => {
      settle(
        err instanceof TransportError
          ? err
          : new TransportError(describeNetworkError(err, host), request, { cause: err }),
      );
    });
    ws.once('close', () =>
      settle(
        new StreamError('ERR_KUBE_STREAM_BROKEN', 'the connection closed during the WebSocket handshake', request),
      ),
    );
    ws.once('open', () => {
      if (!options.protocols.includes(ws.protocol)) {
        settle(
          new StreamError(
            'ERR_KUBE_STREAM_PROTOCOL',
            `the server chose the subprotocol ${JSON.stringify(ws.protocol)}; kubeloop speaks ${options.protocols.join(', ')}`,
            request,
          ),
        );
        return;
      }
      keepAlive(ws, target.pingIntervalMs);
      settle(undefined, ws);
    });
  });
}

/**
 * PINGs an open WebSocket every `intervalMs` and ends it when a PING got no PONG by the next one, so a connection
 * that died without FIN or RST (a node gone, a NAT that forgot it) ends the stream within two intervals instead of
 * never, as the HTTP/2 PINGs of requests and watches do. The servers on the way (the API server's translator, the
 * kubelet's WebSocket library) answer PINGs. While reading is paused for a slow consumer nothing is judged. 0 turns it
 * off.
 */
function keepAlive(ws: WebSocket, intervalMs: number): void {
  if (intervalMs <= 0) return;
  let answered = true;
  const onPong = (): void => {
    answered = true;
  };
  const timer = setInterval(() => {
    // A reader that holds the connection back (backpressure) reads no PONG either: that is not a dead connection.
    if (ws.isPaused) {
      answered = true;
      return;
    }
    if (!answered) {
      ws.terminate();
      return;
    }
    answered = false;
    ws.ping();
  }, intervalMs);
  timer.unref();
  ws.on('pong', onPong);
  ws.once('close', () => clearInterval(timer));
}

async function readError(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxErrorBodyBytes) {
      res.destroy();
      return '';
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * `createConnection` for `ws` through an HTTP or HTTPS proxy: a CONNECT tunnel to the API server, then TLS inside it
 * with the config's material. Proxy credentials in the proxy URL go in `Proxy-Authorization`, never in messages.
 */
function tunnelThrough(target: WebSocketTarget, request: RequestInfo): NonNullable<ClientOptions['createConnection']> {
  let proxy: URL;
  try {
    proxy = new URL(target.proxyUrl ?? '');
  } catch {
    throw new ConfigError('proxy URL is not a URL', { field: 'proxyUrl' });
  }
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
    throw new ConfigError(
      `exec, attach and port-forward go through http and https proxies only, not ${proxy.protocol}`,
      { field: 'proxyUrl' },
    );
  }
  const url = new URL(target.url);
  const secure = url.protocol === 'wss:';
  const port = url.port || (secure ? '443' : '80');
  const authority = `${url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname}:${port}`;
  return (_options, callback) => {
    // node:http through getBuiltinModule, not an import (see manager/servers.ts).
    const send = proxy.protocol === 'https:' ? httpsRequest : process.getBuiltinModule('node:http').request;
    const auth = proxy.username
      ? `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}`
      : undefined;
    const connect = send({
      host: proxy.hostname,
      port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...(auth && { 'proxy-authorization': auth }) },
    });
    connect.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        callback(
          new TransportError(`the proxy refused the tunnel to ${authority} with HTTP ${res.statusCode}`, request),
        );
        return;
      }
      if (!secure) {
        callback(null, socket);
        return;
      }
      const servername = target.tls.servername ?? (isIP(url.hostname) ? undefined : url.hostname);
      const tls = tlsConnect({ socket, ...target.tls, ...(servername && { servername }), ALPNProtocols: ['http/1.1'] });
      const onError = (err: Error): void => callback(err);
      tls.once('error', onError);
      tls.once('secureConnect', () => {
        tls.off('error', onError);
        callback(null, tls as Duplex);
      });
    });
    connect.once('error', (err) => callback(new TransportError(`the proxy: ${err.message}`, request, { cause: err })));
    connect.end();
    return undefined;
  };
}
