/**
 * Built-in types as structural CRD schemas, from the OpenAPI v3 snapshot the clientset is generated from: what
 * controller-gen copies into a CRD when a field's type is a `PodTemplateSpec`. References are inlined; IntOrString,
 * Quantity and Time become their CRD forms; an embedded ObjectMeta keeps labels, annotations, name, namespace and
 * finalizers (controller-gen's `generateEmbeddedObjectMeta`), since the API server prunes an object schema without
 * properties to nothing. Descriptions, the spec's zero-value defaults, enums, and the strategic-merge-patch and
 * union extensions are left out, as controller-gen leaves them (enums would refuse values a newer server adds).
 */
import type { JSONSchemaProps } from '../generated/apiextensions-v1.js';
import { ArgumentError } from '../errors.js';
import type { JsonSchema } from './schema.js';

const refPrefix = '#/components/schemas/';
const kept = new Set([
  'type',
  'format',
  'properties',
  'required',
  'items',
  'additionalProperties',
  'nullable',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'pattern',
  'minItems',
  'maxItems',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource',
]);

const special: Record<string, JSONSchemaProps> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': {
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
  },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': {
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern:
      '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
    'x-kubernetes-int-or-string': true,
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.runtime.RawExtension': { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    type: 'object',
    properties: {
      annotations: { type: 'object', additionalProperties: { type: 'string' } },
      finalizers: { type: 'array', items: { type: 'string' } },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      name: { type: 'string' },
      namespace: { type: 'string' },
    },
  },
};

/** The structural CRD schema of the type `name` (`io.k8s.api.core.v1.PodTemplateSpec`) in `schemas`. */
export function structuralSchemaOf(
  schemas: Readonly<Record<string, JsonSchema>>,
  name: string,
  seen: readonly string[] = [],
): JSONSchemaProps {
  const fixed = special[name];
  if (fixed) return structuredClone(fixed);
  const schema = schemas[name];
  if (!schema) throw new ArgumentError(`structuralSchemaOf: no schema named ${name}`);
  if (seen.includes(name)) throw new ArgumentError(`structuralSchemaOf: ${[...seen, name].join(' → ')} is recursive`);
  return convert(schemas, schema, [...seen, name]);
}

function convert(
  schemas: Readonly<Record<string, JsonSchema>>,
  schema: JsonSchema,
  seen: readonly string[],
): JSONSchemaProps {
  const s = schema as Record<string, unknown>;
  const ref =
    (s['$ref'] as string | undefined) ??
    ((s['allOf'] as JsonSchema[] | undefined)?.length === 1
      ? ((s['allOf'] as Record<string, unknown>[])[0]!['$ref'] as string | undefined)
      : undefined);
  if (ref?.startsWith(refPrefix)) return structuralSchemaOf(schemas, ref.slice(refPrefix.length), seen);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(s)) {
    if (!kept.has(key)) continue;
    if (key === 'properties') {
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, JsonSchema>).map(([k, v]) => [k, convert(schemas, v, seen)]),
      );
    } else if ((key === 'items' || key === 'additionalProperties') && typeof value === 'object' && value !== null) {
      out[key] = convert(schemas, value as JsonSchema, seen);
    } else {
      out[key] = structuredClone(value);
    }
  }
  if (out['type'] === 'array' && Array.isArray(out['x-kubernetes-list-map-keys']))
    keyDefaults(
      schemas,
      s['items'] as JsonSchema,
      out['items'] as JSONSchemaProps,
      out['x-kubernetes-list-map-keys'] as string[],
    );
  // An object with neither properties nor values is kept whole rather than pruned to nothing.
  if (out['type'] === 'object' && out['properties'] === undefined && out['additionalProperties'] === undefined)
    out['x-kubernetes-preserve-unknown-fields'] = true;
  return out as JSONSchemaProps;
}

/** The schema `schema` stands for: itself, or the one its `$ref` (or single `allOf`) names. */
function resolved(schemas: Readonly<Record<string, JsonSchema>>, schema: JsonSchema): Record<string, unknown> {
  const s = schema as Record<string, unknown>;
  const ref =
    (s['$ref'] as string | undefined) ??
    ((s['allOf'] as Record<string, unknown>[] | undefined)?.[0]?.['$ref'] as string | undefined);
  return ref?.startsWith(refPrefix) ? ((schemas[ref.slice(refPrefix.length)] ?? {}) as Record<string, unknown>) : s;
}

/**
 * The defaults of a map list's keys are kept (the API server wants each key required or defaulted: a port's
 * `protocol` defaults to TCP), the only defaults kept.
 */
function keyDefaults(
  schemas: Readonly<Record<string, JsonSchema>>,
  items: JsonSchema,
  out: JSONSchemaProps,
  keys: readonly string[],
): void {
  const source = resolved(schemas, items)['properties'] as Record<string, Record<string, unknown>> | undefined;
  for (const key of keys) {
    const fallback = source?.[key]?.['default'];
    if (out.required?.includes(key) || fallback === undefined || !out.properties?.[key]) continue;
    out.properties[key] = { ...out.properties[key], default: fallback as JSONSchemaProps['default'] };
  }
}
