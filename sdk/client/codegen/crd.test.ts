// generateTypesFromCrd on real CRDs (fixtures in testdata/) and on schemas made to exercise one mapping each. The
// output for the fixtures is kept in test/types/crd/ (golden files), where `tsc -p tsconfig.json` type-checks it and
// test/types/crd.test-d.ts checks its types; set KUBELOOP_UPDATE_GOLDEN=1 to rewrite them after a deliberate change.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateTypesFromCrd } from './crd.js';
import type { JsonSchema } from './schema.js';

const testdata = join(import.meta.dirname, 'testdata');
const golden = join(import.meta.dirname, '../../../test/types/crd');
const fixtures = [
  ['cert-manager.io_certificaterequests.yaml', 'certificaterequests.ts'],
  ['monitoring.coreos.com_servicemonitors.v1beta1.yaml', 'servicemonitors.ts'],
  ['widgets.example.com.yaml', 'widgets.ts'],
] as const;

/** A one-version CRD of kind Thing around a spec schema. */
function crdWithSpec(spec: JsonSchema, extra: Record<string, unknown> = {}): object {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'things.example.com' },
    spec: {
      group: 'example.com',
      names: { kind: 'Thing', plural: 'things' },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec } } },
        },
      ],
      ...extra,
    },
  };
}

/** The members of one generated interface, one per line, without doc comments. */
function members(code: string, name: string): string[] {
  const match = new RegExp(`export interface ${name}(?: extends [^{]+)? \\{\\n([\\s\\S]*?)\\n\\}`).exec(code);
  if (!match) throw new Error(`no interface ${name} in:\n${code}`);
  return match[1]!
    .split('\n')
    .filter((line) => !/^\s*(\/\*\*|\*)/.test(line))
    .map((line) => line.trim());
}

