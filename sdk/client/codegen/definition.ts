/**
 * A CRD as one definition: `kubeloop generate types --crd file.yaml --definition` writes, for each version, a
 * `defineCustomResource` call whose `s` builder reproduces the version's schema, so a third-party CRD gets the same
 * types, descriptor and local validation (`validateObject`, the fake client) as one's own. A schema node the builder
 * cannot say exactly (anyOf, allOf, an object with both properties and preserved unknown fields, …) is written as
 * `s.raw<unknown>({ … })`, so the schema comes back unchanged either way. Only `spec` and `status` are kept from the
 * root (the status only with the status subresource, which `defineCustomResource` ties it to).
 */
import { createRequire } from 'node:module';
import type * as JsYaml from 'js-yaml';
import type { JSONSchemaProps } from '../generated/apiextensions-v1.js';
import { ArgumentError } from '../errors.js';
import { pascalCase, quote } from './typescript.js';

/** Options of {@link generateDefinitionFromCrd}. */
export interface GenerateDefinitionFromCrdOptions {
  /** The module the output imports from. Default: `'kubeloop/client'`. */
  importFrom?: string;
  /** Versions to generate. Default: every served version. */
  versions?: readonly string[];
  /** Where the CRD came from (a file name), for the header comment. */
  source?: string;
}

interface CrdDoc {
  kind?: string;
  metadata?: { name?: string };
  spec?: {
    group?: string;
    names?: { kind?: string; plural?: string; singular?: string; shortNames?: string[] };
    scope?: string;
    versions?: {
      name: string;
      served?: boolean;
      storage?: boolean;
      deprecated?: boolean;
      deprecationWarning?: string;
      schema?: { openAPIV3Schema?: JSONSchemaProps };
      subresources?: { status?: unknown; scale?: unknown };
      additionalPrinterColumns?: unknown[];
    }[];
  };
}

const extensionOptions: Record<string, string> = {
  'x-kubernetes-validations': 'validations',
  'x-kubernetes-list-type': 'listType',
  'x-kubernetes-list-map-keys': 'mapKeys',
  'x-kubernetes-map-type': 'mapType',
};
const common = ['description', 'default', 'example', 'x-kubernetes-validations'];
const allowed: Record<string, readonly string[]> = {
  string: [...common, 'minLength', 'maxLength', 'pattern', 'format'],
  number: [...common, 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf', 'format'],
  boolean: common,
  intOrString: [...common, 'pattern'],
  array: [...common, 'minItems', 'maxItems', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys'],
  map: [...common, 'minProperties', 'maxProperties', 'x-kubernetes-map-type'],
  object: [...common, 'minProperties', 'maxProperties', 'x-kubernetes-map-type'],
};

const json = (v: unknown): string => JSON.stringify(v);
const key = (name: string): string => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : quote(name));

/** The options argument of a builder call: the schema's keys the builder takes, or undefined when one is not. */
function optionsArg(
  schema: JSONSchemaProps,
  own: readonly string[],
  kind: keyof typeof allowed,
  drop: Record<string, unknown> = {},
): string | undefined {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(schema)) {
    if (v === undefined || own.includes(k)) continue;
    if (k in drop && drop[k] === v) continue;
    if (!allowed[kind]!.includes(k)) return undefined;
    parts.push(`${extensionOptions[k] ?? k}: ${json(v)}`);
  }
  return parts.length ? `{ ${parts.join(', ')} }` : '';
}

const raw = (schema: JSONSchemaProps): string => `s.raw<unknown>(${json(schema)})`;

/** The builder expression for one schema node. */
export function builderOf(schema: JSONSchemaProps, indent = ''): string {
  const { nullable, ...rest } = schema;
  const inner = nodeOf(rest, indent);
  return nullable === true ? `${inner}.nullable()` : nullable === false ? raw(schema) : inner;
}

function call(name: string, args: string[], opts: string | undefined, schema: JSONSchemaProps): string {
  if (opts === undefined) return raw(schema);
  return `s.${name}(${[...args, ...(opts ? [opts] : [])].join(', ')})`;
}

