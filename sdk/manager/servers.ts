import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { SecureContextOptions, SecureVersion } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { KubeloopError, type Logger } from '../client/index.js';
import { metricsCertificate, type MetricsCertificateOptions } from './internal/metrics-tls.js';
import {
  cpuProfileRunning,
  maxProfileSeconds,
  profilePaths,
  profileSeconds,
  serveCpuProfile,
  serveHeapSnapshot,
} from './internal/profiling.js';
import type { RequestAuthorizer } from './metrics-auth.js';

/**
 * One health or readiness check: resolves (or returns) when healthy, throws or rejects with the reason when not.
 * `signal` aborts when the check has taken too long and its answer is no longer awaited.
 */
export type Check = (options: { signal: AbortSignal }) => void | Promise<void>;

/** A running HTTP server of the manager. */
export interface Server {
  /** `host:port` it listens on (`[::]:8081` for all interfaces), or undefined when disabled (`'0'`). */
  readonly address: string | undefined;
  /** The port it listens on (useful with `:0`), or undefined when disabled. */
  readonly port: number | undefined;
  /** Stops listening and closes every connection, idle or not. Resolves once closed; calling it again is harmless. */
  close(): Promise<void>;
}

/** A bind address that cannot be used: not `host:port`, `:port` or `0`. */
export class BindAddressError extends KubeloopError {
  constructor(address: string, problem: string) {
    super(
      'ERR_INVALID_BIND_ADDRESS',
      `bind address ${JSON.stringify(address)}: ${problem} (use ':8080', '127.0.0.1:8080', '[::1]:8080', or '0' to disable)`,
    );
  }
}

/**
 * Parses a bind address as Go's net.Listen does: `:8080` listens on every interface, `127.0.0.1:8080` or
 * `[::1]:8080` on one, port 0 on a free port. `'0'` (and `''`) mean disabled: undefined.
 *
 * Errors: {@link BindAddressError} for anything else (a bare port `8080`, a port out of range, an unclosed bracket).
 */
export function parseBindAddress(address: string): { host: string | undefined; port: number } | undefined {
  if (address === '0' || address === '') return undefined;
  const colon = address.lastIndexOf(':');
  if (colon < 0) throw new BindAddressError(address, 'missing port');
  let host = address.slice(0, colon);
  const portText = address.slice(colon + 1);
  if (host.startsWith('[')) {
    if (!host.endsWith(']')) throw new BindAddressError(address, 'unclosed [ in IPv6 host');
    host = host.slice(1, -1);
  } else if (host.includes(':')) {
    throw new BindAddressError(address, 'an IPv6 host must be in brackets');
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535)
    throw new BindAddressError(address, `invalid port ${JSON.stringify(portText)}`);
  return { host: host === '' ? undefined : host, port: Number(portText) };
}

const disabled: Server = { address: undefined, port: undefined, close: () => Promise.resolve() };

/** HTTPS instead of HTTP for {@link listen}: the first certificate, and a hook that gets the server to reload it. */
interface ListenTls {
  options: SecureContextOptions;
  /** Gets the server once created: the certificate watcher calls its `setSecureContext`. */
  attach?: (server: HttpsServer) => void;
}

