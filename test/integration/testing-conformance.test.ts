// The fake client's conformance suite: every case is written once, as a function of a backend (a generic Client, a
// Clientset and a ResourceClientFactory over one API server), and runs twice: against kubeloop/testing's fake and
// against the real kube-apiserver of the shared control plane. A behaviour the fake claims is one this suite proves
// the real server has too. What the fake does not claim (defaulting, admission, garbage collection) is not asserted.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ApiError,
  ConfigMap,
  createClientsetFromFactory,
  createDynamicClient,
  createResourceClientFactory,
  defineResource,
  isAlreadyExists,
  isConflict,
  isInvalid,
  isNotFound,
  type Clientset,
  type KubeObject,
  type ResourceClientFactory,
  type WatchEvent,
  type appsv1,
  type corev1,
} from '../../sdk/client/index.js';
import { createSharedIndexInformer } from '../../sdk/cache/index.js';
import type { Client } from '../../sdk/manager/index.js';
import { createFakeClient } from '../../sdk/testing/index.js';
import { FactoryClient } from '../../sdk/testing/client.js';
import { ResourceRegistry } from '../../sdk/testing/internal/resources.js';
import { createTestNamespace, sharedCluster } from '../support/cluster.js';
import { eventually } from '../support/wait.js';

const group = 'conformance.testing.kubeloop.dev';

interface WidgetSpec {
  size?: number;
  color?: string;
  items?: string[];
}
interface WidgetStatus {
  phase?: string;
  count?: number;
}
/** A custom resource with a status subresource. */
const Widget = defineResource<WidgetSpec, WidgetStatus>({
  group,
  version: 'v1',
  kind: 'Widget',
  namespaced: true,
  subresources: ['status'],
});
/** A custom resource without one: status is an ordinary field. */
const Gadget = defineResource<WidgetSpec, WidgetStatus>({
  group,
  version: 'v1',
  kind: 'Gadget',
  namespaced: true,
  subresources: [],
});
type Widget = NonNullable<(typeof Widget)['__type']>;

const open = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
function crd(kind: string, plural: string, status: boolean) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          ...(status && { subresources: { status: {} } }),
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: open, status: open } } },
        },
      ],
    },
  };
}

/** One API server as the cases see it. */
interface Backend {
  client: Client;
  clientset: Clientset;
  factory: ResourceClientFactory;
  /** A namespace of its own for one case. */
  namespace(): Promise<string>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function caught(work: Promise<unknown>): Promise<ApiError> {
  try {
    await work;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

function cm(
  ns: string,
  name: string,
  data: Record<string, string> = {},
  labels?: Record<string, string>,
): corev1.ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ...(labels && { labels }) }, data };
}

function widget(ns: string, name: string, spec: WidgetSpec = { size: 1 }, extra: Partial<Widget> = {}): Widget {
  return { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name, namespace: ns }, spec, ...extra };
}

function deployment(ns: string, name: string, image = 'nginx:1'): appsv1.Deployment {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: ns },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'web', image, env: [{ name: 'A', value: '1' }] }] },
      },
    },
  };
}

