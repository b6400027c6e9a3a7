import { describe, expect, it } from 'vitest';
import { ApiError } from '../../client/index.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, listKind } from './patch.js';

function failure(work: () => unknown): ApiError {
  try {
    work();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('JSON patch (RFC 6902)', () => {
  const doc = { a: { b: 1, list: ['x', 'y'] }, 'we/ird~key': 1 };

  it('adds, removes, replaces, moves, copies and tests, leaving its input alone', () => {
    const out = applyJsonPatch(doc, [
      { op: 'test', path: '/a/b', value: 1 },
      { op: 'add', path: '/a/list/-', value: 'z' },
      { op: 'add', path: '/a/list/0', value: 'w' },
      { op: 'replace', path: '/a/b', value: 2 },
      { op: 'copy', from: '/a/b', path: '/c' },
      { op: 'move', from: '/a/list', path: '/moved' },
      { op: 'remove', path: '/we~1ird~0key' },
    ]);
    expect(out).toEqual({ a: { b: 2 }, c: 2, moved: ['w', 'x', 'y', 'z'] });
    expect(doc).toEqual({ a: { b: 1, list: ['x', 'y'] }, 'we/ird~key': 1 });
  });

  it('adds a missing object member on replace, as the server’s library does', () => {
    expect(applyJsonPatch({ a: {} }, [{ op: 'replace', path: '/a/new', value: 1 }])).toEqual({ a: { new: 1 } });
  });

  it('answers 422 when an operation does not apply, and 400 for a malformed patch', () => {
    expect(failure(() => applyJsonPatch(doc, [{ op: 'test', path: '/a/b', value: 9 }])).statusCode).toBe(422);
    expect(failure(() => applyJsonPatch(doc, [{ op: 'remove', path: '/nope' }])).statusCode).toBe(422);
    expect(failure(() => applyJsonPatch(doc, [{ op: 'add', path: '/missing/child', value: 1 }])).statusCode).toBe(422);
    expect(failure(() => applyJsonPatch(doc, [{ op: 'add', path: '/a/list/7', value: 1 }])).statusCode).toBe(422);
    expect(failure(() => applyJsonPatch(doc, { op: 'add' })).statusCode).toBe(400);
    expect(failure(() => applyJsonPatch(doc, [{ op: 'frobnicate', path: '/a' }])).statusCode).toBe(400);
  });
});

describe('merge patch (RFC 7386)', () => {
  it('merges objects, deletes with null, and replaces arrays and scalars', () => {
    const target = { a: { b: 1, c: 2 }, list: [1, 2], keep: true };
    expect(applyMergePatch(target, { a: { b: null, d: 3 }, list: [3] })).toEqual({
      a: { c: 2, d: 3 },
      list: [3],
      keep: true,
    });
    expect(target).toEqual({ a: { b: 1, c: 2 }, list: [1, 2], keep: true });
  });
});

describe('strategic merge patch', () => {
  const pod = {
    metadata: { finalizers: ['a'], ownerReferences: [{ uid: '1', name: 'x' }] },
    spec: {
      containers: [
        { name: 'web', image: 'nginx', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] },
        { name: 'log', image: 'fluent' },
      ],
      tolerations: [{ key: 'k' }],
    },
  };

  it('merges keyed lists item by item, the patch’s items first', () => {
    const out = applyStrategicMergePatch(pod, {
      spec: {
        containers: [
          { name: 'web', env: [{ name: 'B', value: '2' }], ports: [{ containerPort: 443 }] },
          { name: 'new', image: 'x' },
        ],
      },
    }) as typeof pod;
    expect(out.spec.containers.map((c) => c.name)).toEqual(['web', 'new', 'log']);
    expect(out.spec.containers[0]).toEqual({
      name: 'web',
      image: 'nginx',
      env: [
        { name: 'B', value: '2' },
        { name: 'A', value: '1' },
      ],
      ports: [{ containerPort: 443 }, { containerPort: 80 }],
    });
  });

  it('deletes items with $patch: delete, replaces lists with $patch: replace, and replaces lists without a merge key', () => {
    const out = applyStrategicMergePatch(pod, {
      spec: { containers: [{ name: 'log', $patch: 'delete' }], tolerations: [{ key: 'other' }] },
    }) as typeof pod;
    expect(out.spec.containers.map((c) => c.name)).toEqual(['web']);
    expect(out.spec.tolerations).toEqual([{ key: 'other' }]);
    const replaced = applyStrategicMergePatch(pod, {
      spec: { containers: [{ name: 'only', image: 'i' }, { $patch: 'replace' }] },
    }) as typeof pod;
    expect(replaced.spec.containers).toEqual([{ name: 'only', image: 'i' }]);
  });

  it('unions finalizers, removes scalars with $deleteFromPrimitiveList, merges owner references by uid', () => {
    const out = applyStrategicMergePatch(pod, {
      metadata: { finalizers: ['b'], ownerReferences: [{ uid: '1', controller: true }] },
    }) as typeof pod;
    expect(out.metadata.finalizers).toEqual(['b', 'a']);
    expect(out.metadata.ownerReferences).toEqual([{ uid: '1', name: 'x', controller: true }]);
    const removed = applyStrategicMergePatch(out, {
      metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] },
    }) as typeof pod;
    expect(removed.metadata.finalizers).toEqual(['b']);
  });

  it('keeps only $retainKeys and ignores $setElementOrder', () => {
    const out = applyStrategicMergePatch(
      { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
      {
        spec: {
          strategy: { $retainKeys: ['type'], type: 'Recreate' },
          '$setElementOrder/containers': [{ name: 'web' }],
        },
      },
    );
    expect(out).toEqual({ spec: { strategy: { type: 'Recreate' } } });
  });

  it('treats custom resources’ lists as atomic, except metadata’s', () => {
    expect(listKind('containers', [{ name: 'a' }], false, false)).toEqual({ type: 'atomic' });
    expect(listKind('finalizers', ['a'], false, true)).toEqual({ type: 'set' });
    expect(listKind('ports', [{ port: 80 }], true, false)).toEqual({ type: 'map', key: 'port' });
    expect(listKind('ports', [{ containerPort: 80 }], true, false)).toEqual({ type: 'map', key: 'containerPort' });
    expect(listKind('containers', [{ image: 'no-name' }], true, false)).toEqual({ type: 'atomic' });
  });
});
