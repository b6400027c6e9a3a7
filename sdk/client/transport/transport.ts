import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGunzip } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { request as undiciRequest } from './undici.js';
import { defaultMaxResponseBytes, defaultPingIntervalMs, type RestConfig } from '../config/types.js';
import { decodeStatusBody, isProtobuf } from '../meta/protobuf.js';
import {
  ApiError,
  ConfigError,
  ResponseTooLargeError,
  TransportError,
  describeUrl,
  type RequestInfo,
} from '../errors.js';
import { createCredentialProvider, type CredentialProvider, type RequestCredentials } from './credentials.js';
import { dispatchersFor, poolGeneration, type ConnectionSpec } from './dispatchers.js';
import { connectionBroke, describeNetworkError, failedBeforeSending } from './network-errors.js';
import { proxyForUrl } from './proxy-env.js';
import { TokenBucket } from './rate-limiter.js';
import { tlsFileSource, type TlsFileSource, type TlsMaterial } from './tls-files.js';
import { defaultUserAgent } from './user-agent.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

export interface HttpRequest {
  method: HttpMethod;
  /** Path and query, relative to the host (its path prefix is added). */
  path: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  signal?: AbortSignal | undefined;
  /** Whole-request timeout for buffered requests. Default: the config's `timeoutMs`. Not applied to streams. */
  timeoutMs?: number | undefined;
}

export interface HttpResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface StreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Dispatcher.ResponseData['body'];
}

/** Where and how a WebSocket connects: see {@link Transport.webSocketTarget}. */
export interface WebSocketTarget {
  url: string;
  headers: Record<string, string | string[]>;
  tls: { ca?: string; cert?: string; key?: string; servername?: string; rejectUnauthorized: boolean };
  proxyUrl?: string;
  /** The config's `pingIntervalMs`: how often an open WebSocket is PINGed (0: never). */
  pingIntervalMs: number;
}

/** A request/response observer: the manager turns these into `rest_client_requests_total` and latency metrics. */
export interface RequestObserver {
  (event: { method: string; host: string; path: string; statusCode: number | 'error'; durationMs: number }): void;
}

const observers = new Set<RequestObserver>();

/** Registers a process-wide observer of every API request (client-go's metrics.Register). Returns an unregister. */
export function observeRequests(observer: RequestObserver): () => void {
  observers.add(observer);
  return () => observers.delete(observer);
}

const maxRetryAfterAttempts = 10;
const maxReadRetries = 5;
const warned = new Set<string>();

/** The default handler of server `Warning` headers: each distinct warning is emitted once per process. */
export function defaultWarningHandler(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  process.emitWarning(message, 'KubernetesWarning');
}

function parseWarnings(header: string | string[] | undefined): string[] {
  if (!header) return [];
  const lines = Array.isArray(header) ? header : [header];
  const out: string[] = [];
  for (const line of lines) {
    for (const match of line.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)) out.push(match[1]!.replace(/\\(.)/g, '$1'));
  }
  return out;
}

