import { hasErrorCode, KubeloopError } from '../errors.js';
import type { GroupVersionResource } from '../meta/types.js';
import type { APIGroup, APIResourceList } from './types.js';

/**
 * Discovery reached some group-versions but not all (an aggregated API server is down, RBAC hides one, it answered
 * Stale). Code `ERR_KUBE_DISCOVERY_FAILED`. Like client-go's ErrGroupDiscoveryFailed, it still carries what succeeded:
 * `groups` and `resources` are the answer with the failed group-versions left out, and `failed` names each failed
 * group-version (`metrics.k8s.io/v1beta1`) with its error. `cause` is an AggregateError of those errors.
 */
export class GroupDiscoveryFailedError extends KubeloopError {
  readonly groups: APIGroup[];
  readonly resources: APIResourceList[];
  readonly failed: ReadonlyMap<string, Error>;

  constructor(groups: APIGroup[], resources: APIResourceList[], failed: ReadonlyMap<string, Error>) {
    const names = [...failed.keys()].toSorted();
    const detail = names.map((gv) => `${gv}: ${failed.get(gv)?.message ?? 'failed'}`).join('; ');
    super('ERR_KUBE_DISCOVERY_FAILED', `unable to retrieve the complete list of server APIs: ${detail}`, {
      cause: new AggregateError([...failed.values()], `${failed.size} group-version(s) failed discovery`),
    });
    this.groups = groups;
    this.resources = resources;
    this.failed = failed;
  }
}

/** True for a partial discovery failure, from this copy of kubeloop or another: read `groups`/`resources`/`failed`. */
export function isGroupDiscoveryFailed(err: unknown): err is GroupDiscoveryFailedError {
  return hasErrorCode(err, 'ERR_KUBE_DISCOVERY_FAILED');
}

/**
 * An aggregated discovery document marks the group-version Stale: the aggregated API server behind it (an APIService)
 * did not answer, so its resources are not known to be current. Code `ERR_KUBE_DISCOVERY_STALE`.
 */
export class StaleGroupVersionError extends KubeloopError {
  readonly groupVersion: string;

  constructor(groupVersion: string) {
    super(
      'ERR_KUBE_DISCOVERY_STALE',
      `the server marks ${groupVersion} as Stale in aggregated discovery: its API service is not answering`,
    );
    this.groupVersion = groupVersion;
  }
}

/** What a RESTMapper was asked for. Unset fields were not given. */
export interface MappingQuery {
  group?: string;
  version?: string;
  kind?: string;
  resource?: string;
}

function describeQuery(q: MappingQuery): string {
  const gv =
    q.version === undefined ? `group "${q.group ?? ''}"` : `version "${q.group ? `${q.group}/` : ''}${q.version}"`;
  if (q.kind !== undefined) return `no matches for kind "${q.kind}" in ${gv}`;
  const scope = q.group === undefined && q.version === undefined ? '' : ` in ${gv}`;
  return `the server doesn't have a resource type "${q.resource ?? ''}"${scope}`;
}

/**
 * The RESTMapper found no resource for the kind or resource name, even after refreshing discovery once: the CRD is
 * not installed (or not yet Established), the group or version is misspelt, or RBAC hides it. Code `ERR_KUBE_NO_MATCH`.
 */
export class NoMatchError extends KubeloopError {
  readonly query: MappingQuery;

  constructor(query: MappingQuery) {
    super('ERR_KUBE_NO_MATCH', describeQuery(query));
    this.query = query;
  }
}

/** True for a RESTMapper miss ({@link NoMatchError}), from this copy of kubeloop or another. */
export function isNoMatch(err: unknown): err is NoMatchError {
  return hasErrorCode(err, 'ERR_KUBE_NO_MATCH');
}

/**
 * A short name stands for several different resources (two CRDs declared the same short name): name the group, or
 * use the plural. `candidates` lists each match. Code `ERR_KUBE_AMBIGUOUS_MATCH`.
 */
export class AmbiguousMatchError extends KubeloopError {
  readonly query: MappingQuery;
  readonly candidates: GroupVersionResource[];

  constructor(query: MappingQuery, candidates: GroupVersionResource[]) {
    const names = candidates.map((c) => (c.group ? `${c.resource}.${c.group}` : c.resource));
    super(
      'ERR_KUBE_AMBIGUOUS_MATCH',
      `"${query.resource ?? query.kind ?? ''}" matches several resources (${names.join(', ')}): give the group, or use the full resource name`,
    );
    this.query = query;
    this.candidates = candidates;
  }
}

/** True for {@link AmbiguousMatchError}, from this copy of kubeloop or another. */
export function isAmbiguousMatch(err: unknown): err is AmbiguousMatchError {
  return hasErrorCode(err, 'ERR_KUBE_AMBIGUOUS_MATCH');
}
