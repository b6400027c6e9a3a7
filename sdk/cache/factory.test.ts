import { describe, expect, it } from 'vitest';
import {
  createClientset,
  createClientsetFromFactory,
  createDynamicClient,
  createResourceClientFactory,
  hasErrorCode,
  type GroupVersionResource,
  type KubeObject,
  type NamespaceableResourceInterface,
  type ResourceClientFactory,
  type ResourceDescriptor,
  type RestConfig,
} from '../client/index.js';
import { resourceClientFactoryOf, restConfigOf } from '../client/internal.js';
import { createSharedInformerFactory } from './factory.js';
import { FakeListerWatcher } from './fake-list-watch.js';
import { InformerSourceError, type InformerSource, type ResourceFactoryLike } from './list-watch.js';

const ConfigMap: ResourceDescriptor = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
};
const Node: ResourceDescriptor = { group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false };

const obj = (ns: string, name: string, labels: Record<string, string> = {}): KubeObject => ({
  metadata: { ...(ns && { namespace: ns }), name, labels },
});

/** A resource factory over fakes: one FakeListerWatcher per (plural, namespace) that `seed` fills. */
function fakeSource() {
  const fakes = new Map<string, FakeListerWatcher<KubeObject>>();
  const fakeFor = (plural: string, ns: string): FakeListerWatcher<KubeObject> => {
    const key = `${plural}|${ns}`;
    let fake = fakes.get(key);
    if (!fake) {
      fake = new FakeListerWatcher<KubeObject>();
      fakes.set(key, fake);
    }
    return fake;
  };
  const source: ResourceFactoryLike = {
    resource: <T extends KubeObject>(d: { plural: string }) =>
      Object.assign(fakeFor(d.plural, ''), {
        namespace: (ns: string) => fakeFor(d.plural, ns),
      }) as unknown as NamespaceableResourceInterface<T>,
  };
  return { source, fakeFor };
}

