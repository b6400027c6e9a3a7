/**
 * CustomResourceDefinitions from resource modules: each module exports a `defineResource` descriptor (group, kind,
 * plural, scope, short names) and, beside it, the version as it goes into the CRD, typed
 * `apiextensionsv1.CustomResourceDefinitionVersion` (schema, subresources, printer columns, CEL validation rules).
 * Both are plain data, so the CLI reads them by importing the compiled module: nothing is parsed from TypeScript.
 */
import type { ResourceDescriptor, apiextensionsv1 } from '../../client/index.js';
import { CliError } from './errors.js';

type Schema = apiextensionsv1.JSONSchemaProps;
type CrdVersion = apiextensionsv1.CustomResourceDefinitionVersion;

/** A descriptor and its CRD version, found in one module. */
export interface ResourceDefinition {
  descriptor: ResourceDescriptor;
  version: CrdVersion;
  /** The module it came from, relative to the project (for messages and the file header). */
  source: string;
}

/** A CRD and the modules it was made from. */
export interface GeneratedCrd {
  crd: apiextensionsv1.CustomResourceDefinition;
  sources: string[];
}

/** True for a plain object (not null, not an array). */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** True for a value shaped like a resource descriptor (`defineResource`'s result, or a built-in one). */
export function isResourceDescriptor(value: unknown): value is ResourceDescriptor {
  return (
    isObject(value) &&
    typeof value['group'] === 'string' &&
    typeof value['version'] === 'string' &&
    typeof value['kind'] === 'string' &&
    typeof value['plural'] === 'string' &&
    typeof value['namespaced'] === 'boolean'
  );
}

/** True for a value shaped like a CRD version: a name, `served`, `storage` and a schema. */
export function isCrdVersion(value: unknown): value is CrdVersion {
  return (
    isObject(value) &&
    typeof value['name'] === 'string' &&
    typeof value['served'] === 'boolean' &&
    typeof value['storage'] === 'boolean' &&
    isObject(value['schema'])
  );
}

const logicalJunctors = ['allOf', 'anyOf', 'oneOf', 'not'] as const;
const forbiddenKeywords = [
  '$ref',
  '$schema',
  'id',
  'definitions',
  'dependencies',
  'patternProperties',
  'additionalItems',
] as const;

/**
 * The ways `schema` is not a structural schema (Kubernetes' rules for CRDs), each as `<path>: <problem>`. The API
 * server has the last word; this finds the common mistakes before it is asked, with the field's path.
 */
export function structuralProblems(schema: Schema, path = ''): string[] {
  const problems: string[] = [];
  const at = path || '(root)';
  const typed = schema.type !== undefined && schema.type !== '';
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  if (!typed && !intOrString && !preserve) {
    problems.push(
      `${at}: no type (every field needs one, unless it has x-kubernetes-int-or-string or x-kubernetes-preserve-unknown-fields)`,
    );
  }
  if (schema['x-kubernetes-preserve-unknown-fields'] === false)
    problems.push(`${at}: x-kubernetes-preserve-unknown-fields may only be true`);
  for (const keyword of forbiddenKeywords) {
    if (schema[keyword] !== undefined) problems.push(`${at}: ${keyword} is not allowed in a CRD schema`);
  }
  if (schema.uniqueItems === true)
    problems.push(`${at}: uniqueItems: true is not allowed; use x-kubernetes-list-type: set`);
  if (schema.properties && schema.additionalProperties !== undefined) {
    problems.push(`${at}: properties and additionalProperties cannot both be set`);
  }
  if (schema.additionalProperties === false)
    problems.push(`${at}: additionalProperties: false is not allowed; leave it out (unknown fields are pruned)`);
  if (Array.isArray(schema.items)) problems.push(`${at}: items must be one schema, not a list`);
  if (schema.type === 'array' && schema.items === undefined) problems.push(`${at}: an array needs items`);
  const pruned =
    schema.type === 'object' &&
    !preserve &&
    Object.keys(schema.properties ?? {}).length === 0 &&
    schema.additionalProperties === undefined;
  if (pruned && path !== '.metadata') {
    problems.push(
      `${at}: an object with no properties and no x-kubernetes-preserve-unknown-fields: the API server would prune everything in it`,
    );
  }
  for (const junctor of logicalJunctors) {
    const parts = junctor === 'not' ? (schema.not ? [schema.not] : []) : (schema[junctor] ?? []);
    for (const part of parts) {
      for (const key of ['type', 'description', 'default', 'additionalProperties', 'nullable'] as const) {
        if (part[key] !== undefined && !(intOrString && key === 'type')) {
          problems.push(`${at}: ${key} is not allowed inside ${junctor}; set it on the field itself`);
        }
      }
    }
  }
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    problems.push(...structuralProblems(prop, `${path}.${name}`));
  }
  if (isObject(schema.additionalProperties))
    problems.push(...structuralProblems(schema.additionalProperties, `${path}.*`));
  if (isObject(schema.items)) problems.push(...structuralProblems(schema.items as Schema, `${path}[*]`));
  return problems;
}

