import { describe, expect, it } from 'vitest';
import {
  and,
  annotationsChanged,
  generationChanged,
  labelsChanged,
  labelSelector,
  matchesAll,
  not,
  or,
  resourceVersionChanged,
  toPredicate,
  type CachedObject,
  type Predicate,
  type PredicateFuncs,
} from './predicates.js';

function obj(
  meta: {
    generation?: number;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  } = {},
): CachedObject {
  return Object.freeze({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: Object.freeze({ name: 'a', namespace: 'ns', ...meta }),
  });
}

const update = (o: CachedObject, n: CachedObject) => ({ objectOld: o, objectNew: n });

/** What `p` says to a create, a delete and a generic event. */
function otherEvents(p: PredicateFuncs): boolean[] {
  const o = obj();
  return [p.create({ object: o }), p.delete({ object: o, deleteStateUnknown: false }), p.generic({ object: o })];
}

describe('generationChanged', () => {
  it('passes an update only when metadata.generation changed', () => {
    const p = generationChanged();
    expect(p.update(update(obj({ generation: 1 }), obj({ generation: 2 })))).toBe(true);
    expect(
      p.update(update(obj({ generation: 2, resourceVersion: '1' }), obj({ generation: 2, resourceVersion: '2' }))),
    ).toBe(false);
    // a kind without generations: never passes an update
    expect(p.update(update(obj({ resourceVersion: '1' }), obj({ resourceVersion: '2' })))).toBe(false);
  });
  it('lets create, delete and generic events through', () =>
    expect(otherEvents(generationChanged())).toEqual([true, true, true]));
});

describe('resourceVersionChanged', () => {
  it('filters out resyncs (same resourceVersion) and passes real changes', () => {
    const p = resourceVersionChanged();
    expect(p.update(update(obj({ resourceVersion: '5' }), obj({ resourceVersion: '5' })))).toBe(false);
    expect(p.update(update(obj({ resourceVersion: '5' }), obj({ resourceVersion: '6' })))).toBe(true);
  });
  it('lets create, delete and generic events through', () =>
    expect(otherEvents(resourceVersionChanged())).toEqual([true, true, true]));
});

describe('labelsChanged and annotationsChanged', () => {
  it('pass an update when a label is added, removed or changed; an absent map equals an empty one', () => {
    const p = labelsChanged();
    expect(p.update(update(obj({ labels: { a: '1' } }), obj({ labels: { a: '1' } })))).toBe(false);
    expect(p.update(update(obj({ labels: { a: '1' } }), obj({ labels: { a: '2' } })))).toBe(true);
    expect(p.update(update(obj({ labels: { a: '1' } }), obj({ labels: { a: '1', b: '2' } })))).toBe(true);
    expect(p.update(update(obj({ labels: { a: '1', b: '2' } }), obj({ labels: { a: '1', c: '2' } })))).toBe(true);
    expect(p.update(update(obj({ labels: { a: '1' } }), obj()))).toBe(true);
    expect(p.update(update(obj({ labels: {} }), obj()))).toBe(false);
    // annotations do not count for labelsChanged
    expect(p.update(update(obj({ annotations: { x: '1' } }), obj({ annotations: { x: '2' } })))).toBe(false);
    expect(otherEvents(p)).toEqual([true, true, true]);
  });
  it('annotationsChanged looks at annotations only', () => {
    const p = annotationsChanged();
    expect(p.update(update(obj({ annotations: { x: '1' } }), obj({ annotations: { x: '2' } })))).toBe(true);
    expect(
      p.update(update(obj({ annotations: { x: '1' } }), obj({ annotations: { x: '1' }, labels: { l: 'v' } }))),
    ).toBe(false);
    expect(otherEvents(p)).toEqual([true, true, true]);
  });
});

describe('labelSelector', () => {
  it('matches the object of every event, and the new object of updates, with text or object selectors', () => {
    for (const p of [
      labelSelector('app=web,tier in (front,back)'),
      labelSelector({
        matchLabels: { app: 'web' },
        matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'back'] }],
      }),
    ]) {
      const yes = obj({ labels: { app: 'web', tier: 'front' } });
      const no = obj({ labels: { app: 'db', tier: 'front' } });
      expect(p.create({ object: yes })).toBe(true);
      expect(p.create({ object: no })).toBe(false);
      expect(p.delete({ object: no, deleteStateUnknown: true })).toBe(false);
      expect(p.generic({ object: yes })).toBe(true);
      expect(p.update(update(no, yes))).toBe(true);
      expect(p.update(update(yes, no))).toBe(false);
    }
  });
  it('an empty selector matches everything', () => {
    expect(labelSelector('').create({ object: obj() })).toBe(true);
    expect(labelSelector({}).create({ object: obj({ labels: { a: 'b' } }) })).toBe(true);
  });
  it('throws at once for a selector that cannot be parsed', () => {
    expect(() => labelSelector('app in (')).toThrow(expect.objectContaining({ code: 'ERR_KUBE_INVALID_SELECTOR' }));
    expect(() => labelSelector({ matchExpressions: [{ key: 'a', operator: 'In' }] })).toThrow(
      /needs at least one value/,
    );
  });
});