function retryAfterSeconds(headers: IncomingHttpHeaders): number | undefined {
  const value = headers['retry-after'];
  if (typeof value !== 'string') return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** How much of an error answer's body (a non-2xx, to a request or a stream) is read: a Status is small. */
const maxErrorBodyBytes = 1024 * 1024;

/**
 * A response body as text, gzip-decoded when the server compressed it, read only up to `limit` bytes (after
 * decoding; 0 for none): past it, reading stops and the body is destroyed, so a gzip bomb or an endless body costs at
 * most `limit` bytes of memory.
 */
export async function readBody(body: Readable, gzip: boolean, limit: number, request: RequestInfo): Promise<string> {
  const what = gzip ? 'the gzip-decoded response body' : 'the response body';
  if (!gzip) return (await collectBody(body, limit, what, request, body)).toString('utf8');
  const gunzip = createGunzip();
  // Not stream.pipeline: it aborts an AbortController of its own when it finishes, and the DOMException that makes
  // cost more than the rest of reading a small body (S5's profile). Errors go both ways by hand instead.
  body.once('error', (err) => gunzip.destroy(err));
  gunzip.once('error', () => body.destroy());
  body.pipe(gunzip);
  return (await collectBody(gunzip, limit, what, request, body)).toString('utf8');
}

/**
 * Reads `source` to its end with 'data' events (no async iterator, no pipeline: a request's hot path), up to `limit`
 * bytes; past it, or when the stream closes early, `body` (the response) is destroyed and the read fails.
 */
function collectBody(
  source: Readable,
  limit: number,
  what: string,
  request: RequestInfo,
  body: Readable,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      source.removeListener('data', onData);
      if (!body.destroyed) body.destroy();
      if (source !== body && !source.destroyed) source.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (limit > 0 && size > limit) {
        fail(new ResponseTooLargeError(what, limit, request));
        return;
      }
      chunks.push(chunk);
    };
    source.on('data', onData);
    source.once('end', () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks, size));
    });
    source.once('error', fail);
    // A body destroyed without an error (the connection went) ends neither with 'end' nor with 'error'.
    // ('close' also follows every 'end': the error is made only when nothing settled.)
    source.once('close', () => {
      if (!settled) fail(new Error('the connection closed before the response body ended'));
    });
  });
}

/**
 * The HTTP layer under every kubeloop client: one per RestConfig, sharing connection pools with equal configs.
 *
 * Guarantees: TLS is verified unless `insecureSkipTLSVerify` is set; credentials go in headers or the TLS handshake,
 * never in URLs, errors or logs. Retries: a 429 or 5xx answer with `Retry-After` is retried up to 10 times (any verb:
 * the server did not act on it); a GET whose connection broke is retried up to 5 times with backoff; a write whose
 * outcome is unknown is never retried. A 401 with rotating credentials (token file, exec plugin) refreshes them and
 * retries once. Responses may come gzip-compressed (`Accept-Encoding: gzip`, as client-go asks by default; the server
 * compresses large ones) unless `disableCompression` is set. A body is read up to `maxResponseBytes` (256 MiB) after
 * decoding; past that the request fails with ResponseTooLargeError (`ERR_KUBE_RESPONSE_TOO_LARGE`).
 *
 * Dead connections: each HTTP/2 connection is PINGed every `pingIntervalMs` (15 s) and closed when a PING is not
 * acknowledged by the next one, so a connection that died without FIN or RST is found within 30 s (client-go: 30 s
 * read-idle and a 15 s PING timeout, 45 s); its requests fail, and GETs are retried on a new connection. A request
 * that times out (its `timeoutMs`, or a caller's signal aborted with a `TimeoutError`, as `AbortSignal.timeout()` and
 * the leader elector's request timeout do) also sends the next requests to a new connection at once (see
 * `Pair.replaceRequest`).
 */
export class Transport {
  readonly host: string;
  private readonly base: URL;
  /** The server's origin and path prefix (`https://host:6443/prefix`), which every request's path follows. */
  private readonly urlPrefix: string;
  /** The path prefix alone (`/prefix`, or `''`). */
  private readonly pathPrefix: string;
  /** The headers every request starts with, for the credentials they were made for (the same object while fixed). */
  private headersMemo: { creds: RequestCredentials; headers: Readonly<Record<string, string | string[]>> } | undefined;
  private readonly credentials: CredentialProvider;
  private readonly limiter: TokenBucket | undefined;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly connection: ConnectionSpec;
  private readonly onWarning: (message: string) => void;
  private readonly acceptEncoding: string;
  private readonly maxResponseBytes: number;
  /** The CA and client certificate files, when the config names them: re-read as they rotate. */
  private readonly tlsFiles: TlsFileSource | undefined;
  private dispatcherMemo:
    | {
        generation: number;
        certData: string | undefined;
        keyData: string | undefined;
        caData: string | undefined;
        pair: ReturnType<typeof dispatchersFor>;
      }
    | undefined;