/** Collects a watch's events until `count` arrived (or `timeoutMs` passed), then closes it. */
async function collect<T>(
  events: AsyncIterable<WatchEvent<T>> & { close(): void },
  count: number,
  timeoutMs = 10_000,
): Promise<WatchEvent<T>[]> {
  const out: WatchEvent<T>[] = [];
  const timer = setTimeout(() => events.close(), timeoutMs);
  try {
    for await (const e of events) {
      if (e.type === 'BOOKMARK') continue;
      out.push(e);
      if (out.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return out;
}

/** A ConfigMap `s` to apply. */
const applied = (ns: string, data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 's', namespace: ns },
  data,
});

const summary = (events: WatchEvent<KubeObject>[]): string[] =>
  events.map((e) => `${e.type} ${e.object.metadata?.name ?? ''}`);

function conformance(makeBackend: () => Promise<Backend>): void {
  let b: Backend;
  beforeAll(async () => {
    b = await makeBackend();
  });

  describe('create and read', () => {
    it('fills uid, creationTimestamp and resourceVersion; generation for kinds that have one', async () => {
      const ns = await b.namespace();
      const c = await b.client.create(cm(ns, 'a', { k: 'v' }));
      expect(c.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(c.metadata?.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Number(c.metadata?.resourceVersion)).toBeGreaterThan(0);
      expect(c.metadata?.generation).toBeUndefined();
      expect(c.data).toEqual({ k: 'v' });
      const w = await b.client.create(widget(ns, 'w'));
      expect(w.metadata?.generation).toBe(1);
      const d = await b.client.create(deployment(ns, 'd'));
      expect(d.metadata?.generation).toBe(1);
      const got = await b.client.get(ConfigMap, { namespace: ns, name: 'a' });
      expect(got.metadata?.uid).toBe(c.metadata?.uid);
      expect(got.metadata?.resourceVersion).toBe(c.metadata?.resourceVersion);
      expect(got).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
    });

    it('makes a name from generateName', async () => {
      const ns = await b.namespace();
      const c = await b.client.create<corev1.ConfigMap>({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { generateName: 'gen-', namespace: ns },
      });
      expect(c.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
      expect(c.metadata?.generateName).toBe('gen-');
    });

    it('answers 409 AlreadyExists for a name in use, naming the resource and the object', async () => {
      const ns = await b.namespace();
      await b.client.create(cm(ns, 'dup'));
      const err = await caught(b.client.create(cm(ns, 'dup')));
      expect(isAlreadyExists(err)).toBe(true);
      expect(err.statusCode).toBe(409);
      expect(err.details).toMatchObject({ name: 'dup', kind: 'configmaps' });
      expect(err.status.message).toBe('configmaps "dup" already exists');
      const werr = await caught(b.client.create(widget(ns, 'w')).then(() => b.client.create(widget(ns, 'w'))));
      expect(werr.status.message).toBe(`widgets.${group} "w" already exists`);
      expect(werr.details).toMatchObject({ name: 'w', group, kind: 'widgets' });
    });

    it('answers 422 for a missing or malformed name, and 400 for a namespace other than the request’s', async () => {
      const ns = await b.namespace();
      const missing = await caught(
        b.client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: ns } }),
      );
      expect(isInvalid(missing)).toBe(true);
      expect(missing.details?.causes?.[0]).toMatchObject({ field: 'metadata.name', reason: 'FieldValueRequired' });
      const bad = await caught(b.client.create(cm(ns, 'Not_A_Name')));
      expect(isInvalid(bad)).toBe(true);
      expect(bad.details?.causes?.[0]).toMatchObject({ field: 'metadata.name', reason: 'FieldValueInvalid' });
      const other = await caught(b.clientset.coreV1().configMaps(ns).create(cm('elsewhere', 'x')));
      expect(other.statusCode).toBe(400);
      expect(other.reason).toBe('BadRequest');
    });

    it('answers 404 NotFound for a missing object, worded as the server words it', async () => {
      const ns = await b.namespace();
      const err = await caught(b.client.get(ConfigMap, { namespace: ns, name: 'nope' }));
      expect(isNotFound(err)).toBe(true);
      expect(err.status.message).toBe('configmaps "nope" not found');
      expect(err.details).toMatchObject({ name: 'nope', kind: 'configmaps' });
      const werr = await caught(b.client.get(Widget, { namespace: ns, name: 'nope' }));
      expect(werr.status.message).toBe(`widgets.${group} "nope" not found`);
    });

    it('stores nothing on a dry run', async () => {
      const ns = await b.namespace();
      const dry = await b.client.create(cm(ns, 'dry', { a: '1' }), { dryRun: ['All'] });
      expect(dry.metadata?.name).toBe('dry');
      expect(isNotFound(await caught(b.client.get(ConfigMap, { namespace: ns, name: 'dry' })))).toBe(true);
    });
  });

  describe('update', () => {
    it('increments the resourceVersion on a change, keeps it on a write that changes nothing, and answers 409 to a stale one', async () => {
      const ns = await b.namespace();
      const v1 = await b.client.create(cm(ns, 'a', { k: '1' }));
      const v2 = await b.client.update({ ...v1, data: { k: '2' } });
      expect(Number(v2.metadata?.resourceVersion)).toBeGreaterThan(Number(v1.metadata?.resourceVersion));
      const same = await b.client.update(v2);
      expect(same.metadata?.resourceVersion).toBe(v2.metadata?.resourceVersion);
      const stale = await caught(b.client.update({ ...v1, data: { k: '3' } }));
      expect(isConflict(stale)).toBe(true);
      expect(stale.status.message).toBe(
        'Operation cannot be fulfilled on configmaps "a": the object has been modified; please apply your changes to the latest version and try again',
      );
      expect((await b.client.get(ConfigMap, { namespace: ns, name: 'a' })).data).toEqual({ k: '2' });
    });

    it('lets built-in kinds update without a resourceVersion, but not custom resources (422)', async () => {
      const ns = await b.namespace();
      await b.client.create(cm(ns, 'a', { k: '1' }));
      const u = await b.client.update(cm(ns, 'a', { k: '2' }));
      expect(u.data).toEqual({ k: '2' });
      await b.client.create(widget(ns, 'w'));
      const err = await caught(b.client.update(widget(ns, 'w', { size: 2 })));
      expect(isInvalid(err)).toBe(true);
      expect(err.details?.causes?.[0]).toMatchObject({ field: 'metadata.resourceVersion' });
    });

    it('answers 404 to an update of a missing object', async () => {
      const ns = await b.namespace();
      expect(isNotFound(await caught(b.client.update(cm(ns, 'ghost', { a: '1' }))))).toBe(true);
    });
  });

  describe('generation and the status subresource', () => {
    it('keeps status apart for a kind with a status subresource; generation follows spec only', async () => {
      const ns = await b.namespace();
      const created = await b.client.create(widget(ns, 'w', { size: 1 }, { status: { phase: 'Ignored' } }));
      expect(created.status).toBeUndefined();
      const statused = await b.client
        .status()
        .update({ ...created, spec: { size: 99 }, status: { phase: 'Ready', count: 1 } });
      expect(statused.status).toEqual({ phase: 'Ready', count: 1 });
      expect(statused.spec).toEqual({ size: 1 });
      expect(statused.metadata?.generation).toBe(1);
      const labelled = await b.client.update({ ...statused, metadata: { ...statused.metadata, labels: { a: 'b' } } });
      expect(labelled.metadata?.generation).toBe(1);
      const respec = await b.client.update({ ...labelled, spec: { size: 2 }, status: { phase: 'Overwritten?' } });
      expect(respec.metadata?.generation).toBe(2);
      expect(respec.status).toEqual({ phase: 'Ready', count: 1 });
      const patched = await b.client
        .status()
        .patch(respec, { spec: { size: 7 }, status: { count: 2 } }, { patchType: 'merge' });
      expect(patched.status).toEqual({ phase: 'Ready', count: 2 });
      expect(patched.spec).toEqual({ size: 2 });
      expect(patched.metadata?.generation).toBe(2);
      const stale = await caught(b.client.status().update({ ...created, status: { phase: 'Old' } }));
      expect(isConflict(stale)).toBe(true);
    });

    it('treats status as an ordinary field for a kind without a status subresource', async () => {
      const ns = await b.namespace();
      const g = await b.client.create<Widget>({
        apiVersion: `${group}/v1`,
        kind: 'Gadget',
        metadata: { name: 'g', namespace: ns },
        spec: { size: 1 },
        status: { phase: 'Kept' },
      });
      expect(g.status).toEqual({ phase: 'Kept' });
      const u = await b.client.update({ ...g, status: { phase: 'Changed' } });
      expect(u.status).toEqual({ phase: 'Changed' });
      expect(u.metadata?.generation).toBe(2);
      expect((await b.client.get(Gadget, { namespace: ns, name: 'g' })).status).toEqual({ phase: 'Changed' });
    });

    it('bumps a Deployment’s generation on spec and annotation changes, not on labels; ignores status in updates', async () => {
      const ns = await b.namespace();
      const d = await b.client.create(deployment(ns, 'd'));
      const labelled = await b.client.update({ ...d, metadata: { ...d.metadata, labels: { x: 'y' } } });
      expect(labelled.metadata?.generation).toBe(1);
      const annotated = await b.client.update({
        ...labelled,
        metadata: { ...labelled.metadata, annotations: { note: 'n' } },
      });
      expect(annotated.metadata?.generation).toBe(2);
      const spec = structuredClone(annotated.spec!);
      spec.template.spec!.containers[0]!.image = 'nginx:2';
      const respec = await b.client.update({ ...annotated, spec, status: { replicas: 42 } });
      expect(respec.metadata?.generation).toBe(3);
      expect(respec.status?.replicas).toBeUndefined();
    });
  });

  describe('deletion and finalizers', () => {
    it('only marks an object with finalizers; removing the last finalizer removes it', async () => {
      const ns = await b.namespace();
      const w = await b.client.create(
        widget(ns, 'w', { size: 1 }, { metadata: { name: 'w', namespace: ns, finalizers: ['example.com/cleanup'] } }),
      );
      await b.client.delete(w);
      const marked = await b.client.get(Widget, { namespace: ns, name: 'w' });
      expect(marked.metadata?.deletionTimestamp).toMatch(/Z$/);
      expect(marked.metadata?.deletionGracePeriodSeconds).toBe(0);
      expect(marked.metadata?.generation).toBe(2);
      await b.client.delete(marked);
      const still = await b.client.get(Widget, { namespace: ns, name: 'w' });
      expect(still.metadata?.resourceVersion).toBe(marked.metadata?.resourceVersion);
      const more = await caught(
        b.client.update({
          ...still,
          metadata: { ...still.metadata, finalizers: ['example.com/cleanup', 'example.com/late'] },
        }),
      );
      expect(isInvalid(more)).toBe(true);
      expect(more.details?.causes?.[0]).toMatchObject({ field: 'metadata.finalizers', reason: 'FieldValueForbidden' });
      const changed = await b.client.update({ ...still, spec: { size: 5 } });
      expect(changed.spec).toEqual({ size: 5 });
      await b.client.patch(changed, { metadata: { finalizers: null } }, { patchType: 'merge' });
      expect(isNotFound(await caught(b.client.get(Widget, { namespace: ns, name: 'w' })))).toBe(true);
    });

    it('removes an object without finalizers at once; 404 for a missing one; 409 for a failed precondition', async () => {
      const ns = await b.namespace();
      const c = await b.client.create(cm(ns, 'a'));
      const wrongUid = await caught(
        b.client.delete(c, { preconditions: { uid: '00000000-0000-0000-0000-000000000000' } }),
      );
      expect(isConflict(wrongUid)).toBe(true);
      await b.client.delete(c);
      expect(isNotFound(await caught(b.client.get(ConfigMap, { namespace: ns, name: 'a' })))).toBe(true);
      expect(isNotFound(await caught(b.client.delete(c)))).toBe(true);
    });

    it('adds the foregroundDeletion or orphan finalizer for those propagation policies (no garbage collector clears them)', async () => {
      const ns = await b.namespace();
      const fg = await b.client.create(cm(ns, 'fg'));
      await b.client.delete(fg, { propagationPolicy: 'Foreground' });
      const kept = await b.client.get(ConfigMap, { namespace: ns, name: 'fg' });
      expect(kept.metadata?.finalizers).toEqual(['foregroundDeletion']);
      expect(kept.metadata?.deletionTimestamp).toBeDefined();
      const or = await b.client.create(cm(ns, 'or'));
      await b.client.delete(or, { propagationPolicy: 'Orphan' });
      expect((await b.client.get(ConfigMap, { namespace: ns, name: 'or' })).metadata?.finalizers).toEqual(['orphan']);
      for (const name of ['fg', 'or']) {
        const o = await b.client.get(ConfigMap, { namespace: ns, name });
        await b.client.patch(o, { metadata: { finalizers: null } }, { patchType: 'merge' });
      }
    });

    it('keeps owner references, and deleting the owner leaves the dependent (no garbage collector)', async () => {
      const ns = await b.namespace();
      const owner = await b.client.create(widget(ns, 'owner'));
      const ref = {
        apiVersion: `${group}/v1`,
        kind: 'Widget',
        name: 'owner',
        uid: owner.metadata!.uid!,
        controller: true,
        blockOwnerDeletion: true,
      };
      const dep = await b.client.create({
        ...cm(ns, 'dep'),
        metadata: { name: 'dep', namespace: ns, ownerReferences: [ref] },
      });
      expect(dep.metadata?.ownerReferences).toEqual([ref]);
      await b.client.delete(owner);
      await sleep(200);
      expect((await b.client.get(ConfigMap, { namespace: ns, name: 'dep' })).metadata?.ownerReferences).toEqual([ref]);
    });
  });

  describe('list', () => {
    it('filters by label and field selectors; rejects a malformed selector with 400', async () => {
      const ns = await b.namespace();
      await b.client.create(cm(ns, 'a', {}, { tier: 'web', env: 'prod' }));
      await b.client.create(cm(ns, 'b', {}, { tier: 'web', env: 'dev' }));
      await b.client.create(cm(ns, 'c', {}, { tier: 'db' }));
      const names = async (opts: { labelSelector?: string; fieldSelector?: string }): Promise<string[]> =>
        (await b.client.list(ConfigMap, { namespace: ns, ...opts })).items.map((i) => i.metadata!.name!);
      expect(await names({ labelSelector: 'tier=web' })).toEqual(['a', 'b']);
      expect(await names({ labelSelector: 'tier=web,env!=prod' })).toEqual(['b']);
      expect(await names({ labelSelector: 'env in (prod,dev)' })).toEqual(['a', 'b']);
      expect(await names({ labelSelector: '!env' })).toEqual(['c']);
      expect(await names({ labelSelector: 'env' })).toEqual(['a', 'b']);
      expect(await names({ fieldSelector: 'metadata.name=c' })).toEqual(['c']);
      expect(await names({ fieldSelector: 'metadata.name!=c', labelSelector: 'tier' })).toEqual(['a', 'b']);
      const list = await b.client.list(ConfigMap, { namespace: ns });
      expect(list.items.every((i) => i.apiVersion === 'v1' && i.kind === 'ConfigMap')).toBe(true);
      expect(Number(list.metadata.resourceVersion)).toBeGreaterThan(0);
      const bad = await caught(b.client.list(ConfigMap, { namespace: ns, labelSelector: 'a in (b' }));
      expect(bad.statusCode).toBe(400);
    });

    it('pages with limit and continue, in name order', async () => {
      const ns = await b.namespace();
      for (const name of ['e', 'b', 'd', 'a', 'c']) await b.client.create(cm(ns, name));
      const cms = b.clientset.coreV1().configMaps(ns);
      const first = await cms.list({ limit: 2 });
      expect(first.items.map((i) => i.metadata?.name)).toEqual(['a', 'b']);
      expect(first.metadata.continue).toBeTruthy();
      expect(first.metadata.remainingItemCount).toBe(3);
      const second = await cms.list({ limit: 2, continue: first.metadata.continue! });
      expect(second.items.map((i) => i.metadata?.name)).toEqual(['c', 'd']);
      const third = await cms.list({ limit: 2, continue: second.metadata.continue! });
      expect(third.items.map((i) => i.metadata?.name)).toEqual(['e']);
      expect(third.metadata.continue).toBeFalsy();
    });

    it('deleteAllOf deletes the matching objects only', async () => {
      const ns = await b.namespace();
      await b.client.create(cm(ns, 'a', {}, { app: 'x' }));
      await b.client.create(cm(ns, 'b', {}, { app: 'x' }));
      await b.client.create(cm(ns, 'c', {}, { app: 'y' }));
      await b.client.deleteAllOf(ConfigMap, { namespace: ns, labelSelector: 'app=x' });
      expect((await b.client.list(ConfigMap, { namespace: ns })).items.map((i) => i.metadata?.name)).toEqual(['c']);
    });
  });

  describe('patch', () => {
    it('applies merge patches (null deletes) and answers 409 to one carrying a stale resourceVersion', async () => {
      const ns = await b.namespace();
      const c = await b.client.create(cm(ns, 'a', { keep: '1', drop: '2' }));
      const p = await b.client.patch(c, { data: { drop: null, add: '3' } }, { patchType: 'merge' });
      expect(p.data).toEqual({ keep: '1', add: '3' });
      const stale = await caught(
        b.client.patch(
          c,
          { metadata: { resourceVersion: c.metadata!.resourceVersion }, data: { x: '1' } },
          { patchType: 'merge' },
        ),
      );
      expect(isConflict(stale)).toBe(true);
      const fresh = await b.client.patch(
        p,
        { metadata: { resourceVersion: p.metadata!.resourceVersion }, data: { x: '1' } },
        { patchType: 'merge' },
      );
      expect(fresh.data?.['x']).toBe('1');
      expect(
        isNotFound(await caught(b.client.patch(cm(ns, 'ghost'), { data: { a: '1' } }, { patchType: 'merge' }))),
      ).toBe(true);
    });

    it('applies JSON patches, and answers 422 when a test operation fails', async () => {
      const ns = await b.namespace();
      const w = await b.client.create(widget(ns, 'w', { size: 1, items: ['a', 'b'] }));
      const p = await b.client.patch(
        w,
        [
          { op: 'test', path: '/spec/size', value: 1 },
          { op: 'replace', path: '/spec/size', value: 2 },
          { op: 'add', path: '/spec/items/1', value: 'x' },
          { op: 'add', path: '/spec/color', value: 'red' },
          { op: 'remove', path: '/spec/items/0' },
        ],
        { patchType: 'json' },
      );
      expect(p.spec).toEqual({ size: 2, items: ['x', 'b'], color: 'red' });
      expect(p.metadata?.generation).toBe(2);
      const failed = await caught(
        b.client.patch(w, [{ op: 'test', path: '/spec/size', value: 1 }], { patchType: 'json' }),
      );
      expect(isInvalid(failed)).toBe(true);
    });

    it('merges strategic merge patches by list merge keys for built-in kinds; custom resources answer 415', async () => {
      const ns = await b.namespace();
      const d = await b.client.create(deployment(ns, 'd'));
      const p = await b.client.patch(
        d,
        {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'web', env: [{ name: 'B', value: '2' }] },
                  { name: 'sidecar', image: 'busybox' },
                ],
              },
            },
          },
        },
        { patchType: 'strategic' },
      );
      const containers = p.spec!.template.spec!.containers;
      expect(containers.map((c) => c.name)).toEqual(['web', 'sidecar']);
      expect(containers[0]!.image).toBe('nginx:1');
      expect(containers[0]!.env).toEqual([
        { name: 'B', value: '2' },
        { name: 'A', value: '1' },
      ]);
      const q = await b.client.patch(
        p,
        {
          spec: {
            template: {
              spec: {
                containers: [
                  { name: 'web', env: [{ name: 'A', $patch: 'delete' }] },
                  { name: 'sidecar', $patch: 'delete' },
                ],
              },
            },
          },
        },
        { patchType: 'strategic' },
      );
      expect(q.spec!.template.spec!.containers.map((c) => [c.name, c.env?.map((e) => e.name)])).toEqual([
        ['web', ['B']],
      ]);
      const fin = await b.client.patch(q, { metadata: { finalizers: ['a/b'] } }, { patchType: 'strategic' });
      const fin2 = await b.client.patch(fin, { metadata: { finalizers: ['c/d'] } }, { patchType: 'strategic' });
      expect(fin2.metadata?.finalizers).toEqual(['c/d', 'a/b']);
      const w = await b.client.create(widget(ns, 'w'));
      const err = await caught(b.client.patch(w, { spec: { size: 3 } }, { patchType: 'strategic' }));
      expect(err.statusCode).toBe(415);
    });
  });

  describe('server-side apply', () => {
    it('creates, updates, conflicts with another manager’s field unless forced, and removes fields a manager stops applying', async () => {
      const ns = await b.namespace();
      const created = await b.client.apply<corev1.ConfigMap>(applied(ns, { x: '1', y: '2' }), { fieldManager: 'm1' });
      expect(created.data).toEqual({ x: '1', y: '2' });
      expect(created.metadata?.managedFields?.map((m) => [m.manager, m.operation])).toEqual([['m1', 'Apply']]);
      const conflict = await caught(b.client.apply<corev1.ConfigMap>(applied(ns, { x: '9' }), { fieldManager: 'm2' }));
      expect(isConflict(conflict)).toBe(true);
      expect(conflict.fieldConflicts.map(({ field, manager }) => ({ field, manager }))).toEqual([
        { field: '.data.x', manager: 'm1' },
      ]);
      const shared = await b.client.apply<corev1.ConfigMap>(applied(ns, { x: '1', z: '3' }), { fieldManager: 'm2' });
      expect(shared.data).toEqual({ x: '1', y: '2', z: '3' });
      const dropped = await b.client.apply<corev1.ConfigMap>(applied(ns, {}), { fieldManager: 'm1' });
      expect(dropped.data).toEqual({ x: '1', z: '3' });
      const forced = await b.client.apply<corev1.ConfigMap>(applied(ns, { x: '7' }), {
        fieldManager: 'm2',
        force: true,
      });
      expect(forced.data).toEqual({ x: '7' });
    });

    it('conflicts with a field another manager set by update, naming that manager', async () => {
      const ns = await b.namespace();
      const c = await b.client.apply<corev1.ConfigMap>(applied(ns, { x: '1' }), { fieldManager: 'm1' });
      await b.client.update({ ...c, data: { x: '8' } }, { fieldManager: 'm3' });
      const err = await caught(b.client.apply<corev1.ConfigMap>(applied(ns, { x: '6' }), { fieldManager: 'm1' }));
      expect(isConflict(err)).toBe(true);
      expect(err.fieldConflicts.map((f) => [f.field, f.manager])).toEqual([['.data.x', 'm3']]);
      const stale = await caught(
        b.client.apply<corev1.ConfigMap>(
          {
            ...applied(ns, { x: '8' }),
            metadata: { name: 's', namespace: ns, resourceVersion: c.metadata!.resourceVersion! },
          },
          { fieldManager: 'm3' },
        ),
      );
      expect(isConflict(stale)).toBe(true);
    });

    it('merges keyed lists item by item for built-in kinds', async () => {
      const ns = await b.namespace();
      const base = deployment(ns, 'ad');
      const a = await b.client.apply<appsv1.Deployment>(
        { ...base, apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'ad', namespace: ns } },
        { fieldManager: 'owner' },
      );
      expect(a.metadata?.generation).toBe(1);
      const sidecar = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'ad', namespace: ns },
        spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox' }] } } },
      };
      const b2 = await b.client.apply<appsv1.Deployment>(sidecar, { fieldManager: 'injector' });
      expect(b2.spec?.template.spec?.containers.map((c) => c.name)).toEqual(['web', 'sidecar']);
      expect(b2.metadata?.generation).toBe(2);
    });
  });

  describe('watch', () => {
    it('streams ADDED, MODIFIED and DELETED after a list’s resourceVersion, in order', async () => {
      const ns = await b.namespace();
      const cms = b.clientset.coreV1().configMaps(ns);
      const list = await cms.list();
      const w = cms.watch({ resourceVersion: list.metadata.resourceVersion! });
      const events = collect(w, 3);
      await sleep(100);
      const c = await b.client.create(cm(ns, 'a', { v: '1' }));
      const u = await b.client.update({ ...c, data: { v: '2' } });
      await b.client.delete(u);
      const got = await events;
      expect(summary(got)).toEqual(['ADDED a', 'MODIFIED a', 'DELETED a']);
      expect((got[1]!.object as corev1.ConfigMap).data).toEqual({ v: '2' });
      const rvs = got.map((e) => Number(e.object.metadata?.resourceVersion));
      expect(rvs[0]).toBe(Number(c.metadata?.resourceVersion));
      expect(rvs[1]).toBe(Number(u.metadata?.resourceVersion));
      expect(rvs[2]).toBeGreaterThan(rvs[1]!);
    });

    it('reports the start of a deletion as MODIFIED and the removal of the last finalizer as one DELETED', async () => {
      const ns = await b.namespace();
      const cms = b.clientset.coreV1().configMaps(ns);
      const c = await b.client.create<corev1.ConfigMap>({
        ...cm(ns, 'f'),
        metadata: { name: 'f', namespace: ns, finalizers: ['example.com/hold'] },
      });
      const events = collect(cms.watch({ resourceVersion: c.metadata!.resourceVersion! }), 2);
      await sleep(100);
      await b.client.delete(c);
      const marked = await b.client.get(ConfigMap, { namespace: ns, name: 'f' });
      const released = await b.client.update({ ...marked, metadata: { ...marked.metadata, finalizers: [] } });
      expect(released.metadata?.finalizers ?? []).toEqual([]);
      const got = await events;
      expect(summary(got)).toEqual(['MODIFIED f', 'DELETED f']);
      expect(got[0]!.object.metadata?.deletionTimestamp).toBeDefined();
      expect(Number(got[1]!.object.metadata?.resourceVersion)).toBeGreaterThan(
        Number(marked.metadata?.resourceVersion),
      );
      expect(isNotFound(await caught(b.client.get(ConfigMap, { namespace: ns, name: 'f' })))).toBe(true);
    });

    it('starts with the current objects when no resourceVersion is given', async () => {
      const ns = await b.namespace();
      await b.client.create(cm(ns, 'x'));
      await b.client.create(cm(ns, 'y'));
      const got = await collect(b.clientset.coreV1().configMaps(ns).watch({}), 2);
      expect(summary(got).toSorted()).toEqual(['ADDED x', 'ADDED y']);
    });

    it('reports an object leaving a label selector as DELETED and one entering it as ADDED', async () => {
      const ns = await b.namespace();
      const cms = b.clientset.coreV1().configMaps(ns);
      const a = await b.client.create(cm(ns, 'a', {}, { watched: 'yes' }));
      const list = await cms.list({ labelSelector: 'watched=yes' });
      const events = collect(
        cms.watch({ labelSelector: 'watched=yes', resourceVersion: list.metadata.resourceVersion! }),
        3,
      );
      await sleep(100);
      const out = await b.client.update({ ...a, metadata: { ...a.metadata, labels: { watched: 'no' } } });
      await b.client.create(cm(ns, 'ignored', {}, { watched: 'no' }));
      const back = await b.client.update({ ...out, metadata: { ...out.metadata, labels: { watched: 'yes' } } });
      await b.client.update({ ...back, data: { v: '1' } });
      expect(summary(await events)).toEqual(['DELETED a', 'ADDED a', 'MODIFIED a']);
    });

    it('feeds an informer: adds, updates and deletes reach its handlers and store', async () => {
      const ns = await b.namespace();
      await b.client.create(cm(ns, 'pre', { v: '0' }));
      const informer = createSharedIndexInformer<corev1.ConfigMap>(b.factory.resource(ConfigMap).namespace(ns), {
        name: 'conformance',
      });
      const seen: string[] = [];
      informer.addEventHandler({
        onAdd: (o) => void seen.push(`add ${o.metadata?.name}`),
        onUpdate: (_, o) => void seen.push(`update ${o.metadata?.name} ${o.data?.['v']}`),
        onDelete: (o) => void seen.push(`delete ${'obj' in o ? o.obj.metadata?.name : o.metadata?.name}`),
      });
      const stop = new AbortController();
      const running = informer.start(stop.signal);
      try {
        await informer.waitForSync();
        const c = await b.client.create(cm(ns, 'new', { v: '1' }));
        await b.client.update({ ...c, data: { v: '2' } });
        await b.client.delete(c);
        await eventually('four notifications', () => seen.length >= 4, 10_000);
        expect(seen).toEqual(['add pre', 'add new', 'update new 2', 'delete new']);
        expect(
          informer
            .getIndexer()
            .list()
            .map((o) => o.metadata?.name),
        ).toEqual(['pre']);
      } finally {
        stop.abort();
        await running;
      }
    });
  });
}

