import type { RestConfig } from '../config/types.js';
import { ArgumentError, ArgumentRangeError, isForbidden, isNotFound } from '../errors.js';
import { restClientFor, type RestClient } from '../rest/rest-client.js';
import type { HttpResponse } from '../transport/transport.js';
import { GroupDiscoveryFailedError, isGroupDiscoveryFailed, StaleGroupVersionError } from './errors.js';
import {
  aggregatedAccept,
  convertAggregated,
  coreGroupFromVersions,
  isAggregatedContentType,
} from './internal/aggregated.js';
import { selectPreferredResources } from './internal/preferred.js';
import { SharedFetches } from './internal/shared-fetch.js';
import type {
  APIGroup,
  APIGroupDiscoveryList,
  APIGroupList,
  APIResourceList,
  APIVersions,
  VersionInfo,
} from './types.js';

export interface DiscoveryClientOptions {
  /**
   * Ask `/api` and `/apis` for aggregated discovery (`apidiscovery.k8s.io/v2`, else `v2beta1`), which lists every
   * group, version and resource in two requests. `false` uses only the legacy documents: `/api`, `/apis`, then one
   * request per group-version. A server without aggregated discovery gets the legacy requests either way.
   * Default: `true`.
   */
  aggregated?: boolean;
  /**
   * How long answers stay cached, in milliseconds. `Infinity` keeps them until {@link DiscoveryClient.invalidate};
   * `0` asks the server on every call (concurrent calls still share one request). Default: `Infinity`, as
   * client-go's memory cache.
   */
  cacheTtlMs?: number;
}

/** Options of each discovery call. */
export interface DiscoveryCallOptions {
  /** Ends this call: the promise rejects with the signal's reason. A request shared with other callers goes on. */
  signal?: AbortSignal;
}

/**
 * What the API server serves: its version, its groups and versions, and the resources of each (client-go's
 * DiscoveryInterface with its memory cache).
 *
 * Guarantees:
 * - The core group comes first, named `''`, with group-version `v1`; the other groups follow in the server's order,
 *   each one's versions most preferred first.
 * - With aggregated discovery the whole picture costs two requests (`/api`, `/apis`), and the answer has the same
 *   shape and content as the legacy documents (bar `storageVersionHash`, which only those carry). Which one the
 *   server sent is read from the response's Content-Type, not assumed.
 * - Answers are cached (see `cacheTtlMs`) and handed out as copies: changing one does not change the cache.
 *   Concurrent calls share one request per document. `serverVersion()` is never cached.
 *
 * Errors:
 * - `ApiError` / `TransportError` from the requests. A 403 or 404 on `/api` or `/apis` counts as "no groups there",
 *   as in client-go, so a server with only one of them still answers.
 * - {@link GroupDiscoveryFailedError} (`ERR_KUBE_DISCOVERY_FAILED`) from `serverGroupsAndResources` and
 *   `serverPreferred*Resources` when some group-versions failed (or are Stale): it carries what succeeded.
 * - An aborted call rejects with its signal's reason.
 * - `ArgumentError` (`ERR_KUBE_INVALID_ARGUMENT`, a `TypeError`) for a malformed group-version (`a/b/c`).
 *
 * Caveats: the cache does not notice new or removed CRDs and API services by itself; call `invalidate()`, set a TTL,
 * or use the RESTMapper, which invalidates on a miss.
 */
export interface DiscoveryClient {
  /** `/version`: `{ gitVersion: 'v1.37.2', major: '1', minor: '37', platform, … }`. */
  serverVersion(options?: DiscoveryCallOptions): Promise<VersionInfo>;
  /** Every group with its versions and preferred version, the core group (`''`) first. */
  serverGroups(options?: DiscoveryCallOptions): Promise<APIGroupList>;
  /**
   * The resources of one group-version (`apps/v1`, or `v1` for the core group), subresources included as
   * `parent/sub`. An unknown group-version rejects with a NotFound `ApiError`.
   */
  serverResourcesForGroupVersion(groupVersion: string, options?: DiscoveryCallOptions): Promise<APIResourceList>;
  /** Every group, and the resources of each of its versions, in group then version order. */
  serverGroupsAndResources(options?: DiscoveryCallOptions): Promise<[APIGroup[], APIResourceList[]]>;
  /**
   * One version of every resource: the group's preferred version where it serves the resource, else its most
   * preferred version that does (kubectl api-resources). Subresources are left out.
   */
  serverPreferredResources(options?: DiscoveryCallOptions): Promise<APIResourceList[]>;
  /** {@link serverPreferredResources} restricted to namespaced resources. */
  serverPreferredNamespacedResources(options?: DiscoveryCallOptions): Promise<APIResourceList[]>;
  /** Forgets every cached answer; requests already running do not fill the cache any more. */
  invalidate(): void;
}