const columnTypes = new Set(['integer', 'number', 'string', 'boolean', 'date']);

/** The root schema with the fields every Kubernetes object has (apiVersion, kind, metadata) filled in. */
function completeRoot(schema: Schema): Schema {
  const properties = { ...schema.properties };
  properties['apiVersion'] ??= {
    type: 'string',
    description: 'The versioned schema of this representation of an object (group/version).',
  };
  properties['kind'] ??= { type: 'string', description: 'The REST resource this object represents, in CamelCase.' };
  properties['metadata'] ??= { type: 'object' };
  return { ...schema, type: schema.type ?? 'object', properties };
}

/** Problems in one definition that the API server would reject, or that make the descriptor and the CRD disagree. */
function definitionProblems(def: ResourceDefinition): string[] {
  const { descriptor: d, version: v } = def;
  const problems: string[] = [];
  if (v.name !== d.version)
    problems.push(`the CRD version is named "${v.name}" but the descriptor says version "${d.version}"`);
  const schema = v.schema?.openAPIV3Schema;
  if (!schema) {
    problems.push('schema.openAPIV3Schema is missing');
  } else {
    if (schema.type !== undefined && schema.type !== 'object')
      problems.push(`the root schema has type "${schema.type}"; it must be object`);
    const metadata = schema.properties?.['metadata'];
    if (metadata) {
      const extra = Object.keys(metadata.properties ?? {}).filter((k) => k !== 'name' && k !== 'generateName');
      if (extra.length || Object.keys(metadata).some((k) => !['type', 'properties', 'description'].includes(k))) {
        problems.push('.metadata may only restrict name and generateName');
      }
    }
    problems.push(...structuralProblems(completeRoot(schema)).map((p) => `schema ${p}`));
  }
  const declared = new Set(d.subresources ?? []);
  for (const sub of ['status', 'scale'] as const) {
    const inCrd = v.subresources?.[sub] !== undefined;
    if (declared.has(sub) !== inCrd) {
      problems.push(
        inCrd
          ? `subresources.${sub} is set, but the descriptor's subresources do not list '${sub}': add it to defineResource({ subresources })`
          : `the descriptor lists the '${sub}' subresource, but the CRD version has no subresources.${sub}`,
      );
    }
  }
  const scale = v.subresources?.scale;
  if (scale) {
    if (!scale.specReplicasPath?.startsWith('.spec.'))
      problems.push('subresources.scale.specReplicasPath must be a path under .spec');
    if (!scale.statusReplicasPath?.startsWith('.status.'))
      problems.push('subresources.scale.statusReplicasPath must be a path under .status');
    if (scale.labelSelectorPath !== undefined && !/^\.(spec|status)\./.test(scale.labelSelectorPath)) {
      problems.push('subresources.scale.labelSelectorPath must be a path under .spec or .status');
    }
  }
  for (const [i, column] of (v.additionalPrinterColumns ?? []).entries()) {
    if (!column.name) problems.push(`additionalPrinterColumns[${i}] has no name`);
    if (!columnTypes.has(column.type))
      problems.push(
        `additionalPrinterColumns[${i}].type "${column.type}" is not one of ${[...columnTypes].join(', ')}`,
      );
    if (!column.jsonPath?.startsWith('.'))
      problems.push(`additionalPrinterColumns[${i}].jsonPath must start with "." (e.g. .spec.size)`);
  }
  return problems;
}

