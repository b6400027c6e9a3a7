import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeAllConnections,
  createDynamicClient,
  createResourceClientFactory,
  defineResource,
  type KubeObject,
  type ResourceDescriptor,
} from '../../sdk/client/index.js';
import {
  createSharedIndexInformer,
  createSharedInformerFactory,
  isDeletedFinalStateUnknown,
  type DeepReadonly,
  type ListerWatcher,
} from '../../sdk/cache/index.js';
import { connectToControlPlane } from '../../sdk/envtest/index.js';
import { createTestNamespace, installCrd, sharedCluster, uniqueName } from '../support/cluster.js';
import { eventually } from '../support/wait.js';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}
const ConfigMap: ResourceDescriptor<ConfigMap> = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
};

/** Creates `count` ConfigMaps `cm-<i>` in parallel batches. */
async function createConfigMaps(
  ns: string,
  count: number,
  labels: (i: number) => Record<string, string> = () => ({}),
): Promise<void> {
  const cms = createResourceClientFactory(sharedCluster().config).resource(ConfigMap).namespace(ns);
  const batch = 50;
  for (let start = 0; start < count; start += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - start) }, (_, j) => {
        const i = start + j;
        return cms.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `cm-${i}`, labels: labels(i) },
          data: { i: String(i) },
        });
      }),
    );
  }
}

