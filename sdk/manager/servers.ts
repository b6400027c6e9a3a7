import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { KubeloopError, type Logger } from '../client/index.js';

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
    super('ERR_INVALID_BIND_ADDRESS', `bind address ${JSON.stringify(address)}: ${problem} (use ':8080', '127.0.0.1:8080', '[::1]:8080', or '0' to disable)`);
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
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw new BindAddressError(address, `invalid port ${JSON.stringify(portText)}`);
  return { host: host === '' ? undefined : host, port: Number(portText) };
}

const disabled: Server = { address: undefined, port: undefined, close: () => Promise.resolve() };

async function listen(bindAddress: string, handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<Server> {
  const bind = parseBindAddress(bindAddress);
  if (!bind) return disabled;
  const server = createServer({ requestTimeout: 30_000 }, (req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, `internal server error: ${oneLine(err)}\n`);
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(new KubeloopError('ERR_LISTEN', `cannot listen on ${bindAddress}: ${err.message}`, { cause: err }));
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
}

/**
 * Serves `GET /metrics` in the Prometheus text format from `registry`. Other paths answer 404.
 *
 * Guarantees and errors: as {@link startProbeServer}.
 *
 * Caveats: served without authentication or TLS, as controller-runtime's default; protect it with a NetworkPolicy
 * or a proxy (kube-rbac-proxy) when the metrics are sensitive.
 */
export function startMetricsServer(options: MetricsServerOptions): Promise<Server> {
  return listen(options.bindAddress, async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://metrics').pathname;
    if (path !== '/metrics') {
      send(res, 404, 'not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
      return;
    }
    const body = await options.registry.metrics();
    send(res, 200, body, { 'content-type': options.registry.contentType });
  });
}
