/**
 * TypeScript from CustomResourceDefinitions: what `kubeloop generate types --crd file.yaml` writes. Each served
 * version's `openAPIV3Schema` becomes interfaces (see typescript.ts for the mapping) and a `defineResource`
 * descriptor with the kind's name, so that
 *
 * ```ts
 * import { Certificate } from './certificates.js';
 * const cert = await typedClient(config, Certificate).namespace('default').get('web');   // cert: Certificate
 * ```
 *
 * Naming: the root interface is the kind (`Certificate`), nested objects are the path in PascalCase
 * (`CertificateSpec`, `CertificateSpecIssuerRef`). When more than one version is generated, every name ends with the
 * version (`CertificateV1`, `CertificateSpecV1alpha2`).
 *
 * At the root, every field is optional, as in every KubeObject, so that the descriptor `defineResource` makes fits
 * the interface; below it, `required` is honoured.
 */
import { createRequire } from 'node:module';
import type * as JsYaml from 'js-yaml';
import type { JsonSchema } from './schema.js';
import { docLines, pascalCase, quote, SchemaMapper, type PropertyInfo } from './typescript.js';
import { ArgumentError } from '../errors.js';

export interface GenerateTypesFromCrdOptions {
  /** The module the output imports `defineResource` and the object-model types from. Default: `'kubeloop/client'`. */
  importFrom?: string;
  /** Versions to generate. Default: every served version. */
  versions?: readonly string[];
  /** End every name with its version (`WidgetV1`). Default: only when more than one version is generated. */
  versionSuffix?: boolean;
  /** Where the CRD came from (a file name), for the header comment. */
  source?: string;
}

interface CrdVersion {
  name: string;
  served?: boolean;
  storage?: boolean;
  schema?: { openAPIV3Schema?: JsonSchema };
  subresources?: { status?: unknown; scale?: unknown };
}

interface Crd {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string };
  spec?: {
    group?: string;
    names?: { kind?: string; plural?: string; singular?: string; shortNames?: string[] };
    scope?: 'Namespaced' | 'Cluster';
    versions?: CrdVersion[];
    preserveUnknownFields?: boolean;
    // apiextensions.k8s.io/v1beta1 only: one schema, subresources and version for the whole CRD.
    validation?: { openAPIV3Schema?: JsonSchema };
    subresources?: { status?: unknown; scale?: unknown };
    version?: string;
  };
}

function isCrd(doc: unknown): doc is Crd {
  return typeof doc === 'object' && doc !== null && (doc as Crd).kind === 'CustomResourceDefinition';
}

/** The CRDs in YAML text (any number of documents), a parsed object, or a list of them. */
function crdsOf(input: string | object | readonly object[]): Crd[] {
  // js-yaml loads here, not with kubeloop/client (config/internal/yaml-fields.ts does the same).
  const loadAll = (text: string): unknown[] =>
    (createRequire(import.meta.url)('js-yaml') as typeof JsYaml).loadAll(text);
  const docs: unknown[] = typeof input === 'string' ? loadAll(input) : Array.isArray(input) ? input : [input];
  const crds = docs.filter(isCrd);
  if (!crds.length) throw new ArgumentError('generateTypesFromCrd: no CustomResourceDefinition in the input');
  return crds;
}

const rootFields = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * TypeScript interfaces and `defineResource` descriptors for every version of the CustomResourceDefinitions in
 * `crd` (YAML text with one or more documents, or parsed objects). Throws an `ArgumentError`
 * (`ERR_KUBE_INVALID_ARGUMENT`, a TypeError) naming the CRD and field when one cannot be used (no group, kind or
 * plural; a version without a schema).
 */
