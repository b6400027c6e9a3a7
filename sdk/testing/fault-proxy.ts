import {
  Agent,
  createServer as createHttpsServer,
  request as httpsRequest,
  type Server as HttpsServer,
} from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import {
  constants as http2Constants,
  createSecureServer as createHttp2Server,
  Http2ServerRequest,
  type Http2SecureServer,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { ArgumentError, ArgumentRangeError, type RestConfig, type Status } from '../client/index.js';
import { createLoopbackServingCertificate } from './internal/tls.js';
import { reasonFor } from './internal/status.js';

/**
 * - `pass`: connections are forwarded.
 * - `drop`: every open connection is destroyed, and new ones are closed as soon as they arrive.
 */
export type FaultProxyMode = 'pass' | 'drop';

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The API server to stand in front of, and how to reach it (host, TLS, credentials): `env.config`. */
  target: RestConfig;
  /**
   * `tcp`: forward bytes; TLS and authentication stay between the client and the API server.
   * `http`: terminate TLS with the proxy's own certificate, forward each request with the target's credentials, and
   * answer the requests chosen with {@link FaultProxy.failRequests} with faults. Default: `tcp`.
   */
  layer?: 'tcp' | 'http';
  /**
   * HTTP layer: offer HTTP/2 to clients (ALPN `h2`, HTTP/1.1 still for clients that ask for it), as the API server
   * does, so a client multiplexes its requests on one connection and its HTTP/2 PINGs watch it: `stall` then leaves
   * that connection silent as a dead network path would. A `{ reset: true }` fault resets the request's stream
   * (RST_STREAM) on an HTTP/2 connection. Default: false (HTTP/1.1 only).
   */
  http2?: boolean;
}

/** Which requests a fault applies to (HTTP layer). Every field given must match. */
export interface HttpFaultMatch {
  /** `GET`, `PUT`, … */
  method?: string;
  /** A path prefix (`/api/v1/namespaces/ns/configmaps`), or a RegExp tested on path and query. */
  path?: string | RegExp;
  /** Only watches (`watch=true`), or only other requests. Default: both. */
  watch?: boolean;
  when?: (request: ProxiedRequest) => boolean;
}

/**
 * What the proxy answers instead of the API server:
 * - `{ status, reason?, message?, retryAfterSeconds? }`: that HTTP status with a metav1.Status body (and a
 *   `Retry-After` header when `retryAfterSeconds` is given), e.g. 429, 500, 503, 410;
 * - `{ watchError, reason?, message? }`: HTTP 200, then one watch `ERROR` event carrying a Status with that code,
 *   then the end of the stream: how the API server tells a watch its resourceVersion is too old (410);
 * - `{ reset: true }`: the connection is destroyed without an answer.
 */
export type HttpFault =
  | { status: number; reason?: string; message?: string; retryAfterSeconds?: number }
  | { watchError: number; reason?: string; message?: string }
  | { reset: true };

/** A request that reached the HTTP layer, and how it was answered. */
export interface ProxiedRequest {
  method: string;
  /** Path and query. */
  path: string;
  watch: boolean;
  /** The HTTP status sent back (undefined while a stream is open, or after a reset). */
  status?: number;
  /** True when a fault answered it. */
  faulted: boolean;
}

/** A registered fault. */
export interface HttpFaultRule {
  /** How many requests it answered. */
  readonly hits: number;
  remove(): void;
}

/**
 * A loopback proxy between a client and an API server, for fault tests: it can cut connections, leave them half-open,
 * slow them down, and (HTTP layer) answer chosen requests with errors.
 *
 * Guarantees: `config` reaches the target through the proxy. TCP layer: it is the target's config with another host
 * (the API server's certificate must name 127.0.0.1, as envtest's does), so client certificates keep working. HTTP
 * layer: it trusts the proxy's own throw-away CA (made at start, valid one day, for 127.0.0.1/::1/localhost) and
 * carries no credentials: the proxy sends the target's (client certificate, bearer token) upstream, so every request
 * acts as the target's user. Requests without a fault, watches included, stream through unchanged.
 *
 * Caveats: `stall`, `setMode` and `setLatencyMs` act on the TCP connections between client and proxy, in both
 * layers. With the HTTP layer, one client connection may carry several requests (keep-alive), and a fault answers one
 * request, not a connection. The HTTP layer speaks HTTP/1.1 unless `http2` is set, and does not proxy protocol upgrades (exec,
 * attach, port-forward). `failRequests` throws an `ArgumentError`
 * (`ERR_KUBE_INVALID_ARGUMENT`, a TypeError) on the TCP layer.
 */
