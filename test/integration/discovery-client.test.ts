import { describe, expect, it } from 'vitest';
import { createDynamicClient, isNotFound, type RestConfig } from '../../sdk/client/index.js';
import { observeRequests } from '../../sdk/client/internal.js';
import { createDiscoveryClient } from '../../sdk/client/discovery/discovery-client.js';
import { GroupDiscoveryFailedError, isGroupDiscoveryFailed } from '../../sdk/client/discovery/errors.js';
import type { APIGroup, APIResource, APIResourceList } from '../../sdk/client/discovery/types.js';
import { sharedCluster, uniqueName } from '../support/cluster.js';
import { eventually } from '../support/wait.js';

/** Runs `work` and returns the paths of the requests it sent to the cluster of `config`. */
async function pathsRequested<T>(config: RestConfig, work: () => Promise<T>): Promise<{ result: T; paths: string[] }> {
  const host = new URL(config.host).host;
  const paths: string[] = [];
  const stop = observeRequests((event) => {
    if (event.host === host) paths.push(event.path);
  });
  try {
    return { result: await work(), paths };
  } finally {
    stop();
  }
}

/**
 * The groups every kube-apiserver serves (the core group, unqualified names like `apps`, and `*.k8s.io`), leaving out
 * CRDs and API services that tests running in parallel create and delete, so two snapshots can be compared.
 */
const builtIn = (name: string): boolean => !name.includes('.') || name.endsWith('.k8s.io');

/** A resource without its storage version hash, which only the legacy documents carry. */
const withoutHash = ({ storageVersionHash: _hash, ...rest }: APIResource): APIResource => rest;

function comparable(groups: APIGroup[], lists: APIResourceList[]): { groups: APIGroup[]; lists: APIResourceList[] } {
  return {
    groups: groups.filter((g) => builtIn(g.name)),
    lists: lists
      .filter((l) => builtIn(l.groupVersion.includes('/') ? l.groupVersion.split('/')[0]! : ''))
      .map((l) => ({
        groupVersion: l.groupVersion,
        resources: l.resources.map(withoutHash).toSorted((a, b) => a.name.localeCompare(b.name)),
      })),
  };
}

