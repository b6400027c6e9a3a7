import type {
  APIGroup,
  APIGroupDiscoveryList,
  APIResource,
  APIResourceDiscovery,
  APIResourceList,
  APIVersions,
  DiscoveryGroupVersionKind,
} from '../types.js';

/** What kubeloop asks `/api` and `/apis` for: aggregated v2, then v2beta1, then the legacy documents. */
export const aggregatedAccept = [
  'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
  'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList',
  'application/json',
].join(',');

/**
 * True when a response's Content-Type says it holds an aggregated APIGroupDiscoveryList (v2 or v2beta1, which share
 * their JSON shape). A server without aggregated discovery answers plain `application/json` instead.
 */
export function isAggregatedContentType(contentType: string | string[] | undefined): boolean {
  const value = Array.isArray(contentType) ? contentType[0] : contentType;
  if (!value) return false;
  const [mediaType, ...rest] = value.split(';').map((part) => part.trim());
  if (mediaType?.toLowerCase() !== 'application/json') return false;
  const params = new Map<string, string>();
  for (const part of rest) {
    const eq = part.indexOf('=');
    if (eq > 0)
      params.set(
        part.slice(0, eq).trim().toLowerCase(),
        part
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, ''),
      );
  }
  return (
    params.get('g') === 'apidiscovery.k8s.io' &&
    (params.get('v') === 'v2' || params.get('v') === 'v2beta1') &&
    params.get('as') === 'APIGroupDiscoveryList'
  );
}

/** The core group as `/api` describes it in the legacy document (as client-go, without its server addresses). */
export function coreGroupFromVersions(doc: APIVersions): APIGroup | undefined {
  const versions = (doc.versions ?? []).map((v) => ({ groupVersion: v, version: v }));
  const preferred = versions[0];
  if (!preferred) return undefined;
  return { name: '', versions, preferredVersion: preferred };
}

/** An aggregated document in the legacy shapes. */
export interface ConvertedDiscovery {
  /** In the server's order; each group's versions most preferred first. */
  groups: APIGroup[];
  /** By group-version (`apps/v1`, `v1`): every group-version the document marks Current. */
  resources: Map<string, APIResourceList>;
  /** Group-versions the document marks Stale: their aggregated API server did not answer. */
  stale: string[];
}

function withKind(target: APIResource, kind: DiscoveryGroupVersionKind | undefined): APIResource {
  // An empty group or version means the enclosing group-version's, which the legacy document leaves out.
  if (kind?.group) target.group = kind.group;
  if (kind?.version) target.version = kind.version;
  return target;
}

function convertResource(r: APIResourceDiscovery): APIResource[] {
  const namespaced = r.scope === 'Namespaced';
  const main = withKind(
    {
      name: r.resource,
      singularName: r.singularResource ?? '',
      namespaced,
      kind: r.responseKind?.kind ?? '',
      verbs: [...(r.verbs ?? [])],
    },
    r.responseKind,
  );
  if (r.shortNames?.length) main.shortNames = [...r.shortNames];
  if (r.categories?.length) main.categories = [...r.categories];
  const out = [main];
  for (const sub of r.subresources ?? []) {
    out.push(
      withKind(
        {
          name: `${r.resource}/${sub.subresource}`,
          singularName: '',
          namespaced,
          kind: sub.responseKind?.kind ?? '',
          verbs: [...(sub.verbs ?? [])],
        },
        sub.responseKind,
      ),
    );
  }
  return out;
}

/**
 * Converts an aggregated APIGroupDiscoveryList (the answer of `/api` or `/apis`) into APIGroups and
 * APIResourceLists, exactly as the legacy endpoints would have given them (minus `storageVersionHash`, which the
 * aggregated document does not carry). A group's first version is its preferred version.
 */
export function convertAggregated(doc: APIGroupDiscoveryList): ConvertedDiscovery {
  const groups: APIGroup[] = [];
  const resources = new Map<string, APIResourceList>();
  const stale: string[] = [];
  for (const item of doc.items ?? []) {
    const name = item.metadata?.name ?? '';
    const versions = (item.versions ?? []).map((v) => ({
      groupVersion: name ? `${name}/${v.version}` : v.version,
      version: v.version,
    }));
    const preferred = versions[0];
    if (!preferred) continue;
    groups.push({ name, versions, preferredVersion: preferred });
    for (const [i, v] of (item.versions ?? []).entries()) {
      const groupVersion = versions[i]!.groupVersion;
      if (v.freshness === 'Stale') {
        stale.push(groupVersion);
        continue;
      }
      resources.set(groupVersion, {
        kind: 'APIResourceList',
        apiVersion: 'v1',
        groupVersion,
        resources: (v.resources ?? []).flatMap(convertResource),
      });
    }
  }
  return { groups, resources, stale };
}