export interface FaultProxy {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** A RestConfig that reaches the target through this proxy. */
  readonly config: RestConfig;
  /** Client connections open now (stalled ones included). */
  readonly connections: number;
  /** What reached the HTTP layer, in order (empty on the TCP layer). */
  readonly requests: readonly ProxiedRequest[];
  setMode(mode: FaultProxyMode): void;
  /**
   * Stops forwarding on every open connection without closing it, in both directions: the peers see a silent,
   * half-open connection. Connections made afterwards pass (unless the mode is `drop`). Returns how many it stalled.
   */
  stall(): number;
  /** Delays every chunk, in both directions, by this much (order kept). 0 turns it off. Default: 0. */
  setLatencyMs(ms: number): void;
  /**
   * Answers matching requests with `fault` (HTTP layer only): `failRequests({ method: 'GET', path: '/api/v1/namespaces/ns/configmaps/a' },
   * { status: 429, retryAfterSeconds: 1 }, { times: 2 })`. Rules are tried in the order they were added.
   */
  failRequests(match: HttpFaultMatch, fault: HttpFault, options?: { times?: number }): HttpFaultRule;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  stalled: boolean;
}

const hopByHop = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

function copyHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !hopByHop.has(k)) out[k] = v;
  return out;
}

function listen(server: Server | HttpsServer | Http2SecureServer): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (!address || typeof address === 'string') reject(new Error('the proxy has no TCP address'));
      else resolve(address.port);
    });
  });
}

function statusBody(
  code: number,
  reason: string | undefined,
  message: string | undefined,
  retryAfterSeconds?: number,
): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: message ?? `injected by the fault proxy: ${code}`,
    reason: reason ?? reasonFor(code),
    code,
    ...(retryAfterSeconds !== undefined && { details: { retryAfterSeconds } }),
  };
}

interface Rule {
  match: HttpFaultMatch;
  fault: HttpFault;
  times: number;
  hits: number;
}

function matches(match: HttpFaultMatch, req: ProxiedRequest): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== req.method) return false;
  if (match.path !== undefined) {
    if (typeof match.path === 'string' ? !req.path.startsWith(match.path) : !match.path.test(req.path)) return false;
  }
  if (match.watch !== undefined && match.watch !== req.watch) return false;
  return !match.when || match.when(req);
}

type AnyRequest = IncomingMessage | Http2ServerRequest;
type AnyResponse = ServerResponse | Http2ServerResponse;

/** Sends the status and headers at once (HTTP/2's compatibility response sends them on writeHead). */
function sendHead(res: AnyResponse, status: number, headers: OutgoingHttpHeaders): void {
  if ('flushHeaders' in res) {
    res.writeHead(status, headers);
    res.flushHeaders();
  } else res.writeHead(status, headers);
}

/** Answers a request with a rule's fault: a reset connection (or stream), a watch ERROR event, or an error Status. */
function injectFault(fault: HttpFault, record: ProxiedRequest, req: AnyRequest, res: AnyResponse): void {
  req.resume();
  if ('reset' in fault) {
    if (req instanceof Http2ServerRequest) req.stream.close(http2Constants.NGHTTP2_INTERNAL_ERROR);
    else req.socket.destroy();
    return;
  }
  if ('watchError' in fault) {
    record.status = 200;
    sendHead(res, 200, { 'content-type': 'application/json' });
    res.end(
      `${JSON.stringify({ type: 'ERROR', object: statusBody(fault.watchError, fault.reason, fault.message) })}\n`,
    );
    return;
  }
  record.status = fault.status;
  sendHead(res, fault.status, {
    'content-type': 'application/json',
    ...(fault.retryAfterSeconds !== undefined && { 'retry-after': String(fault.retryAfterSeconds) }),
  });
  res.end(JSON.stringify(statusBody(fault.status, fault.reason, fault.message, fault.retryAfterSeconds)));
}

