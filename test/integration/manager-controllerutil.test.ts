// controllerutil against the real API server, through two real clients: the manager's cache-backed client (reads from
// informers, writes to the server) and a direct client (every read from the server), each a Client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigMap,
  createClientset,
  createDiscoveryClient,
  createResourceClientFactory,
  createRESTMapper,
  defineResource,
  Deployment,
  isAlreadyExists,
  isConflict,
  isNotFound,
  parseGroupVersion,
  type apiextensionsv1,
  type KubeObject,
  type metav1,
  type ObjectOf,
  type ResourceDescriptor,
  type RestConfig,
} from '../../sdk/client/index.js';
import { CachedClient, ResourceRegistry } from '../../sdk/manager/client.js';
import { ManagerCache } from '../../sdk/manager/cache.js';
import type { Client } from '../../sdk/manager/client-types.js';
import {
  addFinalizer,
  AlreadyOwnedError,
  createOrPatch,
  createOrUpdate,
  isStatusConditionTrue,
  removeFinalizer,
  setControllerReference,
  setStatusCondition,
} from '../../sdk/manager/controllerutil.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';
import { eventually, type EventuallyOptions } from '../support/wait.js';

const poll: EventuallyOptions = { timeoutMs: 30_000, intervalMs: 50 };

const group = `${uniqueName('cu')}.example.com`;
const Gizmo = defineResource<{ size?: number; extra?: string }, { conditions?: metav1.Condition[]; seen?: number }>({
  group,
  version: 'v1',
  kind: 'Gizmo',
  plural: 'gizmos',
  namespaced: true,
});
type GizmoObject = ObjectOf<typeof Gizmo>;