interface Roots {
  groups: APIGroup[];
  /** Filled by aggregated discovery: every Current group-version. */
  resources: Map<string, APIResourceList>;
  /** Group-versions aggregated discovery marks Stale. */
  failed: Map<string, Error>;
}

interface Cached<T> {
  at: number;
  value: T;
}

function parseJson<T>(body: string): T {
  return (body ? JSON.parse(body) : {}) as T;
}

function onlyNamespaced(lists: APIResourceList[]): APIResourceList[] {
  return lists
    .map((l) => ({ ...l, resources: l.resources.filter((r) => r.namespaced) }))
    .filter((l) => l.resources.length > 0);
}

/** `apps/v1` → `/apis/apps/v1`; `v1` → `/api/v1`. */
function groupVersionPath(groupVersion: string): string {
  const parts = groupVersion.split('/');
  if (parts.length > 2 || parts.some((p) => !p)) {
    throw new ArgumentError(
      `"${groupVersion}" is not a group-version: expected "group/version", or "v1" for the core group`,
    );
  }
  return parts.length === 1 ? `/api/${groupVersion}` : `/apis/${groupVersion}`;
}

class CachedDiscoveryClient implements DiscoveryClient {
  readonly #rc: RestClient;
  readonly #aggregated: boolean;
  readonly #ttlMs: number;
  readonly #shared = new SharedFetches();
  #generation = 0;
  #roots: Cached<Roots> | undefined;
  readonly #lists = new Map<string, Cached<APIResourceList>>();

  constructor(config: RestConfig, options: DiscoveryClientOptions) {
    this.#rc = restClientFor(config, { groupVersion: { group: '', version: 'v1' } });
    this.#aggregated = options.aggregated ?? true;
    const ttl = options.cacheTtlMs ?? Number.POSITIVE_INFINITY;
    if (!(ttl >= 0)) throw new ArgumentRangeError(`cacheTtlMs must be 0 or more, not ${ttl}`);
    this.#ttlMs = ttl;
  }

  async serverVersion(options: DiscoveryCallOptions = {}): Promise<VersionInfo> {
    return this.#rc.get().absPath('/version').do({ signal: options.signal }).into<VersionInfo>();
  }