  constructor(config: RestConfig) {
    let base: URL;
    try {
      base = new URL(config.host);
    } catch {
      throw new ConfigError(`host ${JSON.stringify(describeUrl(String(config.host)))} is not a URL`, { field: 'host' });
    }
    if (base.protocol !== 'https:' && base.protocol !== 'http:') {
      throw new ConfigError(`host must be an http(s) URL, not ${base.protocol}`, { field: 'host' });
    }
    this.base = base;
    this.pathPrefix = base.pathname.replace(/\/+$/, '');
    this.urlPrefix = `${base.origin}${this.pathPrefix}`;
    this.host = base.host;
    this.credentials = createCredentialProvider(config);
    this.limiter =
      config.qps && config.qps > 0 ? new TokenBucket(config.qps, config.burst ?? Math.ceil(config.qps)) : undefined;
    this.userAgent = config.userAgent ?? defaultUserAgent;
    this.timeoutMs = config.timeoutMs ?? 0;
    this.onWarning = config.warningHandler ?? defaultWarningHandler;
    this.acceptEncoding = config.disableCompression ? 'identity' : 'gzip';
    this.maxResponseBytes = config.maxResponseBytes ?? defaultMaxResponseBytes;
    const proxyUrl = config.proxyUrl ?? proxyForUrl(base.href);
    this.tlsFiles = tlsFilesOf(config);
    this.connection = {
      origin: base.origin,
      ...(this.tlsFiles && { tlsFiles: this.tlsFiles.key }),
      ...(config.caData && { caData: config.caData }),
      ...(config.serverName && { serverName: config.serverName }),
      ...(config.insecureSkipTLSVerify && { insecureSkipTLSVerify: true }),
      ...(proxyUrl && { proxyUrl }),
      pingIntervalMs: config.pingIntervalMs ?? defaultPingIntervalMs,
    };
  }

  /** A buffered request: resolves with the whole body as text, or throws ApiError for a non-2xx answer. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const deadline = timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined;
    const { res, replaceConnection } = await this.send(req, 'request', deadline, timeoutMs);
    const failed = res.statusCode >= 300;
    // An error answer is read up to 1 MiB (a Status is small); past that it is still the ApiError of its status code,
    // without the body, so isNotFound() and friends keep working on a proxy's huge error page.
    const limit =
      failed && this.maxResponseBytes !== 0
        ? Math.min(this.maxResponseBytes, maxErrorBodyBytes)
        : this.maxResponseBytes;
    let body: string;
    try {
      body = await readBody(res.body, res.headers['content-encoding'] === 'gzip', limit, this.info(req));
    } catch (err) {
      if (!(err instanceof ResponseTooLargeError)) {
        if (timedOut(req, deadline)) replaceConnection();
        throw this.networkError(err, req, deadline, timeoutMs);
      }
      if (!failed) throw err;
      body = '';
    }
    if (failed) {
      throw ApiError.fromResponse(res.statusCode, body, this.info(req), retryAfterSeconds(res.headers));
    }
    return { statusCode: res.statusCode, headers: res.headers, body };
  }

  /**
   * A streaming request (watch, logs): resolves once the headers arrived; throws ApiError for a non-2xx answer.
   * Streams are never compressed: the API server does not compress watches, and a log should arrive as it is written.
   */
  async stream(req: HttpRequest): Promise<StreamResponse> {
    const { res } = await this.send(
      { ...req, headers: { ...req.headers, 'accept-encoding': 'identity' } },
      'stream',
      undefined,
      0,
    );
    if (res.statusCode >= 300) {
      const info = this.info(req);
      const bytes = await collectBody(res.body, maxErrorBodyBytes, 'the response body', info, res.body).catch(
        () => undefined,
      );
      // A metadata-only watch asks for protobuf first, and its errors' Status come in protobuf too.
      const status = bytes && isProtobuf(res.headers['content-type']) ? decodeStatusBody(bytes) : undefined;
      const body = status ? JSON.stringify(status) : (bytes?.toString('utf8') ?? '');
      throw ApiError.fromResponse(res.statusCode, body, info, retryAfterSeconds(res.headers));
    }
    return res;
  }

