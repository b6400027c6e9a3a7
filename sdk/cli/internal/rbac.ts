/**
 * RBAC rules from `@Reconciler` metadata: what a controller's watches, reads and writes need, derived the same way for
 * every reconciler so that the generated roles are minimal and stable.
 *
 * | declared | rule |
 * | --- | --- |
 * | `for: R` | `R`: get, list, watch (the informer and cached reads), update, patch (finalizers, labels); `R/status`: get, update, patch when R has a status subresource; `R/finalizers`: update (owner references that block deletion) |
 * | `owns: [O]` | `O`: get, list, watch, create, update, patch, delete |
 * | `watches: [{ resource: W }]` | `W`: get, list, watch |
 * | any reconciler | `events.k8s.io` `events`: create, patch (the manager's event recorder) |
 * | `rbac: [...]` | as written |
 *
 * An operator that watches every namespace gets all of them in one ClusterRole. One that watches some namespaces
 * (`watchNamespaces` in kubeloop.json) gets the rules of namespaced resources in a Role per namespace, and those of
 * cluster-scoped resources, and `rbac` rules marked `clusterScoped`, in the ClusterRole; Events go to the ClusterRole
 * too when a primary resource is cluster-scoped (its Events are written to the `default` namespace).
 *
 * The leader-election lease is not here: its Role is namespaced, in the operator's own namespace, and fixed
 * (`config/rbac/leader_election_role.yaml`).
 */
import type { ReconcilerOptions, RbacRule } from '../../manager/index.js';
import type { ResourceDescriptor, rbacv1 } from '../../client/index.js';

export const readVerbs = ['get', 'list', 'watch'] as const;
export const ownVerbs = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] as const;

/** A reconciler found in a module: its class name, module, and recorded options. */
export interface ReconcilerMetadata {
  name: string;
  source: string;
  options: ReconcilerOptions;
}

interface Grant {
  group: string;
  resource: string;
  resourceNames: readonly string[];
  verbs: Set<string>;
}

class Grants {
  readonly #byKey = new Map<string, Grant>();

  add(group: string, resource: string, verbs: readonly string[], resourceNames: readonly string[] = []): void {
    const names = [...resourceNames].toSorted();
    const key = JSON.stringify([group, resource, names]);
    let grant = this.#byKey.get(key);
    if (!grant) {
      grant = { group, resource, resourceNames: names, verbs: new Set() };
      this.#byKey.set(key, grant);
    }
    for (const v of verbs) grant.verbs.add(v);
  }

  addResource(d: ResourceDescriptor, verbs: readonly string[], subresource?: string): void {
    this.add(d.group, subresource ? `${d.plural}/${subresource}` : d.plural, verbs);
  }

  /**
   * The rules, merged: resources of one group with the same verbs and names share a rule. Sorted by group, then
   * resource; verbs and resources sorted; `*` as a verb stands alone.
   */
  rules(): rbacv1.PolicyRule[] {
    const merged = new Map<
      string,
      { group: string; resources: string[]; verbs: string[]; resourceNames: readonly string[] }
    >();
    for (const g of this.#byKey.values()) {
      const verbs = g.verbs.has('*') ? ['*'] : [...g.verbs].toSorted();
      const key = JSON.stringify([g.group, verbs, g.resourceNames]);
      const rule = merged.get(key);
      if (rule) rule.resources.push(g.resource);
      else merged.set(key, { group: g.group, resources: [g.resource], verbs, resourceNames: g.resourceNames });
    }
    return [...merged.values()]
      .map((r) => ({ ...r, resources: r.resources.toSorted() }))
      .toSorted(
        (a, b) =>
          compare(a.group, b.group) ||
          compare(a.resources[0]!, b.resources[0]!) ||
          compare(a.verbs.join(), b.verbs.join()),
      )
      .map((r) => ({
        apiGroups: [r.group],
        resources: r.resources,
        ...(r.resourceNames.length > 0 && { resourceNames: [...r.resourceNames] }),
        verbs: r.verbs,
      }));
  }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const list = (v: unknown): v is string[] => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string');

function problemsOf(rule: RbacRule, where: string): string[] {
  const problems: string[] = [];
  if (!list(rule.apiGroups)) problems.push(`${where}: apiGroups must list at least one group ('' for the core group)`);
  if (!list(rule.resources)) problems.push(`${where}: resources must list at least one resource`);
  if (!list(rule.verbs)) problems.push(`${where}: verbs must list at least one verb`);
  return problems;
}

export interface RulesForOptions {
  /** The operator watches some namespaces only: split the rules into cluster-wide and per-namespace ones. Default: false. */
  namespaced?: boolean;
}

export interface DerivedRules {
  /** For the ClusterRole: every rule, or (namespaced) those of cluster-scoped resources. */
  clusterRules: rbacv1.PolicyRule[];
  /** For a Role in each watched namespace (namespaced only; else empty). */
  namespaceRules: rbacv1.PolicyRule[];
  /** Malformed `rbac` declarations, each naming its module and reconciler; empty when all is well. */
  problems: string[];
}

/** The rules the reconcilers need. See the table at the top of this module. */
export function rulesFor(reconcilers: readonly ReconcilerMetadata[], options: RulesForOptions = {}): DerivedRules {
  const cluster = new Grants();
  const perNamespace = options.namespaced ? new Grants() : cluster;
  const scoped = (namespaced: boolean): Grants => (namespaced ? perNamespace : cluster);
  const problems: string[] = [];
  for (const { name, source, options: declared } of reconcilers) {
    const primary = declared.for;
    const grants = scoped(primary.namespaced);
    grants.addResource(primary, [...readVerbs, 'patch', 'update']);
    if (primary.subresources?.includes('status')) grants.addResource(primary, ['get', 'patch', 'update'], 'status');
    grants.addResource(primary, ['update'], 'finalizers');
    for (const entry of declared.owns ?? []) {
      // A metadata-only owns entry needs the same verbs: list and watch of metadata are list and watch.
      const owned = 'resource' in entry ? entry.resource : entry;
      scoped(owned.namespaced).addResource(owned, ownVerbs);
    }
    for (const watch of declared.watches ?? [])
      scoped(watch.resource.namespaced).addResource(watch.resource, readVerbs);
    perNamespace.add('events.k8s.io', 'events', ['create', 'patch']);
    if (!primary.namespaced) cluster.add('events.k8s.io', 'events', ['create', 'patch']);
    for (const [i, rule] of (declared.rbac ?? []).entries()) {
      const found = problemsOf(rule, `${source} (${name}) rbac[${i}]`);
      problems.push(...found);
      if (found.length) continue;
      const target = scoped(rule.clusterScoped !== true);
      for (const group of rule.apiGroups)
        for (const resource of rule.resources) target.add(group, resource, rule.verbs, rule.resourceNames ?? []);
    }
  }
  return { clusterRules: cluster.rules(), namespaceRules: options.namespaced ? perNamespace.rules() : [], problems };
}