describe('toPredicate and matchesAll', () => {
  it('applies a plain function to the object, and to the new object of updates', () => {
    const seen: string[] = [];
    const p = toPredicate((o) => {
      seen.push(o.metadata?.resourceVersion ?? '');
      return o.metadata?.resourceVersion === 'yes';
    });
    expect(p.create({ object: obj({ resourceVersion: 'yes' }) })).toBe(true);
    expect(p.update(update(obj({ resourceVersion: 'old' }), obj({ resourceVersion: 'no' })))).toBe(false);
    expect(p.delete({ object: obj({ resourceVersion: 'yes' }), deleteStateUnknown: false })).toBe(true);
    expect(p.generic({ object: obj({ resourceVersion: 'no' }) })).toBe(false);
    expect(seen).toEqual(['yes', 'no', 'yes', 'no']);
  });

  it('fills missing methods with "pass" and keeps `this` for predicate objects', () => {
    const p = toPredicate({
      threshold: 3,
      update(this: { threshold: number }, e) {
        return (e.objectNew.metadata?.generation ?? 0) >= this.threshold;
      },
    } as Predicate);
    expect(p.create({ object: obj() })).toBe(true);
    expect(p.update(update(obj(), obj({ generation: 3 })))).toBe(true);
    expect(p.update(update(obj(), obj({ generation: 2 })))).toBe(false);
  });

  it('matchesAll is true when every predicate passes, true for none, and stops at the first no', () => {
    let calls = 0;
    const counting = (): boolean => {
      calls++;
      return true;
    };
    const ev = update(obj({ generation: 1 }), obj({ generation: 1 }));
    expect(matchesAll([], 'update', ev)).toBe(true);
    expect(matchesAll([generationChanged(), counting], 'update', ev)).toBe(false);
    expect(calls).toBe(0);
    expect(matchesAll([counting, { create: () => false }], 'update', ev)).toBe(true);
    expect(matchesAll([counting, { create: () => false }], 'create', { object: obj() })).toBe(false);
    expect(calls).toBe(2);
  });
});

describe('and, or, not', () => {
  const gen = generationChanged();
  const labels = labelsChanged();
  const changedGen = update(obj({ generation: 1 }), obj({ generation: 2 }));
  const changedLabels = update(obj({ labels: { a: '1' } }), obj({ labels: { a: '2' } }));
  const nothing = update(obj(), obj());

  it('and passes when all pass; with none, always', () => {
    const p = and(gen, labels);
    expect(p.update(changedGen)).toBe(false);
    expect(
      p.update(update(obj({ generation: 1, labels: { a: '1' } }), obj({ generation: 2, labels: { a: '2' } }))),
    ).toBe(true);
    expect(and().update(nothing)).toBe(true);
    expect(p.create({ object: obj() })).toBe(true);
  });

  it('or passes when any passes; with none, never', () => {
    const p = or(gen, labels);
    expect(p.update(changedGen)).toBe(true);
    expect(p.update(changedLabels)).toBe(true);
    expect(p.update(nothing)).toBe(false);
    expect(or().create({ object: obj() })).toBe(false);
  });

  it('not negates every method, including the defaulted ones', () => {
    const p = not(gen);
    expect(p.update(changedGen)).toBe(false);
    expect(p.update(nothing)).toBe(true);
    expect(p.create({ object: obj() })).toBe(false);
    const fn = not((o) => o.metadata?.labels?.['skip'] === 'true');
    expect(fn.create({ object: obj({ labels: { skip: 'true' } }) })).toBe(false);
    expect(fn.create({ object: obj() })).toBe(true);
  });

  it('compose with plain functions', () => {
    const p = and(or(gen, labels), (o) => o.metadata?.namespace === 'ns');
    expect(p.update(changedLabels)).toBe(true);
    expect(p.update(nothing)).toBe(false);
  });
});
