import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { join } from 'node:path';
import type { Socket } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../test/support/wait.js';
import { createCertificateAuthority } from '../webhook/index.js';
import { parseBindAddress, startMetricsServer, startProbeServer, type Check, type Server } from './servers.js';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function probe(options: Parameters<typeof startProbeServer>[0]): Promise<Server> {
  const s = await startProbeServer(options);
  servers.push(s);
  return s;
}

async function get(
  server: Server,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(`http://127.0.0.1:${server.port}${path}`, { method });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

describe('parseBindAddress', () => {
  it('reads Go-style addresses', () => {
    expect(parseBindAddress(':8080')).toEqual({ host: undefined, port: 8080 });
    expect(parseBindAddress('127.0.0.1:8081')).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(parseBindAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseBindAddress('localhost:9')).toEqual({ host: 'localhost', port: 9 });
    expect(parseBindAddress('0')).toBeUndefined();
    expect(parseBindAddress('')).toBeUndefined();
  });
  it('rejects what Go would reject, saying what is wrong', () => {
    expect(() => parseBindAddress('8080')).toThrow(/missing port/);
    expect(() => parseBindAddress(':70000')).toThrow(/invalid port/);
    expect(() => parseBindAddress(':http')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_BIND_ADDRESS' }));
    expect(() => parseBindAddress('::1:80')).toThrow(/brackets/);
    expect(() => parseBindAddress('[::1:80')).toThrow(/unclosed/);
  });
});

const ok: Check = () => {};
const failing: Check = () => {
  throw new Error('informer pods not synced\n(still listing)');
};

describe('startProbeServer', () => {
  it("'0' disables it", async () => {
    const s = await probe({ bindAddress: '0', checks: { healthz: {}, readyz: {} } });
    expect(s.address).toBeUndefined();
    await expect(s.close()).resolves.toBeUndefined();
  });

  it(':0 listens on every interface on a free port', async () => {
    const s = await probe({ bindAddress: ':0', checks: { healthz: {}, readyz: {} } });
    expect(s.address).toMatch(/^(\[::\]|0\.0\.0\.0):\d+$/);
    expect(s.port).toBeGreaterThan(0);
    // with no checks, a ping check passes
    expect(await get(s, '/healthz')).toMatchObject({ status: 200, body: 'ok' });
    expect((await get(s, '/healthz?verbose')).body).toBe('[+]ping ok\nhealthz check passed\n');
  });

  it('answers 200 ok when every check passes, 503 naming the failed check otherwise', async () => {
    const s = await probe({
      bindAddress: '127.0.0.1:0',
      checks: { healthz: { ping: ok }, readyz: { informers: failing, leader: async () => {}, cache: ok } },
    });
    expect(s.address).toBe(`127.0.0.1:${s.port}`);
    expect(await get(s, '/healthz')).toMatchObject({ status: 200, body: 'ok' });
    const ready = await get(s, '/readyz');
    expect(ready.status).toBe(503);
    expect(ready.body).toBe(
      '[+]cache ok\n[-]informers failed: informer pods not synced (still listing)\n[+]leader ok\nreadyz check failed\n',
    );
    expect(ready.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await get(s, '/readyz?exclude=informers')).toMatchObject({ status: 200, body: 'ok' });
    expect((await get(s, '/readyz?exclude=informers&verbose')).body).toBe(
      '[+]cache ok\n[+]leader ok\n[+]informers excluded: ok\nreadyz check passed\n',
    );
  });

  it('serves one check at /readyz/<name>, 404 for an unknown one', async () => {
    const s = await probe({
      bindAddress: '127.0.0.1:0',
      checks: { healthz: { ping: ok }, readyz: { informers: failing, cache: ok } },
    });
    expect(await get(s, '/readyz/cache')).toMatchObject({ status: 200, body: 'ok' });
    expect(await get(s, '/readyz/informers')).toMatchObject({
      status: 503,
      body: 'service unavailable: informer pods not synced (still listing)\n',
    });
    expect(await get(s, '/readyz/nope')).toMatchObject({ status: 404 });
    expect(await get(s, '/healthz/ping')).toMatchObject({ status: 200 });
    expect(await get(s, '/livez')).toMatchObject({ status: 404 });
  });

  it('reads the checks at each request, so checks added later count', async () => {
    const readyz: Record<string, Check> = {};
    const s = await probe({ bindAddress: '127.0.0.1:0', checks: { healthz: {}, readyz } });
    expect((await get(s, '/readyz')).status).toBe(200);
    readyz['late'] = failing;
    expect((await get(s, '/readyz')).status).toBe(503);
  });

  it('fails a check that does not answer in time, and aborts its signal', async () => {
    let aborted: unknown;
    const hanging: Check = ({ signal }) =>
      new Promise<void>((resolve) => {
        signal.addEventListener('abort', () => {
          aborted = signal.reason;
          resolve();
        });
      });
    const warnings: object[] = [];
    const s = await probe({
      bindAddress: '127.0.0.1:0',
      checks: { healthz: { hanging }, readyz: {} },
      checkTimeoutMs: 50,
      log: { warn: (obj) => warnings.push(obj) },
    });
    const res = await get(s, '/healthz');
    expect(res.status).toBe(503);
    expect(res.body).toContain('[-]hanging failed: no answer within 50 ms');
    expect(aborted).toBeInstanceOf(Error);
    expect(warnings).toEqual([{ check: 'hanging', endpoint: 'healthz', error: 'no answer within 50 ms' }]);
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    const s = await probe({ bindAddress: '127.0.0.1:0', checks: { healthz: { ok }, readyz: {} } });
    expect(await get(s, '/healthz', 'HEAD')).toMatchObject({ status: 200, body: '' });
    const post = await get(s, '/healthz', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('fails to start on a port in use, naming the address', async () => {
    const first = await probe({ bindAddress: '127.0.0.1:0', checks: { healthz: {}, readyz: {} } });
    await expect(
      startProbeServer({ bindAddress: `127.0.0.1:${first.port}`, checks: { healthz: {}, readyz: {} } }),
    ).rejects.toMatchObject({
      code: 'ERR_LISTEN',
      message: expect.stringContaining(`cannot listen on 127.0.0.1:${first.port}`),
    });
  });

  it('close() closes open keep-alive connections instead of waiting for them, and may be called twice', async () => {
    const s = await startProbeServer({ bindAddress: '127.0.0.1:0', checks: { healthz: {}, readyz: {} } });
    const agent = new Agent({ keepAlive: true });
    let socket: Socket | undefined;
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: s.port, path: '/healthz', agent }, (res) => {
        socket = res.socket;
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end();
    });
    expect(socket?.destroyed).toBe(false);
    const socketClosed = new Promise<void>((resolve) => socket!.once('close', () => resolve()));
    await Promise.all([s.close(), s.close(), socketClosed]);
    expect(socket?.destroyed).toBe(true);
    agent.destroy();
    await expect(fetch(`http://127.0.0.1:${s.port}/healthz`)).rejects.toThrow('fetch failed');
  });
});

describe('startMetricsServer', () => {
  it('serves the registry at /metrics in the Prometheus text format, 404 elsewhere', async () => {
    const registry = new Registry();
    const c = new Counter({ name: 'kubeloop_test_total', help: 'A test counter.', registers: [registry] });
    c.inc(3);
    const s = await startMetricsServer({ bindAddress: '127.0.0.1:0', registry });
    servers.push(s);
    const res = await get(s, '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    expect(res.body).toContain('# TYPE kubeloop_test_total counter\nkubeloop_test_total 3');
    expect((await get(s, '/')).status).toBe(404);
    expect((await get(s, '/metrics', 'DELETE')).status).toBe(405);
  });

  it("'0' disables it", async () => {
    const s = await startMetricsServer({ bindAddress: '0', registry: new Registry() });
    expect(s.port).toBeUndefined();
  });
});

describe('startMetricsServer: profiling and secure serving', () => {
  it('serves profiling only when asked: a heap snapshot Chrome DevTools opens, and checks a CPU profile request', async () => {
    const plain = await startMetricsServer({ bindAddress: '127.0.0.1:0', registry: new Registry() });
    servers.push(plain);
    expect((await get(plain, '/debug/pprof/heap')).status).toBe(404);

    const s = await startMetricsServer({ bindAddress: '127.0.0.1:0', registry: new Registry(), profiling: true });
    servers.push(s);
    for (const bad of ['0', '301', '1.5', 'x'])
      expect((await get(s, `/debug/pprof/profile?seconds=${bad}`)).status).toBe(400);
    expect((await get(s, '/debug/pprof/profile', 'HEAD')).status).toBe(405);
    const heap = await get(s, '/debug/pprof/heap');
    expect(heap.status).toBe(200);
    expect(heap.headers.get('content-disposition')).toMatch(/^attachment; filename="kubeloop-.*\.heapsnapshot"$/);
    const snapshot = JSON.parse(heap.body) as {
      snapshot: { meta: { node_fields: string[] }; node_count: number };
      nodes: number[];
      strings: string[];
    };
    expect(snapshot.snapshot.meta.node_fields).toContain('name');
    expect(snapshot.nodes.length).toBe(snapshot.snapshot.node_count * snapshot.snapshot.meta.node_fields.length);
  });

  it('answers 409 to a second CPU profile while one runs, and closing stops the one in progress', async () => {
    const s = await startMetricsServer({ bindAddress: '127.0.0.1:0', registry: new Registry(), profiling: true });
    const first = get(s, '/debug/pprof/profile?seconds=60').then(
      () => 'answered',
      () => 'cut off',
    );
    await eventually(
      'the first profile runs',
      async () => (await get(s, '/debug/pprof/profile?seconds=1')).status === 409,
    );
    await s.close();
    expect(await first).toBe('cut off');
  });

  it('refuses certificate files that do not form a pair', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'metrics-bad-cert-'));
    try {
      await writeFile(join(dir, 'tls.crt'), 'not a certificate');
      await writeFile(join(dir, 'tls.key'), 'not a key');
      await expect(
        startMetricsServer({ bindAddress: '127.0.0.1:0', registry: new Registry(), secureServing: { certDir: dir } }),
      ).rejects.toMatchObject({
        code: 'ERR_METRICS_CERTIFICATE',
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('startMetricsServer: the serving certificate', () => {
  /** The certificate a new TLS connection to the server is given. */
  function peerOf(port: number): Promise<PeerCertificate> {
    return new Promise((resolvePeer, reject) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
        resolvePeer(socket.getPeerCertificate());
        socket.end();
      });
      socket.once('error', reject);
    });
  }

  // Each file is rewritten in place (truncated, then written), so the watcher also sees an empty key beside the old
  // certificate: it must keep serving the last good pair meanwhile, never fail a handshake.
  it('serves the pair in certDir and picks up a rotated one for new connections, without a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'metrics-cert-'));
    try {
      const ca = await createCertificateAuthority('metrics-test-ca');
      const write = async (commonName: string): Promise<void> => {
        const pair = await ca.sign({ commonName, usage: 'server', dnsNames: ['localhost'] });
        await writeFile(join(dir, 'tls.key'), pair.keyPem);
        await writeFile(join(dir, 'tls.crt'), pair.certPem);
      };
      await write('first');
      const s = await startMetricsServer({
        bindAddress: '127.0.0.1:0',
        registry: new Registry(),
        secureServing: { certDir: dir, certPollIntervalMs: 100 },
      });
      servers.push(s);
      expect((await peerOf(s.port!)).subject.CN).toBe('first');
      await write('second');
      await eventually(
        'the rotated certificate is served',
        async () => (await peerOf(s.port!)).subject.CN === 'second',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses TLS older than 1.2', async () => {
    const s = await startMetricsServer({
      bindAddress: '127.0.0.1:0',
      registry: new Registry(),
      secureServing: { certDir: join(tmpdir(), 'kubeloop-no-such-dir') },
    });
    servers.push(s);
    const old = new Promise<string>((resolveResult) => {
      const socket = tlsConnect(
        { host: '127.0.0.1', port: s.port!, rejectUnauthorized: false, minVersion: 'TLSv1', maxVersion: 'TLSv1.1' },
        () => {
          socket.end();
          resolveResult('connected');
        },
      );
      socket.once('error', () => resolveResult('refused'));
    });
    expect(await old).toBe('refused');
    expect((await peerOf(s.port!)).subject.CN).toBe('localhost');
  });
});
