import { describe, expect, it } from 'vitest';
import { applyJsonPatch, createJsonPatch } from './json-patch.js';

describe('createJsonPatch', () => {
  it('adds, replaces and removes keys, deep, in a stable order', () => {
    const from = { metadata: { name: 'a', labels: { x: '1' } }, spec: { port: 80, image: 'nginx' } };
    const to = { metadata: { name: 'a', labels: { x: '1', y: '2' } }, spec: { port: 8080, replicas: 1 } };
    expect(createJsonPatch(from, to)).toEqual([
      { op: 'add', path: '/metadata/labels/y', value: '2' },
      { op: 'remove', path: '/spec/image' },
      { op: 'replace', path: '/spec/port', value: 8080 },
      { op: 'add', path: '/spec/replicas', value: 1 },
    ]);
  });

  it('escapes ~ and / in keys (RFC 6901)', () => {
    const ops = createJsonPatch({ a: {} }, { a: { 'example.com/owner': 'me', 'x~y': 1 } });
    expect(ops.map((o) => o.path)).toEqual(['/a/example.com~1owner', '/a/x~0y']);
  });

  it('patches arrays by index, growing at the tail and shrinking from the end backwards', () => {
    expect(createJsonPatch({ l: [1, 2, 3] }, { l: [1, 5] })).toEqual([
      { op: 'replace', path: '/l/1', value: 5 },
      { op: 'remove', path: '/l/2' },
    ]);
    expect(createJsonPatch({ l: [1] }, { l: [1, { a: 1 }, 3] })).toEqual([
      { op: 'add', path: '/l/1', value: { a: 1 } },
      { op: 'add', path: '/l/2', value: 3 },
    ]);
  });

  it('treats undefined as absent, and gives no patch for equal documents', () => {
    expect(createJsonPatch({ a: 1, b: undefined }, { a: 1 })).toEqual([]);
    expect(createJsonPatch({ a: 1 }, { a: 1, b: undefined })).toEqual([]);
    expect(createJsonPatch({ a: [{ b: 1 }] }, { a: [{ b: 1 }] })).toEqual([]);
  });

  it('replaces a value whose type changes', () => {
    expect(createJsonPatch({ a: [1] }, { a: { 0: 1 } })).toEqual([{ op: 'replace', path: '/a', value: { 0: 1 } }]);
    expect(createJsonPatch({ a: null }, { a: 'x' })).toEqual([{ op: 'replace', path: '/a', value: 'x' }]);
  });

  it('round-trips: applying the patch to the original gives the changed document', () => {
    const from = {
      metadata: { annotations: { 'a/b': 'c' } },
      spec: { containers: [{ name: 'a', ports: [1, 2] }, { name: 'b' }] },
    };
    const to = {
      metadata: { annotations: { 'a/b': 'd', e: '' } },
      spec: { containers: [{ name: 'a', ports: [2] }], paused: false },
    };
    expect(applyJsonPatch(from, createJsonPatch(from, to))).toEqual(to);
  });
});
