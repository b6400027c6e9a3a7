import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { Agent, Client, ProxyAgent, Socks5ProxyAgent } from './undici.js';
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
  /** The files the material came from (a TLS file source's key), so rotation retires only what it made. */
  tlsFiles?: string;
  /** HTTP/2 PING interval of each connection, in ms (see `RestConfig.pingIntervalMs`); 0 for none. */
  pingIntervalMs: number;
}

/** A dispatcher for one stream; `close` (idempotent) lets its connection go once the stream is over. */
export interface StreamDispatcher {
  dispatcher: Dispatcher;
  close(): void;
}

interface Pair {
  readonly spec: ConnectionSpec;
  /** Taken out of the pool (its material rotated): holders look the dispatchers up again. */
  retired: boolean;
  /**
   * Ordinary requests: undici's default timeouts; HTTP/2 where the server offers it (one multiplexed connection),
   * PINGed every `pingIntervalMs`. Replaced by {@link Pair.replaceRequest}.
   */
  request: Dispatcher;
  /**
   * A request sent on `used` timed out: when `used` is still this pair's request dispatcher, the next requests go to
   * a new one (a new connection), and `used` closes once its requests in flight end. A request that times out may be
   * stuck on a connection that died silently; a new connection costs one handshake, where waiting for the PINGs to
   * find the dead one costs up to two ping intervals of failed requests. Later timeouts of requests that were
   * already on `used` change nothing.
   */
  replaceRequest(used: Dispatcher): void;
  /**
   * Watches and log streams: no body timeout (the watch's own inactivity watchdog replaces it), and a connection of
   * their own, HTTP/2 where the server offers it. On a shared connection a half-open network path would take every
   * watch down with it, and a watch restarted after its watchdog fired would go out on the same dead connection; so
   * each stream opens its own, which goes when the stream ends. HTTP/2 rather than HTTP/1.1: a watch's events arrive
   * as chunks, and undici's HTTP/1.1 parser (WebAssembly, called back per chunk) costs more per event than Node's
   * HTTP/2 frames (S1 and S3 of the benchmarks). Through a proxy, streams share one HTTP/1.1 pool as before.
   */
  openStream(): StreamDispatcher;
  /** The stream connections open now. */
  streams: Set<Dispatcher>;
  /** Through a proxy: the pool streams share. */
  proxiedStreams?: Dispatcher;
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
    spec.tlsFiles,
    String(spec.pingIntervalMs),
  ]) {
    hash.update(part ?? '').update('\0');
  }
  return hash.digest('hex');
}

function tlsOf(spec: ConnectionSpec) {
  return {
    ...(spec.caData && { ca: spec.caData }),
    ...(spec.certData && { cert: spec.certData }),
    ...(spec.keyData && { key: spec.keyData }),
    ...(spec.serverName && { servername: spec.serverName }),
    rejectUnauthorized: spec.insecureSkipTLSVerify !== true,
  };
}

function create(spec: ConnectionSpec, options: { bodyTimeout?: number; allowH2?: boolean }): Dispatcher {
  const tls = tlsOf(spec);
  const common = { ...options, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 };
  if (!spec.proxyUrl) return new Agent({ ...common, connect: tls, h2Options: { pingInterval: spec.pingIntervalMs } });
  let proxy: URL;
  try {
    proxy = new URL(spec.proxyUrl);
  } catch {
    throw new ConfigError('proxy URL is not a URL', { field: 'proxyUrl' });
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
    pair = streamsFor(spec, create(spec, {}));
    pool.set(key, pair);
  }
  return pair;
}

const streamWindowBytes = 16 * 1024 * 1024;