  /**
   * What a WebSocket (exec, attach, port-forward) needs to reach the API server as this transport does: the `wss:` URL
   * of `path`, the headers of the current credentials (bearer token, exec plugin, impersonation), the TLS material
   * (CA, client certificate, server name; verified unless the config says otherwise) and the proxy. Waits for an exec
   * plugin's credential as a stream does. The result holds credentials: never log it.
   */
  async webSocketTarget(path: string, signal: AbortSignal | undefined): Promise<WebSocketTarget> {
    const req: HttpRequest = { method: 'GET', path, signal };
    signal?.throwIfAborted();
    if (this.limiter) await this.limiter.wait(signal);
    const { creds, files } = await this.material(req, 'stream', signal, undefined, 0);
    const url = new URL(this.url(path));
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const certData = creds.certData ?? files?.certData;
    const keyData = creds.keyData ?? files?.keyData;
    const caData = files?.caData ?? this.connection.caData;
    return {
      url: url.href,
      headers: { 'user-agent': this.userAgent, ...creds.headers },
      tls: {
        ...(caData && { ca: caData }),
        ...(certData && keyData && { cert: certData, key: keyData }),
        ...(this.connection.serverName && { servername: this.connection.serverName }),
        rejectUnauthorized: this.connection.insecureSkipTLSVerify !== true,
      },
      ...(this.connection.proxyUrl && { proxyUrl: this.connection.proxyUrl }),
      pingIntervalMs: this.connection.pingIntervalMs,
    };
  }

  /** A WebSocket handshake was refused with 401: rotating credentials are read again. True when they may change. */
  invalidateCredentials(): boolean {
    return this.credentials.invalidate();
  }

  private info(req: HttpRequest): RequestInfo {
    return { method: req.method, path: req.path };
  }

  private url(path: string): string {
    return path.startsWith('/') ? `${this.urlPrefix}${path}` : `${this.urlPrefix}/${path}`;
  }

  /** A request's path after the host: the config's path prefix, then `path`. */
  private pathOf(path: string): string {
    return path.startsWith('/') ? `${this.pathPrefix}${path}` : `${this.pathPrefix}/${path}`;
  }

  /**
   * A request's headers: user agent, accept, compression and the credentials' headers (made once per credentials
   * object), then the request's own on top.
   */
  private headers(
    creds: RequestCredentials,
    own: Record<string, string> | undefined,
  ): Readonly<Record<string, string | string[]>> {
    let memo = this.headersMemo;
    if (memo?.creds !== creds) {
      const headers = Object.freeze({
        'user-agent': this.userAgent,
        accept: 'application/json',
        'accept-encoding': this.acceptEncoding,
        ...creds.headers,
      });
      memo = { creds, headers };
      this.headersMemo = memo;
    }
    if (own) for (const _ in own) return { ...memo.headers, ...own };
    return memo.headers;
  }

  private networkError(err: unknown, req: HttpRequest, deadline: AbortSignal | undefined, timeoutMs: number): Error {
    if (req.signal?.aborted)
      return req.signal.reason instanceof Error ? req.signal.reason : new Error(String(req.signal.reason));
    if (deadline?.aborted) {
      return new TransportError(`timed out after ${timeoutMs} ms`, this.info(req), { cause: err });
    }
    return new TransportError(describeNetworkError(err, this.base.origin), this.info(req), { cause: err });
  }

