import { describe, expect, it } from 'vitest';
import * as api from './index.js';
import { builtinResources, type ResourceDescriptor } from './index.js';

function isDescriptor(value: unknown): value is ResourceDescriptor {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<ResourceDescriptor>;
  return (
    typeof v.kind === 'string' &&
    typeof v.plural === 'string' &&
    typeof v.version === 'string' &&
    typeof v.namespaced === 'boolean'
  );
}

describe('builtinResources (generated)', () => {
  it('holds every descriptor kubeloop/client exports, flat or in its group-version namespace, once each', () => {
    const exported = new Set<ResourceDescriptor>();
    for (const value of Object.values(api)) {
      if (isDescriptor(value)) exported.add(value);
      else if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        for (const inner of Object.values(value as Record<string, unknown>))
          if (isDescriptor(inner)) exported.add(inner);
      }
    }
    expect(new Set(builtinResources)).toEqual(exported);
    expect(new Set(builtinResources).size).toBe(builtinResources.length);
    const gvks = builtinResources.map((d) => `${d.group}/${d.version}/${d.kind}`);
    expect(new Set(gvks).size).toBe(gvks.length);
    expect(new Set(builtinResources.map((d) => `${d.group}/${d.version}/${d.plural}`)).size).toBe(gvks.length);
    expect(gvks).toContain('apps/v1/Deployment');
    expect(gvks).toContain('/v1/Pod');
  });
});
