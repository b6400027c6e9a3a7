import { describe, expect, it } from 'vitest';
import type { DiscoveryClient } from './discovery-client.js';
import { GroupDiscoveryFailedError, isAmbiguousMatch, isGroupDiscoveryFailed, isNoMatch } from './errors.js';
import { createRESTMapper } from './rest-mapper.js';
import type { APIGroup, APIResource, APIResourceList } from './types.js';

// The mapper's resolution logic over an in-memory discovery; tests against the real API server are in
// test/integration/discovery-rest-mapper.test.ts.

interface Served {
  group: string;
  versions: { version: string; resources: APIResource[] }[];
}

const res = (name: string, kind: string, namespaced: boolean, shortNames: string[] = []): APIResource => ({
  name,
  singularName: name.replace(/s$/, ''),
  namespaced,
  kind,
  verbs: ['get', 'list'],
  ...(shortNames.length && { shortNames }),
});

function fakeDiscovery(initial: Served[]): DiscoveryClient & {
  served: Served[];
  loads: number;
  invalidations: number;
  failing: Set<string>;
  signals: (AbortSignal | undefined)[];
} {
  const fake = {
    served: initial,
    loads: 0,
    invalidations: 0,
    failing: new Set<string>(),
    signals: [] as (AbortSignal | undefined)[],
    async serverGroupsAndResources(options: { signal?: AbortSignal } = {}): Promise<[APIGroup[], APIResourceList[]]> {
      fake.loads++;
      fake.signals.push(options.signal);
      const groups: APIGroup[] = fake.served.map((s) => {
        const versions = s.versions.map((v) => ({
          groupVersion: s.group ? `${s.group}/${v.version}` : v.version,
          version: v.version,
        }));
        return { name: s.group, versions, preferredVersion: versions[0]! };
      });
      const lists: APIResourceList[] = fake.served.flatMap((s) =>
        s.versions.map((v) => ({
          groupVersion: s.group ? `${s.group}/${v.version}` : v.version,
          resources: structuredClone(v.resources),
        })),
      );
      const failed = new Map([...fake.failing].map((gv) => [gv, new Error(`${gv} is down`)]));
      if (failed.size) {
        throw new GroupDiscoveryFailedError(
          groups,
          lists.filter((l) => !failed.has(l.groupVersion)),
          failed,
        );
      }
      return [groups, lists];
    },
    invalidate(): void {
      fake.invalidations++;
    },
    serverVersion: () => Promise.reject(new Error('not used')),
    serverGroups: () => Promise.reject(new Error('not used')),
    serverResourcesForGroupVersion: () => Promise.reject(new Error('not used')),
    serverPreferredResources: () => Promise.reject(new Error('not used')),
    serverPreferredNamespacedResources: () => Promise.reject(new Error('not used')),
  };
  return fake;
}

