import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ApiError,
  defineResource,
  isConflict,
  parseGroupVersion,
  type KubeList,
  type KubeObject,
  type metav1,
  type ObjectOf,
  type ResourceDescriptor,
} from '../client/index.js';
import type { Client, StatusWriter } from './client-types.js';
import {
  addFinalizer,
  AlreadyOwnedError,
  containsFinalizer,
  createOrPatch,
  createOrUpdate,
  findStatusCondition,
  getControllerOf,
  hasControllerReference,
  hasOwnerReference,
  isStatusConditionFalse,
  isStatusConditionTrue,
  jsonEqual,
  mergePatch,
  OwnerReferenceError,
  removeFinalizer,
  removeOwnerReference,
  removeStatusCondition,
  setControllerReference,
  setOwnerReference,
  setStatusCondition,
} from './controllerutil.js';

// ---------------------------------------------------------------------------------------------------------------------
// An in-memory Client: enough of an API server for createOrUpdate/createOrPatch (resourceVersion conflicts, uid,
// merge patches, a status subresource that the main resource ignores).

type Obj = KubeObject & { spec?: unknown; status?: unknown; data?: Record<string, string> };

function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

function notFound(name: string): ApiError {
  return new ApiError(404, { status: 'Failure', reason: 'NotFound', code: 404, message: `"${name}" not found` });
}

class FakeClient implements Client {
  readonly objects = new Map<string, Obj>();
  readonly calls: string[] = [];
  private rv = 0;

  private key(apiVersion: string, kind: string, ns: string | undefined, name: string | undefined): string {
    const { group } = parseGroupVersion(apiVersion);
    return `${group}|${kind}|${ns ?? ''}|${name ?? ''}`;
  }

  private keyOf(obj: KubeObject): string {
    return this.key(obj.apiVersion ?? '', obj.kind ?? '', obj.metadata?.namespace, obj.metadata?.name);
  }

  private stored(obj: KubeObject): Obj {
    const current = this.objects.get(this.keyOf(obj));
    if (!current) throw notFound(obj.metadata?.name ?? '');
    return current;
  }

  private save(obj: Obj): Obj {
    obj.metadata!.resourceVersion = String(++this.rv);
    this.objects.set(this.keyOf(obj), structuredClone(obj));
    return structuredClone(obj);
  }

  get<T extends KubeObject>(resource: ResourceDescriptor<T>, key: { namespace?: string; name: string }): Promise<T> {
    this.calls.push(`get ${key.name}`);
    const apiVersion = resource.group ? `${resource.group}/${resource.version}` : resource.version;
    const found = this.objects.get(this.key(apiVersion, resource.kind, key.namespace, key.name));
    return found ? Promise.resolve(structuredClone(found) as T) : Promise.reject(notFound(key.name));
  }

  list<T extends KubeObject>(): Promise<KubeList<T>> {
    return Promise.reject(new Error('not used'));
  }

  create<T extends KubeObject>(obj: T): Promise<T> {
    this.calls.push(`create ${obj.metadata?.name}`);
    if (this.objects.has(this.keyOf(obj))) {
      return Promise.reject(new ApiError(409, { reason: 'AlreadyExists', code: 409, message: 'exists' }));
    }
    const copy = structuredClone(obj) as Obj;
    copy.metadata!.uid = `uid-${copy.metadata!.name}`;
    copy.metadata!.generation = 1;
    delete copy.status; // a status subresource: the status of a create is dropped
    return Promise.resolve(this.save(copy) as T);
  }

  update<T extends KubeObject>(obj: T): Promise<T> {
    this.calls.push(`update ${obj.metadata?.name}`);
    const current = this.stored(obj);
    if (current.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
      return Promise.reject(
        new ApiError(409, { reason: 'Conflict', code: 409, message: 'the object has been modified' }),
      );
    }
    const next = { ...structuredClone(obj), status: current.status } as Obj;
    if (!jsonEqual(current.spec, next.spec)) next.metadata!.generation = (current.metadata?.generation ?? 0) + 1;
    return Promise.resolve(this.save(next) as T);
  }

