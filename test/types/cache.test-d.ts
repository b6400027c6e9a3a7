// Type tests of kubeloop/cache and kubeloop/testing as a user writes them, after API.md: an informer factory made from
// a Clientset (or a RestConfig, a resource-client factory, a DynamicClient, a fake client's views), the DeltaFIFO and
// createInformer, and a fake client started from typed objects of any kind. Checked by `tsc -p tsconfig.json --noEmit`
// (every `@ts-expect-error` line must fail to compile, every other line must compile).
import { expectTypeOf } from 'vitest';
import {
  ConfigMap,
  type Deployment,
  Pod,
  createClientset,
  createDynamicClient,
  createResourceClientFactory,
  defineResource,
  type Clientset,
  type CustomObject,
  type PartialObjectMetadata,
  type RestConfig,
  type Unstructured,
} from '../../sdk/client/index.js';
import {
  Reflector,
  createDeltaFIFO,
  createIndexer,
  createInformer,
  createSharedInformerFactory,
  isDeletedFinalStateUnknown,
  RequeueError,
  type DeepReadonly,
  type DeletedFinalStateUnknown,
  type Deltas,
  type Informer,
  type InformerAndLister,
  type SharedInformerFactory,
} from '../../sdk/cache/index.js';
import { createFakeClient } from '../../sdk/testing/index.js';

declare const config: RestConfig;
declare const signal: AbortSignal;

// ---- createSharedInformerFactory takes a Clientset, a RestConfig or a resource-client factory (and a DynamicClient).
const cs: Clientset = createClientset(config);
const factory = createSharedInformerFactory(cs, { resyncPeriodMs: 0, namespace: 'ns' });
expectTypeOf(factory).toEqualTypeOf<SharedInformerFactory>();
createSharedInformerFactory(config);
createSharedInformerFactory(createResourceClientFactory(config), { namespace: 'ns' });
createSharedInformerFactory(createDynamicClient(config));
const fake = createFakeClient();
createSharedInformerFactory(fake.clientset);
createSharedInformerFactory(fake.factory);
// @ts-expect-error a URL is not a source: a RestConfig is
createSharedInformerFactory('https://127.0.0.1:6443');
// @ts-expect-error an object that is none of them
createSharedInformerFactory({ namespace: 'ns' });
// @ts-expect-error a Clientset's group client is not a source
createSharedInformerFactory(cs.coreV1());

// ---- The API.md walk-through, typed by the descriptor.
const pods = factory.forResource(Pod);
expectTypeOf(pods).toEqualTypeOf<InformerAndLister<Pod>>();
pods.informer.addEventHandler({
  onAdd(obj, isInInitialList) {
    expectTypeOf(obj).toEqualTypeOf<DeepReadonly<Pod>>();
    expectTypeOf(isInInitialList).toBeBoolean();
    // @ts-expect-error cached objects are read-only
    obj.metadata!.name = 'x';
  },
  onUpdate(oldObj, newObj) {
    expectTypeOf(oldObj).toEqualTypeOf<DeepReadonly<Pod>>();
    expectTypeOf(newObj.spec?.nodeName).toEqualTypeOf<string | undefined>();
  },
  onDelete(objOrTombstone) {
    expectTypeOf(objOrTombstone).toEqualTypeOf<DeepReadonly<Pod> | DeletedFinalStateUnknown<DeepReadonly<Pod>>>();
    const pod = isDeletedFinalStateUnknown(objOrTombstone) ? objOrTombstone.obj : objOrTombstone;
    expectTypeOf(pod).toEqualTypeOf<DeepReadonly<Pod>>();
  },
});
expectTypeOf(factory.start(signal)).toEqualTypeOf<Promise<void>>();
expectTypeOf(await factory.waitForCacheSync(signal)).toBeBoolean();
expectTypeOf(pods.lister.list({ labelSelector: 'app=web' })).toEqualTypeOf<DeepReadonly<Pod>[]>();
expectTypeOf(pods.lister.namespace('ns').get('p')).toEqualTypeOf<DeepReadonly<Pod> | undefined>();
expectTypeOf(pods.informer.getIndexer().byIndex('namespace', 'ns')).toEqualTypeOf<DeepReadonly<Pod>[]>();
expectTypeOf(
  factory.forResource({ group: 'example.com', version: 'v1', resource: 'widgets' }).lister.list(),
).toEqualTypeOf<DeepReadonly<Unstructured>[]>();
expectTypeOf(factory.forResource(ConfigMap, { metadataOnly: true }).lister.list()).toEqualTypeOf<
  DeepReadonly<PartialObjectMetadata>[]
