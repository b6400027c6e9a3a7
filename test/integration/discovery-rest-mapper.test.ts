import { describe, expect, it } from 'vitest';
import { createDynamicClient, type RestConfig, type Unstructured } from '../../sdk/client/index.js';
import { observeRequests } from '../../sdk/client/internal.js';
import { createDiscoveryClient } from '../../sdk/client/discovery/discovery-client.js';
import {
  type AmbiguousMatchError,
  isAmbiguousMatch,
  isGroupDiscoveryFailed,
  isNoMatch,
} from '../../sdk/client/discovery/errors.js';
import { createRESTMapper } from '../../sdk/client/discovery/rest-mapper.js';
import type { APIResourceList } from '../../sdk/client/discovery/types.js';
import { sharedCluster, uniqueName } from '../support/cluster.js';
import { eventually, type EventuallyOptions } from '../support/wait.js';

const poll: EventuallyOptions = { timeoutMs: 30_000, intervalMs: 100 };

const crds = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };

interface CrdSpec {
  group: string;
  kind: string;
  plural: string;
  shortNames: string[];
  scope: 'Namespaced' | 'Cluster';
}

/** A CRD serving v1beta1 and v1 (v1 stored, so v1 is the preferred version), any content accepted. */
function crdObject(spec: CrdSpec): Unstructured {
  const schema = { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${spec.plural}.${spec.group}` },
    spec: {
      group: spec.group,
      scope: spec.scope,
      names: {
        plural: spec.plural,
        singular: spec.kind.toLowerCase(),
        kind: spec.kind,
        listKind: `${spec.kind}List`,
        shortNames: spec.shortNames,
      },
      versions: [
        { name: 'v1beta1', served: true, storage: false, schema },
        { name: 'v1', served: true, storage: true, schema },
      ],
    },
  };
}

/**
 * Creates the CRDs, waits until each is Established and served by discovery (aggregated discovery is updated a moment
 * after), runs `work`, and deletes them.
 */
async function withCrds(config: RestConfig, specs: CrdSpec[], work: () => Promise<void>): Promise<void> {
  const client = createDynamicClient(config).resource(crds);
  const names: string[] = [];
  try {
    for (const spec of specs) {
      const created = await client.create(crdObject(spec));
      names.push(created.metadata!.name!);
    }
    for (const name of names) {
      await eventually(
        `CRD ${name} to be Established`,
        async () => {
          const crd = await client.get(name);
          const conditions =
            (crd['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
          return conditions.some((c) => c.type === 'Established' && c.status === 'True');
        },
        poll,
      );
    }
    const watcher = createDiscoveryClient(config, { cacheTtlMs: 0 });
    await eventually(
      'discovery to serve the CRDs',
      async () => {
        let lists: APIResourceList[];
        try {
          [, lists] = await watcher.serverGroupsAndResources();
        } catch (err) {
          if (!isGroupDiscoveryFailed(err)) throw err;
          lists = err.resources;
        }
        return specs.every((s) =>
          lists.some((l) => l.groupVersion === `${s.group}/v1` && l.resources.some((r) => r.name === s.plural)),
        );
      },
      poll,
    );
    await work();
  } finally {
    for (const name of names) await client.delete(name);
  }
}

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

describe('RESTMapper against the real API server', () => {
  const { config } = sharedCluster();

  it('maps Deployment, Pod and Namespace to their resources and scopes', async () => {
    const mapper = createRESTMapper(createDiscoveryClient(config));
    expect(await mapper.restMapping({ group: 'apps', kind: 'Deployment' })).toEqual({
      resource: { group: 'apps', version: 'v1', resource: 'deployments' },
      groupVersionKind: { group: 'apps', version: 'v1', kind: 'Deployment' },
      scope: 'Namespaced',
    });
    expect(await mapper.restMapping({ group: '', kind: 'Pod' })).toEqual({
      resource: { group: '', version: 'v1', resource: 'pods' },
      groupVersionKind: { group: '', version: 'v1', kind: 'Pod' },
      scope: 'Namespaced',
    });
    expect(await mapper.restMapping({ group: '', kind: 'Namespace', version: 'v1' })).toEqual({
      resource: { group: '', version: 'v1', resource: 'namespaces' },
      groupVersionKind: { group: '', version: 'v1', kind: 'Namespace' },
      scope: 'Cluster',
    });
  });

  it('prefers the preferred version and lists every version of a kind', async () => {
    const mapper = createRESTMapper(createDiscoveryClient(config));
    const hpa = { group: 'autoscaling', kind: 'HorizontalPodAutoscaler' };
    expect((await mapper.restMapping(hpa)).resource).toEqual({
      group: 'autoscaling',
      version: 'v2',
      resource: 'horizontalpodautoscalers',
    });
    expect((await mapper.restMappings(hpa)).map((m) => m.groupVersionKind.version)).toEqual(['v2', 'v1']);
    expect((await mapper.restMapping({ ...hpa, version: 'v1' })).resource.version).toBe('v1');
  });

  it('resolves plural, singular and short names the way kubectl does', async () => {
    const mapper = createRESTMapper(createDiscoveryClient(config));
    const deployment = { group: 'apps', version: 'v1', kind: 'Deployment' };
    expect(await mapper.kindFor({ resource: 'deploy' })).toEqual(deployment);
    expect(await mapper.kindFor({ resource: 'deployment' })).toEqual(deployment);
    expect(await mapper.kindFor({ resource: 'deployments', group: 'apps' })).toEqual(deployment);
    expect(await mapper.kindFor({ resource: 'deploy.apps' })).toEqual(deployment);
    expect(await mapper.resourceFor({ resource: 'po' })).toEqual({ group: '', version: 'v1', resource: 'pods' });
    expect(await mapper.resourceFor({ resource: 'ns' })).toEqual({ group: '', version: 'v1', resource: 'namespaces' });
    expect(await mapper.resourceFor({ resource: 'hpa' })).toEqual({
      group: 'autoscaling',
      version: 'v2',
      resource: 'horizontalpodautoscalers',
    });
    // `ev` is the short name of events in the core group and in events.k8s.io: the core group wins, as in kubectl.
    expect(await mapper.resourceFor({ resource: 'ev' })).toEqual({ group: '', version: 'v1', resource: 'events' });
    expect(await mapper.resourceFor({ resource: 'ev', group: 'events.k8s.io' })).toEqual({
      group: 'events.k8s.io',
      version: 'v1',
      resource: 'events',
    });
  });

  it('says clearly when nothing matches', async () => {
    const mapper = createRESTMapper(createDiscoveryClient(config));
    const group = `${uniqueName('absent')}.example.com`;
    const err: unknown = await mapper.restMapping({ group, kind: 'Ghost' }).catch((e: unknown) => e);
    expect(isNoMatch(err)).toBe(true);
    expect(err).toMatchObject({
      code: 'ERR_KUBE_NO_MATCH',
      message: `no matches for kind "Ghost" in group "${group}"`,
    });
    await expect(mapper.resourceFor({ resource: 'ghosts' })).rejects.toThrow(
      'the server doesn\'t have a resource type "ghosts"',
    );
    await expect(mapper.restMapping({ group: 'apps', kind: 'Deployment', version: 'v1beta1' })).rejects.toSatisfy(
      isNoMatch,
    );
  });

  it.each([
    { mode: 'aggregated', aggregated: true },
    { mode: 'legacy', aggregated: false },
  ])('finds a CRD created after start-up once it missed it ($mode discovery)', async ({ aggregated }) => {
    const spec: CrdSpec = {
      group: `${uniqueName('mapper')}.example.com`,
      kind: 'Widget',
      plural: 'widgets',
      shortNames: [uniqueName('wd').replace('-', '')],
      scope: 'Namespaced',
    };
    const mapper = createRESTMapper(createDiscoveryClient(config, { aggregated }));
    expect((await mapper.restMapping({ group: 'apps', kind: 'Deployment' })).scope).toBe('Namespaced');
    await expect(mapper.restMapping({ group: spec.group, kind: 'Widget' })).rejects.toSatisfy(isNoMatch);

    await withCrds(config, [spec], async () => {
      // The mapper's picture predates the CRD: the first lookup misses, refreshes discovery, and finds it.
      const { result: mapping, paths } = await pathsRequested(config, () =>
        mapper.restMapping({ group: spec.group, kind: 'Widget' }),
      );
      expect(mapping).toEqual({
        resource: { group: spec.group, version: 'v1', resource: 'widgets' },
        groupVersionKind: { group: spec.group, version: 'v1', kind: 'Widget' },
        scope: 'Namespaced',
      });
      expect(paths).toEqual(expect.arrayContaining(['/api', '/apis']));
      // Aggregated discovery needs no request per group-version; legacy discovery asks for both of the CRD's.
      expect(paths.filter((p) => p.startsWith(`/apis/${spec.group}/`)).toSorted()).toEqual(
        aggregated ? [] : [`/apis/${spec.group}/v1`, `/apis/${spec.group}/v1beta1`],
      );

      // Now known: no further requests.
      const known = await pathsRequested(config, async () => ({
        versions: (await mapper.restMappings({ group: spec.group, kind: 'Widget' })).map((m) => m.resource.version),
        byShortName: await mapper.kindFor({ resource: spec.shortNames[0]! }),
        bySingular: await mapper.resourceFor({ resource: 'widget', group: spec.group }),
      }));
      expect(known.paths).toEqual([]);
      expect(known.result).toEqual({
        versions: ['v1', 'v1beta1'],
        byShortName: { group: spec.group, version: 'v1', kind: 'Widget' },
        bySingular: { group: spec.group, version: 'v1', resource: 'widgets' },
      });
    });
  });

  it('refuses to guess when one short name stands for different resources', async () => {
    const shortName = uniqueName('amb').replace('-', '');
    const a: CrdSpec = {
      group: `${uniqueName('a')}.example.com`,
      kind: 'Gadget',
      plural: 'gadgets',
      shortNames: [shortName],
      scope: 'Namespaced',
    };
    const b: CrdSpec = {
      group: `${uniqueName('b')}.example.com`,
      kind: 'Gizmo',
      plural: 'gizmos',
      shortNames: [shortName],
      scope: 'Cluster',
    };
    await withCrds(config, [a, b], async () => {
      const mapper = createRESTMapper(createDiscoveryClient(config));
      const err: unknown = await mapper.kindFor({ resource: shortName }).catch((e: unknown) => e);
      expect(isAmbiguousMatch(err)).toBe(true);
      expect((err as AmbiguousMatchError).candidates.toSorted((x, y) => x.resource.localeCompare(y.resource))).toEqual([
        { group: a.group, version: 'v1', resource: 'gadgets' },
        { group: b.group, version: 'v1', resource: 'gizmos' },
      ]);
      expect((err as Error).message).toContain(`gadgets.${a.group}`);
      expect(await mapper.restMapping({ group: b.group, kind: 'Gizmo' })).toMatchObject({ scope: 'Cluster' });
      expect(await mapper.kindFor({ resource: shortName, group: b.group })).toEqual({
        group: b.group,
        version: 'v1',
        kind: 'Gizmo',
      });
    });
  });
});
