import type { GroupVersionKind, GroupVersionResource } from '../meta/types.js';
import type { DiscoveryCallOptions, DiscoveryClient } from './discovery-client.js';
import {
  AmbiguousMatchError,
  type GroupDiscoveryFailedError,
  isGroupDiscoveryFailed,
  NoMatchError,
  type MappingQuery,
} from './errors.js';
import type { APIGroup, APIResourceList, ResourceScope } from './types.js';
import { ArgumentError } from '../errors.js';

/** A kind to map: `{ group: 'apps', kind: 'Deployment' }`; the core group is `''`. No version: the preferred one. */
export interface GroupKindQuery {
  group: string;
  kind: string;
  version?: string;
}

/**
 * A resource name to resolve: plural (`deployments`), singular (`deployment`) or short name (`deploy`), in any case;
 * `deployments.apps` names the group too. No `group`: any group; no `version`: the preferred one.
 */
export interface ResourceQuery {
  group?: string;
  version?: string;
  resource: string;
}

/** How a kind is served: its resource, its full kind, and whether objects live in a namespace. */
export interface RESTMapping {
  resource: GroupVersionResource;
  groupVersionKind: GroupVersionKind;
  scope: ResourceScope;
}

/**
 * Maps kinds to resources and resource names to kinds, from discovery (client-go's RESTMapper, lazy and
 * self-refreshing like controller-runtime's).
 *
 * Guarantees:
 * - Lazy: nothing is fetched until the first call; then one picture of the server's resources is kept.
 * - Refresh on a miss: when nothing matches, the mapper invalidates the DiscoveryClient, reloads, and tries once
 *   more, so a CRD installed after start-up is found on first use. Concurrent misses share one refresh.
 * - Without a version, the group's preferred version wins; `restMappings` lists every version, preferred first.
 * - A plural or singular name beats a short name. A name served by several groups (`events`, or its short name
 *   `ev`) resolves to the first group in discovery order (the core group first), as kubectl does.
 *
 * Errors:
 * - {@link NoMatchError} (`ERR_KUBE_NO_MATCH`, see `isNoMatch`) when nothing matches after the refresh.
 * - {@link AmbiguousMatchError} (`ERR_KUBE_AMBIGUOUS_MATCH`) when a short name stands for several different resources
 *   (two CRDs declared the same short name for different plurals): kubectl would guess, the mapper does not.
 * - {@link GroupDiscoveryFailedError} when nothing matched and discovery of the group asked for (or, with no group
 *   given, of any group) failed: the answer is unknown, not "no match".
 * - `ApiError` / `TransportError` when discovery itself fails; an aborted call rejects with the signal's reason.
 *
 * Caveats: a resource removed from the server stays mapped until a miss, or {@link RESTMapper.reset}, refreshes.
 * Every miss costs a discovery round-trip (two requests with aggregated discovery), so looking up a kind that does
 * not exist in a loop asks the server each time. Subresources (`deployments/scale`) are not mapped. The first load
 * reads every group (one request per group-version without aggregated discovery), not only the group asked for.
 */
export interface RESTMapper {
  /** The mapping of a kind, in the given version or the group's preferred one. */
  restMapping(query: GroupKindQuery, options?: DiscoveryCallOptions): Promise<RESTMapping>;
  /** Every mapping of a kind: one per version serving it (only the given one, if any), preferred first. */
  restMappings(query: GroupKindQuery, options?: DiscoveryCallOptions): Promise<RESTMapping[]>;
  /** The kind served by a resource name: `{ resource: 'deploy' }` → `apps/v1 Deployment`. */
  kindFor(query: ResourceQuery, options?: DiscoveryCallOptions): Promise<GroupVersionKind>;
  /** The full resource of a name: `{ resource: 'po' }` → `{ group: '', version: 'v1', resource: 'pods' }`. */
  resourceFor(query: ResourceQuery, options?: DiscoveryCallOptions): Promise<GroupVersionResource>;
  /** Forgets what was learnt and invalidates the DiscoveryClient: the next call reloads. */
  reset(): void;
}

