import { describe, expect, it } from 'vitest';
import { deepCopy } from './deep-copy.js';

describe('deepCopy', () => {
  it('copies parsed JSON as structuredClone does, sharing nothing with the original', () => {
    const original = JSON.parse(
      '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a","labels":{"x":"1"},"ownerReferences":[{"uid":"u"}]},"data":{"k":"v"},"n":[1,-0,2.5,null,true,"s"],"empty":{},"list":[]}',
    ) as Record<string, unknown>;
    const copy = deepCopy(original);
    expect(copy).toStrictEqual(structuredClone(original));
    expect(copy).not.toBe(original);
    expect((copy as { metadata: unknown }).metadata).not.toBe((original as { metadata: unknown }).metadata);
    (copy as { metadata: { labels: Record<string, string> } }).metadata.labels['x'] = 'changed';
    expect((original as { metadata: { labels: Record<string, string> } }).metadata.labels['x']).toBe('1');
  });

  it('copies a frozen object into an unfrozen one', () => {
    const original = Object.freeze({ metadata: Object.freeze({ name: 'a' }) });
    const copy = deepCopy(original);
    expect(Object.isFrozen(copy)).toBe(false);
    expect(Object.isFrozen(copy.metadata)).toBe(false);
    expect(copy).toStrictEqual({ metadata: { name: 'a' } });
  });

  it('keeps a __proto__ key a property, never the prototype', () => {
    const original = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
    const copy = deepCopy(original);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, '__proto__')).toBe(true);
    expect((copy as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('keeps undefined values and array holes, as structuredClone does', () => {
    // oxlint-disable-next-line no-sparse-arrays -- the hole is the point
    const original = { a: undefined, list: [1, , 3] };
    const copy = deepCopy(original);
    expect(copy).toStrictEqual(structuredClone(original));
    expect(1 in copy.list).toBe(false);
    expect(Object.hasOwn(copy, 'a')).toBe(true);
  });

  it('hands anything but plain JSON values to structuredClone, with its semantics and errors', () => {
    const date = new Date(0);
    const withDate = { when: date, nested: { map: new Map([['k', 1]]) } };
    const copy = deepCopy(withDate);
    expect(copy.when).toBeInstanceOf(Date);
    expect(copy.when).not.toBe(date);
    expect(copy.nested.map.get('k')).toBe(1);

    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic['self'] = cyclic;
    const cycleCopy = deepCopy(cyclic);
    expect(cycleCopy['self']).toBe(cycleCopy);

    expect(() => deepCopy({ f: () => 1 })).toThrow(/could not be cloned/);
  });
});
