// generateDefinitionFromCrd on the CRD fixtures of testdata/: the definitions it writes type-check, and, imported,
// give back the very schemas of the CRD (spec and status of every version), printer columns and names.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import type { CustomResourceDefinition } from '../generated/apiextensions-v1.js';
import type { CustomResource } from '../schema/resource.js';
import { builderOf, generateDefinitionFromCrd } from './definition.js';

const run = promisify(execFile);
const repo = join(import.meta.dirname, '../../..');
const testdata = join(import.meta.dirname, 'testdata');
const outDir = join(repo, 'test-results', 'definitions');
const fixtures = ['cert-manager.io_certificaterequests.yaml', 'widgets.example.com.yaml'];

describe('generateDefinitionFromCrd', () => {
  it('writes definitions that type-check and give back the CRD schemas', async () => {
    mkdirSync(outDir, { recursive: true });
    const files: string[] = [];
    for (const fixture of fixtures) {
      const text = readFileSync(join(testdata, fixture), 'utf8');
      const code = generateDefinitionFromCrd(text, { source: fixture, importFrom: '../../sdk/client/index.js' });
      const file = join(outDir, fixture.replace(/\.yaml$/, '.ts'));
      writeFileSync(file, code);
      files.push(file);
      const module = (await import(file)) as Record<string, unknown>;
      const crd = load(text) as CustomResourceDefinition;
      const served = crd.spec.versions.filter((v) => v.served);
      for (const version of served) {
        const name =
          served.length > 1
            ? `${crd.spec.names.kind}${version.name[0]!.toUpperCase()}${version.name.slice(1)}`
            : crd.spec.names.kind;
        const def = module[name] as CustomResource;
        const schema = def.crdVersion.schema?.openAPIV3Schema;
        const want = version.schema?.openAPIV3Schema;
        expect(def).toMatchObject({
          group: crd.spec.group,
          version: version.name,
          kind: crd.spec.names.kind,
          plural: crd.spec.names.plural,
        });
        expect(schema?.properties?.['spec']).toEqual(want?.properties?.['spec']);
        // The status comes with the status subresource (defineCustomResource ties them).
        expect(schema?.properties?.['status']).toEqual(
          version.subresources?.status ? want?.properties?.['status'] : undefined,
        );
        expect(def.crdVersion.additionalPrinterColumns).toEqual(version.additionalPrinterColumns);
        expect(def.crdVersion.storage).toBe(version.storage);
      }
    }
    const tsc = join(repo, 'node_modules', '.bin', 'tsc');
    const args = [
      '--ignoreConfig',
      '--noEmit',
      '--strict',
      '--exactOptionalPropertyTypes',
      'false',
      '--module',
      'nodenext',
      '--target',
      'es2023',
      '--skipLibCheck',
      '--types',
      'node',
      ...files,
      // The sources the definitions import reach kubeloop's declarations of `ws` (which ships no types) only through
      // the project's own file list; a user's project reads the emitted declarations, which need no such file.
      join(repo, 'sdk', 'client', 'streaming', 'ws.d.ts'),
    ];
    const checked = await run(tsc, args, { cwd: repo }).then(
      () => '',
      (err: { stdout?: string }) => err.stdout ?? 'tsc failed',
    );
    expect(checked).toBe('');
  }, 120_000);

  it('maps each kind of schema to its builder, and the rest to s.raw', () => {
    expect(builderOf({ type: 'string', enum: ['a', 'b'], default: 'a' })).toBe('s.enum(["a","b"], { default: "a" })');
    expect(builderOf({ type: 'integer', minimum: 1, nullable: true })).toBe('s.integer({ minimum: 1 }).nullable()');
    expect(builderOf({ 'x-kubernetes-int-or-string': true })).toBe('s.intOrString()');
    expect(builderOf({ type: 'object', additionalProperties: { type: 'string' } })).toBe('s.map(s.string())');
    expect(builderOf({ type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' })).toBe(
      's.array(s.string(), { listType: "set" })',
    );
    expect(builderOf({ type: 'object', properties: { a: { type: 'boolean' } }, required: ['a'] })).toBe(
      's.object({\n  a: s.boolean(),\n})',
    );
    expect(builderOf({ anyOf: [{ type: 'string' }] })).toBe('s.raw<unknown>({"anyOf":[{"type":"string"}]})');
  });
});