interface Entry {
  group: string;
  version: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  kind: string;
  scope: ResourceScope;
  /** Position of the group in discovery order. */
  groupRank: number;
  /** 0 for the preferred version, then the group's order. */
  versionRank: number;
}

interface Index {
  epoch: number;
  entries: Entry[];
  /** Set when discovery was partial. */
  failure: GroupDiscoveryFailedError | undefined;
  failedGroups: ReadonlySet<string>;
}

function buildIndex(
  epoch: number,
  groups: APIGroup[],
  lists: APIResourceList[],
  failure?: GroupDiscoveryFailedError,
): Index {
  const byGroupVersion = new Map(lists.map((l) => [l.groupVersion, l]));
  const entries: Entry[] = [];
  for (const [groupRank, group] of groups.entries()) {
    const preferred = group.preferredVersion?.version ?? group.versions[0]?.version;
    const ordered = [...group.versions].toSorted(
      (a, b) => Number(b.version === preferred) - Number(a.version === preferred),
    );
    for (const [versionRank, version] of ordered.entries()) {
      for (const r of byGroupVersion.get(version.groupVersion)?.resources ?? []) {
        if (r.name.includes('/')) continue;
        entries.push({
          group: group.name,
          version: version.version,
          plural: r.name.toLowerCase(),
          singular: (r.singularName || r.kind).toLowerCase(),
          shortNames: (r.shortNames ?? []).map((s) => s.toLowerCase()),
          kind: r.kind,
          scope: r.namespaced ? 'Namespaced' : 'Cluster',
          groupRank,
          versionRank,
        });
      }
    }
  }
  const failedGroups = new Set<string>();
  for (const gv of failure?.failed.keys() ?? []) failedGroups.add(gv.includes('/') ? gv.slice(0, gv.indexOf('/')) : '');
  return { epoch, entries, failure, failedGroups };
}

const byPriority = (a: Entry, b: Entry): number => a.groupRank - b.groupRank || a.versionRank - b.versionRank;

function mappingOf(e: Entry): RESTMapping {
  return {
    resource: { group: e.group, version: e.version, resource: e.plural },
    groupVersionKind: { group: e.group, version: e.version, kind: e.kind },
    scope: e.scope,
  };
}

function findKind(index: Index, q: GroupKindQuery): Entry[] {
  return index.entries
    .filter((e) => e.group === q.group && e.kind === q.kind && (q.version === undefined || e.version === q.version))
    .toSorted(byPriority);
}

function findResource(index: Index, q: ResourceQuery): Entry | undefined {
  const name = q.resource.toLowerCase();
  const inScope = index.entries.filter(
    (e) => (q.group === undefined || e.group === q.group) && (q.version === undefined || e.version === q.version),
  );
  const byName = inScope.filter((e) => e.plural === name || e.singular === name).toSorted(byPriority);
  if (byName[0]) return byName[0];
  const byShortName = inScope.filter((e) => e.shortNames.includes(name)).toSorted(byPriority);
  // A short name that stands for one resource name in several groups (`ev`: `events` and `events.events.k8s.io`)
  // resolves as that name would; one that stands for different resources is ambiguous.
  if (new Set(byShortName.map((e) => e.plural)).size > 1) {
    // One candidate per group-resource, in its most preferred version (the list is sorted by priority).
    const candidates = new Map<string, Entry>();
    for (const e of byShortName)
      if (!candidates.has(`${e.plural}.${e.group}`)) candidates.set(`${e.plural}.${e.group}`, e);
    throw new AmbiguousMatchError(
      q,
      [...candidates.values()].map((e) => ({ group: e.group, version: e.version, resource: e.plural })),
    );
  }
  if (byShortName[0]) return byShortName[0];
  // `deployments.apps`, `deploy.apps`, `widgets.example.com`: a name qualified by its group, as kubectl takes it.
  const dot = name.indexOf('.');
  if (q.group === undefined && dot > 0) {
    return findResource(index, { ...q, resource: name.slice(0, dot), group: name.slice(dot + 1) });
  }
  return undefined;
}

