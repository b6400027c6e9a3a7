import type { APIGroup, APIResourceList } from '../types.js';

/**
 * One version of each resource of each group: the group's preferred version when it serves the resource, else the
 * first version (in the group's order of preference) that does. Subresources are left out, and so are group-versions
 * left with no resource. Lists come in group order, then version order; resources keep their order within a list.
 */
export function selectPreferredResources(
  groups: readonly APIGroup[],
  lists: ReadonlyMap<string, APIResourceList>,
): APIResourceList[] {
  const chosen = new Map<string, string>(); // `${group}\0${resource}` → version
  for (const group of groups) {
    const preferred = group.preferredVersion?.version ?? group.versions[0]?.version;
    for (const version of group.versions) {
      for (const resource of lists.get(version.groupVersion)?.resources ?? []) {
        if (resource.name.includes('/')) continue;
        const key = `${group.name}\0${resource.name}`;
        if (chosen.has(key) && version.version !== preferred) continue;
        chosen.set(key, version.version);
      }
    }
  }
  const out: APIResourceList[] = [];
  for (const group of groups) {
    for (const version of group.versions) {
      const list = lists.get(version.groupVersion);
      if (!list) continue;
      const resources = list.resources.filter(
        (r) => !r.name.includes('/') && chosen.get(`${group.name}\0${r.name}`) === version.version,
      );
      if (resources.length) out.push({ ...list, resources });
    }
  }
  return out;
}
