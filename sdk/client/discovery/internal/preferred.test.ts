import { describe, expect, it } from 'vitest';
import type { APIGroup, APIResource, APIResourceList } from '../types.js';
import { selectPreferredResources } from './preferred.js';

const resource = (name: string, kind: string): APIResource => ({
  name,
  singularName: '',
  namespaced: true,
  kind,
  verbs: ['get'],
});
const list = (groupVersion: string, ...resources: APIResource[]): APIResourceList => ({ groupVersion, resources });
const group = (name: string, ...versions: string[]): APIGroup => {
  const gvs = versions.map((version) => ({ groupVersion: name ? `${name}/${version}` : version, version }));
  return { name, versions: gvs, preferredVersion: gvs[0]! };
};

describe('selectPreferredResources', () => {
  it('takes the preferred version of each resource, falls back to the next version, and drops subresources', () => {
    const groups = [group('', 'v1'), group('autoscaling', 'v2', 'v1')];
    const lists = new Map(
      [
        list('v1', resource('pods', 'Pod'), resource('pods/status', 'Pod')),
        list('autoscaling/v2', resource('horizontalpodautoscalers', 'HorizontalPodAutoscaler')),
        list(
          'autoscaling/v1',
          resource('horizontalpodautoscalers', 'HorizontalPodAutoscaler'),
          resource('legacyscalers', 'LegacyScaler'),
        ),
      ].map((l) => [l.groupVersion, l]),
    );
    expect(selectPreferredResources(groups, lists)).toEqual([
      list('v1', resource('pods', 'Pod')),
      list('autoscaling/v2', resource('horizontalpodautoscalers', 'HorizontalPodAutoscaler')),
      list('autoscaling/v1', resource('legacyscalers', 'LegacyScaler')),
    ]);
  });

  it('lets the preferred version win even when it is not listed first', () => {
    const g: APIGroup = {
      name: 'x.example.com',
      versions: [
        { groupVersion: 'x.example.com/v1beta1', version: 'v1beta1' },
        { groupVersion: 'x.example.com/v1', version: 'v1' },
      ],
      preferredVersion: { groupVersion: 'x.example.com/v1', version: 'v1' },
    };
    const lists = new Map([
      ['x.example.com/v1beta1', list('x.example.com/v1beta1', resource('widgets', 'Widget'))],
      ['x.example.com/v1', list('x.example.com/v1', resource('widgets', 'Widget'))],
    ]);
    expect(selectPreferredResources([g], lists)).toEqual([list('x.example.com/v1', resource('widgets', 'Widget'))]);
  });

  it('skips group-versions whose resources are unknown (failed discovery)', () => {
    expect(selectPreferredResources([group('metrics.k8s.io', 'v1beta1')], new Map())).toEqual([]);
  });
});