  patch<T extends KubeObject>(obj: T, patch: unknown): Promise<T> {
    this.calls.push(`patch ${obj.metadata?.name} ${JSON.stringify(patch)}`);
    const current = this.stored(obj);
    const next = applyMergePatch(current, patch) as Obj;
    next.status = current.status;
    return Promise.resolve(this.save(next) as T);
  }

  apply<T extends KubeObject>(): Promise<T> {
    return Promise.reject(new Error('not used'));
  }

  delete(): Promise<void> {
    return Promise.reject(new Error('not used'));
  }

  deleteAllOf(): Promise<void> {
    return Promise.reject(new Error('not used'));
  }

  status(): StatusWriter {
    return {
      update: () => Promise.reject(new Error('not used')),
      apply: () => Promise.reject(new Error('not used')),
      patch: <T extends KubeObject>(obj: T, patch: unknown): Promise<T> => {
        this.calls.push(`patchStatus ${obj.metadata?.name} ${JSON.stringify(patch)}`);
        const current = this.stored(obj);
        const patched = applyMergePatch(current, patch) as Obj;
        return Promise.resolve(this.save({ ...current, status: patched.status }) as T);
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------------------------------

const owner = { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'ns', uid: 'uid-w' } };

describe('setControllerReference', () => {
  it('adds a controller reference with blockOwnerDeletion, and is idempotent', () => {
    const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'ns' } };
    setControllerReference(owner, cm);
    setControllerReference(owner, cm);
    expect(cm.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        name: 'w',
        uid: 'uid-w',
        blockOwnerDeletion: true,
        controller: true,
      },
    ]);
    expect(hasControllerReference(cm)).toBe(true);
    expect(getControllerOf(cm)?.name).toBe('w');
  });

  it('replaces a reference to the same owner (any version), keeps others, and honours blockOwnerDeletion: false', () => {
    const cm: KubeObject = {
      metadata: {
        name: 'c',
        namespace: 'ns',
        ownerReferences: [
          { apiVersion: 'example.com/v1beta1', kind: 'Widget', name: 'w', uid: 'old-uid' },
          { apiVersion: 'v1', kind: 'Service', name: 's', uid: 'uid-s' },
        ],
      },
    };
    setControllerReference(owner, cm, { blockOwnerDeletion: false });
    expect(cm.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        name: 'w',
        uid: 'uid-w',
        blockOwnerDeletion: false,
        controller: true,
      },
      { apiVersion: 'v1', kind: 'Service', name: 's', uid: 'uid-s' },
    ]);
  });

  it('throws AlreadyOwnedError when another controller owns the object', () => {
    const cm: KubeObject = {
      kind: 'ConfigMap',
      metadata: {
        name: 'c',
        namespace: 'ns',
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: 'u', controller: true }],
      },
    };
    let caught: unknown;
    try {
      setControllerReference(owner, cm);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AlreadyOwnedError);
    expect(caught).toMatchObject({
      code: 'ERR_ALREADY_OWNED',
      owner: { kind: 'Deployment', name: 'd' },
      object: { kind: 'ConfigMap', namespace: 'ns', name: 'c' },
    });
    expect(String((caught as Error).message)).toMatch(/ConfigMap ns\/c is already controlled by Deployment d/);
    expect(cm.metadata?.ownerReferences).toHaveLength(1);
  });

  it('rejects an owner without uid, apiVersion or kind', () => {
    const cm: KubeObject = { metadata: { name: 'c', namespace: 'ns' } };
    expect(() => setControllerReference({ ...owner, metadata: { name: 'w', namespace: 'ns' } }, cm)).toThrow(
      OwnerReferenceError,
    );
    expect(() => setControllerReference({ kind: 'Widget', metadata: owner.metadata }, cm)).toThrow(/no apiVersion/);
    expect(() => setControllerReference({ apiVersion: 'v1', metadata: owner.metadata }, cm)).toThrow(/no kind/);
    expect(cm.metadata?.ownerReferences).toBeUndefined();
  });

  it('allows a cluster-scoped owner of a namespaced object; rejects a namespaced owner of a cluster-scoped or other-namespace object', () => {
    const clusterOwner = { apiVersion: 'example.com/v1', kind: 'Tenant', metadata: { name: 't', uid: 'uid-t' } };
    const cm: KubeObject = { metadata: { name: 'c', namespace: 'ns' } };
    setControllerReference(clusterOwner, cm);
    expect(cm.metadata?.ownerReferences?.[0]?.name).toBe('t');

    const node: KubeObject = { kind: 'ClusterRole', metadata: { name: 'cr' } };
    expect(() => setControllerReference(owner, node)).toThrow(/cluster-scoped/);
    const elsewhere: KubeObject = { metadata: { name: 'c', namespace: 'other' } };
    expect(() => setOwnerReference(owner, elsewhere)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OWNER_REFERENCE' }),
    );
    expect(() => setControllerReference(owner, elsewhere)).toThrow(/never cross namespaces/);
  });
});

