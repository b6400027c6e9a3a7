// Metadata-only watches ask for protobuf first, as client-go's metadata client does. What kubeloop decodes from the
// API server's protobuf frames must be what the JSON encoding of the same objects says, field for field and in the
// same order; managedFields are passed over when the informer drops them; errors keep their Status.
import { describe, expect, it } from 'vitest';
import {
  ApiError,
  ConfigMap,
  createClientset,
  createDynamicClient,
  restClientFor,
  type ObjectMeta,
  type PartialObjectMetadata,
  type RestConfig,
  type Unstructured,
  type Watch,
} from '../../sdk/client/index.js';
import { createSharedInformerFactory } from '../../sdk/cache/index.js';
import { metadataListWatchFor, resolveResource, type ResolvedResource } from '../../sdk/cache/internal.js';
import { createTestNamespace, installCrd, sharedCluster, uniqueName } from '../support/cluster.js';

const initialEventsEnd = 'k8s.io/initial-events-end';
const watchList = {
  resourceVersion: '',
  resourceVersionMatch: 'NotOlderThan' as const,
  sendInitialEvents: true,
  allowWatchBookmarks: true,
  timeoutSeconds: 60,
};

/** The objects of a WatchList's initial events, by name. */
async function initialObjects(watch: Watch<PartialObjectMetadata>): Promise<PartialObjectMetadata[]> {
  const objects: PartialObjectMetadata[] = [];
  try {
    for await (const event of watch) {
      if (event.type !== 'BOOKMARK') objects.push(event.object);
      else if (event.object.metadata.annotations?.[initialEventsEnd] === 'true') break;
    }
  } finally {
    watch.close();
  }
  return objects.toSorted((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

/** The same watch in JSON: the reference the protobuf decoding is held to. */
function jsonWatch(config: RestConfig, resource: ResolvedResource, namespace: string): Watch<PartialObjectMetadata> {
  return restClientFor(config, { groupVersion: { group: resource.group, version: resource.version } })
    .get()
    .namespace(namespace)
    .resource(resource.plural)
    .params(watchList)
    .setHeader('accept', 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1')
    .watch<PartialObjectMetadata>();
}

function withoutManagedFields(objects: PartialObjectMetadata[]): PartialObjectMetadata[] {
  return objects.map((o) => {
    const { managedFields: _dropped, ...metadata } = o.metadata;
    return { ...o, metadata };
  });
}

describe('metadata-only watches in protobuf, against the real API server', () => {
  const { config } = sharedCluster();

  it('decode every ObjectMeta field as the JSON encoding has it, and pass over managedFields when they are dropped', async () => {
    const ns = await createTestNamespace(config, 'meta-pb');
    const cms = createClientset(config).coreV1().configMaps(ns);
    const owner = await cms.create({ metadata: { name: 'owner' } });
    await cms.create({
      metadata: {
        name: 'full',
        labels: { app: 'web', tier: 'front' },
        annotations: { note: 'grüße, 日本', empty: '' },
        finalizers: ['example.com/guard'],
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            name: 'owner',
            uid: owner.metadata!.uid!,
            controller: true,
            blockOwnerDeletion: false,
          },
        ],
      },
      data: { v: '1' },
    });
    // A second field manager, with a subresource-free apply, and a deletion held by the finalizer.
    await cms.apply(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'full', labels: { applied: 'yes' } } },
      { fieldManager: 'meta-pb-test', force: true },
    );
    await cms.delete('full');
    await cms.create({ metadata: { generateName: 'gen-' } });

    const resource = resolveResource(ConfigMap);
    const json = await initialObjects(jsonWatch(config, resource, ns));
    const lw = metadataListWatchFor(config, resource, ns);
    const decoded = await initialObjects(lw.watch(watchList));
    expect(json).toHaveLength(3);
    const full = json.find((o) => o.metadata.name === 'full')!.metadata;
    expect(full.deletionTimestamp).toBeTruthy();
    expect(full.managedFields!.length).toBeGreaterThanOrEqual(2);

    expect(decoded).toEqual(json);
    for (const [i, object] of decoded.entries()) {
      expect(Object.keys(object)).toEqual(Object.keys(json[i]!));
      expect(Object.keys(object.metadata)).toEqual(Object.keys(json[i]!.metadata));
    }
    // Only the protobuf decoder leaves managedFields out: that they are gone shows the answer was protobuf.
    const dropped = await initialObjects(lw.watch({ ...watchList, dropsManagedFields: true }));
    expect(dropped).toEqual(withoutManagedFields(json));

    await cms.patch('full', { metadata: { finalizers: null } }, { patchType: 'merge' });
  });

  it('decode a custom resource the same way (also protobuf)', async () => {
    const group = `${uniqueName('pb')}.example.com`;
    await installCrd(config, { group, plural: 'gadgets', kind: 'Gadget' });
    const ns = await createTestNamespace(config, 'meta-pb-cr');
    const gadgets = createDynamicClient(config).resource({ group, version: 'v1', resource: 'gadgets' }).namespace(ns);
    await gadgets.create({
      apiVersion: `${group}/v1`,
      kind: 'Gadget',
      metadata: { name: 'g1', labels: { app: 'x' }, annotations: { a: 'b' } },
      spec: { size: 3 },
    } as Unstructured);
    const resource: ResolvedResource = { group, version: 'v1', plural: 'gadgets', kind: 'Gadget', namespaced: true };
    const json = await initialObjects(jsonWatch(config, resource, ns));
    const lw = metadataListWatchFor(config, resource, ns);
    const decoded = await initialObjects(lw.watch(watchList));
    expect(json.map((o) => o.metadata.name)).toEqual(['g1']);
    expect(decoded).toEqual(json);
    // The API server answers a custom resource's metadata in protobuf too.
    expect(await initialObjects(lw.watch({ ...watchList, dropsManagedFields: true }))).toEqual(
      withoutManagedFields(json),
    );
  });

  it('keep the Status of an error answer given in protobuf', async () => {
    const lw = metadataListWatchFor(config, resolveResource(ConfigMap), 'default');
    const err = await initialObjects(lw.watch({ ...watchList, labelSelector: 'app in (' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    const apiError = err as ApiError;
    expect(apiError.statusCode).toBe(400);
    expect(apiError.reason).toBe('BadRequest');
    expect(apiError.status.message).toMatch(/unable to parse requirement|found '', expected/);
    expect(apiError.message).not.toContain('k8s\u0000');
  });

  it('cache metadata through an informer: without managedFields by default, with them when the transform keeps them', async () => {
    const ns = await createTestNamespace(config, 'meta-pb-inf');
    const cms = createClientset(config).coreV1().configMaps(ns);
    await cms.create({ metadata: { name: 'a', labels: { app: 'web' } }, data: { v: '1' } });
    const json = await initialObjects(jsonWatch(config, resolveResource(ConfigMap), ns));

    const cached = async (keepManagedFields: boolean): Promise<ObjectMeta | undefined> => {
      const factory = createSharedInformerFactory(config, {
        namespace: ns,
        metadataOnly: true,
        ...(keepManagedFields && { informerOptions: { transform: undefined } }),
      });
      const { lister } = factory.forResource(ConfigMap, { metadataOnly: true });
      const controller = new AbortController();
      const running = factory.start(controller.signal);
      try {
        expect(await factory.waitForCacheSync(controller.signal)).toBe(true);
        return lister.namespace(ns).get('a')?.metadata as ObjectMeta | undefined;
      } finally {
        controller.abort();
        await running;
      }
    };
    expect(await cached(false)).toEqual(withoutManagedFields(json)[0]!.metadata);
    expect(await cached(true)).toEqual(json[0]!.metadata);
  });
});