function streamsFor(spec: ConnectionSpec, request: Dispatcher): Pair {
  const streams = new Set<Dispatcher>();
  function replaceRequest(this: Pair, used: Dispatcher): void {
    if (this.retired || this.request !== used) return;
    this.request = create(spec, {});
    void used.close().catch(() => undefined);
  }
  if (spec.proxyUrl) {
    const proxiedStreams = create(spec, { bodyTimeout: 0, allowH2: false });
    return {
      spec,
      retired: false,
      request,
      replaceRequest,
      streams,
      proxiedStreams,
      openStream: () => ({ dispatcher: proxiedStreams, close() {} }),
    };
  }
  const tls = tlsOf(spec);
  return {
    spec,
    retired: false,
    request,
    replaceRequest,
    streams,
    openStream() {
      const client = new Client(spec.origin, {
        allowH2: true,
        bodyTimeout: 0,
        connect: tls,
        // Large flow-control windows (16 MiB; Go's client has 4 MiB per stream, 1 GiB per connection): with undici's
        // 256 KiB the server keeps stopping to wait for window updates while the client parses a WatchList's initial
        // events (30k ConfigMaps: 771 ms with 256 KiB, 726 ms with 16 MiB; a 50k sync took a third longer than over
        // HTTP/1.1). A slow consumer still holds the stream back (the watch pauses the body), so at most a window's
        // worth waits in memory. One stream per connection: the two windows are the same. undici 8.13 reads the
        // stream window from the top-level option, not from `h2Options.settings` (which it only validates).
        initialWindowSize: streamWindowBytes,
        h2Options: {
          connectionWindowSize: streamWindowBytes,
          settings: { initialWindowSize: streamWindowBytes },
          pingInterval: spec.pingIntervalMs,
        },
      });
      streams.add(client);
      let closed = false;
      return {
        dispatcher: client,
        close() {
          if (closed) return;
          closed = true;
          streams.delete(client);
          void client.destroy().catch(() => undefined);
        },
      };
    },
  };
}

/**
 * Takes the dispatchers whose spec matches out of the pool, so the next request opens new connections: their ordinary
 * requests in flight finish first (then the connections close); streams are cut (`'cut'`) or run to their end
 * (`'drain'`). Used when TLS material read from files rotates.
 */
export function retireDispatchers(match: (spec: ConnectionSpec) => boolean, streams: 'cut' | 'drain'): void {
  for (const [key, pair] of pool) {
    if (!match(pair.spec)) continue;
    pool.delete(key);
    pair.retired = true;
    void pair.request.close().catch(() => undefined);
    const open = [...pair.streams, ...(pair.proxiedStreams ? [pair.proxiedStreams] : [])];
    for (const d of open) void (streams === 'cut' ? d.destroy() : d.close()).catch(() => undefined);
  }
}

/**
 * Closes every pooled connection, for tests and for processes that want to exit promptly: ordinary requests in flight
 * finish first; open watches and log streams are cut. Later requests open new connections.
 */
export async function closeAllConnections(): Promise<void> {
  const pairs = [...pool.values()];
  pool.clear();
  generation++;
  await Promise.all(
    pairs.flatMap((p) => [
      p.request.close(),
      ...[...p.streams, ...(p.proxiedStreams ? [p.proxiedStreams] : [])].map((d) => d.destroy()),
    ]),
  );
}

/** Requests in flight and connections open on the pooled dispatchers (undici pool statistics), for leak checks. */
export function connectionStats(): {
  requests: { running: number; pending: number };
  streams: { running: number; pending: number };
  connected: number;
} {
  const out = { requests: { running: 0, pending: 0 }, streams: { running: 0, pending: 0 }, connected: 0 };
  const add = (dispatcher: Dispatcher, into: { running: number; pending: number }): void => {
    const stats = (dispatcher as { stats?: Record<string, { running?: number; pending?: number; connected?: number }> })
      .stats;
    for (const s of Object.values(stats ?? {})) {
      into.running += s.running ?? 0;
      into.pending += s.pending ?? 0;
      out.connected += s.connected ?? 0;
    }
  };
  for (const pair of pool.values()) {
    add(pair.request, out.requests);
    if (pair.proxiedStreams) add(pair.proxiedStreams, out.streams);
    // A stream's own connection counts while its stream is open (it is closed when the stream ends).
    for (const client of pair.streams) {
      out.streams.running++;
      if (!(client as Client).closed && !(client as Client).destroyed) out.connected++;
    }
  }
  return out;
}
