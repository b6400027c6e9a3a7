// createSharedInformerFactory from each source API.md names (a Clientset, as client-go's NewSharedInformerFactory; a
// RestConfig; a resource-client factory) and a DynamicClient, against the real API server.
import { describe, expect, it } from 'vitest';
import {
  ConfigMap,
  Pod,
  createClientset,
  createDynamicClient,
  createResourceClientFactory,
  type RestConfig,
} from '../../sdk/client/index.js';
import { createSharedInformerFactory, type InformerSource } from '../../sdk/cache/index.js';
import { createTestNamespace, sharedCluster } from '../support/cluster.js';
import { eventually } from '../support/wait.js';

describe('createSharedInformerFactory sources against the real API server', () => {
  const { config } = sharedCluster();
  const sources: [string, (config: RestConfig) => InformerSource][] = [
    ['a Clientset', (c) => createClientset(c)],
    ['a RestConfig', (c) => c],
    ['a resource-client factory', (c) => createResourceClientFactory(c)],
    ['a DynamicClient', (c) => createDynamicClient(c)],
  ];

  for (const [what, make] of sources) {
    it(`lists and watches through ${what}`, async () => {
      const ns = await createTestNamespace(config, 'factory-src');
      const cs = createClientset(config);
      await cs
        .coreV1()
        .configMaps(ns)
        .create({ metadata: { name: 'before', labels: { app: 'web' } }, data: { v: '0' } });
      const factory = createSharedInformerFactory(make(config), { resyncPeriodMs: 0, namespace: ns });
      // A typed descriptor, and the same resource by GVR (what a DynamicClient user would ask for): one informer.
      const { informer, lister } = factory.forResource(ConfigMap);
      expect(factory.forResource({ group: '', version: 'v1', resource: 'configmaps' }).informer).toBe(informer);
      const seen: string[] = [];
      informer.addEventHandler({
        onAdd: (cm, isInInitialList) => void seen.push(`add ${cm.metadata?.name}${isInInitialList ? ' initial' : ''}`),
        onUpdate: (oldCm, cm) => void seen.push(`update ${cm.metadata?.name} ${oldCm.data?.['v']}->${cm.data?.['v']}`),
        onDelete: () => void seen.push('delete'),
      });
      const controller = new AbortController();
      const running = factory.start(controller.signal);
      expect(await factory.waitForCacheSync(controller.signal)).toBe(true);
      expect(lister.list({ labelSelector: 'app=web' }).map((cm) => cm.metadata?.name)).toEqual(['before']);
      expect(lister.namespace(ns).get('before')?.data).toEqual({ v: '0' });
      expect(informer.getIndexer().byIndex('namespace', ns)).toHaveLength(1);

      await cs
        .coreV1()
        .configMaps(ns)
        .create({ metadata: { name: 'after' }, data: { v: '1' } });
      const before = await cs.coreV1().configMaps(ns).get('before');
      await cs
        .coreV1()
        .configMaps(ns)
        .update({ ...before, data: { v: '2' } });
      await eventually('the watch events', () => seen.length === 3);
      expect(seen).toEqual(['add before initial', 'add after', 'update before 0->2']);
      expect(factory.health()).toEqual([
        expect.objectContaining({ resource: 'v1/configmaps', namespace: ns, synced: true, lastError: undefined }),
      ]);
      controller.abort();
      await running;
    });
  }

  it('serves metadata-only informers from a Clientset, through the RestConfig it was made from', async () => {
    const ns = await createTestNamespace(config, 'factory-meta');
    const cs = createClientset(config);
    await cs
      .coreV1()
      .configMaps(ns)
      .create({ metadata: { name: 'big', labels: { size: 'l' } }, data: { blob: 'x'.repeat(10_000) } });
    const factory = createSharedInformerFactory(cs, { namespace: ns, metadataOnly: true });
    const { lister } = factory.forResource(ConfigMap);
    // Pods: none in the namespace, an empty cache that still syncs.
    const pods = factory.forResource(Pod);
    const controller = new AbortController();
    const running = factory.start(controller.signal);
    expect(await factory.waitForCacheSync(controller.signal)).toBe(true);
    const big = lister.namespace(ns).get('big');
    expect(big).toMatchObject({
      apiVersion: 'meta.k8s.io/v1',
      kind: 'PartialObjectMetadata',
      metadata: { name: 'big', labels: { size: 'l' } },
    });
    expect(big).not.toHaveProperty('data');
    expect(pods.lister.list()).toEqual([]);
    controller.abort();
    await running;
  });
});