async function listen(
  bindAddress: string,
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  extra: { tls?: ListenTls; onClose?: () => void } = {},
): Promise<Server> {
  const bind = parseBindAddress(bindAddress);
  if (!bind) return disabled;
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handler(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, `internal server error: ${oneLine(err)}\n`);
      else res.destroy();
    });
  };
  const server = extra.tls
    ? createHttpsServer({ ...extra.tls.options, requestTimeout: 30_000 }, onRequest)
    : // node:http as CommonJS gives it, not an ES import: an import builds the module's namespace by reading every
      // export, and reading node:http's lazy `WebSocket`, `CloseEvent` and `MessageEvent` loads Node's bundled undici,
      // about 13 MB of a process's memory that no kubeloop code uses (S8 of the benchmarks). Types are imported.
      process.getBuiltinModule('node:http').createServer({ requestTimeout: 30_000 }, onRequest);
  if (extra.tls) {
    extra.tls.attach?.(server as HttpsServer);
    server.on('tlsClientError', () => undefined);
  }
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void =>
      reject(new KubeloopError('ERR_LISTEN', `cannot listen on ${bindAddress}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen({ host: bind.host, port: bind.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const info = server.address() as AddressInfo;
  const address = info.family === 'IPv6' ? `[${info.address}]:${info.port}` : `${info.address}:${info.port}`;
  let closing: Promise<void> | undefined;
  return {
    address,
    port: info.port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        extra.onClose?.();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s+/g, ' ').trim().slice(0, 512) || 'failed';
}

/** Options of {@link startProbeServer}. */
export interface ProbeServerOptions {
  /** `:8081` (every interface), `host:port`, `:0` (a free port) or `'0'` (disabled). */
  bindAddress: string;
  /**
   * The checks of `/healthz` (liveness: is the process working) and `/readyz` (readiness: can it serve, e.g. have
   * the informers synced), by name. Read at each request, so checks added to these objects later count.
   */
  checks: { healthz: Record<string, Check>; readyz: Record<string, Check> };
  /** How long a check may take before it counts as failed. Default: 10000. */
  checkTimeoutMs?: number;
  /** Hears of each failed check (pino-shaped). Default: none. */
  log?: Pick<Logger, 'warn'>;
}

interface CheckResult {
  name: string;
  error: string | undefined;
}

async function runCheck(name: string, check: Check, timeoutMs: number): Promise<CheckResult> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new KubeloopError('ERR_HEALTH_CHECK_TIMEOUT', `no answer within ${timeoutMs} ms`);
      controller.abort(err);
      reject(err);
    }, timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(() => check({ signal: controller.signal })), timeout]);
    return { name, error: undefined };
  } catch (err) {
    return { name, error: oneLine(err) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Serves Kubernetes-style probes: `/healthz` and `/readyz` (200 `ok` when every check passes; 503 listing each check
 * as `[+]name ok` or `[-]name failed: reason` when one fails; `?verbose` lists them on success too;
 * `?exclude=name` skips a check), and `/healthz/<name>`, `/readyz/<name>` for one check (404 if unknown). With no
 * checks, a `ping` check that always passes is reported. GET and HEAD only.
 *
 * Guarantees: checks run concurrently on each request; a check that hangs fails after `checkTimeoutMs`. `close()`
 * closes every connection, so a stopping manager never waits on a probe's keep-alive socket.
 *
 * Errors: {@link BindAddressError} for an unusable address; `ERR_LISTEN` when the port is taken or the host is not
 * local.
 *
 * Caveats: failure reasons are shown to whoever can reach the port: checks should not put secrets in their errors.
 */
export function startProbeServer(options: ProbeServerOptions): Promise<Server> {
  const timeoutMs = options.checkTimeoutMs ?? 10_000;
  return listen(options.bindAddress, async (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    const url = new URL(req.url ?? '/', 'http://probe');
    const match = /^\/(healthz|readyz)(?:\/([^/]*))?$/.exec(url.pathname);
    if (!match) {
      send(res, 404, 'not found\n');
      return;
    }
    const endpoint = match[1] as 'healthz' | 'readyz';
    const only = match[2] ? decodeURIComponent(match[2]) : undefined;
    const configured = Object.entries(options.checks[endpoint]);
    const all: [string, Check][] = configured.length > 0 ? configured : [['ping', () => {}]];

    if (only !== undefined) {
      const check = all.find(([name]) => name === only);
      if (!check) {
        send(res, 404, `no ${endpoint} check named ${JSON.stringify(only)}\n`);
        return;
      }
      const result = await runCheck(check[0], check[1], timeoutMs);
      if (result.error !== undefined) {
        options.log?.warn({ check: result.name, endpoint, error: result.error }, 'probe check failed');
        send(res, 503, `service unavailable: ${result.error}\n`);
      } else {
        send(res, 200, 'ok');
      }
      return;
    }

    const excluded = new Set(url.searchParams.getAll('exclude'));
    const chosen = all.filter(([name]) => !excluded.has(name)).toSorted(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const results = await Promise.all(chosen.map(([name, check]) => runCheck(name, check, timeoutMs)));
    const failed = results.filter((r) => r.error !== undefined);
    for (const r of failed) options.log?.warn({ check: r.name, endpoint, error: r.error }, 'probe check failed');
    if (failed.length === 0 && !url.searchParams.has('verbose')) {
      send(res, 200, 'ok');
      return;
    }
    const lines = results.map((r) => (r.error === undefined ? `[+]${r.name} ok` : `[-]${r.name} failed: ${r.error}`));
    for (const name of excluded) if (all.some(([n]) => n === name)) lines.push(`[+]${name} excluded: ok`);
    lines.push(failed.length === 0 ? `${endpoint} check passed` : `${endpoint} check failed`);
    send(res, failed.length === 0 ? 200 : 503, `${lines.join('\n')}\n`);
  });
}

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** `:8080` (every interface), `host:port`, `:0` (a free port) or `'0'` (disabled). */
  bindAddress: string;
  /** The registry to serve: the manager's own. */
  registry: Registry;
  /**
   * Serve HTTPS (TLS 1.2 or newer) instead of plain HTTP, with the certificate in `certDir` when its files exist
   * (reloaded when they rotate) or else a self-signed one, as controller-runtime's `SecureServing`. Default: plain HTTP.
   */
  secureServing?: MetricsCertificateOptions & { tlsMinVersion?: SecureVersion };
  /**
   * Decides for each request whether it is served: {@link createDelegatedAuthorizer} (TokenReview and
   * SubjectAccessReview), as controller-runtime's `filters.WithAuthenticationAndAuthorization`. Default: every request.
   */
  authorizer?: RequestAuthorizer;
  /**
   * Also serve a CPU profile (`GET /debug/pprof/profile?seconds=N`, default 30, at most 300, as a `.cpuprofile`) and a
   * heap snapshot (`GET /debug/pprof/heap`, as a `.heapsnapshot`), both for Chrome DevTools, behind the same
   * `authorizer`. Default: false.
   */
  profiling?: boolean;
  /** Hears of failed reviews and certificate reloads (pino-shaped). Default: none. */
  log?: Pick<Logger, 'warn' | 'info'>;
}

type MetricsRoute = 'metrics' | 'cpu' | 'heap';

function metricsRoute(path: string, profiling: boolean): MetricsRoute | undefined {
  if (path === '/metrics') return 'metrics';
  if (profiling && path === profilePaths.cpu) return 'cpu';
  if (profiling && path === profilePaths.heap) return 'heap';
  return undefined;
}

/** The metrics server's request handler; `stopping` aborts a CPU profile in progress when the server closes. */
function metricsHandler(
  options: MetricsServerOptions,
  stopping: AbortSignal,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://metrics');
    const route = metricsRoute(url.pathname, options.profiling ?? false);
    if (!route) return send(res, 404, 'not found\n');
    const methods = route === 'metrics' ? ['GET', 'HEAD'] : ['GET'];
    if (!methods.includes(req.method ?? ''))
      return send(res, 405, 'method not allowed\n', { allow: methods.join(', ') });
    if (options.authorizer) {
      const decision = await options.authorizer(req);
      if (!decision.allowed) {
        if (decision.status === 500)
          options.log?.warn({ path: url.pathname, error: oneLine(decision.cause) }, decision.message);
        return send(res, decision.status, `${decision.message}\n`);
      }
    }
    if (route === 'metrics')
      return send(res, 200, await options.registry.metrics(), { 'content-type': options.registry.contentType });
    if (route === 'heap') return serveHeapSnapshot(res);
    const seconds = profileSeconds(url.searchParams);
    if (seconds === undefined) return send(res, 400, `seconds must be an integer from 1 to ${maxProfileSeconds}\n`);
    if (cpuProfileRunning()) return send(res, 409, 'a CPU profile is already being taken\n');
    const gone = AbortSignal.any([stopping, abortedWhenClosed(res)]);
    return serveCpuProfile(res, seconds, gone);
  };
}

/** Aborts when the response's connection closes before the response was sent (the client went away). */
function abortedWhenClosed(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * Serves `GET /metrics` in the Prometheus text format from `registry`, and with `profiling` the CPU profile and heap
 * snapshot endpoints. Other paths answer 404.
 *
 * Guarantees: with `authorizer`, a request without a valid bearer token gets 401, one whose user may not `get` the
 * path 403, one whose review could not be made 500 (logged); nothing is served before the decision. With
 * `secureServing`, a rotated certificate is used for new connections without a restart. Closing aborts a CPU profile
 * in progress. Otherwise as {@link startProbeServer}.
 *
 * Errors: as {@link startProbeServer}; `ERR_METRICS_CERTIFICATE` when the certificate files exist but do not form a
 * pair.
 *
 * Caveats: without `secureServing` and `authorizer` it is served as controller-runtime's plain default: protect it
 * with a NetworkPolicy. Only one CPU profile runs at a time (409 otherwise); a heap snapshot stops the event loop
 * while it is taken.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<Server> {
  if (parseBindAddress(options.bindAddress) === undefined) return disabled;
  const stopping = new AbortController();
  const handler = metricsHandler(options, stopping.signal);
  if (!options.secureServing) return listen(options.bindAddress, handler, { onClose: () => stopping.abort() });
  const base = { minVersion: options.secureServing.tlsMinVersion ?? ('TLSv1.2' as const) };
  let https: HttpsServer | undefined;
  const certificate = await metricsCertificate(
    options.secureServing,
    (pair) => {
      https?.setSecureContext({ ...base, ...pair });
      options.log?.info({ certDir: options.secureServing?.certDir }, 'metrics serving certificate reloaded');
    },
    (err) =>
      options.log?.warn(
        { error: err.message },
        'metrics serving certificate not reloaded (the files do not form a pair yet)',
      ),
  );
  const server = await listen(options.bindAddress, handler, {
    tls: { options: { ...base, ...certificate.pair }, attach: (s) => (https = s) },
    onClose: () => {
      stopping.abort();
      certificate.watcher?.close();
    },
  }).catch((err: unknown) => {
    certificate.watcher?.close();
    throw err;
  });
  certificate.watcher?.watch();
  options.log?.info({ address: server.address, certificate: certificate.source }, 'metrics served over HTTPS');
  return server;
}
