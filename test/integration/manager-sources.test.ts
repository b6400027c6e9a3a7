import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigMap, Secret, createClientset } from '../../sdk/client/index.js';
import {
  CLIENT,
  Reconciler,
  channelSource,
  controllerFor,
  createManager,
  enqueueRequestsFromMapFunc,
  informerSource,
  inject,
  pollingSource,
  type Client,
  type ControllerHandle,
  type ReconcileRequest,
  type ReconcileResult,
} from '../../sdk/manager/index.js';
import { eventually } from '../support/wait.js';
import { createTestNamespace, sharedCluster } from '../support/cluster.js';
import { managerRunner } from '../support/managers.js';

const silent = pino({ level: 'silent' });

/** Managers started by a test, stopped after it. */
const run = managerRunner();

const managerOptions = { metricsBindAddress: '0', healthProbeBindAddress: '0', logger: silent };

describe('event sources and the priority queue against the real API server', () => {
  const { config } = sharedCluster();

  it('wakes a @Reconciler by a channel push and by polling, where the informer would not (updates filtered out)', async () => {
    const ns = await createTestNamespace(config, 'sources');
    const wake = channelSource();
    const polled: string[] = [];
    const seen: string[] = [];

    @Reconciler({
      for: ConfigMap,
      name: 'sources',
      predicates: [{ update: () => false }],
      sources: [wake, pollingSource({ everyMs: 200, list: () => polled.map((name) => ({ namespace: ns, name })) })],
    })
    class SourcesReconciler {
      constructor(@inject(CLIENT) private readonly client: Client) {}
      async reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
        const cm = await this.client.get(ConfigMap, req);
        seen.push(`${req.name}=${cm.data?.['v'] ?? ''}`);
        return {};
      }
    }

    const mgr = await createManager({ config, cache: { namespaces: [ns] }, ...managerOptions });
    mgr.register(SourcesReconciler);
    const cms = createClientset(config).coreV1().configMaps(ns);
    await cms.create({ metadata: { name: 'pushed' }, data: { v: '1' } });
    await cms.create({ metadata: { name: 'polled' }, data: { v: '1' } });
    run(mgr);
    await eventually('the initial reconciles', () => seen.includes('pushed=1') && seen.includes('polled=1'));

    // The updates are filtered out: only the sources can say the objects changed.
    await cms.update({ metadata: { name: 'pushed' }, data: { v: '2' } });
    await cms.update({ metadata: { name: 'polled' }, data: { v: '2' } });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(seen.filter((s) => s.endsWith('=2'))).toEqual([]);

    // The cache has the change by now (the informer saw it, the predicate dropped it): a push reconciles it.
    wake.push({ namespace: ns, name: 'pushed' });
    await eventually('a reconcile woken by the channel', () => seen.includes('pushed=2'));
    polled.push('polled');
    await eventually('a reconcile woken by polling', () => seen.includes('polled=2'));
  });

  it('with 10,000 synced objects and one worker, reconciles a change made after start before the backlog drains', async () => {
    const ns = await createTestNamespace(config, 'priority');
    const cms = createClientset(config).coreV1().configMaps(ns);
    const total = 10_000;
    const names = Array.from({ length: total }, (_, i) => `cm-${String(i).padStart(5, '0')}`);
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < names.length) await cms.create({ metadata: { name: names[next++]! } });
      }),
    );

    const order: string[] = [];
    let changedAt = 0;
    let changedReconciledAt = 0;
    const changed = names[total - 1]!;
    const reconciler = {
      async reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
        // About 0.2 ms of work per reconcile, so the backlog takes a while to drain.
        await new Promise((resolve) => setImmediate(resolve));
        order.push(req.name);
        if (req.name === changed && changedAt > 0 && changedReconciledAt === 0) changedReconciledAt = performance.now();
        return {};
      },
    };
    const mgr = await createManager({ config, cache: { namespaces: [ns] }, ...managerOptions });
    controllerFor(mgr)
      .for(ConfigMap)
      .named('priority')
      .withOptions({ maxConcurrentReconciles: 1 })
      .complete(reconciler);
    const started = performance.now();
    run(mgr);
    await eventually('the first reconciles', () => order.length >= 100, 60_000);

    changedAt = performance.now();
    const positionAtChange = order.length;
    await cms.update({ metadata: { name: changed, labels: { changed: 'yes' } } });
    await eventually('the changed object reconciled', () => changedReconciledAt > 0, 60_000);
    const position = order.indexOf(changed);
    const backlogLeft = total - order.length;
    // Its waiting initial-list key was raised, not added twice: one reconcile per object in all.
    await eventually('the backlog drained', () => order.length >= total, 120_000);
    const drainedAt = performance.now();

    // The figure issue #14 asks for, printed on purpose.
    // oxlint-disable-next-line no-console
    console.log(
      `[priority queue] ${total} synced ConfigMaps, 1 worker: change made after ${positionAtChange} reconciles, ` +
        `reconciled at position ${position} (${position - positionAtChange} later), ` +
        `${(changedReconciledAt - changedAt).toFixed(0)} ms after the update, with ${backlogLeft} initial keys still queued; ` +
        `the backlog drained ${(drainedAt - started).toFixed(0)} ms after start`,
    );
    // Its initial-list key (low priority) is last in FIFO order; the update (priority 0) jumps the backlog. The keys
    // reconciled between the change and it are those the worker got through while the write and its watch event
    // travelled (a few ms), so the bound is on what was still queued, not on that gap.
    expect(position).toBeLessThan(total - 1000);
    expect(backlogLeft).toBeGreaterThan(1000);
  }, 240_000);

  it('watch() on a running controller: a resource watched from then on wakes it (controller-runtime Controller.Watch)', async () => {
    const ns = await createTestNamespace(config, 'late-watch');
    const seen: string[] = [];
    const mgr = await createManager({ config, cache: { namespaces: [ns] }, ...managerOptions });
    const ctrl: ControllerHandle = controllerFor(mgr)
      .for(ConfigMap)
      .named('late-watch')
      .build({
        reconcile: async (req: ReconcileRequest): Promise<ReconcileResult> => {
          seen.push(req.name);
          return {};
        },
      });
    expect(mgr.getController('late-watch')?.name).toBe('late-watch');
    const cs = createClientset(config);
    await cs
      .coreV1()
      .configMaps(ns)
      .create({ metadata: { name: 'target' } });
    run(mgr);
    await eventually('the initial reconcile', () => seen.includes('target'));

    // Secrets were not watched: a Secret change reaches the reconciler only after this watch.
    await ctrl.watch(
      informerSource({
        informers: mgr.cache.informers(Secret),
        handler: enqueueRequestsFromMapFunc((obj) => [{ namespace: obj.metadata?.namespace ?? '', name: 'target' }]),
      }),
    );
    const before = seen.length;
    await cs
      .coreV1()
      .secrets(ns)
      .create({ metadata: { name: 'trigger' }, stringData: { k: 'v' } });
    await eventually('a reconcile caused by the Secret', () => seen.length > before && seen.at(-1) === 'target');
  });
});