  /**
   * The credentials and TLS material of one attempt. Waiting for an exec plugin honours the request's signal and
   * timeout; a stream, which has no timeout, waits for a credential at most the config's `timeoutMs`, or
   * {@link streamCredentialWaitMs}. A plugin that outlives the wait keeps running, and the next attempt joins its run.
   */
  private async material(
    req: HttpRequest,
    kind: 'request' | 'stream',
    signal: AbortSignal | undefined,
    deadline: AbortSignal | undefined,
    timeoutMs: number,
  ): Promise<{ creds: RequestCredentials; files: TlsMaterial | undefined }> {
    const waitingFor = this.credentials.waitingFor;
    const waitMs = kind === 'stream' && waitingFor ? (this.timeoutMs > 0 ? this.timeoutMs : streamCredentialWaitMs) : 0;
    const waitDeadline = waitMs > 0 ? AbortSignal.timeout(waitMs) : undefined;
    const waitSignal = waitDeadline ? anySignal(signal, waitDeadline) : signal;
    let creds: RequestCredentials;
    try {
      creds = await this.credentials.get(waitSignal);
    } catch (err) {
      if (req.signal?.aborted) throw this.networkError(err, req, deadline, timeoutMs);
      if (deadline?.aborted || waitDeadline?.aborted) {
        const after = deadline?.aborted ? `timed out after ${timeoutMs} ms` : `gave up after ${waitMs} ms`;
        throw new TransportError(
          `${after} waiting for ${waitingFor ?? 'credentials'} to give a credential`,
          this.info(req),
          {
            cause: err,
          },
        );
      }
      throw err;
    }
    return { creds, files: this.tlsFiles ? await this.tlsFiles.current() : undefined };
  }

  private async send(
    req: HttpRequest,
    kind: 'request' | 'stream',
    deadline: AbortSignal | undefined,
    timeoutMs: number,
  ): Promise<{ res: Dispatcher.ResponseData; replaceConnection: () => void }> {
    const signal = deadline ? anySignal(req.signal, deadline) : req.signal;
    let refreshedCredentials = false;
    for (let attempt = 0; ; attempt++) {
      try {
        signal?.throwIfAborted();
        if (this.limiter) await this.limiter.wait(signal);
      } catch (err) {
        throw this.networkError(err, req, deadline, timeoutMs);
      }
      const { creds, files } = await this.material(req, kind, signal, deadline, timeoutMs);
      const dispatchers = this.dispatchers(
        files?.caData ?? this.connection.caData,
        creds.certData ?? files?.certData,
        creds.keyData ?? files?.keyData,
      );
      // A stream has a connection of its own, which goes when its body closes (ended, destroyed, or dumped on retry).
      const stream = kind === 'stream' ? dispatchers.openStream() : undefined;
      const used = dispatchers.request;
      // A request that times out may be stuck on a connection that died silently: the next ones take a new one.
      const replaceConnection = (): void => dispatchers.replaceRequest(used);
      const started = performance.now();
      let res: Dispatcher.ResponseData;
      try {
        const dispatcher = stream ? stream.dispatcher : used;
        const headers = this.headers(creds, req.headers);
        const path = this.pathOf(req.path);
        // A path the URL parser would leave as it is goes to the dispatcher as it is (undici's `request()` parses
        // every URL again); any other goes through the parser, which normalizes and percent-encodes it.
        res = await (plainPath.test(path)
          ? dispatcher.request({ origin: this.base.origin, path, method: req.method, headers, body: req.body, signal })
          : undiciRequest(`${this.base.origin}${path}`, {
              method: req.method,
              dispatcher,
              headers,
              body: req.body,
              signal,
            }));
      } catch (err) {
        stream?.close();
        this.observe(req, 'error', started);
        if (!stream && timedOut(req, deadline)) replaceConnection();
        const retryable = req.method === 'GET' ? connectionBroke(err) : failedBeforeSending(err);
        if (retryable && attempt < maxReadRetries && !signal?.aborted) {
          await sleep(100 * 2 ** attempt, undefined, { signal }).catch((e: unknown) => {
            throw this.networkError(e, req, deadline, timeoutMs);
          });
          continue;
        }
        throw this.networkError(err, req, deadline, timeoutMs);
      }
      if (stream) {
        const { close } = stream;
        res.body.once('close', close);
        if (res.body.destroyed) close();
      }
      this.observe(req, res.statusCode, started);
      if (res.headers['warning']) for (const warning of parseWarnings(res.headers['warning'])) this.onWarning(warning);

      if (res.statusCode === 401 && !refreshedCredentials && this.credentials.invalidate()) {
        refreshedCredentials = true;
        await res.body.dump();
        continue;
      }
      const wait = retryAfterSeconds(res.headers);
      if ((res.statusCode === 429 || res.statusCode >= 500) && wait !== undefined && attempt < maxRetryAfterAttempts) {
        await res.body.dump();
        await sleep(Math.min(wait, 60) * 1000, undefined, { signal }).catch((e: unknown) => {
          throw this.networkError(e, req, deadline, timeoutMs);
        });
        continue;
      }
      return { res, replaceConnection };
    }
  }

