import { describe, expect, it } from 'vitest';
import { ConfigMap, Deployment, Secret, Service, defineResource } from '../../client/index.js';
import { enqueueRequestForObject } from '../../manager/index.js';
import { rulesFor } from './rbac.js';

const Widget = defineResource({
  group: 'apps.example.com',
  version: 'v1',
  kind: 'Widget',
  namespaced: true,
  subresources: ['status'],
});
const Gadget = defineResource({
  group: 'apps.example.com',
  version: 'v1',
  kind: 'Gadget',
  namespaced: false,
  subresources: [],
});

describe('rulesFor', () => {
  it('derives read, write, status, finalizer and event rules from the declarations, merged and sorted', () => {
    const {
      clusterRules: rules,
      namespaceRules,
      problems,
    } = rulesFor([
      {
        name: 'WidgetReconciler',
        source: 'src/reconcilers/widget.ts',
        options: {
          for: Widget,
          owns: [Deployment, Service],
          watches: [{ resource: ConfigMap, handler: enqueueRequestForObject() }],
          rbac: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: ['token'] }],
        },
      },
      { name: 'GadgetReconciler', source: 'src/reconcilers/gadget.ts', options: { for: Gadget, owns: [ConfigMap] } },
    ]);
    expect(problems).toEqual([]);
    expect(namespaceRules).toEqual([]);
    expect(rules).toEqual([
      {
        apiGroups: [''],
        resources: ['configmaps', 'services'],
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      },
      { apiGroups: [''], resources: ['secrets'], resourceNames: ['token'], verbs: ['get'] },
      {
        apiGroups: ['apps'],
        resources: ['deployments'],
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      },
      {
        apiGroups: ['apps.example.com'],
        resources: ['gadgets', 'widgets'],
        verbs: ['get', 'list', 'patch', 'update', 'watch'],
      },
      { apiGroups: ['apps.example.com'], resources: ['gadgets/finalizers', 'widgets/finalizers'], verbs: ['update'] },
      { apiGroups: ['apps.example.com'], resources: ['widgets/status'], verbs: ['get', 'patch', 'update'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
  });

  it('gives the same rules whatever the order of the reconcilers', () => {
    const a = { name: 'A', source: 'a.ts', options: { for: Widget, owns: [Secret] } };
    const b = {
      name: 'B',
      source: 'b.ts',
      options: { for: Gadget, rbac: [{ apiGroups: ['*'], resources: ['pods'], verbs: ['*', 'get'] }] },
    };
    expect(rulesFor([a, b])).toEqual(rulesFor([b, a]));
    expect(rulesFor([a, b], { namespaced: true })).toEqual(rulesFor([b, a], { namespaced: true }));
    expect(rulesFor([b]).clusterRules).toContainEqual({ apiGroups: ['*'], resources: ['pods'], verbs: ['*'] });
  });

  it('splits cluster-wide and per-namespace rules for an operator that watches some namespaces', () => {
    const { clusterRules, namespaceRules } = rulesFor(
      [
        {
          name: 'WidgetReconciler',
          source: 'w.ts',
          options: {
            for: Widget,
            owns: [Deployment],
            rbac: [
              { apiGroups: [''], resources: ['nodes'], verbs: ['get'], clusterScoped: true },
              { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
            ],
          },
        },
        { name: 'GadgetReconciler', source: 'g.ts', options: { for: Gadget, owns: [ConfigMap] } },
      ],
      { namespaced: true },
    );
    expect(clusterRules).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['get'] },
      { apiGroups: ['apps.example.com'], resources: ['gadgets'], verbs: ['get', 'list', 'patch', 'update', 'watch'] },
      { apiGroups: ['apps.example.com'], resources: ['gadgets/finalizers'], verbs: ['update'] },
      // Gadgets are cluster-scoped: Events about them are written to the default namespace.
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
    expect(namespaceRules).toEqual([
      {
        apiGroups: [''],
        resources: ['configmaps'],
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
      {
        apiGroups: ['apps'],
        resources: ['deployments'],
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      },
      { apiGroups: ['apps.example.com'], resources: ['widgets'], verbs: ['get', 'list', 'patch', 'update', 'watch'] },
      { apiGroups: ['apps.example.com'], resources: ['widgets/finalizers'], verbs: ['update'] },
      { apiGroups: ['apps.example.com'], resources: ['widgets/status'], verbs: ['get', 'patch', 'update'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
  });

  it('reports malformed rbac declarations', () => {
    const { problems } = rulesFor([
      {
        name: 'A',
        source: 'a.ts',
        options: { for: Widget, rbac: [{ apiGroups: [], resources: ['pods'], verbs: [] }] },
      },
    ]);
    expect(problems).toEqual([
      "a.ts (A) rbac[0]: apiGroups must list at least one group ('' for the core group)",
      'a.ts (A) rbac[0]: verbs must list at least one verb',
    ]);
  });
});