describe('DiscoveryClient against the real API server', () => {
  const { config } = sharedCluster();

  it('reports the server version from /version', async () => {
    const version = await createDiscoveryClient(config).serverVersion();
    expect(version).toMatchObject({ gitVersion: 'v1.37.2', major: '1', minor: '37' });
    expect(version.platform).toMatch(/^[a-z0-9]+\/[a-z0-9]+$/);
    expect(version.goVersion).toMatch(/^go1\./);
  });

  it('lists the core group first, named "", then the named groups with their preferred versions', async () => {
    const list = await createDiscoveryClient(config).serverGroups();
    expect(list.groups[0]).toEqual({
      name: '',
      versions: [{ groupVersion: 'v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'v1', version: 'v1' },
    });
    expect(list.groups.find((g) => g.name === 'apps')).toMatchObject({
      versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
    });
    const autoscaling = list.groups.find((g) => g.name === 'autoscaling');
    expect(autoscaling?.versions.map((v) => v.version)).toEqual(['v2', 'v1']);
    expect(autoscaling?.preferredVersion?.version).toBe('v2');
    expect(list.groups.filter((g) => g.name === '')).toHaveLength(1);
  });

  it('lists the resources of apps/v1 with verbs, short names and the scale subresource', async () => {
    const list = await createDiscoveryClient(config).serverResourcesForGroupVersion('apps/v1');
    expect(list.groupVersion).toBe('apps/v1');
    const deployments = list.resources.find((r) => r.name === 'deployments');
    expect(deployments).toMatchObject({
      singularName: 'deployment',
      namespaced: true,
      kind: 'Deployment',
      shortNames: ['deploy'],
    });
    expect(deployments?.verbs.toSorted()).toEqual([
      'create',
      'delete',
      'deletecollection',
      'get',
      'list',
      'patch',
      'update',
      'watch',
    ]);
    expect(list.resources.find((r) => r.name === 'deployments/scale')).toMatchObject({
      group: 'autoscaling',
      version: 'v1',
      kind: 'Scale',
      verbs: expect.arrayContaining(['get', 'patch', 'update']),
    });
    expect(list.resources.find((r) => r.name === 'deployments/status')).toMatchObject({ kind: 'Deployment' });
  });

  it('lists the core group-version as "v1", and rejects an unknown or malformed group-version', async () => {
    const disco = createDiscoveryClient(config);
    const core = await disco.serverResourcesForGroupVersion('v1');
    expect(core.resources.find((r) => r.name === 'pods')).toMatchObject({
      kind: 'Pod',
      namespaced: true,
      shortNames: ['po'],
    });
    expect(core.resources.find((r) => r.name === 'namespaces')).toMatchObject({ kind: 'Namespace', namespaced: false });
    await expect(disco.serverResourcesForGroupVersion('nope.example.com/v1')).rejects.toSatisfy(isNotFound);
    await expect(disco.serverResourcesForGroupVersion('a/b/c')).rejects.toThrow(TypeError);
  });

  it('gets the whole picture in two requests with aggregated discovery, the same as legacy discovery gives', async () => {
    const aggregated = await pathsRequested(config, () => createDiscoveryClient(config).serverGroupsAndResources());
    expect(aggregated.paths.toSorted()).toEqual(['/api', '/apis']);

    const legacy = await pathsRequested(config, () =>
      createDiscoveryClient(config, { aggregated: false }).serverGroupsAndResources(),
    );
    const [legacyGroups, legacyLists] = legacy.result;
    expect(legacy.paths).toEqual(
      expect.arrayContaining(['/api', '/apis', '/api/v1', '/apis/apps/v1', '/apis/autoscaling/v2']),
    );
    expect(legacy.paths).toHaveLength(2 + legacyLists.length);
    // Only the legacy documents carry storage version hashes.
    expect(legacyLists.find((l) => l.groupVersion === 'apps/v1')?.resources[0]?.storageVersionHash).toBeTruthy();

    const [aggGroups, aggLists] = aggregated.result;
    expect(comparable(aggGroups, aggLists)).toEqual(comparable(legacyGroups, legacyLists));
    expect(comparable(aggGroups, aggLists).lists.length).toBeGreaterThan(20);
  });

  it('returns one resource list per group-version, in group then version order', async () => {
    const [groups, lists] = await createDiscoveryClient(config).serverGroupsAndResources();
    expect(lists.map((l) => l.groupVersion)).toEqual(groups.flatMap((g) => g.versions.map((v) => v.groupVersion)));
    expect(lists[0]?.groupVersion).toBe('v1');
    expect(lists.find((l) => l.groupVersion === 'apps/v1')?.resources.map((r) => r.name)).toContain('deployments');
  });

  it('gives the preferred version of each resource, without subresources', async () => {
    const disco = createDiscoveryClient(config);
    const preferred = await disco.serverPreferredResources();
    const hpa = preferred.filter((l) => l.resources.some((r) => r.name === 'horizontalpodautoscalers'));
    expect(hpa.map((l) => l.groupVersion)).toEqual(['autoscaling/v2']);
    expect(preferred.flatMap((l) => l.resources).filter((r) => r.name.includes('/'))).toEqual([]);
    const keys = preferred.flatMap((l) =>
      l.resources.map((r) => `${l.groupVersion.split('/').slice(0, -1).join('/')}:${r.name}`),
    );
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toEqual(expect.arrayContaining([':pods', ':namespaces', 'apps:deployments']));

    const namespaced = (await disco.serverPreferredNamespacedResources()).flatMap((l) => l.resources);
    expect(namespaced.every((r) => r.namespaced)).toBe(true);
    expect(namespaced.map((r) => r.name)).toEqual(expect.arrayContaining(['pods', 'deployments', 'configmaps']));
    expect(namespaced.map((r) => r.name)).not.toContain('namespaces');
  });

  it('caches answers until invalidate(), shares concurrent requests, and hands out copies', async () => {
    const disco = createDiscoveryClient(config);
    const first = await pathsRequested(config, () =>
      Promise.all([disco.serverGroups(), disco.serverGroups(), disco.serverGroupsAndResources()]),
    );
    expect(first.paths.toSorted()).toEqual(['/api', '/apis']);

    const again = await pathsRequested(config, async () => {
      const list = await disco.serverGroups();
      list.groups.length = 0;
      await disco.serverResourcesForGroupVersion('apps/v1');
      return disco.serverGroups();
    });
    expect(again.paths).toEqual([]);
    expect(again.result.groups.length).toBeGreaterThan(20);

    disco.invalidate();
    const afterInvalidate = await pathsRequested(config, () => disco.serverGroups());
    expect(afterInvalidate.paths.toSorted()).toEqual(['/api', '/apis']);
  });

  it('asks again once the TTL has passed, and on every call with cacheTtlMs 0', async () => {
    const ttlMs = 50;
    const disco = createDiscoveryClient(config, { cacheTtlMs: ttlMs });
    await disco.serverGroups();
    const within = await pathsRequested(config, () => disco.serverGroups());
    expect(within.paths).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, ttlMs * 2));
    const after = await pathsRequested(config, () => disco.serverGroups());
    expect(after.paths.toSorted()).toEqual(['/api', '/apis']);

    const uncached = createDiscoveryClient(config, { cacheTtlMs: 0, aggregated: false });
    const twice = await pathsRequested(config, async () => {
      await uncached.serverResourcesForGroupVersion('apps/v1');
      await uncached.serverResourcesForGroupVersion('apps/v1');
    });
    expect(twice.paths).toEqual(['/apis/apps/v1', '/apis/apps/v1']);
    expect(() => createDiscoveryClient(config, { cacheTtlMs: -1 })).toThrow(RangeError);
  });

  it('honours the signal on every call', async () => {
    const disco = createDiscoveryClient(config);
    const reason = new Error('stopped by the caller');
    const aborted = AbortSignal.abort(reason);
    await expect(disco.serverVersion({ signal: aborted })).rejects.toBe(reason);
    await expect(disco.serverGroups({ signal: aborted })).rejects.toBe(reason);
    await expect(disco.serverGroupsAndResources({ signal: aborted })).rejects.toBe(reason);
    await expect(disco.serverResourcesForGroupVersion('apps/v1', { signal: aborted })).rejects.toBe(reason);
    await expect(disco.serverPreferredResources({ signal: aborted })).rejects.toBe(reason);

    const controller = new AbortController();
    const pending = createDiscoveryClient(config, { aggregated: false }).serverGroupsAndResources({
      signal: controller.signal,
    });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    // The aborted call left nothing broken behind: the same client answers the next call.
    expect((await disco.serverGroups()).groups.length).toBeGreaterThan(20);
  });

  it('reports a group-version whose API service is down, with everything that succeeded, in both modes', async () => {
    const group = `${uniqueName('down')}.example.com`;
    const name = `v1alpha1.${group}`;
    const apiServices = createDynamicClient(config).resource({
      group: 'apiregistration.k8s.io',
      version: 'v1',
      resource: 'apiservices',
    });
    await apiServices.create({
      apiVersion: 'apiregistration.k8s.io/v1',
      kind: 'APIService',
      metadata: { name },
      spec: {
        group,
        version: 'v1alpha1',
        groupPriorityMinimum: 100,
        versionPriority: 10,
        insecureSkipTLSVerify: true,
        service: { namespace: 'default', name: uniqueName('nowhere'), port: 443 },
      },
    });
    try {
      for (const aggregated of [true, false]) {
        const disco = createDiscoveryClient(config, { aggregated, cacheTtlMs: 0 });
        // The aggregator publishes the new group-version (as Stale, since nothing answers) within moments.
        const err = await eventually(
          `${group}/v1alpha1 among the failed group-versions`,
          async () => {
            const thrown = await disco.serverGroupsAndResources().then(
              () => undefined,
              (e: unknown) => e,
            );
            return isGroupDiscoveryFailed(thrown) && thrown.failed.has(`${group}/v1alpha1`) ? thrown : undefined;
          },
          { timeoutMs: 20_000, intervalMs: 200 },
        );
        expect(err, `aggregated: ${aggregated}`).toBeInstanceOf(GroupDiscoveryFailedError);
        const failure = err as GroupDiscoveryFailedError;
        expect(failure.code).toBe('ERR_KUBE_DISCOVERY_FAILED');
        expect(failure.message).toContain(`${group}/v1alpha1`);
        expect(failure.failed.get(`${group}/v1alpha1`)?.message).toMatch(aggregated ? /Stale/ : /503/);
        expect(failure.groups.map((g) => g.name)).toEqual(expect.arrayContaining(['', 'apps', group]));
        expect(failure.resources.map((l) => l.groupVersion)).toEqual(expect.arrayContaining(['v1', 'apps/v1']));
        expect(failure.resources.map((l) => l.groupVersion)).not.toContain(`${group}/v1alpha1`);

        const preferred: unknown = await disco.serverPreferredResources().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isGroupDiscoveryFailed(preferred)).toBe(true);
        const partial = (preferred as GroupDiscoveryFailedError).resources;
        expect(partial.find((l) => l.groupVersion === 'apps/v1')?.resources.map((r) => r.name)).toContain(
          'deployments',
        );
      }
    } finally {
      await apiServices.delete(name);
    }
  });
});