/** Active handles and requests by type (`TLSWrap`, `Timeout`, …). */
function activeResources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/** Closes pooled connections and lets their handles go. */
async function settle(): Promise<void> {
  await closeAllConnections();
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('informers against the real API server', () => {
  const { config } = sharedCluster();
  const cms = (ns: string) => createResourceClientFactory(config).resource(ConfigMap).namespace(ns);

  it('syncs 1000 ConfigMaps through the factory, with listers and the namespace index', async () => {
    const ns = await createTestNamespace(config, 'sync');
    await createConfigMaps(ns, 1000, (i) => ({ parity: i % 2 ? 'odd' : 'even', tier: `t${i % 5}` }));
    const controller = new AbortController();
    const factory = createSharedInformerFactory(config, { namespace: ns });
    const { informer, lister } = factory.forResource(ConfigMap);
    expect(factory.forResource(ConfigMap).informer).toBe(informer); // one informer per (resource, scope)
    const initial: string[] = [];
    const reg = informer.addEventHandler({
      onAdd: (cm, isInInitialList) => void (isInInitialList && initial.push(cm.metadata!.name!)),
    });
    const running = factory.start(controller.signal);
    expect(await factory.waitForCacheSync(controller.signal)).toBe(true);
    await eventually('handler sync', () => reg.hasSynced(), 20_000);

    expect(initial).toHaveLength(1000);
    expect(new Set(initial).size).toBe(1000);
    expect(lister.list()).toHaveLength(1000);
    expect(lister.namespace(ns).list({ labelSelector: 'parity=odd,tier in (t1,t3)' })).toHaveLength(200);
    expect(lister.list({ labelSelector: '!parity' })).toHaveLength(0);
    const one = lister.namespace(ns).get('cm-7');
    expect(one?.data).toEqual({ i: '7' });
    expect(one?.metadata?.managedFields).toBeUndefined();
    expect(Object.isFrozen(one)).toBe(true);
    expect(informer.getIndexer().byIndex('namespace', ns)).toHaveLength(1000);

    const [health] = factory.health();
    expect(health).toMatchObject({
      resource: 'v1/configmaps',
      namespace: ns,
      synced: true,
      relists: 0,
      lastError: undefined,
    });
    controller.abort();
    await running;
  });

  it('delivers add, update and delete in order per key, and replays the state to a late handler', async () => {
    const ns = await createTestNamespace(config, 'order');
    const client = cms(ns);
    await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pre' }, data: { v: '0' } });
    const controller = new AbortController();
    const informer = createSharedIndexInformer<ConfigMap>(client);
    const byKey = new Map<string, string[]>();
    const note = (cm: DeepReadonly<ConfigMap>, what: string): void => {
      const key = cm.metadata!.name!;
      byKey.set(key, [...(byKey.get(key) ?? []), what]);
    };
    informer.addEventHandler({
      onAdd: (cm) => note(cm, `add ${cm.data?.['v']}`),
      onUpdate: (old, cm) => note(cm, `update ${old.data?.['v']}->${cm.data?.['v']}`),
      onDelete: (cm) => note(isDeletedFinalStateUnknown(cm) ? cm.obj : cm, 'delete'),
    });
    const running = informer.start(controller.signal);
    await informer.waitForSync();

    const names = ['a', 'b', 'c', 'd', 'e'];
    await Promise.all(
      names.map(async (name) => {
        let cm = await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: '1' } });
        for (let v = 2; v <= 4; v++) cm = await client.update({ ...cm, data: { v: String(v) } });
        await client.delete(name);
      }),
    );
    await client.update({ ...(await client.get('pre')), data: { v: '9' } });
    await eventually(
      'all events',
      () => names.every((n) => byKey.get(n)?.length === 5) && byKey.get('pre')?.length === 2,
      20_000,
    );
    for (const n of names)
      expect(byKey.get(n)).toEqual(['add 1', 'update 1->2', 'update 2->3', 'update 3->4', 'delete']);
    expect(byKey.get('pre')).toEqual(['add 0', 'update 0->9']);

    const late: string[] = [];
    const reg = informer.addEventHandler({
      onAdd: (cm, initial) => void late.push(`${cm.metadata!.name} ${cm.data?.['v']} ${initial}`),
    });
    await eventually('late handler sync', () => reg.hasSynced(), 20_000);
    expect(late).toEqual(['pre 9 true']);
    controller.abort();
    await running;
  });

  it('syncs with paginated LIST and with WatchList, and the server answers WatchList', async () => {
    const ns = await createTestNamespace(config, 'strategies');
    await createConfigMaps(ns, 120);
    const calls: string[] = [];
    const client = cms(ns);
    const recording: ListerWatcher<ConfigMap> = {
      list: (o) => {
        calls.push(`list limit=${o.limit}`);
        return client.list(o);
      },
      watch: (o) => {
        calls.push(o.sendInitialEvents ? 'watch-list' : 'watch');
        return client.watch(o);
      },
    };
    let size = 120;
    for (const [initialList, expected] of [
      ['watch-list', ['watch-list']],
      ['list', ['list limit=50', 'list limit=50', 'list limit=50', 'watch']],
    ] as const) {
      calls.length = 0;
      const controller = new AbortController();
      const informer = createSharedIndexInformer<ConfigMap>(recording, { initialList, pageSize: 50 });
      const running = informer.start(controller.signal);
      expect(await informer.waitForSync(AbortSignal.timeout(20_000))).toBe(true);
      expect(informer.getIndexer().size).toBe(size);
      await eventually(`${initialList} calls`, () => calls.length === expected.length, 20_000);
      expect(calls).toEqual(expected);
      await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `after-${initialList}` } });
      size++;
      await eventually(`${initialList}: a change after sync`, () => informer.getIndexer().size === size, 20_000);
      controller.abort();
      await running;
    }
  });

  it('caches metadata only (PartialObjectMetadata) when asked', async () => {
    const ns = await createTestNamespace(config, 'meta');
    await createConfigMaps(ns, 20, (i) => ({ n: String(i) }));
    const controller = new AbortController();
    const factory = createSharedInformerFactory(config, { namespace: ns, metadataOnly: true });
    const { informer, lister } = factory.forResource(ConfigMap);
    const running = factory.start(controller.signal);
    expect(await factory.waitForCacheSync(controller.signal)).toBe(true);
    const item = lister.namespace(ns).get('cm-3');
    expect(item).toMatchObject({
      apiVersion: 'meta.k8s.io/v1',
      kind: 'PartialObjectMetadata',
      metadata: { name: 'cm-3', labels: { n: '3' } },
    });
    expect(item).not.toHaveProperty('data');
    expect(lister.list({ labelSelector: 'n in (1,2)' })).toHaveLength(2);
    await cms(ns).create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'later' },
      data: { big: 'x'.repeat(1000) },
    });
    await eventually('watch event', () => informer.getIndexer().size === 21, 20_000);
    const later = lister.namespace(ns).get('later');
    expect(later?.kind).toBe('PartialObjectMetadata');
    expect(later).not.toHaveProperty('data');
    controller.abort();
    await running;
  });

  describe('custom resources by GVR', () => {
    const group = `${uniqueName('gadgets')}.example.com`;
    const crds = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };
    const dyn = createDynamicClient(config);

    beforeAll(async () => {
      await installCrd(config, { group, plural: 'gadgets', kind: 'Gadget' });
    });
    afterAll(async () => {
      await dyn.resource(crds).delete(`gadgets.${group}`);
    });

    it('informs on a CRD by GVR and by defineResource', async () => {
      const ns = await createTestNamespace(config, 'gadgets');
      const gvr = { group, version: 'v1', resource: 'gadgets' };
      await dyn
        .resource(gvr)
        .namespace(ns)
        .create({ apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'g1' }, spec: { size: 1 } });
      const controller = new AbortController();
      const factory = createSharedInformerFactory(config, { namespace: ns });
      const byGvr = factory.forResource(gvr);
      const Gadget = defineResource<{ size: number }>({ group, version: 'v1', kind: 'Gadget', namespaced: true });
      const typed = factory.forResource(Gadget);
      expect(typed.informer).toBe(byGvr.informer);
      const running = factory.start(controller.signal);
      expect(await factory.waitForCacheSync(controller.signal)).toBe(true);
      expect(byGvr.lister.namespace(ns).get('g1')?.['spec']).toEqual({ size: 1 });
      expect(typed.lister.namespace(ns).get('g1')?.spec?.size).toBe(1);
      await dyn
        .resource(gvr)
        .namespace(ns)
        .create({ apiVersion: `${group}/v1`, kind: 'Gadget', metadata: { name: 'g2' }, spec: { size: 2 } });
      await eventually('second gadget', () => typed.lister.list().length === 2, 20_000);
      controller.abort();
      await running;
    });
  });

  it('reports a 403 through health, keeps retrying, and waitForCacheSync returns false on abort', async () => {
    const access = await connectToControlPlane(sharedCluster().workDir);
    const user = await access.addUser({ name: uniqueName('nobody') });
    const ns = await createTestNamespace(config, 'rbac');
    const controller = new AbortController();
    const factory = createSharedInformerFactory(user, {
      namespace: ns,
      informerOptions: { backoff: { initialMs: 200, maxMs: 400 } },
    });
    const { informer } = factory.forResource(ConfigMap);
    const running = factory.start(controller.signal);
    const started = Date.now();
    const synced = await factory.waitForCacheSync(AbortSignal.timeout(2500));
    expect(synced).toBe(false);
    expect(Date.now() - started).toBeLessThan(4000);
    const health = informer.health();
    expect(health.synced).toBe(false);
    expect(health.lastError).toMatchObject({ statusCode: 403, reason: 'Forbidden', during: 'list' });
    expect(health.lastError?.message).toContain('configmaps');
    // 2.5 s at 200–400 ms (doubling, jittered) between attempts: several attempts, not one and not a hot loop.
    expect(health.consecutiveFailures).toBeGreaterThanOrEqual(4);
    expect(health.consecutiveFailures).toBeLessThanOrEqual(13);
    controller.abort();
    await running;
    expect(await factory.waitForCacheSync()).toBe(false);
  });

  it('leaves no socket or timer behind after stop', async () => {
    const ns = await createTestNamespace(config, 'leak');
    await createConfigMaps(ns, 10);
    await settle();
    const before = activeResources();
    const controller = new AbortController();
    const factory = createSharedInformerFactory(config, { namespace: ns, resyncPeriodMs: 1000 });
    const { informer } = factory.forResource(ConfigMap);
    informer.addEventHandler({ onUpdate: () => undefined });
    factory.forResource(ConfigMap, { metadataOnly: true });
    const running = factory.start(controller.signal);
    expect(await factory.waitForCacheSync()).toBe(true);
    const during = activeResources();
    expect((during['TLSWrap'] ?? 0) + (during['TCPSocketWrap'] ?? 0)).toBeGreaterThan(0);
    controller.abort();
    await running;
    // The watch sockets are gone with the informers; idle pooled request sockets belong to the client's pool.
    const afterStop = activeResources();
    expect(afterStop['Timeout'] ?? 0).toBe(before['Timeout'] ?? 0);
    await settle();
    expect(activeResources()).toEqual(before);
  });
});