describe('setOwnerReference, removeOwnerReference, hasOwnerReference', () => {
  it('adds a plain reference, replaces one to the same owner, and removes it', () => {
    const cm: KubeObject = { metadata: { name: 'c', namespace: 'ns' } };
    setOwnerReference(owner, cm);
    expect(cm.metadata?.ownerReferences).toEqual([
      { apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: 'uid-w' },
    ]);
    expect(hasControllerReference(cm)).toBe(false);
    expect(hasOwnerReference(owner, cm)).toBe(true);

    setControllerReference(owner, cm);
    setOwnerReference(owner, cm, { blockOwnerDeletion: true });
    expect(cm.metadata?.ownerReferences).toEqual([
      { apiVersion: 'example.com/v1', kind: 'Widget', name: 'w', uid: 'uid-w', blockOwnerDeletion: true },
    ]);

    const other = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'ns', uid: 'uid-s' } };
    setOwnerReference(other, cm);
    expect(removeOwnerReference(owner, cm)).toBe(true);
    expect(removeOwnerReference(owner, cm)).toBe(false);
    expect(cm.metadata?.ownerReferences?.map((r) => r.name)).toEqual(['s']);
    expect(removeOwnerReference(other, cm)).toBe(true);
    expect(cm.metadata?.ownerReferences).toBeUndefined();
    expect(hasOwnerReference(owner, cm)).toBe(false);
  });
});

describe('finalizers', () => {
  it('add, contain and remove report whether they changed anything', () => {
    const obj: KubeObject = { metadata: { name: 'a' } };
    expect(containsFinalizer(obj, 'example.com/cleanup')).toBe(false);
    expect(addFinalizer(obj, 'example.com/cleanup')).toBe(true);
    expect(addFinalizer(obj, 'example.com/cleanup')).toBe(false);
    expect(addFinalizer(obj, 'other')).toBe(true);
    expect(obj.metadata?.finalizers).toEqual(['example.com/cleanup', 'other']);
    expect(containsFinalizer(obj, 'example.com/cleanup')).toBe(true);
    expect(removeFinalizer(obj, 'example.com/cleanup')).toBe(true);
    expect(removeFinalizer(obj, 'example.com/cleanup')).toBe(false);
    expect(removeFinalizer(obj, 'other')).toBe(true);
    expect(obj.metadata?.finalizers).toBeUndefined();
  });

  it('removeFinalizer removes duplicates too', () => {
    const obj: KubeObject = { metadata: { finalizers: ['a', 'b', 'a'] } };
    expect(removeFinalizer(obj, 'a')).toBe(true);
    expect(obj.metadata?.finalizers).toEqual(['b']);
  });
});