describe('generateTypesFromCrd', () => {
  it.each(fixtures)('generates %s as kept in test/types/crd/%s', (fixture, output) => {
    const code = generateTypesFromCrd(readFileSync(join(testdata, fixture), 'utf8'), {
      importFrom: '../../../sdk/client/index.js',
      source: fixture,
    });
    const path = join(golden, output);
    if (process.env['KUBELOOP_UPDATE_GOLDEN'] === '1') writeFileSync(path, code);
    expect(code).toBe(readFileSync(path, 'utf8'));
  });

  it('maps scalars, formats, enums, nullable and int-or-string', () => {
    const code = generateTypesFromCrd(
      crdWithSpec({
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string' },
          count: { type: 'integer', format: 'int64' },
          ratio: { type: 'number', format: 'double' },
          on: { type: 'boolean' },
          when: { type: 'string', format: 'date-time' },
          blob: { type: 'string', format: 'byte' },
          color: { type: 'string', enum: ['red', "it's"] },
          level: { type: 'integer', enum: [1, 2] },
          maybe: { type: 'string', nullable: true },
          maybeEnum: { type: 'string', nullable: true, enum: ['a', null] },
          port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
          either: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
          list: { type: 'array', items: { type: 'string', nullable: true } },
          ports: { type: 'array', items: { 'x-kubernetes-int-or-string': true } },
          untypedList: { type: 'array' },
        },
      }),
    );
    expect(members(code, 'ThingSpec')).toEqual([
      'name: string;',
      'count?: number;',
      'ratio?: number;',
      'on?: boolean;',
      'when?: string;',
      'blob?: string;',
      "color?: 'red' | 'it\\'s';",
      'level?: 1 | 2;',
      'maybe?: string | null;',
      "maybeEnum?: 'a' | null;",
      'port?: number | string;',
      'either?: number | string;',
      'list?: (string | null)[];',
      'ports?: (number | string)[];',
      'untypedList?: unknown[];',
    ]);
  });

  it('maps maps, open objects, embedded resources and nested objects', () => {
    const code = generateTypesFromCrd(
      crdWithSpec({
        type: 'object',
        properties: {
          labels: { type: 'object', additionalProperties: { type: 'string' } },
          open: { type: 'object', additionalProperties: true },
          kept: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          any: { 'x-kubernetes-preserve-unknown-fields': true },
          pruned: { type: 'object' },
          both: { type: 'object', properties: { a: { type: 'integer' } }, additionalProperties: { type: 'string' } },
          byName: { type: 'object', additionalProperties: { type: 'object', properties: { x: { type: 'string' } } } },
          embedded: {
            type: 'object',
            'x-kubernetes-embedded-resource': true,
            properties: { spec: { type: 'object', properties: {} } },
          },
          'weird-name': { type: 'string' },
          $ref: { type: 'string' },
        },
      }),
    );
    expect(members(code, 'ThingSpec')).toEqual([
      'labels?: Record<string, string>;',
      'open?: Record<string, unknown>;',
      'kept?: Record<string, unknown>;',
      'any?: unknown;',
      'pruned?: Record<string, never>;',
      'both?: ThingSpecBoth;',
      'byName?: Record<string, ThingSpecByName>;',
      'embedded?: ThingSpecEmbedded;',
      "'weird-name'?: string;",
      '$ref?: string;',
    ]);
    expect(members(code, 'ThingSpecBoth')).toEqual(['a?: number;', '[key: string]: string | number | undefined;']);
    expect(members(code, 'ThingSpecByName')).toEqual(['x?: string;']);
    expect(members(code, 'ThingSpecEmbedded')).toEqual([
      'apiVersion?: string;',
      'kind?: string;',
      'metadata?: ObjectMeta;',
      'spec?: Record<string, never>;',
    ]);
    expect(code).toContain(
      "import { defineResource, type KubeObject, type ObjectMeta, type ResourceDescriptor } from 'kubeloop/client';",
    );
  });

  it('writes descriptions, defaults and deprecation as doc comments, escaping comment ends', () => {
    const code = generateTypesFromCrd(
      crdWithSpec({
        type: 'object',
        properties: {
          a: { type: 'integer', description: 'How many.\nAt most 3 */ at once.', default: 2 },
          b: { type: 'string', description: 'Deprecated: use a.' },
        },
      }),
    );
    expect(code).toContain(
      '  /**\n   * How many.\n   * At most 3 *\\/ at once.\n   *\n   * @default 2\n   */\n  a?: number;',
    );
    expect(code).toContain('  /**\n   * Deprecated: use a.\n   * @deprecated\n   */\n  b?: string;');
  });

  it('makes the descriptor from names, scope and subresources, and the root from every top-level field', () => {
    const code = generateTypesFromCrd(
      crdWithSpec(
        { type: 'object', properties: { size: { type: 'integer' } } },
        { scope: 'Cluster', names: { kind: 'Thing', plural: 'things', singular: 'thing', shortNames: ['th'] } },
      ),
    );
    expect(code).toContain(
      "export const Thing: ResourceDescriptor<Thing> = defineResource<ThingSpec, never>({\n  group: 'example.com',\n  version: 'v1',\n" +
        "  kind: 'Thing',\n  plural: 'things',\n  singular: 'thing',\n  namespaced: false,\n  subresources: [],\n  shortNames: ['th'],\n});",
    );
    expect(members(code, 'Thing')).toEqual(['spec?: ThingSpec;']);
  });

  it('suffixes names with the version when it generates several, and can pick versions', () => {
    const crd = readFileSync(join(testdata, 'widgets.example.com.yaml'), 'utf8');
    const all = generateTypesFromCrd(crd);
    expect(all).toContain('export interface WidgetV1 extends KubeObject');
    expect(all).toContain('export interface WidgetSpecV1alpha1 {');
    const one = generateTypesFromCrd(crd, { versions: ['v1'] });
    expect(one).toContain('export interface Widget extends KubeObject');
    expect(one).toContain('export const Widget: ResourceDescriptor<Widget>');
    expect(one).not.toContain('V1alpha1');
    expect(generateTypesFromCrd(crd, { versions: ['v1'], versionSuffix: true })).toContain(
      'export interface WidgetSpecV1 {',
    );
  });

  it('takes several CRDs from one YAML stream and skips other documents', () => {
    const yaml = [
      readFileSync(join(testdata, 'cert-manager.io_certificaterequests.yaml'), 'utf8'),
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n',
      readFileSync(join(testdata, 'monitoring.coreos.com_servicemonitors.v1beta1.yaml'), 'utf8'),
    ].join('\n---\n');
    const code = generateTypesFromCrd(yaml);
    expect(code).toContain('// Types: CertificateRequest, ServiceMonitor.');
    expect(code.match(/^import /gm)).toHaveLength(1);
  });

  it('rejects input without a usable CRD, naming what is missing', () => {
    expect(() => generateTypesFromCrd('kind: ConfigMap\n')).toThrow('no CustomResourceDefinition in the input');
    expect(() =>
      generateTypesFromCrd({ kind: 'CustomResourceDefinition', metadata: { name: 'x.y' }, spec: { group: 'y' } }),
    ).toThrow('CustomResourceDefinition x.y needs spec.group, spec.names.kind and spec.names.plural');
    const noSchema = crdWithSpec({ type: 'object' });
    (noSchema as { spec: { versions: { schema?: unknown }[] } }).spec.versions[0]!.schema = undefined;
    expect(() => generateTypesFromCrd(noSchema)).toThrow('version v1 has no openAPIV3Schema');
    expect(() => generateTypesFromCrd(crdWithSpec({ type: 'object' }), { versions: ['v9'] })).toThrow(
      'has no version to generate',
    );
  });
});