  /**
   * The pooled dispatchers for the CA and client certificate in use, looked up again only when they change (exec
   * plugins, rotated files) or the dispatchers were retired.
   */
  private dispatchers(
    caData: string | undefined,
    certData: string | undefined,
    keyData: string | undefined,
  ): ReturnType<typeof dispatchersFor> {
    const memo = this.dispatcherMemo;
    const generation = poolGeneration();
    if (
      memo &&
      !memo.pair.retired &&
      memo.generation === generation &&
      memo.caData === caData &&
      memo.certData === certData &&
      memo.keyData === keyData
    ) {
      return memo.pair;
    }
    const { caData: _static, ...connection } = this.connection;
    const pair = dispatchersFor({ ...connection, ...(caData && { caData }), ...(certData && { certData, keyData }) });
    this.dispatcherMemo = { generation, caData, certData, keyData, pair };
    return pair;
  }

  private observe(req: HttpRequest, statusCode: number | 'error', started: number): void {
    if (observers.size === 0) return;
    const event = {
      method: req.method,
      host: this.host,
      path: req.path,
      statusCode,
      durationMs: performance.now() - started,
    };
    for (const observer of observers) observer(event);
  }
}

/** How long a stream (watch, log) waits for an exec plugin's credential when the config sets no `timeoutMs`. */
export const streamCredentialWaitMs = 60_000;

function tlsFilesOf(config: RestConfig): TlsFileSource | undefined {
  const pair = Boolean(config.certFile && config.keyFile);
  if (!config.caFile && !pair) return undefined;
  return tlsFileSource(
    {
      ...(config.caFile && { caFile: config.caFile }),
      ...(pair && { certFile: config.certFile, keyFile: config.keyFile }),
    },
    {
      ...(config.caData && { caData: config.caData }),
      ...(config.certData && config.keyData && { certData: config.certData, keyData: config.keyData }),
    },
  );
}

/**
 * Whether a request ended because time ran out: its own timeout, or a caller's signal aborted with a `TimeoutError`
 * (`AbortSignal.timeout()`, the leader elector's request timeout), not a cancellation.
 */
function timedOut(req: HttpRequest, deadline: AbortSignal | undefined): boolean {
  if (req.signal?.aborted) return (req.signal.reason as Error | undefined)?.name === 'TimeoutError';
  return deadline?.aborted === true;
}

/**
 * A path (with its query) that the WHATWG URL parser leaves unchanged: segments that are not dot segments (none starts
 * with `.` or `%2e`), and only characters it neither percent-encodes nor drops, in the path and in a non-empty query.
 */
const plainPath = /^(?:\/(?!\.|%2e)[\w\-.~%!$&()*+,;=:@]*)+(?:\?[\w\-.~%!$&()*+,;=:@/?]*[\w\-.~%!$&()*+,;=:@/])?$/i;

function anySignal(a: AbortSignal | undefined, b: AbortSignal): AbortSignal {
  return a ? AbortSignal.any([a, b]) : b;
}

const transports = new WeakMap<RestConfig, Transport>();

/** The Transport of a RestConfig object, made once per object. */
export function transportFor(config: RestConfig): Transport {
  let transport = transports.get(config);
  if (!transport) {
    transport = new Transport(config);
    transports.set(config, transport);
  }
  return transport;
}
