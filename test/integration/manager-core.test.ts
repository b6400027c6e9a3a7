import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigMap, Secret, createClientset, isNotFound } from '../../sdk/client/index.js';
import {
  CLIENT,
  LOGGER,
  Reconciler,
  TerminalError,
  controllerFor,
  createManager,
  inject,
  type Client,
  type Manager,
  type ReconcileRequest,
  type ReconcileResult,
} from '../../sdk/manager/index.js';
import { createFakeClock } from '../../sdk/workqueue/index.js';
import { eventually, freePort, httpGet } from '../support/wait.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';
import { managerRunner } from '../support/managers.js';

const silent = pino({ level: 'silent' });

/** Managers started by a test, stopped after it. */
const run = managerRunner();

describe('Manager against the real API server', () => {
  const { config } = sharedCluster();

  it('retries a reconcile that throws, stops retrying a TerminalError, and requeues after requeueAfterMs', async () => {
    const ns = await createTestNamespace(config, 'outcomes');
    const attempts = new Map<string, number>();
    const reconciler = {
      async reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
        const n = (attempts.get(req.name) ?? 0) + 1;
        attempts.set(req.name, n);
        if (req.name === 'flaky' && n < 3) throw new Error('transient');
        if (req.name === 'broken') throw new TerminalError('the spec cannot work');
        if (req.name === 'periodic') return { requeueAfterMs: 200 };
        return {};
      },
    };
    const mgr = await createManager({
      config,
      cache: { namespaces: [ns] },
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: silent,
    });
    controllerFor(mgr).for(ConfigMap).named('outcomes').complete(reconciler);
    run(mgr);
    const cms = createClientset(config).coreV1().configMaps(ns);
    for (const name of ['flaky', 'broken', 'periodic']) await cms.create({ metadata: { name } });

    await eventually('three attempts of flaky', () => (attempts.get('flaky') ?? 0) >= 3);
    await eventually('three reconciles of periodic', () => (attempts.get('periodic') ?? 0) >= 3);
    await new Promise((r) => setTimeout(r, 500));
    expect(attempts.get('flaky')).toBe(3); // succeeded on the third try, then left alone
    expect(attempts.get('broken')).toBe(1); // terminal: not retried
  });

  it('runs requeueAfterMs and backoff on the clock it is given, so a fake clock needs no waiting', async () => {
    const ns = await createTestNamespace(config, 'clock');
    const clock = createFakeClock();
    let calls = 0;
    const mgr = await createManager({
      config,
      cache: { namespaces: [ns] },
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: silent,
      clock,
    });
    controllerFor(mgr)
      .for(ConfigMap)
      .complete({
        reconcile: async () => {
          calls++;
          return { requeueAfterMs: 3_600_000 };
        },
      });
    run(mgr);
    await createClientset(config)
      .coreV1()
      .configMaps(ns)
      .create({ metadata: { name: 'hourly' } });
    await eventually('the first reconcile', () => calls === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(1); // an hour has not passed on the fake clock
    clock.advance(3_600_000);
    await eventually('the requeued reconcile', () => calls === 2);
  });

  it('constructs reconcilers through the container, with @inject or with static inject, and reads copies from the cache', async () => {
    const ns = await createTestNamespace(config, 'di');
    const seen: string[] = [];

    @Reconciler({ for: ConfigMap, name: 'decorated' })
    class Decorated {
      constructor(@inject(CLIENT) private readonly client: Client) {}
      async reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
        const cm = await this.client.get(ConfigMap, req);
        cm.data = { mutated: 'locally' }; // a copy: the cache is not affected
        const again = await this.client.get(ConfigMap, req);
        seen.push(`decorated:${req.name}:${again.data?.['mutated'] ?? 'clean'}`);
        return {};
      }
    }

    // What a toolchain without parameter decorators (esbuild, tsx, TC39 decorators) writes: tokens listed by hand,
    // the decorator applied with a standard decorator context.
    class Plain {
      static inject = [CLIENT, LOGGER] as const;
      constructor(
        private readonly client: Client,
        readonly log: unknown,
      ) {}
      async reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
        const frozen = await this.client.get(ConfigMap, req, { unsafeDisableDeepCopy: true });
        seen.push(`plain:${req.name}:${Object.isFrozen(frozen)}:${this.log ? 'logger' : 'none'}`);
        return {};
      }
    }
    Reconciler({ for: ConfigMap, name: 'plain' })(Plain, { kind: 'class', name: 'Plain' } as ClassDecoratorContext<
      typeof Plain
    >);

    const mgr = await createManager({
      config,
      cache: { namespaces: [ns] },
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: silent,
    });
    mgr.register(Decorated);
    mgr.register(Plain);
    run(mgr);
    await createClientset(config)
      .coreV1()
      .configMaps(ns)
      .create({ metadata: { name: 'x' }, data: { a: '1' } });
    await eventually('both reconcilers', () => seen.length >= 2);
    expect(seen.toSorted()).toEqual(['decorated:x:clean', 'plain:x:true:logger']);
  });

  it('answers cached lists with label selectors and field indexes, and uncached reads on request', async () => {
    const ns = await createTestNamespace(config, 'reads');
    const mgr = await createManager({
      config,
      cache: { namespaces: [ns] },
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: silent,
    });
    mgr.cache.indexField(ConfigMap, 'data.color', (cm) => [cm.data?.['color'] ?? '']);
    controllerFor(mgr)
      .for(ConfigMap)
      .complete({ reconcile: async () => ({}) });
    run(mgr);
    const cms = createClientset(config).coreV1().configMaps(ns);
    await cms.create({ metadata: { name: 'a', labels: { tier: 'web' } }, data: { color: 'red' } });
    await cms.create({ metadata: { name: 'b', labels: { tier: 'db' } }, data: { color: 'red' } });
    await cms.create({ metadata: { name: 'c', labels: { tier: 'web' } }, data: { color: 'blue' } });

    const names = async (opts: Parameters<Client['list']>[1]) =>
      (await mgr.client.list(ConfigMap, opts)).items.map((i) => i.metadata?.name).toSorted();
    await eventually('three cached objects', async () =>
      (await names({ namespace: ns })).length === 3 ? true : undefined,
    );
    expect(await names({ namespace: ns, labelSelector: 'tier=web' })).toEqual(['a', 'c']);
    expect(await names({ namespace: ns, matchingFields: { 'data.color': 'red' } })).toEqual(['a', 'b']);
    expect(await names({ namespace: ns, labelSelector: 'tier=web', matchingFields: { 'data.color': 'red' } })).toEqual([
      'a',
    ]);
    const list = await mgr.client.list(ConfigMap, { namespace: ns });
    expect(list).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMapList' });

    await expect(mgr.client.get(ConfigMap, { namespace: ns, name: 'absent' })).rejects.toSatisfy(isNotFound);
    // Secrets are not cached by anyone here: an uncached read goes to the server and starts no informer.
    await createClientset(config)
      .coreV1()
      .secrets(ns)
      .create({ metadata: { name: 's' }, stringData: { k: 'v' } });
    const secret = await mgr.client.get(Secret, { namespace: ns, name: 's' }, { uncached: true });
    expect(secret.metadata?.name).toBe('s');
    expect(mgr.cache.health().some((h) => h.resource === 'v1/secrets')).toBe(false);
  });

  it('serves metrics and probes, and is ready only once its informers synced', async () => {
    const ns = await createTestNamespace(config, 'probes');
    const [metricsPort, probePort] = [await freePort(), await freePort()];
    const mgr = await createManager({
      config,
      cache: { namespaces: [ns] },
      metricsBindAddress: `127.0.0.1:${metricsPort}`,
      healthProbeBindAddress: `127.0.0.1:${probePort}`,
      logger: silent,
    });
    let reconciled = 0;
    controllerFor(mgr)
      .for(ConfigMap)
      .named('probed')
      .complete({ reconcile: async () => (reconciled++, {}) });
    run(mgr);
    await createClientset(config)
      .coreV1()
      .configMaps(ns)
      .create({ metadata: { name: 'm' } });
    await eventually('a reconcile', () => reconciled > 0);
    expect((await httpGet(`http://127.0.0.1:${probePort}/healthz`)).status).toBe(200);
    const ready = await eventually('readyz 200', async () => {
      const r = await httpGet(`http://127.0.0.1:${probePort}/readyz?verbose`);
      return r.status === 200 ? r : undefined;
    });
    expect(ready.text).toContain('informers');
    const metrics = await httpGet(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/controller_runtime_reconcile_total\{controller="probed",result="success"\} [1-9]/);
    expect(metrics.text).toContain('controller_runtime_max_concurrent_reconciles{controller="probed"} 1');
    expect(metrics.text).toMatch(/workqueue_adds_total\{name="probed",controller="probed"\} [1-9]/);
    expect(metrics.text).toMatch(/rest_client_requests_total\{code="200",method="GET",host="127\.0\.0\.1:\d+"\} [1-9]/);
    expect(metrics.text).toContain('nodejs_heap_size_used_bytes');
    expect(metrics.text).toContain(`kubeloop_informer_synced{resource="v1/configmaps",namespace="${ns}"} 1`);
    expect(metrics.text).toContain(`kubeloop_informer_watching{resource="v1/configmaps",namespace="${ns}"} 1`);
    expect(metrics.text).toMatch(
      /kubeloop_informer_last_event_age_seconds\{resource="v1\/configmaps",namespace="[^"]+"\} \d/,
    );
  });

  it('runs controllers only on the elected replica, and a successor takes over when the leader stops', async () => {
    const ns = await createTestNamespace(config, 'ha');
    const id = uniqueName('ha-operator');
    const reconciledBy = new Set<string>();
    const replica = async (identity: string): Promise<{ mgr: Manager; stop: AbortController }> => {
      const mgr = await createManager({
        config,
        cache: { namespaces: [ns] },
        metricsBindAddress: '0',
        healthProbeBindAddress: '0',
        logger: silent,
        leaderElection: {
          enabled: true,
          id,
          namespace: ns,
          identity,
          leaseDurationMs: 2000,
          renewDeadlineMs: 1500,
          retryPeriodMs: 300,
        },
      });
      controllerFor(mgr)
        .for(ConfigMap)
        .complete({
          reconcile: async () => {
            reconciledBy.add(identity);
            return {};
          },
        });
      return { mgr, stop: run(mgr) };
    };
    const a = await replica('replica-a');
    await a.mgr.elected();
    const b = await replica('replica-b');
    const cms = createClientset(config).coreV1().configMaps(ns);
    await cms.create({ metadata: { name: 'one' } });
    await eventually('a reconcile by a', () => reconciledBy.has('replica-a'));
    expect(reconciledBy.has('replica-b')).toBe(false);

    a.stop.abort(); // a clean stop releases the lease
    await b.mgr.elected();
    await cms.create({ metadata: { name: 'two' } });
    await eventually('a reconcile by b', () => reconciledBy.has('replica-b'));
    const lease = await createClientset(config).coordinationV1().leases(ns).get(id);
    expect(lease.spec?.holderIdentity).toBe('replica-b');
  });

  it('refuses late or duplicate registrations and classes it cannot construct, with errors that say what to do', async () => {
    const mgr = await createManager({ config, metricsBindAddress: '0', healthProbeBindAddress: '0', logger: silent });
    controllerFor(mgr)
      .for(ConfigMap)
      .named('dup')
      .complete({ reconcile: async () => ({}) });
    expect(() =>
      controllerFor(mgr)
        .for(ConfigMap)
        .named('dup')
        .complete({ reconcile: async () => ({}) }),
    ).toThrow(/two controllers are named dup/);
    class Undecorated {
      async reconcile(): Promise<ReconcileResult> {
        return {};
      }
    }
    expect(() => mgr.register(Undecorated)).toThrow(/has no @Reconciler/);
    class NoTokens {
      constructor(readonly client: Client) {}
      async reconcile(): Promise<ReconcileResult> {
        return {};
      }
    }
    Reconciler({ for: ConfigMap, name: 'no-tokens' })(NoTokens, {
      kind: 'class',
      name: 'NoTokens',
    } as ClassDecoratorContext<typeof NoTokens>);
    expect(() => mgr.register(NoTokens)).toThrow(/cannot construct NoTokens.*@inject\(TOKEN\)/s);
    const stop = run(mgr);
    await mgr.elected();
    expect(() =>
      controllerFor(mgr)
        .for(ConfigMap)
        .named('late')
        .complete({ reconcile: async () => ({}) }),
    ).toThrow(/after the manager started/);
    stop.abort();
  });
});