export function generateTypesFromCrd(
  crd: string | object | readonly object[],
  options: GenerateTypesFromCrdOptions = {},
): string {
  const importFrom = options.importFrom ?? 'kubeloop/client';
  const imports = ['defineResource', 'KubeObject', 'ObjectMeta', 'ResourceDescriptor'];
  const crds = crdsOf(crd);
  const legacy = crds.some(
    (c) => c.apiVersion === 'apiextensions.k8s.io/v1beta1' && c.spec?.preserveUnknownFields !== false,
  );
  const mapper = new SchemaMapper({
    reservedNames: imports,
    // A v1beta1 CRD keeps unknown fields unless it says otherwise: an object without properties is open.
    ...(legacy && { emptyObjectType: 'Record<string, unknown>' }),
  });
  const names: string[] = [];

  for (const c of crds) {
    const where = `CustomResourceDefinition ${c.metadata?.name ?? '(unnamed)'}`;
    const spec = c.spec;
    const group = spec?.group;
    const kind = spec?.names?.kind;
    const plural = spec?.names?.plural;
    if (!group || !kind || !plural)
      throw new ArgumentError(`generateTypesFromCrd: ${where} needs spec.group, spec.names.kind and spec.names.plural`);
    const namespaced = spec.scope !== 'Cluster';
    let versions: CrdVersion[] = spec.versions?.length
      ? spec.versions
      : spec.version
        ? [{ name: spec.version, served: true }]
        : [];
    versions = versions.filter((v) => (options.versions ? options.versions.includes(v.name) : v.served !== false));
    if (!versions.length) throw new ArgumentError(`generateTypesFromCrd: ${where} has no version to generate`);
    const suffixed = options.versionSuffix ?? versions.length > 1;

    for (const version of versions) {
      const schema = version.schema?.openAPIV3Schema ?? spec.validation?.openAPIV3Schema;
      if (!schema)
        throw new ArgumentError(`generateTypesFromCrd: ${where} version ${version.name} has no openAPIV3Schema`);
      mapper.suffix = suffixed ? pascalCase(version.name) : '';
      const name = mapper.uniqueName(kind, mapper.suffix);
      if (name !== kind + mapper.suffix)
        throw new ArgumentError(`generateTypesFromCrd: ${where}: the name ${kind + mapper.suffix} is taken`);
      names.push(name);
      const subresources = version.subresources ?? spec.subresources ?? {};
      const subresourceNames = (['status', 'scale'] as const).filter((s) => subresources[s] !== undefined);
      const properties = schema.properties ?? {};

      mapper.add(name, ''); // holds the place of the root, which comes first
      const members: PropertyInfo[] = [];
      const typeOfField = (field: string): string | undefined => {
        const prop = properties[field];
        return prop ? mapper.typeOf(prop, kind + pascalCase(field)) : undefined;
      };
      const specType = typeOfField('spec');
      const statusType = typeOfField('status');
      for (const [field, prop] of Object.entries(properties)) {
        if (rootFields.has(field)) continue;
        const type =
          field === 'spec' ? specType : field === 'status' ? statusType : mapper.typeOf(prop, kind + pascalCase(field));
        members.push({ name: field, type: type ?? 'unknown', optional: true, doc: docLines(prop) });
      }
      const apiVersion = `${group}/${version.name}`;
      const about = `${kind} (${apiVersion}, ${namespaced ? 'namespaced' : 'cluster-scoped'}).`;
      const fields = [
        `group: ${quote(group)}`,
        `version: ${quote(version.name)}`,
        `kind: ${quote(kind)}`,
        `plural: ${quote(plural)}`,
        `singular: ${quote(spec.names?.singular || kind.toLowerCase())}`,
        `namespaced: ${namespaced}`,
        `subresources: [${subresourceNames.map(quote).join(', ')}]`,
        ...(spec.names?.shortNames?.length ? [`shortNames: [${spec.names.shortNames.map(quote).join(', ')}]`] : []),
      ];
      const descriptor =
        `/** The \`${plural}\` resource of ${about} */\n` +
        `export const ${name}: ResourceDescriptor<${name}> = defineResource<${specType ?? 'never'}, ${statusType ?? 'never'}>({\n` +
        fields.map((f) => `  ${f},\n`).join('') +
        `});\n`;
      const root = new SchemaMapper();
      root.declareInterface(name, docLines(schema, [about]), members, 'KubeObject');
      mapper.replace(name, `${root.render()}\n${descriptor}`);
    }
  }

  const body = mapper.render();
  const used = imports.filter((name) => name !== 'ObjectMeta' || mapper.usesObjectMeta);
  const importLine = `import { ${used.map((n) => (n === 'defineResource' ? n : `type ${n}`)).join(', ')} } from ${quote(importFrom)};\n`;
  const from = crds.map((c) => c.metadata?.name ?? c.spec?.names?.plural).join(', ');
  const header =
    `// Generated by kubeloop (generateTypesFromCrd) from the CustomResourceDefinition${crds.length > 1 ? 's' : ''} ${from}` +
    `${options.source ? ` in ${options.source}` : ''}. DO NOT EDIT.\n` +
    `// Types: ${names.join(', ')}.\n`;
  return `${header}/* eslint-disable */\n${importLine}\n${body}`;
}
