import { createHash } from 'node:crypto';
import { Agent, ProxyAgent, Socks5ProxyAgent, type Dispatcher } from 'undici';
import { ConfigError } from '../errors.js';

/** What a TLS connection to the API server is made of. Bearer tokens are headers and do not appear here. */
export interface ConnectionSpec {
  /** `https://host:port` (origin only). */
  origin: string;
  caData?: string;
  certData?: string;
  keyData?: string;
  serverName?: string;
  insecureSkipTLSVerify?: boolean;
  /** The proxy to go through, if any. */
  proxyUrl?: string;
}

interface Pair {
  /** Ordinary requests: undici's default timeouts; HTTP/2 where the server offers it (one multiplexed connection). */
  request: Dispatcher;
  /**
   * Watches and log streams: no body timeout (the watch's own inactivity watchdog replaces it), and HTTP/1.1, one
   * connection per stream. On a shared HTTP/2 connection a half-open network path would take every watch down with
   * it, and a watch restarted after its watchdog fired would go out on the same dead connection.
   */
  stream: Dispatcher;
}

const pool = new Map<string, Pair>();
let generation = 0;

/** Changes each time the pool is emptied, so holders of a dispatcher know to look it up again. */
export function poolGeneration(): number {
  return generation;
}

function keyOf(spec: ConnectionSpec): string {
  const hash = createHash('sha256');
  for (const part of [
    spec.origin,
    spec.caData,
    spec.certData,
    spec.keyData,
    spec.serverName,
    String(spec.insecureSkipTLSVerify ?? false),
    spec.proxyUrl,
  ]) {
    hash.update(part ?? '').update('\0');
  }
  return hash.digest('hex');
}

function create(spec: ConnectionSpec, options: { bodyTimeout?: number; allowH2?: boolean }): Dispatcher {
  const tls = {
    ...(spec.caData && { ca: spec.caData }),
    ...(spec.certData && { cert: spec.certData }),
    ...(spec.keyData && { key: spec.keyData }),
    ...(spec.serverName && { servername: spec.serverName }),
    rejectUnauthorized: spec.insecureSkipTLSVerify !== true,
  };
  const common = { ...options, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 };
  if (!spec.proxyUrl) return new Agent({ ...common, connect: tls });
  let proxy: URL;
  try {
    proxy = new URL(spec.proxyUrl);
  } catch (cause) {
    throw new ConfigError(`proxy URL is not a URL`, { field: 'proxyUrl', cause });
  }
  switch (proxy.protocol) {
    case 'http:':
    case 'https:':
      return new ProxyAgent({ ...common, uri: proxy.href, requestTls: tls });
    case 'socks5:':
    case 'socks5h:':
      return new Socks5ProxyAgent(proxy.href, { ...common, requestTls: tls });
    default:
      throw new ConfigError(`proxy URL scheme ${proxy.protocol} is not supported (use http, https or socks5)`, {
        field: 'proxyUrl',
      });
  }
}

/**
 * The dispatchers for one (cluster, credentials, proxy): created once and shared by every client made from an equal
 * configuration, so clients built from the same config share one connection pool.
 */
export function dispatchersFor(spec: ConnectionSpec): Pair {
  const key = keyOf(spec);
  let pair = pool.get(key);
  if (!pair) {
    pair = { request: create(spec, {}), stream: create(spec, { bodyTimeout: 0, allowH2: false }) };
    pool.set(key, pair);
  }
  return pair;
}

/**
 * Closes every pooled connection, for tests and for processes that want to exit promptly: ordinary requests in flight
 * finish first; open watches and log streams are cut. Later requests open new connections.
 */
export async function closeAllConnections(): Promise<void> {
  const pairs = [...pool.values()];
  pool.clear();
  generation++;
  await Promise.all(pairs.flatMap((p) => [p.request.close(), p.stream.destroy()]));
}

/** Requests in flight and connections open on the pooled dispatchers (undici pool statistics), for leak checks. */
export function connectionStats(): { requests: { running: number; pending: number }; streams: { running: number; pending: number }; connected: number } {
  const out = { requests: { running: 0, pending: 0 }, streams: { running: 0, pending: 0 }, connected: 0 };
  const add = (dispatcher: Dispatcher, into: { running: number; pending: number }): void => {
    const stats = (dispatcher as { stats?: Record<string, { running?: number; pending?: number; connected?: number }> }).stats;
    for (const s of Object.values(stats ?? {})) {
      into.running += s.running ?? 0;
      into.pending += s.pending ?? 0;
      out.connected += s.connected ?? 0;
    }
  };
  for (const pair of pool.values()) {
    add(pair.request, out.requests);
    add(pair.stream, out.streams);
  }
  return out;
}