>();

// ---- createInformer (client-go's NewInformer): T comes from the lister-watcher, a typed client is one.
const informer = createInformer({
  listWatch: cs.coreV1().configMaps('ns'),
  objectType: ConfigMap,
  resyncPeriodMs: 30_000,
  handler: {
    onAdd: (cm, isInInitialList) => {
      expectTypeOf(cm.data).toEqualTypeOf<DeepReadonly<Record<string, string>> | undefined>();
      expectTypeOf(isInInitialList).toBeBoolean();
    },
    onUpdate: async (oldCm, cm) => {
      expectTypeOf(oldCm).toEqualTypeOf<DeepReadonly<ConfigMap>>();
      expectTypeOf(cm).toEqualTypeOf<DeepReadonly<ConfigMap>>();
    },
    onDelete: (cm) => {
      expectTypeOf(cm).toEqualTypeOf<DeepReadonly<ConfigMap> | DeletedFinalStateUnknown<DeepReadonly<ConfigMap>>>();
    },
  },
});
expectTypeOf(informer).toEqualTypeOf<Informer<ConfigMap>>();
expectTypeOf(informer.getStore().getByKey('ns/a')).toEqualTypeOf<DeepReadonly<ConfigMap> | undefined>();
expectTypeOf(informer.start(signal)).toEqualTypeOf<Promise<void>>();
// The lister-watcher alone decides T: objectType does not widen it.
expectTypeOf(createInformer({ listWatch: cs.coreV1().pods('ns'), objectType: Pod, handler: {} })).toEqualTypeOf<
  Informer<Pod>
>();
// @ts-expect-error a handler is required
createInformer({ listWatch: cs.coreV1().configMaps('ns') });

// ---- The DeltaFIFO: a reflector's store, popped one key at a time.
const store = createIndexer<ConfigMap>();
const fifo = createDeltaFIFO<ConfigMap>({ knownObjects: store, emitDeltaTypeReplaced: true });
void new Reflector({ listerWatcher: cs.coreV1().configMaps('ns'), store: fifo }).start(signal);
const popped = await fifo.pop((deltas, isInInitialList) => {
  expectTypeOf(isInInitialList).toBeBoolean();
  for (const delta of deltas) {
    if (delta.type === 'Deleted') {
      expectTypeOf(delta.object).toEqualTypeOf<ConfigMap | DeletedFinalStateUnknown<ConfigMap>>();
      store.deleteByKey(fifo.keyOf(delta.object));
    } else {
      expectTypeOf(delta.type).toEqualTypeOf<'Added' | 'Updated' | 'Replaced' | 'Sync'>();
      expectTypeOf(delta.object).toEqualTypeOf<ConfigMap>();
      store.update(delta.object);
    }
  }
  if (deltas.length > 10) throw new RequeueError(new Error('later'));
});
expectTypeOf(popped).toEqualTypeOf<Deltas<ConfigMap>>();
// @ts-expect-error a FIFO holds objects, not keys
fifo.add('ns/a');

// ---- kubeloop/testing: createFakeClient takes typed objects of any kind, inline or declared.
const Widget = defineResource<{ size?: number }, { phase?: string }>({
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  namespaced: true,
});
type Widget = CustomObject<{ size?: number }, { phase?: string }>;
const widget: Widget = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w', namespace: 'ns' },
  spec: { size: 1 },
};
const deployment: Deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'ns' },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } },
  },
};
const client = createFakeClient({
  resources: [Widget],
  objects: [
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'settings', namespace: 'ns', labels: { app: 'web' } },
      data: { mode: 'fast' },
    },
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'ns' }, stringData: { token: 't' } },
    widget,
    deployment,
  ],
});
const stored = client.tracker.add({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'a', namespace: 'ns' },
  data: { a: 'b' },
});
expectTypeOf(stored.data).toEqualTypeOf<{ a: string }>();
expectTypeOf(stored.metadata.resourceVersion).toEqualTypeOf<string | undefined>();
// @ts-expect-error metadata is still checked: `nme` is not a field of ObjectMeta
createFakeClient({ objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { nme: 'x' }, data: {} }] });
// @ts-expect-error apiVersion is a string
createFakeClient({ objects: [{ apiVersion: 1, kind: 'ConfigMap', metadata: { name: 'x' } }] });
