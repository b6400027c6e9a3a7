import { describe, expect, it } from 'vitest';
import type { APIGroupDiscoveryList } from '../types.js';
import { aggregatedAccept, convertAggregated, coreGroupFromVersions, isAggregatedContentType } from './aggregated.js';

describe('isAggregatedContentType', () => {
  it('recognises v2 and v2beta1 APIGroupDiscoveryList answers', () => {
    expect(isAggregatedContentType('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList')).toBe(true);
    expect(
      isAggregatedContentType('application/json; g=apidiscovery.k8s.io; v=v2beta1; as=APIGroupDiscoveryList'),
    ).toBe(true);
    expect(isAggregatedContentType(['application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'])).toBe(
      true,
    );
  });

  it('rejects plain JSON, other versions and other kinds', () => {
    expect(isAggregatedContentType('application/json')).toBe(false);
    expect(isAggregatedContentType(undefined)).toBe(false);
    expect(isAggregatedContentType('application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList')).toBe(false);
    expect(isAggregatedContentType('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscovery')).toBe(false);
    expect(
      isAggregatedContentType(
        'application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
      ),
    ).toBe(false);
  });

  it('asks for v2 first, then v2beta1, then plain JSON', () => {
    expect(aggregatedAccept.split(',')).toEqual([
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
      'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
      'application/json',
    ]);
  });
});

describe('coreGroupFromVersions', () => {
  it('makes the core group, named "", from /api', () => {
    expect(
      coreGroupFromVersions({
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }],
      }),
    ).toEqual({
      name: '',
      versions: [{ groupVersion: 'v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'v1', version: 'v1' },
    });
    expect(coreGroupFromVersions({ versions: [] })).toBeUndefined();
  });
});

describe('convertAggregated', () => {
  const doc: APIGroupDiscoveryList = {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    items: [
      {
        metadata: {},
        versions: [
          {
            version: 'v1',
            freshness: 'Current',
            resources: [
              {
                resource: 'pods',
                responseKind: { group: '', version: '', kind: 'Pod' },
                scope: 'Namespaced',
                singularResource: 'pod',
                verbs: ['get', 'list'],
                shortNames: ['po'],
                categories: ['all'],
                subresources: [
                  {
                    subresource: 'eviction',
                    responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' },
                    verbs: ['create'],
                  },
                  {
                    subresource: 'status',
                    responseKind: { group: '', version: '', kind: 'Pod' },
                    verbs: ['get', 'patch', 'update'],
                  },
                ],
              },
            ],
          },
        ],
      },
      {
        metadata: { name: 'autoscaling' },
        versions: [
          { version: 'v2', freshness: 'Current', resources: [] },
          { version: 'v1', freshness: 'Stale', resources: [] },
        ],
      },
      { metadata: { name: 'empty.example.com' }, versions: [] },
    ],
  };

  it('gives groups in order, the first version preferred, and the core group named ""', () => {
    const { groups } = convertAggregated(doc);
    expect(groups).toEqual([
      {
        name: '',
        versions: [{ groupVersion: 'v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'v1', version: 'v1' },
      },
      {
        name: 'autoscaling',
        versions: [
          { groupVersion: 'autoscaling/v2', version: 'v2' },
          { groupVersion: 'autoscaling/v1', version: 'v1' },
        ],
        preferredVersion: { groupVersion: 'autoscaling/v2', version: 'v2' },
      },
    ]);
  });

  it('gives resources and subresources in the legacy shape, group/version only where the kind lives elsewhere', () => {
    const { resources } = convertAggregated(doc);
    expect(resources.get('v1')).toEqual({
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: 'v1',
      resources: [
        {
          name: 'pods',
          singularName: 'pod',
          namespaced: true,
          kind: 'Pod',
          verbs: ['get', 'list'],
          shortNames: ['po'],
          categories: ['all'],
        },
        {
          name: 'pods/eviction',
          singularName: '',
          namespaced: true,
          group: 'policy',
          version: 'v1',
          kind: 'Eviction',
          verbs: ['create'],
        },
        { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] },
      ],
    });
    expect(resources.get('autoscaling/v2')?.resources).toEqual([]);
  });

  it('reports Stale group-versions instead of listing their resources', () => {
    const { resources, stale } = convertAggregated(doc);
    expect(stale).toEqual(['autoscaling/v1']);
    expect(resources.has('autoscaling/v1')).toBe(false);
  });
});