describe('status conditions', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2030-01-02T03:04:05.678Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('adds a new condition with lastTransitionTime now (to the second)', () => {
    const conditions: metav1.Condition[] = [];
    expect(setStatusCondition(conditions, { type: 'Ready', status: 'False', reason: 'Starting' })).toBe(true);
    expect(conditions).toEqual([
      { type: 'Ready', status: 'False', reason: 'Starting', message: '', lastTransitionTime: '2030-01-02T03:04:05Z' },
    ]);
  });

  it('changes lastTransitionTime only when the status changes', () => {
    const conditions: metav1.Condition[] = [];
    setStatusCondition(conditions, { type: 'Ready', status: 'False', reason: 'Starting', message: 'wait' });
    vi.setSystemTime(new Date('2030-01-02T04:00:00Z'));
    expect(
      setStatusCondition(conditions, { type: 'Ready', status: 'False', reason: 'Starting', message: 'wait' }),
    ).toBe(false);
    expect(
      setStatusCondition(conditions, {
        type: 'Ready',
        status: 'False',
        reason: 'StillStarting',
        message: 'more',
        observedGeneration: 2,
      }),
    ).toBe(true);
    expect(conditions[0]).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'StillStarting',
      message: 'more',
      observedGeneration: 2,
      lastTransitionTime: '2030-01-02T03:04:05Z',
    });
    expect(setStatusCondition(conditions, { type: 'Ready', status: 'True', reason: 'Up', observedGeneration: 2 })).toBe(
      true,
    );
    expect(conditions[0]).toEqual({
      type: 'Ready',
      status: 'True',
      reason: 'Up',
      message: '',
      observedGeneration: 2,
      lastTransitionTime: '2030-01-02T04:00:00Z',
    });
    // an explicit time on a status change wins; dropping observedGeneration is a change
    expect(
      setStatusCondition(conditions, {
        type: 'Ready',
        status: 'False',
        reason: 'Down',
        lastTransitionTime: '2030-01-01T00:00:00Z',
      }),
    ).toBe(true);
    expect(conditions[0]).toEqual({
      type: 'Ready',
      status: 'False',
      reason: 'Down',
      message: '',
      lastTransitionTime: '2030-01-01T00:00:00Z',
    });
  });

  it('find, remove and the status predicates', () => {
    const conditions: metav1.Condition[] = [];
    setStatusCondition(conditions, { type: 'Ready', status: 'True', reason: 'Up' });
    setStatusCondition(conditions, { type: 'Degraded', status: 'False', reason: 'Fine' });
    setStatusCondition(conditions, { type: 'Progressing', status: 'Unknown', reason: 'Unsure' });
    expect(conditions.map((c) => c.type)).toEqual(['Ready', 'Degraded', 'Progressing']);
    expect(findStatusCondition(conditions, 'Degraded')?.reason).toBe('Fine');
    expect(findStatusCondition(undefined, 'Ready')).toBeUndefined();
    expect(isStatusConditionTrue(conditions, 'Ready')).toBe(true);
    expect(isStatusConditionFalse(conditions, 'Ready')).toBe(false);
    expect(isStatusConditionFalse(conditions, 'Degraded')).toBe(true);
    expect(isStatusConditionTrue(conditions, 'Progressing')).toBe(false);
    expect(isStatusConditionFalse(conditions, 'Progressing')).toBe(false);
    expect(isStatusConditionTrue(conditions, 'Missing')).toBe(false);
    expect(removeStatusCondition(conditions, 'Degraded')).toBe(true);
    expect(removeStatusCondition(conditions, 'Degraded')).toBe(false);
    expect(conditions.map((c) => c.type)).toEqual(['Ready', 'Progressing']);
  });
});

describe('jsonEqual and mergePatch', () => {
  it('compare JSON values, treating undefined properties as absent', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 })).toBe(true);
    expect(jsonEqual({ a: 1, x: undefined }, { a: 1 })).toBe(true);
    expect(jsonEqual({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(jsonEqual({ a: null }, { a: undefined })).toBe(false);
    expect(jsonEqual({ a: {} }, { a: [] })).toBe(false);
  });
  it('a merge patch sets changes, nulls removals, replaces lists whole', () => {
    expect(
      mergePatch(
        { a: 1, b: { c: 1, d: 2 }, l: [1, 2], gone: 'x' },
        { a: 1, b: { c: 1, d: 3, e: 4 }, l: [1], add: true },
      ),
    ).toEqual({
      gone: null,
      b: { d: 3, e: 4 },
      l: [1],
      add: true,
    });
    expect(mergePatch({ a: 1 }, { a: 1 })).toEqual({});
  });
});