describe('SharedInformerFactory', () => {
  it('hands out one informer per resource and scope, with listers over its cache', async () => {
    const { source, fakeFor } = fakeSource();
    fakeFor('configmaps', 'a').add(obj('a', 'x', { app: 'web' }));
    fakeFor('configmaps', 'a').add(obj('a', 'y', { app: 'db' }));
    fakeFor('configmaps', '').add(obj('b', 'z'));
    fakeFor('nodes', '').add(obj('', 'n1'));
    const factory = createSharedInformerFactory(source, { namespace: 'a' });
    const inA = factory.forResource(ConfigMap);
    expect(factory.forResource(ConfigMap).informer).toBe(inA.informer);
    expect(factory.forResource({ group: '', version: 'v1', resource: 'configmaps' }).informer).toBe(inA.informer);
    const everywhere = factory.forResource(ConfigMap, { namespace: '' });
    expect(everywhere.informer).not.toBe(inA.informer);
    expect(factory.forResource(ConfigMap, { labelSelector: 'app=web' }).informer).not.toBe(inA.informer);
    const nodes = factory.forResource(Node); // cluster-scoped: the factory's namespace does not apply

    const controller = new AbortController();
    const running = factory.start(controller.signal);
    expect(await factory.waitForCacheSync(controller.signal)).toBe(true);
    expect(
      inA.lister
        .list()
        .map((o) => o.metadata?.name)
        .toSorted(),
    ).toEqual(['x', 'y']);
    expect(inA.lister.list({ labelSelector: 'app in (web)' }).map((o) => o.metadata?.name)).toEqual(['x']);
    expect(inA.lister.namespace('a').get('y')?.metadata?.labels).toEqual({ app: 'db' });
    expect(inA.lister.namespace('b').list()).toEqual([]);
    expect(everywhere.lister.namespace('b').get('z')).toBeDefined();
    expect(nodes.lister.get('n1')).toBeDefined();
    expect(
      factory
        .health()
        .map((h) => `${h.resource} ${h.namespace} ${h.labelSelector} ${h.synced}`)
        .toSorted(),
    ).toEqual(['v1/configmaps   true', 'v1/configmaps a  true', 'v1/configmaps a app=web true', 'v1/nodes   true']);

    // Asked for after start: started at once.
    const late = factory.forResource(ConfigMap, { namespace: 'late' });
    fakeFor('configmaps', 'late').add(obj('late', 'l'));
    expect(await late.informer.waitForSync(AbortSignal.timeout(2000))).toBe(true);
    expect(late.lister.namespace('late').get('l')).toBeDefined();

    controller.abort();
    await running;
    expect(inA.informer.isStopped && late.informer.isStopped).toBe(true);
  });

  it('answers waitForCacheSync with false when its signal aborts first', async () => {
    const { source, fakeFor } = fakeSource();
    fakeFor('configmaps', '').failNext('watch', new Error('down'));
    // A list that hangs until aborted.
    fakeFor('configmaps', '').list = (o) =>
      new Promise((_, reject) => o.signal?.addEventListener('abort', () => reject(o.signal?.reason as Error)));
    const factory = createSharedInformerFactory(source, { informerOptions: { backoff: { initialMs: 60_000 } } });
    factory.forResource(ConfigMap);
    const controller = new AbortController();
    const running = factory.start(controller.signal);
    expect(await factory.waitForCacheSync(AbortSignal.timeout(50))).toBe(false);
    controller.abort();
    await running;
  });

  it('needs a RestConfig for metadata-only informers', () => {
    const { source } = fakeSource();
    expect(() => createSharedInformerFactory(source).forResource(ConfigMap, { metadataOnly: true })).toThrow(
      /needs a RestConfig/,
    );
  });

  it('takes a Clientset, as client-go’s NewSharedInformerFactory(clientset, …), and lists through its factory', async () => {
    const { source, fakeFor } = fakeSource();
    fakeFor('configmaps', 'a').add(obj('a', 'x'));
    fakeFor('nodes', '').add(obj('', 'n1'));
    const clientset = createClientsetFromFactory(source as unknown as ResourceClientFactory);
    const factory = createSharedInformerFactory(clientset, { namespace: 'a' });
    const configMaps = factory.forResource(ConfigMap);
    const nodes = factory.forResource(Node);
    const controller = new AbortController();
    const running = factory.start(controller.signal);
    expect(await factory.waitForCacheSync(controller.signal)).toBe(true);
    expect(configMaps.lister.namespace('a').get('x')).toBeDefined();
    expect(nodes.lister.get('n1')).toBeDefined();
    controller.abort();
    await running;
  });

  it('takes a DynamicClient-shaped source, which names the plural `resource`', async () => {
    const { fakeFor } = fakeSource();
    fakeFor('configmaps', 'a').add(obj('a', 'x'));
    const dynamicLike = {
      resource: (gvr: GroupVersionResource) =>
        Object.assign(fakeFor(gvr.resource, ''), {
          namespace: (ns: string) => fakeFor(gvr.resource, ns),
        }) as unknown as NamespaceableResourceInterface<KubeObject>,
    };
    const factory = createSharedInformerFactory(dynamicLike as unknown as InformerSource, { namespace: 'a' });
    const { lister } = factory.forResource({ group: '', version: 'v1', resource: 'configmaps' });
    const controller = new AbortController();
    const running = factory.start(controller.signal);
    expect(await factory.waitForCacheSync(controller.signal)).toBe(true);
    expect(lister.namespace('a').get('x')).toBeDefined();
    controller.abort();
    await running;
  });

  it('finds the RestConfig behind a Clientset, a DynamicClient or a factory, for metadata-only informers', () => {
    const config: RestConfig = { host: 'https://127.0.0.1:1' };
    for (const source of [
      config,
      createClientset(config),
      createDynamicClient(config),
      createResourceClientFactory(config),
    ]) {
      // Nothing is listed until start: making the informer only needs the config.
      expect(
        createSharedInformerFactory(source).forResource(ConfigMap, { metadataOnly: true }).informer.isStarted,
      ).toBe(false);
    }
    expect(restConfigOf(createClientset(config))).toBe(config);
    expect(resourceClientFactoryOf(createClientset(config))).toBeDefined();
    expect(resourceClientFactoryOf(config)).toBeUndefined();
  });

  it('rejects anything else with ERR_KUBE_INFORMER_SOURCE, saying what it takes and never printing a value', () => {
    const wrong: [unknown, RegExp][] = [
      [undefined, /got undefined/],
      [null, /got null/],
      ['https://127.0.0.1:6443', /got string/],
      [{}, /got an object without properties/],
      [{ bearerToken: 'secret-token-value', host: 6443 }, /got an object with bearerToken, host$/],
      [
        { coreV1: () => ({}), appsV1: () => ({}) },
        /got a Clientset that createClientset or createClientsetFromFactory did not make/,
      ],
    ];
    for (const [source, got] of wrong) {
      let err: unknown;
      try {
        createSharedInformerFactory(source as InformerSource);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InformerSourceError);
      expect(hasErrorCode(err, 'ERR_KUBE_INFORMER_SOURCE')).toBe(true);
      const message = (err as Error).message;
      expect(message).toMatch(
        /takes a Clientset \(createClientset\(config\)\), a RestConfig \(an object with a host\), a resource-client factory/,
      );
      expect(message).toMatch(got);
      expect(message).not.toContain('secret-token-value');
    }
  });

  it('stopInformer stops one informer, drops it from health, and a later forResource makes a fresh one', async () => {
    const { source, fakeFor } = fakeSource();
    fakeFor('configmaps', 'a').add(obj('a', 'x'));
    fakeFor('nodes', '').add(obj('', 'n1'));
    const factory = createSharedInformerFactory(source, { namespace: 'a' });
    const cms = factory.forResource(ConfigMap);
    const nodes = factory.forResource(Node);
    const stop = new AbortController();
    const done = factory.start(stop.signal);
    expect(await factory.waitForCacheSync(stop.signal)).toBe(true);
    expect(fakeFor('configmaps', 'a').openWatches).toBe(1);

    expect(await factory.stopInformer(ConfigMap)).toBe(true);
    expect(cms.informer.isStopped).toBe(true);
    expect(fakeFor('configmaps', 'a').openWatches).toBe(0);
    expect(factory.health().map((h) => h.resource)).toEqual(['v1/nodes']);
    expect(nodes.informer.isStopped).toBe(false);
    expect(await factory.stopInformer(ConfigMap)).toBe(false);
    expect(await factory.stopInformer(ConfigMap, { namespace: 'other' })).toBe(false);

    // Asked for again after start: a fresh informer, started at once, with a new list.
    fakeFor('configmaps', 'a').add(obj('a', 'y'));
    const again = factory.forResource(ConfigMap);
    expect(again.informer).not.toBe(cms.informer);
    expect(await factory.waitForCacheSync(stop.signal)).toBe(true);
    expect(
      again.lister
        .list()
        .map((o) => o.metadata?.name)
        .toSorted(),
    ).toEqual(['x', 'y']);
    expect(
      factory
        .health()
        .map((h) => h.resource)
        .toSorted(),
    ).toEqual(['v1/configmaps', 'v1/nodes']);
    stop.abort();
    await done;
    expect(fakeFor('configmaps', 'a').openWatches).toBe(0);
    expect(fakeFor('nodes', '').openWatches).toBe(0);
  });
});