const builtIn = (): Served[] => [
  {
    group: '',
    versions: [
      {
        version: 'v1',
        resources: [
          res('pods', 'Pod', true, ['po']),
          res('pods/status', 'Pod', true),
          res('namespaces', 'Namespace', false, ['ns']),
          res('events', 'Event', true, ['ev']),
        ],
      },
    ],
  },
  { group: 'apps', versions: [{ version: 'v1', resources: [res('deployments', 'Deployment', true, ['deploy'])] }] },
  { group: 'events.k8s.io', versions: [{ version: 'v1', resources: [res('events', 'Event', true, ['ev'])] }] },
  {
    group: 'autoscaling',
    versions: [
      { version: 'v2', resources: [res('horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, ['hpa'])] },
      { version: 'v1', resources: [res('horizontalpodautoscalers', 'HorizontalPodAutoscaler', true, ['hpa'])] },
    ],
  },
];

describe('RESTMapper', () => {
  it('is lazy: nothing is loaded before the first call, and one load serves many calls', async () => {
    const disco = fakeDiscovery(builtIn());
    const mapper = createRESTMapper(disco);
    expect(disco.loads).toBe(0);
    await mapper.restMapping({ group: 'apps', kind: 'Deployment' });
    await mapper.restMapping({ group: '', kind: 'Pod' });
    await mapper.kindFor({ resource: 'ns' });
    expect(disco.loads).toBe(1);
  });

  it('maps a kind to its resource and scope, in the preferred version unless one is given', async () => {
    const mapper = createRESTMapper(fakeDiscovery(builtIn()));
    expect(await mapper.restMapping({ group: 'apps', kind: 'Deployment' })).toEqual({
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      groupVersionKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      scope: 'Namespaced',
    });
    expect((await mapper.restMapping({ group: '', kind: 'Namespace' })).scope).toBe('Cluster');
    expect((await mapper.restMapping({ group: 'autoscaling', kind: 'HorizontalPodAutoscaler' })).resource.version).toBe(
      'v2',
    );
    expect(
      (await mapper.restMapping({ group: 'autoscaling', kind: 'HorizontalPodAutoscaler', version: 'v1' })).resource
        .version,
    ).toBe('v1');
    expect(
      (await mapper.restMappings({ group: 'autoscaling', kind: 'HorizontalPodAutoscaler' })).map(
        (m) => m.resource.version,
      ),
    ).toEqual(['v2', 'v1']);
  });

  it('resolves plural, singular, short and group-qualified names, in any case', async () => {
    const mapper = createRESTMapper(fakeDiscovery(builtIn()));
    const pod = { group: '', version: 'v1', kind: 'Pod' };
    expect(await mapper.kindFor({ resource: 'pods' })).toEqual(pod);
    expect(await mapper.kindFor({ resource: 'pod' })).toEqual(pod);
    expect(await mapper.kindFor({ resource: 'PO' })).toEqual(pod);
    expect(await mapper.resourceFor({ resource: 'deploy' })).toEqual({
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
    });
    expect(await mapper.resourceFor({ resource: 'deploy.apps' })).toEqual({
      group: 'apps',
      version: 'v1',
      resource: 'deployments',
    });
    expect(await mapper.resourceFor({ resource: 'hpa', version: 'v1' })).toEqual({
      group: 'autoscaling',
      version: 'v1',
      resource: 'horizontalpodautoscalers',
    });
  });

  it('picks the first group in discovery order for a full name several groups serve, and honours a given group', async () => {
    const mapper = createRESTMapper(fakeDiscovery(builtIn()));
    expect(await mapper.resourceFor({ resource: 'events' })).toEqual({ group: '', version: 'v1', resource: 'events' });
    expect(await mapper.resourceFor({ resource: 'events', group: 'events.k8s.io' })).toEqual({
      group: 'events.k8s.io',
      version: 'v1',
      resource: 'events',
    });
    expect(await mapper.resourceFor({ resource: 'events.events.k8s.io' })).toMatchObject({ group: 'events.k8s.io' });
  });

  it('resolves a short name that several groups declare for the same resource name as that name', async () => {
    const mapper = createRESTMapper(fakeDiscovery(builtIn()));
    expect(await mapper.resourceFor({ resource: 'ev' })).toEqual({ group: '', version: 'v1', resource: 'events' });
    expect(await mapper.resourceFor({ resource: 'ev', group: 'events.k8s.io' })).toMatchObject({
      group: 'events.k8s.io',
    });
  });

  it('rejects a short name that stands for different resources with an ambiguity error listing them', async () => {
    const served = builtIn();
    served.push(
      { group: 'a.example.com', versions: [{ version: 'v1', resources: [res('widgets', 'Widget', true, ['wd'])] }] },
      {
        group: 'b.example.com',
        versions: [
          { version: 'v1', resources: [res('wands', 'Wand', false, ['wd'])] },
          { version: 'v1beta1', resources: [res('wands', 'Wand', false, ['wd'])] },
        ],
      },
    );
    const mapper = createRESTMapper(fakeDiscovery(served));
    const err: unknown = await mapper.kindFor({ resource: 'wd' }).catch((e: unknown) => e);
    expect(isAmbiguousMatch(err)).toBe(true);
    expect(err).toMatchObject({
      code: 'ERR_KUBE_AMBIGUOUS_MATCH',
      candidates: [
        { group: 'a.example.com', version: 'v1', resource: 'widgets' },
        { group: 'b.example.com', version: 'v1', resource: 'wands' },
      ],
    });
    expect((err as Error).message).toBe(
      '"wd" matches several resources (widgets.a.example.com, wands.b.example.com): give the group, or use the full resource name',
    );
    expect(await mapper.kindFor({ resource: 'wd', group: 'b.example.com' })).toEqual({
      group: 'b.example.com',
      version: 'v1',
      kind: 'Wand',
    });
  });

  it('refreshes discovery once on a miss and finds what appeared since', async () => {
    const disco = fakeDiscovery(builtIn());
    const mapper = createRESTMapper(disco);
    await mapper.restMapping({ group: 'apps', kind: 'Deployment' });
    disco.served.push({
      group: 'example.com',
      versions: [{ version: 'v1', resources: [res('widgets', 'Widget', true, ['wd'])] }],
    });
    expect(await mapper.restMapping({ group: 'example.com', kind: 'Widget' })).toMatchObject({
      resource: { resource: 'widgets' },
    });
    expect(disco.invalidations).toBe(1);
    expect(disco.loads).toBe(2);
    expect(await mapper.resourceFor({ resource: 'wd' })).toMatchObject({ group: 'example.com' });
    expect(disco.loads).toBe(2);
  });

  it('throws ERR_KUBE_NO_MATCH after one refresh when nothing matches', async () => {
    const disco = fakeDiscovery(builtIn());
    const mapper = createRESTMapper(disco);
    const err: unknown = await mapper
      .restMapping({ group: 'nope.example.com', kind: 'Ghost' })
      .catch((e: unknown) => e);
    expect(isNoMatch(err)).toBe(true);
    expect((err as Error).message).toBe('no matches for kind "Ghost" in group "nope.example.com"');
    expect(disco.loads).toBe(2);
    const byVersion: unknown = await mapper
      .restMapping({ group: 'apps', kind: 'Deployment', version: 'v9' })
      .catch((e: unknown) => e);
    expect((byVersion as Error).message).toBe('no matches for kind "Deployment" in version "apps/v9"');
    const byName: unknown = await mapper.kindFor({ resource: 'ghosts' }).catch((e: unknown) => e);
    expect(byName).toMatchObject({
      code: 'ERR_KUBE_NO_MATCH',
      message: 'the server doesn\'t have a resource type "ghosts"',
    });
  });

  it('shares one refresh between concurrent misses', async () => {
    const disco = fakeDiscovery(builtIn());
    const mapper = createRESTMapper(disco);
    await mapper.kindFor({ resource: 'pods' });
    disco.served.push({
      group: 'example.com',
      versions: [{ version: 'v1', resources: [res('widgets', 'Widget', true)] }],
    });
    const found = await Promise.all([
      mapper.restMapping({ group: 'example.com', kind: 'Widget' }),
      mapper.resourceFor({ resource: 'widgets' }),
      mapper.kindFor({ resource: 'widget' }),
    ]);
    expect(found).toHaveLength(3);
    expect(disco.invalidations).toBe(1);
  });

  it('reports a failed discovery of the asked group instead of "no match", and maps the groups that answered', async () => {
    const disco = fakeDiscovery([
      ...builtIn(),
      { group: 'metrics.k8s.io', versions: [{ version: 'v1beta1', resources: [res('pods', 'PodMetrics', true)] }] },
    ]);
    disco.failing.add('metrics.k8s.io/v1beta1');
    const mapper = createRESTMapper(disco);
    expect((await mapper.restMapping({ group: 'apps', kind: 'Deployment' })).resource.resource).toBe('deployments');
    const err: unknown = await mapper
      .restMapping({ group: 'metrics.k8s.io', kind: 'PodMetrics' })
      .catch((e: unknown) => e);
    expect(isGroupDiscoveryFailed(err)).toBe(true);
    expect((err as Error).message).toContain('metrics.k8s.io/v1beta1: metrics.k8s.io/v1beta1 is down');
    const other: unknown = await mapper
      .restMapping({ group: 'nope.example.com', kind: 'Ghost' })
      .catch((e: unknown) => e);
    expect(isNoMatch(other)).toBe(true);
  });

  it('reloads after reset()', async () => {
    const disco = fakeDiscovery(builtIn());
    const mapper = createRESTMapper(disco);
    await mapper.kindFor({ resource: 'pods' });
    mapper.reset();
    await mapper.kindFor({ resource: 'pods' });
    expect(disco.loads).toBe(2);
    expect(disco.invalidations).toBe(1);
  });

  it('passes the signal to discovery, and rejects an aborted call with its reason', async () => {
    const disco = fakeDiscovery(builtIn());
    const mapper = createRESTMapper(disco);
    const controller = new AbortController();
    await mapper.kindFor({ resource: 'pods' }, { signal: controller.signal });
    expect(disco.signals).toEqual([controller.signal]);
    await expect(
      mapper.kindFor({ resource: 'pods' }, { signal: AbortSignal.abort(new Error('stop')) }),
    ).rejects.toThrow('stop');
  });
});
