/**
 * The discovery documents of the API server as plain JSON shapes: the legacy ones (`/version`, `/api`, `/apis`,
 * `/apis/<group>/<version>`, metav1's APIVersions, APIGroupList, APIResourceList) and the aggregated ones of
 * `apidiscovery.k8s.io/v2` (one document per root listing every group, version and resource).
 */

/** `/version`: the build of the API server (apimachinery's version.Info). */
export interface VersionInfo {
  /** `"1"` */
  major: string;
  /** `"37"`; managed offerings sometimes add a `+`. */
  minor: string;
  /** `"v1.37.2"` */
  gitVersion: string;
  gitCommit?: string;
  gitTreeState?: string;
  /** RFC 3339 */
  buildDate?: string;
  goVersion?: string;
  compiler?: string;
  /** `"linux/amd64"` */
  platform?: string;
  emulationMajor?: string;
  emulationMinor?: string;
  minCompatibilityMajor?: string;
  minCompatibilityMinor?: string;
  [field: string]: unknown;
}

/** Where a client in a CIDR should reach the server. */
export interface ServerAddressByClientCIDR {
  clientCIDR: string;
  serverAddress: string;
}

/** `/api`: the versions of the legacy core group. */
export interface APIVersions {
  kind?: 'APIVersions';
  apiVersion?: string;
  /** `["v1"]` */
  versions: string[];
  serverAddressByClientCIDRs?: ServerAddressByClientCIDR[];
}

/** One version of a group: `{ groupVersion: 'apps/v1', version: 'v1' }`; the core group has `groupVersion: 'v1'`. */
export interface GroupVersionForDiscovery {
  groupVersion: string;
  version: string;
}

/** A group and its versions, most preferred first. The legacy core group is named `''`. */
export interface APIGroup {
  kind?: 'APIGroup';
  apiVersion?: string;
  name: string;
  versions: GroupVersionForDiscovery[];
  preferredVersion?: GroupVersionForDiscovery;
  serverAddressByClientCIDRs?: ServerAddressByClientCIDR[];
}

/** `/apis` (and, as kubeloop returns it, the core group from `/api` first). */
export interface APIGroupList {
  kind?: 'APIGroupList';
  apiVersion?: string;
  groups: APIGroup[];
}

/**
 * A resource of one group-version. Subresources are listed as resources named `parent/sub` (`deployments/scale`),
 * with an empty `singularName`; `group` and `version` are set only when the resource's kind lives elsewhere
 * (`deployments/scale` answers an `autoscaling/v1` Scale).
 */
export interface APIResource {
  /** Plural, lower case: `deployments`, or `deployments/scale` for a subresource. */
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  /** `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`, … */
  verbs: string[];
  shortNames?: string[];
  /** `all`, … */
  categories?: string[];
  /** Only the legacy documents carry it. */
  storageVersionHash?: string;
}

/** `/apis/<group>/<version>` (`/api/v1` for the core group): the resources of one group-version. */
export interface APIResourceList {
  kind?: 'APIResourceList';
  apiVersion?: string;
  /** `apps/v1`, or `v1` for the core group. */
  groupVersion: string;
  resources: APIResource[];
}

/** The scope of a resource, as aggregated discovery and the RESTMapper spell it. */
export type ResourceScope = 'Namespaced' | 'Cluster';

/** A kind in the aggregated documents; empty `group` and `version` mean those of the enclosing group-version. */
export interface DiscoveryGroupVersionKind {
  group?: string;
  version?: string;
  kind: string;
}

/** apidiscovery.k8s.io/v2 APISubresourceDiscovery */
export interface APISubresourceDiscovery {
  subresource: string;
  responseKind?: DiscoveryGroupVersionKind;
  acceptedTypes?: DiscoveryGroupVersionKind[];
  verbs: string[];
}

/** apidiscovery.k8s.io/v2 APIResourceDiscovery */
export interface APIResourceDiscovery {
  resource: string;
  responseKind?: DiscoveryGroupVersionKind;
  scope: ResourceScope;
  singularResource?: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: APISubresourceDiscovery[];
}

/**
 * `Current`, or `Stale` when the aggregated API server behind the group-version did not answer and the document
 * repeats its last known resources.
 */
export type DiscoveryFreshness = 'Current' | 'Stale';

/** apidiscovery.k8s.io/v2 APIVersionDiscovery */
export interface APIVersionDiscovery {
  version: string;
  resources?: APIResourceDiscovery[];
  freshness?: DiscoveryFreshness;
}

/** apidiscovery.k8s.io/v2 APIGroupDiscovery: a group (its name in `metadata.name`; none for the core group). */
export interface APIGroupDiscovery {
  metadata?: { name?: string };
  /** Most preferred first. */
  versions?: APIVersionDiscovery[];
}

/** apidiscovery.k8s.io/v2 (or v2beta1) APIGroupDiscoveryList: the aggregated answer of `/api` or `/apis`. */
export interface APIGroupDiscoveryList {
  kind?: 'APIGroupDiscoveryList';
  apiVersion?: string;
  metadata?: Record<string, unknown>;
  items?: APIGroupDiscovery[];
}