  async serverGroups(options: DiscoveryCallOptions = {}): Promise<APIGroupList> {
    const roots = await this.#rootsFor(options.signal);
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: structuredClone(roots.groups) };
  }

  async serverResourcesForGroupVersion(
    groupVersion: string,
    options: DiscoveryCallOptions = {},
  ): Promise<APIResourceList> {
    const path = groupVersionPath(groupVersion);
    const fromRoots = this.#fresh(this.#roots)?.resources.get(groupVersion);
    if (fromRoots) return structuredClone(fromRoots);
    return structuredClone(await this.#listFor(groupVersion, path, options.signal));
  }

  async serverGroupsAndResources(options: DiscoveryCallOptions = {}): Promise<[APIGroup[], APIResourceList[]]> {
    const { signal } = options;
    const roots = await this.#rootsFor(signal);
    const wanted = roots.groups.flatMap((g) => g.versions.map((v) => v.groupVersion));
    const missing = wanted.filter((gv) => !roots.resources.has(gv) && !roots.failed.has(gv));
    const fetched = await Promise.allSettled(missing.map((gv) => this.#listFor(gv, groupVersionPath(gv), signal)));
    signal?.throwIfAborted();

    const lists = new Map(roots.resources);
    const failed = new Map(roots.failed);
    for (const [i, outcome] of fetched.entries()) {
      const gv = missing[i]!;
      if (outcome.status === 'fulfilled') lists.set(gv, outcome.value);
      else failed.set(gv, outcome.reason instanceof Error ? outcome.reason : new Error(String(outcome.reason)));
    }
    const groups = structuredClone(roots.groups);
    const ordered = wanted.flatMap((gv) => {
      const list = lists.get(gv);
      return list ? [structuredClone(list)] : [];
    });
    if (failed.size) throw new GroupDiscoveryFailedError(groups, ordered, failed);
    return [groups, ordered];
  }

  async serverPreferredResources(options: DiscoveryCallOptions = {}): Promise<APIResourceList[]> {
    let groups: APIGroup[];
    let lists: APIResourceList[];
    let failed: ReadonlyMap<string, Error> | undefined;
    try {
      [groups, lists] = await this.serverGroupsAndResources(options);
    } catch (err) {
      if (!isGroupDiscoveryFailed(err)) throw err;
      ({ groups, resources: lists, failed } = err);
    }
    const preferred = selectPreferredResources(groups, new Map(lists.map((l) => [l.groupVersion, l])));
    if (failed) throw new GroupDiscoveryFailedError(groups, preferred, failed);
    return preferred;
  }

  async serverPreferredNamespacedResources(options: DiscoveryCallOptions = {}): Promise<APIResourceList[]> {
    try {
      return onlyNamespaced(await this.serverPreferredResources(options));
    } catch (err) {
      if (!isGroupDiscoveryFailed(err)) throw err;
      throw new GroupDiscoveryFailedError(err.groups, onlyNamespaced(err.resources), err.failed);
    }
  }

  invalidate(): void {
    this.#generation++;
    this.#roots = undefined;
    this.#lists.clear();
  }

  #fresh<T>(entry: Cached<T> | undefined): T | undefined {
    if (!entry || this.#ttlMs === 0) return undefined;
    return performance.now() - entry.at < this.#ttlMs ? entry.value : undefined;
  }

  async #rootsFor(signal: AbortSignal | undefined): Promise<Roots> {
    const cached = this.#fresh(this.#roots);
    if (cached) return cached;
    const generation = this.#generation;
    return this.#shared.run(
      `${generation}:roots`,
      async (shared) => {
        const started = performance.now();
        const roots = await this.#fetchRoots(shared);
        if (generation === this.#generation) this.#roots = { at: started, value: roots };
        return roots;
      },
      signal,
    );
  }

  async #listFor(groupVersion: string, path: string, signal: AbortSignal | undefined): Promise<APIResourceList> {
    const cached = this.#fresh(this.#lists.get(groupVersion));
    if (cached) return cached;
    const generation = this.#generation;
    return this.#shared.run(
      `${generation}:list:${groupVersion}`,
      async (shared) => {
        const started = performance.now();
        const list = await this.#rc.get().absPath(path).do({ signal: shared }).into<APIResourceList>();
        const value: APIResourceList = {
          ...list,
          kind: list.kind ?? 'APIResourceList',
          groupVersion: list.groupVersion || groupVersion,
          resources: list.resources ?? [],
        };
        if (generation === this.#generation) this.#lists.set(groupVersion, { at: started, value });
        return value;
      },
      signal,
    );
  }

  async #fetchRoots(signal: AbortSignal): Promise<Roots> {
    const [core, named] = await Promise.all([this.#fetchRoot('/api', signal), this.#fetchRoot('/apis', signal)]);
    return {
      groups: [...core.groups, ...named.groups],
      resources: new Map([...core.resources, ...named.resources]),
      failed: new Map([...core.failed, ...named.failed]),
    };
  }

  async #fetchRoot(path: '/api' | '/apis', signal: AbortSignal): Promise<Roots> {
    const req = this.#rc.get().absPath(path);
    if (this.#aggregated) req.setHeader('accept', aggregatedAccept);
    let res: HttpResponse;
    try {
      res = await req.do({ signal }).raw();
    } catch (err) {
      // As client-go: a server may serve only one of /api and /apis, or hide one from this user.
      if (isNotFound(err) || isForbidden(err)) return { groups: [], resources: new Map(), failed: new Map() };
      throw err;
    }
    if (isAggregatedContentType(res.headers['content-type'])) {
      const converted = convertAggregated(parseJson<APIGroupDiscoveryList>(res.body));
      return {
        groups: converted.groups,
        resources: converted.resources,
        failed: new Map(converted.stale.map((gv) => [gv, new StaleGroupVersionError(gv)])),
      };
    }
    if (path === '/api') {
      const core = coreGroupFromVersions(parseJson<APIVersions>(res.body));
      return { groups: core ? [core] : [], resources: new Map(), failed: new Map() };
    }
    const list = parseJson<APIGroupList>(res.body);
    return { groups: list.groups ?? [], resources: new Map(), failed: new Map() };
  }
}

/**
 * A DiscoveryClient for the API server `config` names, with an in-memory cache. See {@link DiscoveryClient}.
 *
 * Errors: throws `ArgumentRangeError` (`ERR_KUBE_INVALID_ARGUMENT`, a `RangeError`) for a negative `cacheTtlMs`,
 * and `ConfigError` for an unusable `config.host`.
 */
export function createDiscoveryClient(config: RestConfig, options: DiscoveryClientOptions = {}): DiscoveryClient {
  return new CachedDiscoveryClient(config, options);
}