// ---------------------------------------------------------------------------------------------------------------------

function desiredConfigMap(): Obj {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'ns' } };
}

const setData = (data: Record<string, string>) => (c: Obj) => {
  c.data = { ...data };
};
const Widget = defineResource<{ size?: number; extra?: string }, { phase?: string; ready?: number }>({
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  namespaced: true,
});
type WidgetObject = ObjectOf<typeof Widget>;
const newWidget = (): WidgetObject => ({
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w', namespace: 'ns' },
});

describe('createOrUpdate', () => {
  it('creates when absent (mutate runs on the given object), and fills the object with the answer', async () => {
    const client = new FakeClient();
    const cm = desiredConfigMap();
    const result = await createOrUpdate(client, cm, (c) => {
      c.data = { key: 'v1' };
      setControllerReference(owner, c);
    });
    expect(result).toBe('created');
    expect(client.calls).toEqual(['get cfg', 'create cfg']);
    expect(cm.metadata?.uid).toBe('uid-cfg');
    expect(cm.metadata?.resourceVersion).toBe('1');
    expect(cm.data).toEqual({ key: 'v1' });
  });

  it('does not write when mutate leaves the object as read; updates when it changes', async () => {
    const client = new FakeClient();
    await createOrUpdate(client, desiredConfigMap(), setData({ key: 'v1' }));
    client.calls.length = 0;

    const same = desiredConfigMap();
    expect(await createOrUpdate(client, same, setData({ key: 'v1' }))).toBe('unchanged');
    expect(client.calls).toEqual(['get cfg']);
    expect(same.metadata?.uid).toBe('uid-cfg'); // holds what was read

    const changed = desiredConfigMap();
    expect(await createOrUpdate(client, changed, setData({ key: 'v2' }))).toBe('updated');
    expect(client.calls).toEqual(['get cfg', 'get cfg', 'update cfg']);
    expect(changed.metadata?.resourceVersion).toBe('2');
    expect(client.objects.get('|ConfigMap|ns|cfg')?.data).toEqual({ key: 'v2' });
  });

  it('finds built-in kinds from apiVersion/kind; needs a descriptor for custom kinds and fills apiVersion/kind from it', async () => {
    const client = new FakeClient();
    const widget: WidgetObject = { metadata: { name: 'w1', namespace: 'ns' } };
    await expect(
      createOrUpdate(
        client,
        { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1', namespace: 'ns' } },
        () => {},
      ),
    ).rejects.toMatchObject({
      code: 'ERR_UNKNOWN_RESOURCE',
      message: expect.stringContaining('{ resource: Widget }'),
    });
    expect(await createOrUpdate(client, widget, (w) => void (w.spec = { size: 1 }), { resource: Widget })).toBe(
      'created',
    );
    expect(widget).toMatchObject({ apiVersion: 'example.com/v1', kind: 'Widget', spec: { size: 1 } });

    const dep: Obj = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'ns' } };
    expect(await createOrUpdate(client, dep, (d) => void (d.spec = { replicas: 1 }))).toBe('created');
    expect(client.objects.get('apps|Deployment|ns|d')).toMatchObject({ spec: { replicas: 1 } });
  });

  it('rejects a mutate that changes the name or namespace, and writes nothing', async () => {
    const client = new FakeClient();
    await expect(
      createOrUpdate(client, desiredConfigMap(), (c) => {
        c.metadata!.name = 'renamed';
      }),
    ).rejects.toMatchObject({ code: 'ERR_MUTATE_CHANGED_KEY' });
    await createOrUpdate(client, desiredConfigMap(), () => {});
    await expect(
      createOrUpdate(client, desiredConfigMap(), (c) => {
        c.metadata!.namespace = 'elsewhere';
      }),
    ).rejects.toThrow(/must not/);
    expect(client.calls.filter((c) => c.startsWith('update'))).toEqual([]);
  });

  it('passes on errors of the client: a conflict when the read was stale, and what mutate throws', async () => {
    const client = new FakeClient();
    await createOrUpdate(client, desiredConfigMap(), (c) => void (c.data = { a: '1' }));
    // Another writer changes the object between the read and the update.
    const racing = desiredConfigMap();
    await expect(
      createOrUpdate(client, racing, async (c) => {
        const stored = client.objects.get('|ConfigMap|ns|cfg')!;
        stored.metadata!.resourceVersion = '99';
        c.data = { a: '2' };
        await Promise.resolve();
      }),
    ).rejects.toSatisfy(isConflict);
    await expect(
      createOrUpdate(client, desiredConfigMap(), () => {
        throw new Error('mutate failed');
      }),
    ).rejects.toThrow('mutate failed');
  });
});