/** Forwards requests to the target with its credentials, streaming the answer back. */
function upstreamForwarder(target: RestConfig): {
  forward(req: AnyRequest, res: AnyResponse, record: ProxiedRequest): void;
  close(): void;
} {
  const upstream = new URL(target.host);
  const agent = new Agent({
    keepAlive: true,
    ...(target.caData && { ca: target.caData }),
    ...(target.certData && { cert: target.certData }),
    ...(target.keyData && { key: target.keyData }),
    ...(target.serverName && { servername: target.serverName }),
    rejectUnauthorized: !target.insecureSkipTLSVerify,
  });
  const prefix = upstream.pathname.replace(/\/$/, '');
  const forward = (req: AnyRequest, res: AnyResponse, record: ProxiedRequest): void => {
    const headers = copyHeaders(req.headers);
    for (const name of Object.keys(headers)) if (name.startsWith(':')) delete headers[name]; // HTTP/2 pseudo-headers
    if (target.bearerToken) headers['authorization'] = `Bearer ${target.bearerToken}`;
    const up = httpsRequest(
      {
        agent,
        protocol: 'https:',
        hostname: upstream.hostname,
        port: upstream.port || 443,
        method: req.method,
        path: `${prefix}${record.path}`,
        headers,
      },
      (upRes) => {
        record.status = upRes.statusCode;
        sendHead(res, upRes.statusCode ?? 502, copyHeaders(upRes.headers));
        upRes.pipe(res);
        upRes.on('error', () => res.destroy());
      },
    );
    up.on('error', () => {
      if (!res.headersSent) sendHead(res, 502, { 'content-type': 'application/json' });
      res.destroy();
    });
    res.on('close', () => up.destroy());
    req.pipe(up);
  };
  return { forward, close: () => agent.destroy() };
}

/** The HTTP layer: a TLS server that forwards to the target or answers with a fault. */
async function startHttpLayer(target: RestConfig, requests: ProxiedRequest[], rules: Rule[], http2: boolean) {
  const cert = await createLoopbackServingCertificate('kubeloop-fault-proxy');
  const upstream = upstreamForwarder(target);
  const answer = (req: AnyRequest, res: AnyResponse): void => {
    const path = req.url ?? '/';
    const watch = /[?&]watch=(true|1)(&|$)/.test(path) || path.includes('/watch/');
    const record: ProxiedRequest = { method: req.method ?? 'GET', path, watch, faulted: false };
    requests.push(record);
    const rule = rules.find((r) => r.hits < r.times && matches(r.match, record));
    if (!rule) {
      upstream.forward(req, res, record);
      return;
    }
    rule.hits++;
    record.faulted = true;
    injectFault(rule.fault, record, req, res);
  };

  if (http2) {
    const server = createHttp2Server({ key: cert.keyPem, cert: cert.certPem, allowHTTP1: true }, answer);
    const sessions = new Set<Http2Session>();
    server.on('session', (session: Http2Session) => {
      sessions.add(session);
      session.once('close', () => sessions.delete(session));
    });
    const port = await listen(server);
    return {
      port,
      caPem: cert.caPem,
      close: async () => {
        for (const session of sessions) session.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        upstream.close();
      },
    };
  }
  const server = createHttpsServer({ key: cert.keyPem, cert: cert.certPem, ALPNProtocols: ['http/1.1'] }, answer);
  server.keepAliveTimeout = 60_000;
  const port = await listen(server);
  return {
    port,
    caPem: cert.caPem,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      upstream.close();
    },
  };
}

/** The TCP layer: a server whose connections are each piped to a new connection to the upstream, with the faults. */
class TcpLayer {
  readonly pairs = new Set<Pair>();
  mode: FaultProxyMode = 'pass';
  latencyMs = 0;
  readonly server: Server;