const crd: apiextensionsv1.CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `gizmos.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural: 'gizmos', singular: 'gizmo', kind: 'Gizmo', listKind: 'GizmoList' },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { size: { type: 'integer' }, extra: { type: 'string' } } },
              status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            },
          },
        },
      },
    ],
  },
};

const unused = (): never => {
  throw new Error('not used here');
};

/** Sets a Ready condition observed at the object's generation. */
const ready = (g: GizmoObject): void => {
  g.status ??= {};
  g.status.conditions ??= [];
  setStatusCondition(g.status.conditions, {
    type: 'Ready',
    status: 'True',
    reason: 'Built',
    observedGeneration: g.metadata?.generation ?? 0,
  });
};

/** A Client that reads and writes straight to the API server: the smallest honest implementation of the contract. */
function directClient(config: RestConfig, known: ResourceDescriptor[]): Client {
  const factory = createResourceClientFactory(config);
  const byKind = (obj: KubeObject): ResourceDescriptor => {
    const { group: g, version } = parseGroupVersion(obj.apiVersion ?? '');
    const d = known.find((k) => k.group === g && k.version === version && k.kind === obj.kind);
    if (!d) throw new Error(`unknown kind ${obj.apiVersion} ${obj.kind}`);
    return d;
  };
  const at = (d: ResourceDescriptor, ns: string | undefined) =>
    d.namespaced && ns ? factory.resource(d).namespace(ns) : factory.resource(d);
  const of = (obj: KubeObject) => at(byKind(obj), obj.metadata?.namespace);
  return {
    get: async (d, key, o) =>
      (await at(d, key.namespace).get(key.name, o?.signal ? { signal: o.signal } : {})) as never,
    list: unused,
    create: async (obj, o) => (await of(obj).create(obj, o)) as never,
    update: async (obj, o) => (await of(obj).update(obj, o)) as never,
    patch: async (obj, body, o) => (await of(obj).patch(obj.metadata!.name!, body as never, o)) as never,
    apply: unused,
    delete: unused,
    deleteAllOf: unused,
    status: () => ({
      update: unused,
      apply: unused,
      patch: async (obj, body, o) =>
        (await of(obj).patch(obj.metadata!.name!, body as never, { ...o, subresource: 'status' })) as never,
    }),
  };
}

/** Waits until a read through `client` sees `resourceVersion` (a cache catches up after a write). */
async function seen(
  client: Client,
  resource: ResourceDescriptor,
  ns: string,
  name: string,
  resourceVersion: string | undefined,
): Promise<void> {
  await eventually(
    `the client to see ${name}@${resourceVersion}`,
    async () => {
      const obj = await client
        .get(resource, { namespace: ns, name })
        .catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));
      return obj?.metadata?.resourceVersion === resourceVersion ? true : undefined;
    },
    poll,
  );
}

describe('controllerutil against the real API server', () => {
  const { config } = sharedCluster();
  const cs = createClientset(config);
  const gizmos = (ns: string) => createResourceClientFactory(config).resource(Gizmo).namespace(ns);
  const stop = new AbortController();
  const caches: Promise<void>[] = [];

  beforeAll(async () => {
    await cs.apiextensionsV1().customResourceDefinitions().create(crd);
    await eventually(
      'the Gizmo CRD to be served',
      async () => {
        const current = await cs.apiextensionsV1().customResourceDefinitions().get(crd.metadata!.name!);
        if (!current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) return undefined;
        return gizmos('default')
          .list()
          .then(
            () => true,
            (err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)),
          );
      },
      poll,
    );
  });

  afterAll(async () => {
    stop.abort();
    await Promise.all(caches);
    await cs.apiextensionsV1().customResourceDefinitions().delete(crd.metadata!.name!);
  });

  const clients: [string, (ns: string) => Promise<Client>][] = [
    ['through a direct client', () => Promise.resolve(directClient(config, [ConfigMap, Deployment, Gizmo]))],
    [
      "through the manager's cache-backed client",
      async (ns) => {
        const cache = new ManagerCache(config, { namespaces: [ns] });
        caches.push(cache.start(stop.signal)); // resolves when stopped
        return new CachedClient(config, cache, new ResourceRegistry(createRESTMapper(createDiscoveryClient(config))));
      },
    ],
  ];

  describe.each(clients)('%s', (_name, makeClient) => {
    it('createOrUpdate creates a Deployment owned by a ConfigMap, leaves it alone when nothing changes, updates it when something does', async () => {
      const ns = await createTestNamespace(config, 'cu-cou');
      const client = await makeClient(ns);
      const owner = await cs
        .coreV1()
        .configMaps(ns)
        .create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } });
      // Sets only the fields this controller owns, so the server's defaults (imagePullPolicy, strategy, …) survive
      // and an unchanged desired state compares equal.
      const desired = (replicas: number) => (d: ObjectOf<typeof Deployment>) => {
        d.metadata!.labels = { ...d.metadata!.labels, app: 'web' };
        d.spec.replicas = replicas;
        d.spec.selector = { matchLabels: { app: 'web' } };
        d.spec.template.metadata = { ...d.spec.template.metadata, labels: { app: 'web' } };
        d.spec.template.spec ??= { containers: [] };
        let web = d.spec.template.spec.containers.find((c) => c.name === 'web');
        if (!web) d.spec.template.spec.containers.push((web = { name: 'web' }));
        web.image = 'nginx:1.27';
        setControllerReference(owner, d);
      };
      const dep = (): ObjectOf<typeof Deployment> => ({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: ns },
        spec: { selector: {}, template: {} },
      });

      const first = dep();
      expect(await createOrUpdate(client, first, desired(1))).toBe('created');
      expect(first.metadata?.uid).toBeTruthy();
      let stored = await cs.appsV1().deployments(ns).get('web');
      expect(stored.metadata?.ownerReferences).toEqual([
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          name: 'owner',
          uid: owner.metadata?.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      await seen(client, Deployment, ns, 'web', stored.metadata?.resourceVersion);

      // Same desired state: the server's defaults (strategy, revisionHistoryLimit, …) are kept, nothing is written.
      const second = dep();
      expect(await createOrUpdate(client, second, desired(1))).toBe('unchanged');
      expect((await cs.appsV1().deployments(ns).get('web')).metadata?.resourceVersion).toBe(
        stored.metadata?.resourceVersion,
      );

      const third = dep();
      expect(await createOrUpdate(client, third, desired(3))).toBe('updated');
      stored = await cs.appsV1().deployments(ns).get('web');
      expect(stored.spec?.replicas).toBe(3);
      expect(stored.metadata?.generation).toBe(2);
      expect(third.metadata?.resourceVersion).toBe(stored.metadata?.resourceVersion);

      // Another controller cannot take it over.
      const rival = await cs
        .coreV1()
        .configMaps(ns)
        .create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'rival' } });
      await seen(client, Deployment, ns, 'web', stored.metadata?.resourceVersion);
      await expect(createOrUpdate(client, dep(), (d) => setControllerReference(rival, d))).rejects.toBeInstanceOf(
        AlreadyOwnedError,
      );
    });

    it('createOrUpdate fails with 409 when the object changed after it was read, and writes nothing', async () => {
      const ns = await createTestNamespace(config, 'cu-conflict');
      const client = await makeClient(ns);
      const created = await cs
        .coreV1()
        .configMaps(ns)
        .create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { v: '1' } });
      await seen(client, ConfigMap, ns, 'c', created.metadata?.resourceVersion);
      const err = await createOrUpdate(
        client,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: ns } },
        async (c: ObjectOf<typeof ConfigMap>) => {
          await cs
            .coreV1()
            .configMaps(ns)
            .patch('c', { data: { v: 'other writer' } }, { patchType: 'merge' });
          c.data = { v: 'mine' };
        },
      ).catch((e: unknown) => e);
      expect(err).toSatisfy(isConflict);
      expect((await cs.coreV1().configMaps(ns).get('c')).data).toEqual({ v: 'other writer' });
    });

    it('a create racing another creator fails with AlreadyExists', async () => {
      const ns = await createTestNamespace(config, 'cu-race');
      const client = await makeClient(ns);
      const err = await createOrUpdate(
        client,
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: ns } },
        async () => {
          await cs
            .coreV1()
            .configMaps(ns)
            .create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } });
        },
      ).catch((e: unknown) => e);
      expect(err).toSatisfy(isAlreadyExists);
    });

    it('createOrPatch patches the object and its status subresource separately, only what changed', async () => {
      const ns = await createTestNamespace(config, 'cu-cop');
      const client = await makeClient(ns);
      const gizmo = (): GizmoObject => ({
        apiVersion: `${group}/v1`,
        kind: 'Gizmo',
        metadata: { name: 'g', namespace: ns },
      });
      const opts = { resource: Gizmo };

      const created = gizmo();
      expect(await createOrPatch(client, created, (g) => void (g.spec = { size: 1, extra: 'x' }), opts)).toBe(
        'created',
      );
      expect(created.metadata?.generation).toBe(1);
      await seen(client, Gizmo, ns, 'g', created.metadata?.resourceVersion);

      const statusOnly = gizmo();
      expect(await createOrPatch(client, statusOnly, ready, opts)).toBe('updatedStatusOnly');
      let stored = await gizmos(ns).get('g');
      expect(isStatusConditionTrue(stored.status?.conditions, 'Ready')).toBe(true);
      expect(stored.metadata?.generation).toBe(1);
      await seen(client, Gizmo, ns, 'g', stored.metadata?.resourceVersion);

      // Nothing to do: no request writes anything.
      expect(await createOrPatch(client, gizmo(), ready, opts)).toBe('unchanged');
      expect((await gizmos(ns).get('g')).metadata?.resourceVersion).toBe(stored.metadata?.resourceVersion);

      // Spec and status together; a field removed by mutate is removed on the server (null in the merge patch).
      const both = gizmo();
      const result = await createOrPatch(
        client,
        both,
        (g) => {
          g.spec = { size: 2 };
          g.status = { ...g.status, seen: 2 };
        },
        opts,
      );
      expect(result).toBe('updatedStatus');
      stored = await gizmos(ns).get('g');
      expect(stored.spec).toEqual({ size: 2 });
      expect(stored.status?.seen).toBe(2);
      expect(stored.metadata?.generation).toBe(2);
      expect(both.status?.seen).toBe(2);
      expect(both.metadata?.resourceVersion).toBe(stored.metadata?.resourceVersion);
    });

    it('finalizers added and removed through createOrUpdate hold and release a deletion', async () => {
      const ns = await createTestNamespace(config, 'cu-fin');
      const client = await makeClient(ns);
      const key = { apiVersion: `${group}/v1`, kind: 'Gizmo', metadata: { name: 'f', namespace: ns } };
      const obj: GizmoObject = structuredClone(key);
      await createOrUpdate(client, obj, (g) => void addFinalizer(g, 'example.com/cleanup'), { resource: Gizmo });
      await gizmos(ns).delete('f');
      const terminating = await gizmos(ns).get('f');
      expect(terminating.metadata?.deletionTimestamp).toBeTruthy();
      await seen(client, Gizmo, ns, 'f', terminating.metadata?.resourceVersion);
      let removed = false;
      expect(
        await createOrUpdate(
          client,
          structuredClone(key) as GizmoObject,
          (g) => void (removed = removeFinalizer(g, 'example.com/cleanup')),
          { resource: Gizmo },
        ),
      ).toBe('updated');
      expect(removed).toBe(true);
      await eventually(
        'the gizmo to be deleted',
        () =>
          gizmos(ns)
            .get('f')
            .then(
              () => undefined,
              (err: unknown) => (isNotFound(err) ? true : Promise.reject(err)),
            ),
        poll,
      );
    });
  });
});