describe('createOrPatch', () => {
  it('creates, then patches only what changed, object and status separately', async () => {
    const client = new FakeClient();
    expect(
      await createOrPatch(client, newWidget(), (w) => void (w.spec = { size: 1, extra: 'x' }), { resource: Widget }),
    ).toBe('created');
    client.calls.length = 0;

    expect(
      await createOrPatch(client, newWidget(), (w) => void (w.spec = { size: 1, extra: 'x' }), { resource: Widget }),
    ).toBe('unchanged');
    expect(client.calls).toEqual(['get w']);

    const spec = newWidget();
    expect(await createOrPatch(client, spec, (w) => void (w.spec = { size: 2 }), { resource: Widget })).toBe('updated');
    expect(client.calls.at(-1)).toBe('patch w {"spec":{"extra":null,"size":2}}');
    expect(spec.spec).toEqual({ size: 2 });

    const statusOnly = newWidget();
    expect(
      await createOrPatch(client, statusOnly, (w) => void (w.status = { phase: 'Ready', ready: 1 }), {
        resource: Widget,
      }),
    ).toBe('updatedStatusOnly');
    expect(client.calls.at(-1)).toBe('patchStatus w {"status":{"phase":"Ready","ready":1}}');
    expect(statusOnly.status).toEqual({ phase: 'Ready', ready: 1 });

    const both = newWidget();
    const result = await createOrPatch(
      client,
      both,
      (w) => {
        w.metadata!.labels = { tier: 'a' };
        w.status = { phase: 'Ready', ready: 2 };
      },
      { resource: Widget },
    );
    expect(result).toBe('updatedStatus');
    expect(client.calls.slice(-2)).toEqual([
      'patch w {"metadata":{"labels":{"tier":"a"}}}',
      'patchStatus w {"status":{"ready":2}}',
    ]);
    expect(both).toMatchObject({ metadata: { labels: { tier: 'a' } }, status: { phase: 'Ready', ready: 2 } });
    expect(client.objects.get('example.com|Widget|ns|w')).toMatchObject({
      spec: { size: 2 },
      metadata: { labels: { tier: 'a' } },
      status: { ready: 2 },
    });
  });

  it('removing the status sends status: null', async () => {
    const client = new FakeClient();
    await createOrPatch(client, newWidget(), () => {}, { resource: Widget });
    await createOrPatch(client, newWidget(), (w) => void (w.status = { phase: 'X' }), { resource: Widget });
    expect(await createOrPatch(client, newWidget(), (w) => void delete w.status, { resource: Widget })).toBe(
      'updatedStatusOnly',
    );
    expect(client.calls.at(-1)).toBe('patchStatus w {"status":null}');
  });

  it('works for built-in kinds without a descriptor', async () => {
    const client = new FakeClient();
    await createOrPatch(client, desiredConfigMap(), (c) => void (c.data = { a: '1' }));
    expect(await createOrPatch(client, desiredConfigMap(), (c) => void (c.data = { a: '1', b: '2' }))).toBe('updated');
    expect(client.calls.at(-1)).toBe('patch cfg {"data":{"b":"2"}}');
  });
});