function versionRank(v: string): [number, number, number] {
  const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
  if (!m) return [0, 0, 0];
  return [m[2] === undefined ? 3 : m[2] === 'beta' ? 2 : 1, Number(m[1]), Number(m[3] ?? 0)];
}

/** Kubernetes' version priority: GA before beta before alpha, higher numbers first (`v2`, `v1`, `v1beta2`, `v1alpha1`). */
export function compareVersions(a: string, b: string): number {
  const [ra, rb] = [versionRank(a), versionRank(b)];
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return rb[i]! - ra[i]!;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * One CRD per group and kind, its versions in Kubernetes' priority order. Throws `ERR_CLI_MANIFESTS` listing every
 * problem found, each with the module it is in.
 */
export function buildCrds(definitions: readonly ResourceDefinition[]): GeneratedCrd[] {
  const problems: string[] = [];
  const byKind = new Map<string, ResourceDefinition[]>();
  for (const def of definitions) {
    for (const p of definitionProblems(def))
      problems.push(`${def.source} (${def.descriptor.kind} ${def.descriptor.version}): ${p}`);
    const key = `${def.descriptor.group}/${def.descriptor.kind}`;
    byKind.set(key, [...(byKind.get(key) ?? []), def]);
  }
  const out: GeneratedCrd[] = [];
  for (const [key, defs] of [...byKind].toSorted(([a], [b]) => (a < b ? -1 : 1))) {
    const first = defs[0]!.descriptor;
    const sources = defs.map((d) => d.source);
    for (const def of defs.slice(1)) {
      const d = def.descriptor;
      if (d.plural !== first.plural || d.namespaced !== first.namespaced) {
        problems.push(
          `${key}: ${sources.join(' and ')} disagree on the plural or the scope; every version of a kind shares them`,
        );
      }
    }
    const names = defs.map((d) => d.version.name);
    const duplicate = names.find((n, i) => names.indexOf(n) !== i);
    if (duplicate) problems.push(`${key}: version ${duplicate} is defined twice (${sources.join(', ')})`);
    const storage = defs.filter((d) => d.version.storage);
    if (storage.length !== 1) {
      problems.push(
        `${key}: exactly one version must have storage: true, but ${storage.length ? storage.map((d) => d.version.name).join(' and ') : 'none'} ` +
          `${storage.length === 1 ? 'has' : 'have'} it (${sources.join(', ')})`,
      );
    }
    const versions = defs
      .map((def): CrdVersion => {
        const v = def.version;
        const schema = v.schema?.openAPIV3Schema;
        return { ...v, ...(schema && { schema: { ...v.schema, openAPIV3Schema: completeRoot(schema) } }) };
      })
      .toSorted((a, b) => compareVersions(a.name, b.name));
    out.push({
      sources: sources.toSorted(),
      crd: {
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `${first.plural}.${first.group}` },
        spec: {
          group: first.group,
          names: {
            kind: first.kind,
            listKind: `${first.kind}List`,
            plural: first.plural,
            singular: first.singular ?? first.kind.toLowerCase(),
            ...(first.shortNames?.length && { shortNames: [...first.shortNames] }),
          },
          scope: first.namespaced ? 'Namespaced' : 'Cluster',
          versions,
        },
      },
    });
  }
  if (problems.length) {
    throw new CliError(
      'ERR_CLI_MANIFESTS',
      `cannot generate the CustomResourceDefinitions:\n${problems.map((p) => `  - ${p}`).join('\n')}\nFix the resource modules, run \`npm run build\`, and try again`,
    );
  }
  return out;
}

/** The file a CRD is written to, under config/crd/bases: `<group>_<plural>.yaml`. */
export function crdFileName(crd: apiextensionsv1.CustomResourceDefinition): string {
  return `${crd.spec.group}_${crd.spec.names.plural}.yaml`;
}