function nodeOf(schema: JSONSchemaProps, indent: string): string {
  if (schema['x-kubernetes-int-or-string'] === true) {
    return call('intOrString', [], optionsArg(schema, ['x-kubernetes-int-or-string'], 'intOrString'), schema);
  }
  if (
    schema['x-kubernetes-embedded-resource'] === true &&
    schema['x-kubernetes-preserve-unknown-fields'] === true &&
    !schema.properties
  ) {
    return call(
      'embeddedResource',
      [],
      optionsArg(schema, ['type', 'x-kubernetes-embedded-resource', 'x-kubernetes-preserve-unknown-fields'], 'boolean'),
      schema,
    );
  }
  if (schema['x-kubernetes-preserve-unknown-fields'] === true && schema.type === undefined) {
    return call('unknown', [], optionsArg(schema, ['x-kubernetes-preserve-unknown-fields'], 'boolean'), schema);
  }
  switch (schema.type) {
    case 'string':
      if (schema.enum?.length && schema.enum.every((e) => typeof e === 'string')) {
        return call('enum', [json(schema.enum)], optionsArg(schema, ['type', 'enum'], 'string'), schema);
      }
      return call('string', [], optionsArg(schema, ['type'], 'string'), schema);
    case 'integer':
    case 'number':
      return call(schema.type, [], optionsArg(schema, ['type'], 'number'), schema);
    case 'boolean':
      return call('boolean', [], optionsArg(schema, ['type'], 'boolean'), schema);
    case 'array':
      if (typeof schema.items !== 'object' || Array.isArray(schema.items)) return raw(schema);
      return call(
        'array',
        [builderOf(schema.items as JSONSchemaProps, indent)],
        optionsArg(schema, ['type', 'items'], 'array'),
        schema,
      );
    case 'object':
      return objectOf(schema, indent);
    default:
      return raw(schema);
  }
}

function objectOf(schema: JSONSchemaProps, indent: string): string {
  if (typeof schema.additionalProperties === 'object' && !schema.properties) {
    return call(
      'map',
      [builderOf(schema.additionalProperties, indent)],
      optionsArg(schema, ['type', 'additionalProperties'], 'map'),
      schema,
    );
  }
  const props = schema.properties ?? {};
  const required = schema.required ?? [];
  if (
    !schema.properties ||
    required.some((r) => !(r in props)) ||
    schema['x-kubernetes-preserve-unknown-fields'] === true
  )
    return raw(schema);
  const opts = optionsArg(schema, ['type', 'properties', 'required'], 'object');
  if (opts === undefined) return raw(schema);
  const next = `${indent}  `;
  const fields = Object.entries(props).map(
    ([name, prop]) => `${next}${key(name)}: ${builderOf(prop, next)}${required.includes(name) ? '' : '.optional()'},\n`,
  );
  return `s.object({\n${fields.join('')}${indent}}${opts ? `, ${opts}` : ''})`;
}

function crdsOf(input: string | object | readonly object[]): CrdDoc[] {
  // js-yaml loads here, not with kubeloop/client (config/internal/yaml-fields.ts does the same).
  const loadAll = (text: string): unknown[] =>
    (createRequire(import.meta.url)('js-yaml') as typeof JsYaml).loadAll(text);
  const docs: unknown[] = typeof input === 'string' ? loadAll(input) : Array.isArray(input) ? input : [input];
  const crds = docs.filter(
    (d): d is CrdDoc => typeof d === 'object' && d !== null && (d as CrdDoc).kind === 'CustomResourceDefinition',
  );
  if (!crds.length) throw new ArgumentError('generateDefinitionFromCrd: no CustomResourceDefinition in the input');
  return crds;
}

