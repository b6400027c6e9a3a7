import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigMap,
  createResourceClientFactory,
  hasErrorCode,
  isAlreadyExists,
  isNotFound,
} from '../../sdk/client/index.js';
import { startControlPlane, type ControlPlane } from '../../sdk/envtest/index.js';
import {
  controllerFor,
  createManager,
  labelSelector,
  type Manager,
  type ReconcileRequest,
} from '../../sdk/manager/index.js';
import { startFaultProxy, type FaultProxy } from '../../sdk/testing/index.js';
import { createTestNamespace } from '../support/cluster.js';
import { eventually } from '../support/wait.js';

/**
 * Reads of one's own writes against a real API server whose watches are slowed: the manager writes straight to the
 * API server, and its cache lists and watches through a fault proxy that delays every chunk by `lagMs`. Each case also
 * runs with the feature off, to show the lag is real (the same reads then see the cache's stale answer).
 */
const lagMs = 300;

describe('manager client: reads of its own writes, with a slowed watch (own control plane)', () => {
  let env: ControlPlane;
  let proxy: FaultProxy;

  beforeAll(async () => {
    env = await startControlPlane({ kubernetesVersion: '1.37.2' });
    proxy = await startFaultProxy({ target: env.config });
  });
  afterAll(async () => {
    await proxy?.close();
    await env?.stop();
  });

  async function startManager(readYourOwnWrites: boolean, setup: (mgr: Manager) => void = () => undefined) {
    const mgr = await createManager({
      config: env.config,
      cache: { config: proxy.config },
      client: { readYourOwnWrites },
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: (await import('pino')).pino({ level: 'silent' }),
    });
    setup(mgr);
    const stop = new AbortController();
    const running = mgr.start(stop.signal);
    return {
      mgr,
      stop: async () => {
        stop.abort();
        await running;
      },
    };
  }

  /**
   * A reconciler of `src-*` ConfigMaps that owns a `<name>-derived` ConfigMap: get it, create it when absent, read it
   * back at once and write its data. It requeues after 10 ms, so the next reconcile reads while the watch still lags.
   */
  async function runDerivingController(readYourOwnWrites: boolean, sources: number) {
    const ns = await createTestNamespace(env.config, 'ryow');
    const stats = {
      creates: 0,
      alreadyExists: 0,
      notFoundAfterCreate: 0,
      staleAfterUpdate: 0,
      reconciles: 0,
      waitsMs: [] as number[],
    };
    const { mgr, stop } = await startManager(readYourOwnWrites, (m) => {
      const client = m.client;
      controllerFor(m)
        .for(ConfigMap, { predicates: [labelSelector('role=src')] })
        .named(`deriver-${readYourOwnWrites}`)
        .withOptions({ maxConcurrentReconciles: 4 })
        .complete({
          async reconcile(req: ReconcileRequest) {
            if (req.namespace !== ns) return {};
            stats.reconciles++;
            const key = { namespace: ns, name: `${req.name}-derived` };
            let derived = await client
              .get(ConfigMap, key)
              .catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
            if (!derived) {
              stats.creates++;
              try {
                await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: key, data: { step: '0' } });
              } catch (err) {
                if (isAlreadyExists(err)) stats.alreadyExists++;
                throw err;
              }
              const t0 = performance.now();
              try {
                derived = await client.get(ConfigMap, key);
              } catch (err) {
                if (isNotFound(err)) stats.notFoundAfterCreate++;
                throw err;
              }
              stats.waitsMs.push(performance.now() - t0);
            }
            const step = String(Number(derived.data?.['step'] ?? '0') + 1);
            if (Number(step) > 3) return {};
            const updated = await client.update({ ...derived, data: { step } });
            const t0 = performance.now();
            const again = await client.get(ConfigMap, key);
            stats.waitsMs.push(performance.now() - t0);
            if (again.metadata?.resourceVersion !== updated.metadata?.resourceVersion) stats.staleAfterUpdate++;
            return { requeueAfterMs: 10 };
          },
        });
    });
    try {
      // Start from a synced cache, then slow the watch down.
      await mgr.cache.waitForCacheSync();
      proxy.setLatencyMs(lagMs);
      const direct = createResourceClientFactory(env.config).resource(ConfigMap).namespace(ns);
      for (let i = 0; i < sources; i++)
        await direct.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `src-${i}`, labels: { role: 'src' } },
        });
      // Done when every derived object reached step 3 (with the feature off, through errors and retries).
      await eventually(
        `${sources} derived ConfigMaps at step 3`,
        async () => {
          const list = await direct.list();
          return (
            list.items.filter((cm) => cm.metadata?.name?.endsWith('-derived') && cm.data?.['step'] === '3').length ===
            sources
          );
        },
        60_000,
      );
      return stats;
    } finally {
      proxy.setLatencyMs(0);
      await stop();
    }
  }

  it('a reconcile that creates then reads never gets NotFound, and never creates twice', async () => {
    const stats = await runDerivingController(true, 5);
    const sorted = stats.waitsMs.toSorted((a, b) => a - b);
    const p50 = sorted[Math.floor(sorted.length / 2)]!;
    const max = sorted.at(-1)!;
    process.stdout.write(
      `[read-your-own-writes] ${lagMs} ms watch lag : ${sorted.length} reads after writes, wait p50 ${p50.toFixed(0)} ms, ` +
        `max ${max.toFixed(0)} ms; ${stats.reconciles} reconciles, ${stats.creates} creates\n`,
    );
    expect(stats.notFoundAfterCreate).toBe(0);
    expect(stats.alreadyExists).toBe(0);
    expect(stats.creates).toBe(5);
    expect(stats.staleAfterUpdate).toBe(0);
    // The reads did wait for the slowed watch (about lagMs each), and no longer than the default bound.
    expect(p50).toBeGreaterThanOrEqual(lagMs * 0.5);
    expect(max).toBeLessThan(10_000);
  }, 120_000);

  it('with readYourOwnWrites off, the same reconcile reads the lagging cache (NotFound after create, duplicate creates)', async () => {
    const stats = await runDerivingController(false, 5);
    expect(stats.notFoundAfterCreate + stats.alreadyExists + stats.staleAfterUpdate).toBeGreaterThan(0);
  }, 120_000);

  it('a get after a delete does not return the deleted object, and a list leaves it out, while the watch lags', async () => {
    const ns = await createTestNamespace(env.config, 'ryow-del');
    const seen: Record<string, { got: string; listed: boolean }> = {};
    for (const readYourOwnWrites of [true, false]) {
      const { mgr, stop } = await startManager(readYourOwnWrites);
      try {
        const name = `gone-${readYourOwnWrites}`;
        const created = await mgr.client.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { namespace: ns, name },
        });
        await mgr.client.get(ConfigMap, { namespace: ns, name }); // starts the informer, and waits for the create
        proxy.setLatencyMs(lagMs);
        await mgr.client.delete(created);
        const got = await mgr.client.get(ConfigMap, { namespace: ns, name }).then(
          () => 'found',
          (err: unknown) => (isNotFound(err) ? 'not found' : Promise.reject(err)),
        );
        const listed = (await mgr.client.list(ConfigMap, { namespace: ns })).items.some(
          (cm) => cm.metadata?.name === name,
        );
        seen[String(readYourOwnWrites)] = { got, listed };
      } finally {
        proxy.setLatencyMs(0);
        await stop();
      }
    }
    expect(seen['true']).toEqual({ got: 'not found', listed: false });
    // The control: without the feature the lagging cache still has it.
    expect(seen['false']).toEqual({ got: 'found', listed: true });
  }, 60_000);

  it('a read that waits longer than timeoutMs fails with ERR_READ_YOUR_WRITES_TIMEOUT', async () => {
    const ns = await createTestNamespace(env.config, 'ryow-timeout');
    const mgr = await createManager({
      config: env.config,
      cache: { config: proxy.config },
      client: { readYourOwnWrites: { timeoutMs: 100 } },
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: (await import('pino')).pino({ level: 'silent' }),
    });
    const stop = new AbortController();
    const running = mgr.start(stop.signal);
    try {
      await mgr.client.list(ConfigMap, { namespace: ns });
      proxy.setLatencyMs(1_000);
      const created: ConfigMap = await mgr.client.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { namespace: ns, name: 'late' },
      });
      const t0 = performance.now();
      const err = await mgr.client.get(ConfigMap, { namespace: ns, name: 'late' }).catch((e: unknown) => e);
      const waited = performance.now() - t0;
      expect(hasErrorCode(err, 'ERR_READ_YOUR_WRITES_TIMEOUT')).toBe(true);
      expect((err as Error).message).toContain(`resourceVersion ${created.metadata!.resourceVersion}`);
      expect(waited).toBeGreaterThanOrEqual(95);
      expect(waited).toBeLessThan(1_000);
    } finally {
      proxy.setLatencyMs(0);
      stop.abort();
      await running;
    }
  }, 60_000);
});
