import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * - `pass`: new connections are forwarded to the target.
 * - `drop`: every open connection is destroyed, and new ones are closed as soon as they arrive.
 */
export type ProxyMode = 'pass' | 'drop';

/** A loopback TCP proxy in front of one target, for fault tests: it can cut connections or leave them half-open. */
export interface TcpProxy {
  /** `https://127.0.0.1:<port>`: use it as a RestConfig's host (the API server's certificate names 127.0.0.1). */
  readonly url: string;
  readonly port: number;
  /** Connections open now (stalled ones included). */
  readonly connections: number;
  setMode(mode: ProxyMode): void;
  /**
   * Stops forwarding on every open connection without closing it, in both directions: the peers see a silent,
   * half-open connection. Connections made afterwards pass (unless the mode is `drop`). Returns how many it stalled.
   */
  stall(): number;
  /** Destroys every connection and stops listening. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  stalled: boolean;
}

/** Starts a proxy on 127.0.0.1 (a random port) that forwards to `targetHost:targetPort`. */
export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let mode: ProxyMode = 'pass';

  const server: Server = createServer((client) => {
    if (mode === 'drop') {
      client.destroy();
      return;
    }
    const upstream = connect({ host: targetHost, port: targetPort });
    const pair: Pair = { client, upstream, stalled: false };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk) => {
      if (!pair.stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!pair.stalled) client.write(chunk);
    });
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the proxy has no TCP address');
  const port = address.port;

  return {
    url: `https://127.0.0.1:${port}`,
    port,
    get connections() {
      return pairs.size;
    },
    setMode(next) {
      mode = next;
      if (next === 'drop') {
        for (const p of pairs) {
          p.client.destroy();
          p.upstream.destroy();
        }
        pairs.clear();
      }
    },
    stall() {
      let n = 0;
      for (const p of pairs) {
        if (p.stalled) continue;
        p.stalled = true;
        p.client.pause();
        p.upstream.pause();
        n++;
      }
      return n;
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
