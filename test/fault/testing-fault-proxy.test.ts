// kubeloop/testing's fault proxy between kubeloop's client and a real API server: the TCP layer (latency, drop) and
// the HTTP layer (429 with Retry-After, 5xx, 410 to a watch), and what the client and an informer make of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, createClientset, hasErrorCode, isTooManyRequests, type corev1 } from '../../sdk/client/index.js';
import { createSharedIndexInformer, type ListerWatcher } from '../../sdk/cache/index.js';
import { startControlPlane, type ControlPlane } from '../../sdk/envtest/index.js';
import { startFaultProxy, type FaultProxy } from '../../sdk/testing/index.js';
import { createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/wait.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function cm(name: string, data: Record<string, string> = {}): corev1.ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
}

describe('fault proxy (own control plane)', () => {
  let env: ControlPlane;
  let tcp: FaultProxy;
  let http: FaultProxy;

  beforeAll(async () => {
    env = await startControlPlane({ kubernetesVersion: '1.37.2' });
    tcp = await startFaultProxy({ target: env.config });
    http = await startFaultProxy({ target: env.config, layer: 'http' });
  });
  afterAll(async () => {
    await tcp?.close();
    await http?.close();
    await env?.stop();
  });

  it('TCP layer: passes client-certificate traffic, adds latency both ways, and drops connections', async () => {
    const ns = await createTestNamespace(env.config, 'tcp');
    const cms = createClientset(tcp.config).coreV1().configMaps(ns);
    await cms.create(cm('a', { v: '1' }));
    expect((await cms.get('a')).data).toEqual({ v: '1' });
    expect(tcp.connections).toBeGreaterThan(0);

    const latencyMs = 300;
    tcp.setLatencyMs(latencyMs);
    const started = Date.now();
    await cms.get('a');
    // The request goes up and the answer comes back: each direction waits `latencyMs`.
    expect(Date.now() - started).toBeGreaterThanOrEqual(2 * latencyMs - 20);
    tcp.setLatencyMs(0);

    tcp.setMode('drop');
    const err = await cms.get('a').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(hasErrorCode(err, 'ERR_KUBE_TRANSPORT')).toBe(true);
    expect(tcp.connections).toBe(0);
    tcp.setMode('pass');
    expect((await cms.get('a')).data).toEqual({ v: '1' });
  });

  it('HTTP layer: forwards requests with the target’s credentials behind its own CA, and rejects rules on the TCP layer', async () => {
    const ns = await createTestNamespace(env.config, 'http-pass');
    expect(http.config.certData).toBeUndefined();
    expect(http.config.caData).toMatch(/BEGIN CERTIFICATE/);
    const cms = createClientset(http.config).coreV1().configMaps(ns);
    await cms.create(cm('a', { v: '1' }));
    expect((await cms.get('a')).data).toEqual({ v: '1' });
    expect(
      http.requests.some(
        (r) => r.method === 'POST' && r.path.startsWith(`/api/v1/namespaces/${ns}/configmaps`) && r.status === 201,
      ),
    ).toBe(true);
    expect(() => tcp.failRequests({}, { status: 500 })).toThrow(TypeError);
  });

  it('HTTP layer: the client retries a 429 with Retry-After after waiting as told, and succeeds', async () => {
    const ns = await createTestNamespace(env.config, 'http-429');
    await createClientset(env.config)
      .coreV1()
      .configMaps(ns)
      .create(cm('a', { v: '1' }));
    const path = `/api/v1/namespaces/${ns}/configmaps/a`;
    const retryAfterSeconds = 1;
    const rule = http.failRequests({ method: 'GET', path }, { status: 429, retryAfterSeconds }, { times: 2 });
    const started = Date.now();
    const got = await createClientset(http.config).coreV1().configMaps(ns).get('a');
    const elapsed = Date.now() - started;
    expect(got.data).toEqual({ v: '1' });
    expect(rule.hits).toBe(2);
    const answers = http.requests.filter((r) => r.method === 'GET' && r.path === path).map((r) => r.status);
    expect(answers).toEqual([429, 429, 200]);
    expect(elapsed).toBeGreaterThanOrEqual(2 * retryAfterSeconds * 1000 - 50);
    rule.remove();

    // Without Retry-After a 429 is the caller's to handle: one request, the error as the server sent it.
    const once = http.failRequests({ method: 'GET', path }, { status: 429 }, { times: 1 });
    const err = await createClientset(http.config)
      .coreV1()
      .configMaps(ns)
      .get('a')
      .catch((e: unknown) => e);
    expect(isTooManyRequests(err)).toBe(true);
    expect(once.hits).toBe(1);
    // A 503 with Retry-After is retried too.
    const busy = http.failRequests({ method: 'GET', path }, { status: 503, retryAfterSeconds: 0 }, { times: 1 });
    expect((await createClientset(http.config).coreV1().configMaps(ns).get('a')).data).toEqual({ v: '1' });
    expect(busy.hits).toBe(1);
    const broken = http.failRequests({ method: 'GET', path }, { status: 500, message: 'boom' }, { times: 1 });
    const e500 = await createClientset(http.config)
      .coreV1()
      .configMaps(ns)
      .get('a')
      .catch((e: unknown) => e);
    expect(e500).toBeInstanceOf(ApiError);
    expect((e500 as ApiError).statusCode).toBe(500);
    expect((e500 as ApiError).status.message).toBe('boom');
    expect(broken.hits).toBe(1);
  });

  it('HTTP layer: a connection reset is retried for a read, and reported for a write whose outcome is unknown', async () => {
    const ns = await createTestNamespace(env.config, 'http-reset');
    const cms = createClientset(http.config).coreV1().configMaps(ns);
    await cms.create(cm('a', { v: '1' }));
    const read = http.failRequests(
      { method: 'GET', path: `/api/v1/namespaces/${ns}/configmaps/a` },
      { reset: true },
      { times: 1 },
    );
    expect((await cms.get('a')).data).toEqual({ v: '1' });
    expect(read.hits).toBe(1);
    const write = http.failRequests(
      { method: 'POST', path: `/api/v1/namespaces/${ns}/configmaps` },
      { reset: true },
      { times: 1 },
    );
    const err = await cms.create(cm('b')).catch((e: unknown) => e);
    expect(hasErrorCode(err, 'ERR_KUBE_TRANSPORT')).toBe(true);
    expect(write.hits).toBe(1);
    // The proxy dropped the request: the server never saw it.
    expect(
      (await createClientset(env.config).coreV1().configMaps(ns).list()).items.map((i) => i.metadata?.name),
    ).toEqual(['a']);
  });

  for (const variant of ['an in-stream ERROR event', 'an HTTP 410 answer'] as const) {
    it(`HTTP layer: a watch answered with 410 (${variant}) makes the informer relist once, and only once`, async () => {
      const ns = await createTestNamespace(env.config, 'http-410');
      const direct = createClientset(env.config).coreV1().configMaps(ns);
      for (let i = 0; i < 5; i++) await direct.create(cm(`cm-${i}`, { v: '0' }));

      const proxied = createClientset(http.config).coreV1().configMaps(ns);
      const calls: string[] = [];
      const lw: ListerWatcher<corev1.ConfigMap> = {
        list: (o) => {
          calls.push('list');
          return proxied.list(o);
        },
        watch: (o) => {
          calls.push(o.sendInitialEvents ? 'watch-list' : 'watch');
          return proxied.watch(o);
        },
      };
      const informer = createSharedIndexInformer<corev1.ConfigMap>(lw, { name: 'gone' });
      const stop = new AbortController();
      const running = informer.start(stop.signal);
      try {
        await informer.waitForSync();
        expect(informer.health().relists).toBe(0);
        const watchPath = `/api/v1/namespaces/${ns}/configmaps`;
        const rule = http.failRequests(
          { path: watchPath, watch: true, when: (r) => !r.path.includes('sendInitialEvents=true') },
          variant === 'an in-stream ERROR event'
            ? { watchError: 410, message: 'too old resource version: 1 (2)' }
            : { status: 410, reason: 'Gone' },
          { times: 1 },
        );
        // End the current watch: the informer resumes it from its resourceVersion, and meets the 410.
        http.setMode('drop');
        await direct.update({ ...(await direct.get('cm-1')), data: { v: '1' } });
        http.setMode('pass');
        const callsBefore = calls.length;
        await eventually('the 410 and the relist', () => rule.hits === 1 && informer.health().relists === 1, 30_000);
        await eventually(
          'the change made while cut off',
          () => informer.getIndexer().getByKey(`${ns}/cm-1`)?.data?.['v'] === '1',
          30_000,
        );
        await sleep(1500);
        expect(informer.health().relists).toBe(1);
        expect(rule.hits).toBe(1);
        const after = calls.slice(callsBefore);
        expect(after.filter((c) => c === 'list' || c === 'watch-list')).toHaveLength(1);
        expect(informer.health()).toMatchObject({ synced: true, watching: true });
        await direct.create(cm('late', { v: '2' }));
        await eventually(
          'a change after the relist',
          () => informer.getIndexer().getByKey(`${ns}/late`) !== undefined,
          30_000,
        );
      } finally {
        stop.abort();
        await running;
      }
    });
  }

  it('TCP layer: stall leaves a watch half-open until the client’s inactivity watchdog gives up on it', async () => {
    const ns = await createTestNamespace(env.config, 'stall');
    const direct = createClientset(env.config).coreV1().configMaps(ns);
    await direct.create(cm('a'));
    const inactivityTimeoutMs = 1500;
    const watch = createClientset(tcp.config).coreV1().configMaps(ns).watch({ inactivityTimeoutMs });
    const first: string[] = [];
    let failure: unknown;
    const consumed = (async () => {
      try {
        for await (const e of watch) first.push(`${e.type} ${e.object.metadata?.name}`);
      } catch (err) {
        failure = err;
      }
    })();
    await eventually('the initial event', () => first.length === 1, 30_000);
    expect(tcp.stall()).toBeGreaterThanOrEqual(1);
    const stalledAt = Date.now();
    await direct.create(cm('b'));
    await consumed;
    const waited = Date.now() - stalledAt;
    expect(first).toEqual(['ADDED a']);
    expect(hasErrorCode(failure, 'ERR_KUBE_WATCH_STALLED')).toBe(true);
    expect(waited).toBeGreaterThanOrEqual(inactivityTimeoutMs - 300);
    expect(waited).toBeLessThanOrEqual(inactivityTimeoutMs + 1500);
  });

  it('HTTP layer with http2: one multiplexed connection, faults per request, and a stall found by the client’s PINGs', async () => {
    const h2 = await startFaultProxy({ target: env.config, layer: 'http', http2: true });
    try {
      const ns = await createTestNamespace(env.config, 'http2');
      const pingIntervalMs = 500;
      const cms = createClientset({ ...h2.config, pingIntervalMs })
        .coreV1()
        .configMaps(ns);
      await cms.create(cm('a', { v: '1' }));
      // Ten GETs at once share the client's one HTTP/2 connection (HTTP/1.1 would open several).
      await Promise.all(Array.from({ length: 10 }, () => cms.get('a')));
      expect(h2.connections).toBe(1);

      const rule = h2.failRequests({ method: 'GET', path: `/api/v1/namespaces/${ns}/configmaps/a` }, { status: 503 });
      const err = await cms.get('a').then(
        () => undefined,
        (e: unknown) => e,
      );
      rule.remove();
      expect(err).toBeInstanceOf(ApiError);
      expect((err as ApiError).statusCode).toBe(503);
      // A reset closes the request's stream (RST_STREAM), not the connection the other requests share.
      const reset = h2.failRequests({ method: 'GET' }, { reset: true }, { times: 1 });
      const resetErr = await cms.get('a').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(hasErrorCode(resetErr, 'ERR_KUBE_TRANSPORT')).toBe(true);
      expect(String(resetErr)).toMatch(/NGHTTP2_INTERNAL_ERROR/);
      expect(reset.hits).toBe(1);
      expect((await cms.get('a')).data).toEqual({ v: '1' });
      expect(h2.connections).toBe(1);

      // A stall leaves the connection silent: the PINGs find it and the GETs in flight are answered on a new one.
      expect(h2.stall()).toBe(1);
      const stalledAt = Date.now();
      const answers = await Promise.all(Array.from({ length: 3 }, () => cms.get('a')));
      const recoveredMs = Date.now() - stalledAt;
      expect(answers.map((c) => c.data?.['v'])).toEqual(['1', '1', '1']);
      expect(recoveredMs).toBeLessThan(2 * pingIntervalMs + 4000);
    } finally {
      await h2.close();
    }
  });
});
