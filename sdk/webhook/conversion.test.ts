import { describe, expect, it } from 'vitest';
import { defineResource, type CustomObject } from '../client/index.js';
import { convertReview, defineConversion, conversionKey } from './conversion.js';

const V2 = defineResource<{ size: number }>({ group: 'example.com', version: 'v2', kind: 'Thing', namespaced: true });
const V1 = defineResource<{ sizeText: string }>({
  group: 'example.com',
  version: 'v1',
  kind: 'Thing',
  namespaced: true,
});
const V3 = defineResource<{ sizes: number[] }>({
  group: 'example.com',
  version: 'v3',
  kind: 'Thing',
  namespaced: true,
});

const conversion = defineConversion({
  hub: V2,
  spokes: [
    {
      resource: V1,
      toHub: (o: CustomObject<{ sizeText: string }>) => ({ ...o, spec: { size: Number(o.spec?.sizeText) } }),
      fromHub: (h: CustomObject<{ size: number }>) => ({ ...h, spec: { sizeText: String(h.spec?.size) } }),
    },
    {
      resource: V3,
      toHub: (o: CustomObject<{ sizes: number[] }>) => {
        if (!o.spec?.sizes.length) throw new Error('spec.sizes is empty');
        return { ...o, metadata: undefined, spec: { size: o.spec.sizes[0]! } };
      },
      fromHub: (h: CustomObject<{ size: number }>) => ({ ...h, spec: { sizes: [h.spec?.size ?? 0] } }),
    },
  ],
});

const obj = (version: string, spec: object): CustomObject => ({
  apiVersion: `example.com/${version}`,
  kind: 'Thing',
  metadata: { name: 't', namespace: 'ns', labels: { a: 'b' } },
  spec,
});

describe('defineConversion', () => {
  it('converts spoke → hub → spoke, stamping apiVersion and kind, keeping metadata a converter dropped', () => {
    expect(conversion.convert(obj('v1', { sizeText: '3' }), 'example.com/v3')).toEqual(obj('v3', { sizes: [3] }));
    expect(conversion.convert(obj('v3', { sizes: [4, 5] }), 'example.com/v2')).toEqual(obj('v2', { size: 4 }));
    const same = obj('v2', { size: 1 });
    expect(conversion.convert(same, 'example.com/v2')).toBe(same);
  });

  it('names unknown versions and what is known', () => {
    expect(() => conversion.convert(obj('v9', {}), 'example.com/v2')).toThrow(
      'cannot convert Thing from example.com/v9 to example.com/v2: no conversion for example.com/v9 (known: example.com/v2, example.com/v1, example.com/v3)',
    );
  });

  it('refuses spokes of another kind and versions named twice', () => {
    const Other = defineResource({ group: 'example.com', version: 'v1', kind: 'Other', namespaced: true });
    expect(() =>
      defineConversion({
        hub: V2,
        spokes: [{ resource: Other, toHub: (o) => o as never, fromHub: (h) => h as never }],
      }),
    ).toThrow(/spoke example.com\/v1 Other is not a version of the hub's kind Thing.example.com/);
    expect(() => defineConversion({ hub: V2, spokes: [{ resource: V2, toHub: (o) => o, fromHub: (h) => h }] })).toThrow(
      /version v2 of Thing is named twice/,
    );
  });
});

describe('convertReview', () => {
  const registered = new Map([[conversionKey('example.com', 'Thing'), conversion]]);

  it('converts every object and answers Success with the request uid', () => {
    const response = convertReview(registered, {
      uid: 'u1',
      desiredAPIVersion: 'example.com/v1',
      objects: [obj('v2', { size: 1 }), obj('v3', { sizes: [2] })],
    });
    expect(response).toEqual({
      uid: 'u1',
      convertedObjects: [obj('v1', { sizeText: '1' }), obj('v1', { sizeText: '2' })],
      result: { status: 'Success' },
    });
  });

  it('fails the whole review with a clear message for an unknown kind, version or a throwing converter', () => {
    const unknownKind = convertReview(registered, {
      uid: 'u',
      desiredAPIVersion: 'example.com/v1',
      objects: [{ ...obj('v1', {}), kind: 'Nope' }],
    });
    expect(unknownKind.result).toEqual({
      status: 'Failure',
      message: 'no conversion is registered for Nope.example.com (object ns/t)',
    });
    expect(unknownKind.convertedObjects).toEqual([]);
    const badVersion = convertReview(registered, {
      uid: 'u',
      desiredAPIVersion: 'example.com/v7',
      objects: [obj('v1', {})],
    });
    expect(badVersion.result.message).toMatch(/^cannot convert Thing from example.com\/v1 to example.com\/v7/);
    const thrown = convertReview(registered, {
      uid: 'u',
      desiredAPIVersion: 'example.com/v1',
      objects: [obj('v3', { sizes: [] })],
    });
    expect(thrown.result).toEqual({
      status: 'Failure',
      message: 'converting Thing ns/t from example.com/v3 to example.com/v1 failed: spec.sizes is empty',
    });
  });
});
