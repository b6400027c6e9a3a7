import { describe, expect, it } from 'vitest';
import { defineResource, type apiextensionsv1 } from '../../client/index.js';
import { buildCrds, compareVersions, crdFileName, structuralProblems, type ResourceDefinition } from './crd.js';

const Widget = defineResource({
  group: 'apps.example.com',
  version: 'v1',
  kind: 'Widget',
  plural: 'widgets',
  namespaced: true,
  shortNames: ['wd'],
});

function version(
  name: string,
  extra: Partial<apiextensionsv1.CustomResourceDefinitionVersion> = {},
): apiextensionsv1.CustomResourceDefinitionVersion {
  return {
    name,
    served: true,
    storage: true,
    subresources: { status: {} },
    schema: {
      openAPIV3Schema: {
        type: 'object',
        properties: {
          spec: { type: 'object', properties: { size: { type: 'integer' } } },
          status: { type: 'object', properties: { ready: { type: 'boolean' } } },
        },
      },
    },
    ...extra,
  };
}

const def = (v = version('v1'), descriptor = Widget, source = 'src/api/apps/v1/widget.ts'): ResourceDefinition => ({
  descriptor,
  version: v,
  source,
});

describe('buildCrds', () => {
  it('makes a CRD from a descriptor and its version, completing the root schema', () => {
    const [out] = buildCrds([def()]);
    expect(crdFileName(out!.crd)).toBe('apps.example.com_widgets.yaml');
    expect(out!.crd).toMatchObject({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.apps.example.com' },
      spec: {
        group: 'apps.example.com',
        names: { kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget', shortNames: ['wd'] },
        scope: 'Namespaced',
      },
    });
    const schema = out!.crd.spec.versions[0]!.schema!.openAPIV3Schema!;
    expect(Object.keys(schema.properties!)).toEqual(['spec', 'status', 'apiVersion', 'kind', 'metadata']);
    expect(schema.properties!['metadata']).toEqual({ type: 'object' });
  });

  it('merges the versions of a kind, in Kubernetes priority order, with one storage version', () => {
    const beta = defineResource({
      group: 'apps.example.com',
      version: 'v1beta1',
      kind: 'Widget',
      plural: 'widgets',
      namespaced: true,
    });
    const crds = buildCrds([def(version('v1beta1', { storage: false }), beta, 'b.ts'), def()]);
    expect(crds).toHaveLength(1);
    expect(crds[0]!.crd.spec.versions.map((v) => v.name)).toEqual(['v1', 'v1beta1']);
    expect(crds[0]!.sources).toEqual(['b.ts', 'src/api/apps/v1/widget.ts']);
    expect(() => buildCrds([def(version('v1beta1'), beta, 'b.ts'), def()])).toThrow(
      /exactly one version must have storage: true, but v1beta1 and v1 have it/,
    );
  });

  it('lists every problem, with the module, in one error', () => {
    const bad = version('v2', {
      subresources: { scale: { specReplicasPath: '.replicas', statusReplicasPath: '.status.replicas' } },
      additionalPrinterColumns: [{ name: 'Size', type: 'int', jsonPath: 'spec.size' }],
      schema: { openAPIV3Schema: { type: 'object', properties: { spec: { properties: { size: {} } } } } },
    });
    const error = (() => {
      try {
        buildCrds([def(bad)]);
        return undefined;
      } catch (err) {
        return err as Error & { code?: string };
      }
    })();
    expect(error?.code).toBe('ERR_CLI_MANIFESTS');
    const message = error?.message ?? '';
    for (const expected of [
      'src/api/apps/v1/widget.ts (Widget v1): the CRD version is named "v2" but the descriptor says version "v1"',
      'schema .spec: no type',
      'schema .spec.size: no type',
      "the descriptor lists the 'status' subresource, but the CRD version has no subresources.status",
      "subresources.scale is set, but the descriptor's subresources do not list 'scale'",
      'specReplicasPath must be a path under .spec',
      'additionalPrinterColumns[0].type "int" is not one of',
      'additionalPrinterColumns[0].jsonPath must start with "."',
    ]) {
      expect(message).toContain(expected);
    }
  });

  it('accepts a scale subresource when the descriptor declares it', () => {
    const Scaled = defineResource({
      group: 'apps.example.com',
      version: 'v1',
      kind: 'Pool',
      namespaced: false,
      subresources: ['status', 'scale'],
    });
    const [out] = buildCrds([
      def(
        version('v1', {
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
        }),
        Scaled,
      ),
    ]);
    expect(out!.crd.spec.scope).toBe('Cluster');
    expect(out!.crd.spec.versions[0]!.subresources!.scale).toMatchObject({ specReplicasPath: '.spec.replicas' });
  });
});

describe('structuralProblems', () => {
  it('refuses an object schema that would be pruned to nothing, with its path (the root metadata aside)', () => {
    expect(
      structuralProblems({
        type: 'object',
        properties: {
          metadata: { type: 'object' },
          spec: { type: 'object', properties: { empty: { type: 'object', properties: {} } } },
        },
      }),
    ).toEqual([
      '.spec.empty: an object with no properties and no x-kubernetes-preserve-unknown-fields: the API server would prune everything in it',
    ]);
    expect(
      structuralProblems({
        type: 'object',
        properties: {
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          any: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        },
      }),
    ).toEqual([]);
  });

  it('finds what makes a schema non-structural', () => {
    expect(
      structuralProblems({
        type: 'object',
        properties: {
          a: { type: 'array', items: [{ type: 'string' }] },
          b: { type: 'object', properties: { x: { type: 'string' } }, additionalProperties: { type: 'string' } },
          c: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
          d: { type: 'string', anyOf: [{ description: 'no' }] },
          e: { 'x-kubernetes-preserve-unknown-fields': true },
          f: { type: 'array', uniqueItems: true, items: { type: 'string' } },
          g: { $ref: '#/x', type: 'object' },
        },
      }),
    ).toEqual([
      '.a: items must be one schema, not a list',
      '.b: properties and additionalProperties cannot both be set',
      '.d: description is not allowed inside anyOf; set it on the field itself',
      '.f: uniqueItems: true is not allowed; use x-kubernetes-list-type: set',
      '.g: $ref is not allowed in a CRD schema',
      '.g: an object with no properties and no x-kubernetes-preserve-unknown-fields: the API server would prune everything in it',
    ]);
  });
});

describe('compareVersions', () => {
  it('orders as Kubernetes does', () => {
    expect(['v1alpha1', 'v1', 'v2beta1', 'v1beta2', 'v2', 'v1beta1', 'v11alpha2'].toSorted(compareVersions)).toEqual([
      'v2',
      'v1',
      'v2beta1',
      'v1beta2',
      'v1beta1',
      'v11alpha2',
      'v1alpha1',
    ]);
  });
});