/** The `defineCustomResource` call of one version. */
function definitionOf(
  crd: CrdDoc,
  version: NonNullable<NonNullable<CrdDoc['spec']>['versions']>[number],
  name: string,
): string {
  const spec = crd.spec!;
  const where = `CustomResourceDefinition ${crd.metadata?.name ?? '(unnamed)'} version ${version.name}`;
  const root = version.schema?.openAPIV3Schema;
  if (!root) throw new ArgumentError(`generateDefinitionFromCrd: ${where} has no openAPIV3Schema`);
  const props = root.properties ?? {};
  const fields = [
    `group: ${quote(spec.group!)}`,
    `version: ${quote(version.name)}`,
    `kind: ${quote(spec.names!.kind!)}`,
    `plural: ${quote(spec.names!.plural!)}`,
    ...(spec.names?.singular ? [`singular: ${quote(spec.names.singular)}`] : []),
    ...(spec.names?.shortNames?.length ? [`shortNames: ${json(spec.names.shortNames)}`] : []),
    `namespaced: ${spec.scope !== 'Cluster'}`,
    ...(version.served === false ? ['served: false'] : []),
    ...(version.storage === false ? ['storage: false'] : []),
    ...(version.deprecated ? ['deprecated: true'] : []),
    ...(version.deprecationWarning ? [`deprecationWarning: ${quote(version.deprecationWarning)}`] : []),
    ...(root.description ? [`description: ${quote(root.description)}`] : []),
    ...(root['x-kubernetes-validations']?.length ? [`validations: ${json(root['x-kubernetes-validations'])}`] : []),
    `spec: ${props['spec'] ? builderOf(props['spec'], '  ') : 's.unknown()'}`,
    ...(props['status'] && version.subresources?.status !== undefined
      ? [`status: ${builderOf(props['status'], '  ')}`]
      : []),
    ...(version.subresources?.scale ? [`scale: ${json(version.subresources.scale)}`] : []),
    ...(version.additionalPrinterColumns?.length ? [`printerColumns: ${json(version.additionalPrinterColumns)}`] : []),
  ];
  return `/** ${spec.names!.kind} ${spec.group}/${version.name}, from its CRD. */\nexport const ${name} = defineCustomResource({\n${fields.map((f) => `  ${f},\n`).join('')}});\nexport type ${name} = ObjectOf<typeof ${name}>;\n`;
}

/**
 * `defineCustomResource` definitions (the `s` builder) for every version of the CustomResourceDefinitions in `crd`
 * (YAML text, or parsed objects). Throws an `ArgumentError` (`ERR_KUBE_INVALID_ARGUMENT`) naming the CRD when one cannot
 * be used (no group, kind or plural; a version without a schema).
 */
export function generateDefinitionFromCrd(
  crd: string | object | readonly object[],
  options: GenerateDefinitionFromCrdOptions = {},
): string {
  const parts: string[] = [];
  const names: string[] = [];
  const crds = crdsOf(crd);
  for (const c of crds) {
    if (!c.spec?.group || !c.spec.names?.kind || !c.spec.names.plural) {
      throw new ArgumentError(
        `generateDefinitionFromCrd: CustomResourceDefinition ${c.metadata?.name ?? '(unnamed)'} needs spec.group, spec.names.kind and spec.names.plural`,
      );
    }
    const versions = (c.spec.versions ?? []).filter((v) =>
      options.versions ? options.versions.includes(v.name) : v.served !== false,
    );
    for (const v of versions) {
      const name = versions.length > 1 ? `${c.spec.names.kind}${pascalCase(v.name)}` : c.spec.names.kind;
      names.push(name);
      parts.push(definitionOf(c, v, name));
    }
  }
  const from = crds.map((c) => c.metadata?.name ?? c.spec?.names?.plural).join(', ');
  const header =
    `// Generated by kubeloop (generateDefinitionFromCrd) from the CustomResourceDefinition${crds.length > 1 ? 's' : ''} ${from}` +
    `${options.source ? ` in ${options.source}` : ''}. DO NOT EDIT.\n// Definitions: ${names.join(', ')}.\n`;
  return `${header}/* eslint-disable */\nimport { defineCustomResource, s, type ObjectOf } from ${quote(options.importFrom ?? 'kubeloop/client')};\n\n${parts.join('\n')}`;
}