class LazyRESTMapper implements RESTMapper {
  readonly #discovery: DiscoveryClient;
  /** Bumped by every invalidation of discovery; an index remembers the epoch it was loaded in. */
  #epoch = 0;
  #current: Index | undefined;

  constructor(discovery: DiscoveryClient) {
    this.#discovery = discovery;
  }

  async restMapping(query: GroupKindQuery, options: DiscoveryCallOptions = {}): Promise<RESTMapping> {
    const [first] = await this.restMappings(query, options);
    return first!;
  }

  restMappings(query: GroupKindQuery, options: DiscoveryCallOptions = {}): Promise<RESTMapping[]> {
    const q: MappingQuery = {
      group: query.group,
      kind: query.kind,
      ...(query.version !== undefined && { version: query.version }),
    };
    return this.#resolve(
      q,
      (index) => {
        const found = findKind(index, query);
        return found.length ? found.map(mappingOf) : undefined;
      },
      options.signal,
    );
  }

  async kindFor(query: ResourceQuery, options: DiscoveryCallOptions = {}): Promise<GroupVersionKind> {
    return (await this.#mapResource(query, options)).groupVersionKind;
  }

  async resourceFor(query: ResourceQuery, options: DiscoveryCallOptions = {}): Promise<GroupVersionResource> {
    return (await this.#mapResource(query, options)).resource;
  }

  reset(): void {
    this.#epoch++;
    this.#current = undefined;
    this.#discovery.invalidate();
  }

  #mapResource(query: ResourceQuery, options: DiscoveryCallOptions): Promise<RESTMapping> {
    if (!query.resource) return Promise.reject(new ArgumentError('resource must not be empty'));
    return this.#resolve(
      query,
      (index) => {
        const found = findResource(index, query);
        return found && mappingOf(found);
      },
      options.signal,
    );
  }

  async #resolve<T>(
    query: MappingQuery,
    find: (index: Index) => T | undefined,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    signal?.throwIfAborted();
    const first = this.#current ?? (await this.#load(signal));
    const hit = find(first);
    if (hit !== undefined) return hit;
    const refreshed = await this.#refresh(first, signal);
    const retried = find(refreshed);
    if (retried !== undefined) return retried;
    const failure = refreshed.failure;
    if (failure && (query.group === undefined || refreshed.failedGroups.has(query.group))) throw failure;
    throw new NoMatchError(query);
  }

  /** Invalidates discovery unless someone already did since `seen` was loaded, then loads afresh. */
  #refresh(seen: Index, signal: AbortSignal | undefined): Promise<Index> {
    const current = this.#current;
    if (current && current.epoch > seen.epoch) return Promise.resolve(current);
    if (this.#epoch === seen.epoch) {
      this.#epoch++;
      this.#discovery.invalidate();
    }
    return this.#load(signal);
  }

  async #load(signal: AbortSignal | undefined): Promise<Index> {
    const epoch = this.#epoch;
    let index: Index;
    try {
      const [groups, lists] = await this.#discovery.serverGroupsAndResources(signal ? { signal } : {});
      index = buildIndex(epoch, groups, lists);
    } catch (err) {
      if (!isGroupDiscoveryFailed(err)) throw err;
      index = buildIndex(epoch, err.groups, err.resources, err);
    }
    if (epoch === this.#epoch && (!this.#current || this.#current.epoch <= epoch)) this.#current = index;
    return index;
  }
}

/**
 * A RESTMapper over a DiscoveryClient: `createRESTMapper(createDiscoveryClient(config))`. See {@link RESTMapper}.
 * Give it its own DiscoveryClient, or one whose cache may be invalidated on a miss.
 */
export function createRESTMapper(discovery: DiscoveryClient): RESTMapper {
  return new LazyRESTMapper(discovery);
}
