import { describe, expect, it } from 'vitest';
import { ConfigMap, Secret } from '../client/index.js';
import {
  isMetadataOnly,
  metadataOnly,
  plainDescriptor,
  toPartialObjectMetadata,
  withResourceKind,
} from './metadata-only.js';

describe('metadataOnly descriptors', () => {
  it('marks a descriptor, keeps its fields, and is stable and idempotent', () => {
    const m = metadataOnly(Secret);
    expect(isMetadataOnly(m)).toBe(true);
    expect(isMetadataOnly(Secret)).toBe(false);
    expect({ group: m.group, version: m.version, kind: m.kind, plural: m.plural, namespaced: m.namespaced }).toEqual({
      group: '',
      version: 'v1',
      kind: 'Secret',
      plural: 'secrets',
      namespaced: true,
    });
    expect(metadataOnly(Secret)).toBe(m);
    expect(metadataOnly(m)).toBe(m);
    expect(plainDescriptor(m)).toBe(Secret);
    expect(plainDescriptor(ConfigMap)).toBe(ConfigMap);
    expect(Object.isFrozen(m)).toBe(true);
  });

  it('cuts an object down to its metadata with the resource kind', () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'ns', labels: { a: 'b' } },
      data: { k: 'dg==' },
    };
    expect(toPartialObjectMetadata(Secret, secret)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: secret.metadata,
    });
  });

  it('gives a metadata-only informer object its resource kind, copying a frozen one shallowly', () => {
    const stored = Object.freeze({
      apiVersion: 'meta.k8s.io/v1',
      kind: 'PartialObjectMetadata',
      metadata: Object.freeze({ name: 'c' }),
    });
    const out = withResourceKind(ConfigMap, stored);
    expect(out).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } });
    expect(out).not.toBe(stored);
    expect(out.metadata).toBe(stored.metadata);
    const copy = { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: { name: 'c' } };
    expect(withResourceKind(ConfigMap, copy)).toBe(copy);
    expect(copy.kind).toBe('ConfigMap');
  });
});
