import { describe, expect, it } from 'vitest';
import type { OwnerReference } from '../client/index.js';
import {
  enqueueRequestForObject,
  enqueueRequestForOwner,
  enqueueRequestsFromMapFunc,
  type RequestQueue,
} from './handlers.js';
import type { CachedObject } from './predicates.js';
import type { ReconcileRequest } from './reconcile.js';

function recorder(): RequestQueue & { requests: ReconcileRequest[] } {
  const requests: ReconcileRequest[] = [];
  return { requests, add: (r) => requests.push(r) };
}

function pod(name: string, namespace: string, ownerReferences: OwnerReference[] = []): CachedObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, ownerReferences } };
}

const rsRef = (name: string, controller?: boolean): OwnerReference => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  name,
  uid: `uid-${name}`,
  ...(controller !== undefined && { controller }),
});

describe('enqueueRequestForObject', () => {
  it('enqueues the object itself for every event, the new object on update', async () => {
    const h = enqueueRequestForObject();
    const q = recorder();
    await h.create({ object: pod('a', 'ns') }, q);
    await h.update({ objectOld: pod('old', 'ns'), objectNew: pod('new', 'ns') }, q);
    await h.delete({ object: pod('d', 'ns'), deleteStateUnknown: true }, q);
    await h.generic({ object: { metadata: { name: 'node-1' } } }, q);
    expect(q.requests).toEqual([
      { namespace: 'ns', name: 'a' },
      { namespace: 'ns', name: 'new' },
      { namespace: 'ns', name: 'd' },
      { namespace: '', name: 'node-1' },
    ]);
  });
});

describe('enqueueRequestForOwner', () => {
  it('enqueues owners of the group and kind, in the object namespace, ignoring other kinds and groups', async () => {
    const h = enqueueRequestForOwner({ group: 'apps', kind: 'ReplicaSet' });
    const q = recorder();
    await h.create(
      {
        object: pod('p', 'ns', [
          rsRef('rs1', true),
          { apiVersion: 'v1', kind: 'ReplicaSet', name: 'core-group', uid: 'u' },
          { apiVersion: 'apps/v1', kind: 'Deployment', name: 'dep', uid: 'u' },
          { apiVersion: 'apps/v1beta2', kind: 'ReplicaSet', name: 'rs2', uid: 'u2' },
        ]),
      },
      q,
    );
    expect(q.requests).toEqual([
      { namespace: 'ns', name: 'rs1' },
      { namespace: 'ns', name: 'rs2' },
    ]);
  });

  it('onlyController follows the controller reference only', async () => {
    const h = enqueueRequestForOwner({ group: 'apps', kind: 'ReplicaSet' }, { onlyController: true });
    const q = recorder();
    await h.create({ object: pod('p', 'ns', [rsRef('plain'), rsRef('not', false), rsRef('ctrl', true)]) }, q);
    await h.delete({ object: pod('q', 'ns', [rsRef('plain')]), deleteStateUnknown: false }, q);
    expect(q.requests).toEqual([{ namespace: 'ns', name: 'ctrl' }]);
  });

  it('on update enqueues the owners of the old and the new object, each once', async () => {
    const h = enqueueRequestForOwner({ group: 'apps', kind: 'ReplicaSet' });
    const q = recorder();
    await h.update(
      { objectOld: pod('p', 'ns', [rsRef('a'), rsRef('b')]), objectNew: pod('p', 'ns', [rsRef('b'), rsRef('c')]) },
      q,
    );
    expect(q.requests).toEqual([
      { namespace: 'ns', name: 'a' },
      { namespace: 'ns', name: 'b' },
      { namespace: 'ns', name: 'c' },
    ]);
  });

  it('a cluster-scoped owner (namespaced: false, as its descriptor says) gets namespace ""', async () => {
    const h = enqueueRequestForOwner({ group: 'example.com', kind: 'Cluster', namespaced: false });
    const q = recorder();
    await h.generic(
      { object: pod('p', 'ns', [{ apiVersion: 'example.com/v1', kind: 'Cluster', name: 'c1', uid: 'u' }]) },
      q,
    );
    expect(q.requests).toEqual([{ namespace: '', name: 'c1' }]);
  });

  it('enqueues nothing for an object without owners', async () => {
    const q = recorder();
    await enqueueRequestForOwner({ group: 'apps', kind: 'ReplicaSet' }).create(
      { object: { metadata: { name: 'x' } } },
      q,
    );
    expect(q.requests).toEqual([]);
  });
});

const cm = (name: string): CachedObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns' },
});

describe('enqueueRequestsFromMapFunc', () => {
  it('enqueues what a synchronous function returns, before the method returns', async () => {
    const h = enqueueRequestsFromMapFunc((o) => [{ namespace: 'ns', name: `w-${o.metadata?.name}` }]);
    const q = recorder();
    expect(h.create({ object: cm('a') }, q)).toBeUndefined();
    await h.delete({ object: cm('b'), deleteStateUnknown: false }, q);
    await h.generic({ object: cm('c') }, q);
    expect(q.requests.map((r) => r.name)).toEqual(['w-a', 'w-b', 'w-c']);
  });

  it('on update maps old and new objects and enqueues the union, each once', async () => {
    const h = enqueueRequestsFromMapFunc((o) =>
      o.metadata?.name === 'old'
        ? [
            { namespace: 'ns', name: 'x' },
            { namespace: 'ns', name: 'y' },
          ]
        : [
            { namespace: 'ns', name: 'y' },
            { namespace: 'other', name: 'y' },
          ],
    );
    const q = recorder();
    await h.update({ objectOld: cm('old'), objectNew: cm('new') }, q);
    expect(q.requests).toEqual([
      { namespace: 'ns', name: 'x' },
      { namespace: 'ns', name: 'y' },
      { namespace: 'other', name: 'y' },
    ]);
  });

  it('an async function enqueues when it resolves, and the method returns that promise', async () => {
    const h = enqueueRequestsFromMapFunc(async (o) => {
      await new Promise((r) => setTimeout(r, 5));
      return [{ namespace: 'ns', name: `w-${o.metadata?.name}` }];
    });
    const q = recorder();
    const pending = h.update({ objectOld: cm('a'), objectNew: cm('b') }, q);
    expect(q.requests).toEqual([]);
    expect(pending).toBeInstanceOf(Promise);
    await pending;
    expect(q.requests.map((r) => r.name)).toEqual(['w-a', 'w-b']);
  });

  it('a function that throws or rejects is reported to onError and enqueues nothing', async () => {
    const errors: [string, string | undefined][] = [];
    const onError = (err: unknown, obj: CachedObject): void => {
      errors.push([(err as Error).message, obj.metadata?.name]);
    };
    const q = recorder();
    const sync = enqueueRequestsFromMapFunc(
      () => {
        throw new Error('boom');
      },
      { onError },
    );
    expect(() => sync.create({ object: cm('a') }, q)).not.toThrow();
    const async = enqueueRequestsFromMapFunc(
      (o) =>
        o.metadata?.name === 'bad'
          ? Promise.reject(new Error('async boom'))
          : Promise.resolve([{ namespace: 'ns', name: 'ok' }]),
      { onError },
    );
    await expect(async.update({ objectOld: cm('good'), objectNew: cm('bad') }, q)).resolves.toBeUndefined();
    expect(errors).toEqual([
      ['boom', 'a'],
      ['async boom', 'bad'],
    ]);
    expect(q.requests).toEqual([]);
  });
});
