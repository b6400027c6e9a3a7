import type { GroupVersion, KubeObject } from './types.js';

/** `apps/v1` → `{ group: 'apps', version: 'v1' }`; `v1` → `{ group: '', version: 'v1' }`. */
export function parseGroupVersion(apiVersion: string): GroupVersion {
  const slash = apiVersion.indexOf('/');
  return slash < 0
    ? { group: '', version: apiVersion }
    : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** `{ group: 'apps', version: 'v1' }` → `apps/v1`; the core group gives `v1`. */
export function formatGroupVersion(gv: GroupVersion): string {
  return gv.group ? `${gv.group}/${gv.version}` : gv.version;
}

/** The cache and queue key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(obj: KubeObject | { namespace?: string; name: string }): string {
  const meta = 'metadata' in obj ? (obj.metadata ?? {}) : (obj as { namespace?: string; name?: string });
  const name = meta.name ?? '';
  return meta.namespace ? `${meta.namespace}/${name}` : name;
}

/** Splits a key made by {@link objectKey}. */
export function splitObjectKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: '', name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