describe('fake client conformance: kubeloop/testing fake', () => {
  conformance(async () => {
    const fake = createFakeClient({ resources: [Widget, Gadget] });
    return {
      client: fake,
      clientset: fake.clientset,
      factory: fake.factory,
      namespace: async () => `fake-${randomBytes(4).toString('hex')}`,
    };
  });
});

describe('fake client conformance: kube-apiserver v1.37', () => {
  const { config } = sharedCluster();
  conformance(async () => {
    const crds = createDynamicClient(config).resource({
      group: 'apiextensions.k8s.io',
      version: 'v1',
      resource: 'customresourcedefinitions',
    });
    for (const def of [crd('Widget', 'widgets', true), crd('Gadget', 'gadgets', false)]) {
      await crds.create(def).catch((err: unknown) => {
        if (!isAlreadyExists(err)) throw err;
      });
    }
    const factory = createResourceClientFactory(config);
    const client = new FactoryClient(factory, new ResourceRegistry([Widget, Gadget]));
    // Wait until both resources are served.
    const probeNs = await createTestNamespace(config, 'conf-probe');
    for (const res of [Widget, Gadget]) {
      await eventually(
        `${res.kind} to be served`,
        async () => Boolean(await client.list(res, { namespace: probeNs })),
        {
          timeoutMs: 30_000,
          intervalMs: 200,
          retryErrors: true,
        },
      );
    }
    return {
      client,
      clientset: createClientsetFromFactory(factory),
      factory,
      namespace: () => createTestNamespace(config, 'conf'),
    };
  });
});
