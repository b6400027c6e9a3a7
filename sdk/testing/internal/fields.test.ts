import { describe, expect, it } from 'vitest';
import {
  applyConfig,
  describePath,
  fieldsOf,
  fromFieldsV1,
  recordUpdate,
  toFieldsV1,
  type WriteContext,
} from './fields.js';
import type { JsonObject } from './json.js';

const ctx = (manager: string, builtin = true): WriteContext => ({
  manager,
  subresource: undefined,
  builtin,
  apiVersion: 'v1',
  now: '2026-01-01T00:00:00Z',
});
const managers = (obj: JsonObject): [string, string][] =>
  ((obj['metadata'] as JsonObject)['managedFields'] as { manager: string; operation: string }[]).map((m) => [
    m.manager,
    m.operation,
  ]);

describe('field sets', () => {
  it('owns leaves, keyed-list items and set items, and round-trips through FieldsV1', () => {
    const obj = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', labels: { a: 'b' }, finalizers: ['x/y'] },
      spec: { replicas: 1, template: { spec: { containers: [{ name: 'web', image: 'i' }] } }, empty: {} },
      status: { replicas: 1 },
    };
    const set = fieldsOf(obj, true, 'main');
    const v1 = toFieldsV1(set);
    expect(v1).toEqual({
      'f:metadata': { 'f:labels': { 'f:a': {} }, 'f:finalizers': { 'v:"x/y"': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:template': {
          'f:spec': { 'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:name': {}, 'f:image': {} } } },
        },
        'f:empty': {},
      },
    });
    expect([...fromFieldsV1(v1).keys()].toSorted()).toEqual([...set.keys()].toSorted());
    expect(describePath(['f:spec', 'f:containers', 'k:{"name":"web"}', 'f:image'])).toBe(
      '.spec.containers[name="web"].image',
    );
  });

  it('gives an updater the fields it changed and takes them from others', () => {
    const before: JsonObject = { metadata: { name: 'c' }, data: { a: '1', b: '2' } };
    recordUpdate(undefined, before, ctx('first'), false);
    const after: JsonObject = { ...structuredClone(before), data: { a: '1', b: '3', c: '4' } };
    recordUpdate(before, after, ctx('second'), false);
    const entries = (after['metadata'] as JsonObject)['managedFields'] as { manager: string; fieldsV1: unknown }[];
    expect(entries.map((e) => [e.manager, e.fieldsV1])).toEqual([
      ['first', { 'f:data': { 'f:a': {} } }],
      ['second', { 'f:data': { 'f:b': {}, 'f:c': {} } }],
    ]);
  });
});

const cm = (data: Record<string, string>): JsonObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 's' },
  data,
});
const deploy = (containers: { name: string; image: string }[]): JsonObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'd' },
  spec: { template: { spec: { containers } } },
});

describe('server-side apply', () => {
  const options = { force: false, statusIsSubresource: false };

  it('conflicts on another manager’s field with a different value, shares it with the same value, and forces', () => {
    const first = applyConfig(undefined, cm({ x: '1', y: '2' }), ctx('m1'), options);
    if (!('object' in first)) throw new Error('first apply conflicted');
    const clash = applyConfig(first.object, cm({ x: '9' }), ctx('m2'), options);
    expect(clash).toEqual({ conflicts: [{ field: '.data.x', manager: 'm1' }] });
    const shared = applyConfig(first.object, cm({ x: '1' }), ctx('m2'), options);
    if (!('object' in shared)) throw new Error('shared apply conflicted');
    expect(managers(shared.object)).toEqual([
      ['m1', 'Apply'],
      ['m2', 'Apply'],
    ]);
    // m1 stops applying x and y: y goes (only m1 had it), x stays (m2 has it too).
    const dropped = applyConfig(shared.object, cm({}), ctx('m1'), options);
    if (!('object' in dropped)) throw new Error('drop conflicted');
    expect(dropped.object['data']).toEqual({ x: '1' });
    const forced = applyConfig(first.object, cm({ x: '9' }), ctx('m2'), { ...options, force: true });
    if (!('object' in forced)) throw new Error('forced apply conflicted');
    expect(forced.object['data']).toEqual({ x: '9', y: '2' });
  });

  it('merges keyed lists of built-in kinds and replaces custom resources’ lists', () => {
    const base = applyConfig(undefined, deploy([{ name: 'web', image: 'a' }]), ctx('owner'), options);
    if (!('object' in base)) throw new Error('conflict');
    const merged = applyConfig(base.object, deploy([{ name: 'side', image: 'b' }]), ctx('injector'), options);
    if (!('object' in merged)) throw new Error('conflict');
    expect(
      (
        merged.object['spec'] as { template: { spec: { containers: { name: string }[] } } }
      ).template.spec.containers.map((c) => c.name),
    ).toEqual(['web', 'side']);
    const customBase = applyConfig(undefined, deploy([{ name: 'web', image: 'a' }]), ctx('owner', false), options);
    if (!('object' in customBase)) throw new Error('conflict');
    const custom = applyConfig(
      customBase.object,
      deploy([{ name: 'side', image: 'b' }]),
      ctx('injector', false),
      options,
    );
    expect(custom).toEqual({ conflicts: [{ field: '.spec.template.spec.containers', manager: 'owner' }] });
  });
});