  constructor(upstreamHost: string, upstreamPort: number) {
    this.server = createServer((client) => {
      if (this.mode === 'drop') {
        client.destroy();
        return;
      }
      const upstream = connect({ host: upstreamHost, port: upstreamPort });
      const pair: Pair = { client, upstream, stalled: false };
      this.pairs.add(pair);
      const end = (): void => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on('data', this.forwarder(pair, upstream));
      upstream.on('data', this.forwarder(pair, client));
      client.on('close', end);
      upstream.on('close', end);
      client.on('error', end);
      upstream.on('error', end);
    });
  }

  /** Writes chunks to `to` in order, each `latencyMs` after it arrived. */
  private forwarder(pair: Pair, to: Socket): (chunk: Buffer) => void {
    let lastDue = 0;
    return (chunk: Buffer): void => {
      if (pair.stalled) return;
      if (this.latencyMs <= 0 && lastDue <= Date.now()) {
        to.write(chunk);
        return;
      }
      const due = Math.max(Date.now() + this.latencyMs, lastDue);
      lastDue = due;
      setTimeout(() => {
        if (!pair.stalled && !to.destroyed) to.write(chunk);
      }, due - Date.now());
    };
  }

  destroyAll(): void {
    for (const p of this.pairs) {
      p.client.destroy();
      p.upstream.destroy();
    }
    this.pairs.clear();
  }

  /** Pauses both sides of every open connection; returns how many it stalled. */
  stall(): number {
    let n = 0;
    for (const p of this.pairs) {
      if (p.stalled) continue;
      p.stalled = true;
      p.client.pause();
      p.upstream.pause();
      n++;
    }
    return n;
  }
}

/**
 * Starts a {@link FaultProxy} on 127.0.0.1 (a random port) in front of `options.target`:
 *
 * ```ts
 * const env = await startControlPlane();
 * const proxy = await startFaultProxy({ target: env.config, layer: 'http' });
 * proxy.failRequests({ path: '/api/v1/namespaces/ns/configmaps', watch: true }, { watchError: 410 }, { times: 1 });
 * const cs = createClientset(proxy.config);   // goes through the proxy
 * ```
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target.host);
  const requests: ProxiedRequest[] = [];
  const rules: Rule[] = [];
  const http =
    options.layer === 'http'
      ? await startHttpLayer(options.target, requests, rules, options.http2 === true)
      : undefined;
  const tcp = new TcpLayer(http ? '127.0.0.1' : target.hostname, http ? http.port : Number(target.port || 443));
  const port = await listen(tcp.server);
  const url = `https://127.0.0.1:${port}`;
  const config: RestConfig = http
    ? {
        host: url,
        caData: http.caPem,
        ...(options.target.userAgent && { userAgent: options.target.userAgent }),
        ...(options.target.timeoutMs !== undefined && { timeoutMs: options.target.timeoutMs }),
      }
    : { ...options.target, host: `${url}${target.pathname.replace(/\/$/, '')}` };

  return {
    url,
    port,
    config,
    get connections() {
      return tcp.pairs.size;
    },
    requests,
    setMode(next) {
      tcp.mode = next;
      if (next === 'drop') tcp.destroyAll();
    },
    stall: () => tcp.stall(),
    setLatencyMs(ms) {
      if (!Number.isFinite(ms) || ms < 0)
        throw new ArgumentRangeError(`setLatencyMs needs a finite ms >= 0, got ${ms}`);
      tcp.latencyMs = ms;
    },
    failRequests(match, fault, opts = {}) {
      if (!http)
        throw new ArgumentError("failRequests needs the HTTP layer: startFaultProxy({ target, layer: 'http' })");
      const rule: Rule = { match, fault, times: opts.times ?? Infinity, hits: 0 };
      rules.push(rule);
      return {
        get hits() {
          return rule.hits;
        },
        remove() {
          const i = rules.indexOf(rule);
          if (i >= 0) rules.splice(i, 1);
        },
      };
    },
    async close() {
      tcp.destroyAll();
      await new Promise<void>((resolve) => tcp.server.close(() => resolve()));
      await http?.close();
    },
  };
}
