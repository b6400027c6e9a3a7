/**
 * A schema builder for custom resources: each call returns a node holding the OpenAPI v3 schema as the API server wants
 * it in a CRD (structural: every field typed, maps as `additionalProperties`, int-or-string with its extension) and,
 * as a type parameter only, the TypeScript type of the values it accepts. `Infer<typeof node>` is that type.
 *
 * Why not TypeBox: its `Record` emits `patternProperties` and its `Union` emits `anyOf` with a type in each branch,
 * both of which the API server refuses in a CRD; maps, int-or-string, quantities and embedded resources would all be
 * `Type.Unsafe`, so little of its inference would be left, and its schemas carry symbol keys of its own. The builder
 * here is small, emits exactly `apiextensionsv1.JSONSchemaProps`, and has no dependency.
 */
import type { JSONSchemaProps, ValidationRule } from '../generated/apiextensions-v1.js';
import type { JobTemplateSpec } from '../generated/batch-v1.js';
import type { PodTemplateSpec } from '../generated/core-v1.js';
import type { Condition } from '../generated/meta-v1.js';
import { jobTemplateSpecSchema, podTemplateSpecSchema } from './builtin-schemas.js';
import type { KubeObject } from '../meta/types.js';

/** A node of a schema: the CRD schema of a field, and (as a type only) what a value of it looks like. */
export interface SchemaNode<T = unknown, Optional extends boolean = boolean> {
  /** The OpenAPI v3 schema of this field, as it goes into the CRD. */
  readonly schema: JSONSchemaProps;
  /** True when the field may be left out of its object (not in the object's `required` list). */
  readonly isOptional: Optional;
  /** The same field, optional in its object: `s.integer().optional()`. */
  optional(): SchemaNode<T, true>;
  /** The same field, `null` accepted (`nullable: true`). */
  nullable(): SchemaNode<T | null, Optional>;
  /** Never set at run time: carries `T` for inference. */
  readonly __type?: T;
}

/** The TypeScript type of the values a schema node accepts. */
export type Infer<N> = N extends SchemaNode<infer T, boolean> ? T : never;

/** The fields of an object schema, by name. */
export type SchemaProperties = Readonly<Record<string, SchemaNode>>;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The object type of some properties: optional nodes give optional keys, the rest required ones. */
export type InferProperties<P extends SchemaProperties> = Simplify<
  { -readonly [K in keyof P as P[K]['isOptional'] extends true ? never : K]: Infer<P[K]> } & {
    -readonly [K in keyof P as P[K]['isOptional'] extends true ? K : never]?: Infer<P[K]>;
  }
>;

/** A CEL rule on a field (`x-kubernetes-validations`): `{ rule: 'self.min <= self.max', message: 'min must not exceed max' }`. */
export interface CelRule {
  /** The CEL expression: `self` is the field's value, `oldSelf` its previous value (a transition rule, checked on update). */
  rule: string;
  /** The message of the field error when the rule is false. */
  message?: string;
  /** A CEL expression giving the message (the API server evaluates it; locally the rule's message is used). */
  messageExpression?: string;
  /** The field the error names, relative to this one: `.spec.replicas` below the root, `.replicas` here. */
  fieldPath?: string;
  /** The kind of field error: `FieldValueInvalid` (the default), `FieldValueForbidden`, `FieldValueRequired`, `FieldValueDuplicate`. */
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  /** With `oldSelf`: also check the rule when there is no old value (`oldSelf` is then an absent optional). */
  optionalOldSelf?: boolean;
}

/** What every field may carry. */
export interface CommonOptions<T> {
  description?: string;
  /** The value the API server writes when the field is missing (schema defaulting). */
  default?: T;
  example?: T;
  /** CEL rules (`x-kubernetes-validations`). */
  validations?: readonly CelRule[];
}

export interface StringOptions<T extends string = string> extends CommonOptions<T> {
  minLength?: number;
  maxLength?: number;
  /** An ECMA-262 regular expression the API server checks (without flags). */
  pattern?: string;
  /** `date-time`, `date`, `duration`, `byte`, `uuid`, `ipv4`, `ipv6`, `cidr`, `hostname`, `email`, `uri`, `mac`, … */
  format?: string;
}

export interface NumberOptions extends CommonOptions<number> {
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  multipleOf?: number;
  /** `int32`, `int64` for integers; `float`, `double` for numbers. */
  format?: string;
}

export interface ArrayOptions<T> extends CommonOptions<T[]> {
  minItems?: number;
  maxItems?: number;
  /** `atomic` (the default: replaced whole by server-side apply), `set` (unique scalars) or `map` (items keyed by `mapKeys`). */
  listType?: 'atomic' | 'set' | 'map';
  /** With `listType: 'map'`: the fields that identify an item (each required, or with a default). */
  mapKeys?: readonly string[];
}

export interface MapOptions<T> extends CommonOptions<Record<string, T>> {
  minProperties?: number;
  maxProperties?: number;
  /** `granular` (the default) or `atomic`. */
  mapType?: 'granular' | 'atomic';
}

export interface ObjectOptions<T> extends CommonOptions<T> {
  /** Also keep fields the schema does not name (`x-kubernetes-preserve-unknown-fields`); they are typed `unknown`. */
  preserveUnknownFields?: boolean;
  /** `granular` (the default) or `atomic`. */
  mapType?: 'granular' | 'atomic';
  minProperties?: number;
  maxProperties?: number;
}

function optionsSchema(options: object): JSONSchemaProps {
  const schema: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (key === 'validations') {
      if ((value as readonly CelRule[]).length)
        schema['x-kubernetes-validations'] = (value as readonly CelRule[]).map((r): ValidationRule => ({ ...r }));
    } else if (key === 'listType') schema['x-kubernetes-list-type'] = value;
    else if (key === 'mapKeys') schema['x-kubernetes-list-map-keys'] = [...(value as string[])];
    else if (key === 'mapType') schema['x-kubernetes-map-type'] = value;
    else if (key === 'preserveUnknownFields') {
      if (value) schema['x-kubernetes-preserve-unknown-fields'] = true;
    } else schema[key] = value;
  }
  return schema as JSONSchemaProps;
}

function node<T, O extends boolean = false>(schema: JSONSchemaProps, isOptional = false as O): SchemaNode<T, O> {
  return {
    schema,
    isOptional,
    optional: () => node<T, true>(schema, true),
    nullable: () => node<T | null, O>({ ...schema, nullable: true }, isOptional),
  };
}

const stringNode = <T extends string>(options: StringOptions<T>, extra: JSONSchemaProps = {}): SchemaNode<T, false> =>
  node<T>({ type: 'string', ...extra, ...optionsSchema(options) });

/**
 * The builder: `s.object({ replicas: s.integer({ minimum: 0 }).optional() })`. Fields are required unless marked
 * `.optional()`, as in the TypeScript type inferred from them.
 */
export const s = {
  string: (options: StringOptions = {}): SchemaNode<string, false> => stringNode(options),
  /** A string from a fixed set: `s.enum(['Always', 'Never'])`, typed as the union of the values. */
  enum: <const V extends readonly [string, ...string[]]>(
    values: V,
    options: StringOptions<V[number]> = {},
  ): SchemaNode<V[number], false> => stringNode<V[number]>(options, { enum: [...values] }),
  integer: (options: NumberOptions = {}): SchemaNode<number, false> =>
    node({ type: 'integer', ...optionsSchema(options) }),
  number: (options: NumberOptions = {}): SchemaNode<number, false> =>
    node({ type: 'number', ...optionsSchema(options) }),
  boolean: (options: CommonOptions<boolean> = {}): SchemaNode<boolean, false> =>
    node({ type: 'boolean', ...optionsSchema(options) }),
  /** An integer or a string (`x-kubernetes-int-or-string`): a port number or name, `maxUnavailable: 1` or `'25%'`. */
  intOrString: (
    options: CommonOptions<number | string> & { pattern?: string } = {},
  ): SchemaNode<number | string, false> => node({ 'x-kubernetes-int-or-string': true, ...optionsSchema(options) }),
  /** A resource quantity (`'500m'`, `'1Gi'`, `2`): int-or-string with the quantity pattern, as controller-gen writes it. */
  quantity: (options: CommonOptions<number | string> = {}): SchemaNode<number | string, false> =>
    node({
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      pattern:
        '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
      'x-kubernetes-int-or-string': true,
      ...optionsSchema(options),
    }),
  /** A timestamp as the API writes it (RFC 3339): a string with `format: date-time`. */
  dateTime: (options: CommonOptions<string> = {}): SchemaNode<string, false> =>
    stringNode(options, { format: 'date-time' }),
  array: <I extends SchemaNode>(items: I, options: ArrayOptions<Infer<I>> = {}): SchemaNode<Infer<I>[], false> =>
    node({ type: 'array', items: items.schema, ...optionsSchema(options) }),
  /** An object with any keys and values of one schema (`additionalProperties`): `Record<string, V>`. */
  map: <V extends SchemaNode>(
    values: V,
    options: MapOptions<Infer<V>> = {},
  ): SchemaNode<Record<string, Infer<V>>, false> =>
    node({ type: 'object', additionalProperties: values.schema, ...optionsSchema(options) }),
  object: <P extends SchemaProperties>(
    properties: P,
    options: ObjectOptions<InferProperties<P>> = {},
  ): SchemaNode<InferProperties<P>, false> => {
    const required = Object.keys(properties).filter((k) => !properties[k]!.isOptional);
    const props = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, v.schema]));
    return node({ type: 'object', properties: props, ...(required.length && { required }), ...optionsSchema(options) });
  },
  /** A whole Kubernetes object inside this one (`x-kubernetes-embedded-resource`): apiVersion, kind and metadata are checked, the rest kept. */
  embeddedResource: (options: CommonOptions<KubeObject> = {}): SchemaNode<KubeObject, false> =>
    node({
      type: 'object',
      'x-kubernetes-embedded-resource': true,
      'x-kubernetes-preserve-unknown-fields': true,
      ...optionsSchema(options),
    }),
  /**
   * A status condition (`metav1.Condition`), with the schema controller-gen writes for it; a list of them is usually
   * `s.array(s.condition(), { listType: 'map', mapKeys: ['type'] })`.
   */
  condition: (options: CommonOptions<Condition> = {}): SchemaNode<Condition, false> =>
    node<Condition>({
      type: 'object',
      required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
      properties: {
        type: {
          type: 'string',
          maxLength: 316,
          pattern:
            '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
        },
        status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
        observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
        lastTransitionTime: { type: 'string', format: 'date-time' },
        reason: { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' },
        message: { type: 'string', maxLength: 32768 },
      },
      ...optionsSchema(options),
    }),
  /**
   * A pod template (`corev1.PodTemplateSpec`) with its full schema, taken from the OpenAPI snapshot of the Kubernetes
   * version the clientset is generated from, as controller-gen copies it in: the API server then refuses
   * `containers: 'oops'` at create time, not when the reconciler makes the Pod.
   */
  podTemplateSpec: (options: CommonOptions<PodTemplateSpec> = {}): SchemaNode<PodTemplateSpec, false> =>
    node<PodTemplateSpec>({ ...podTemplateSpecSchema, ...optionsSchema(options) }),
  /** A job template (`batchv1.JobTemplateSpec`) with its full schema, as {@link s.podTemplateSpec}: for a CronJob-like kind. */
  jobTemplateSpec: (options: CommonOptions<JobTemplateSpec> = {}): SchemaNode<JobTemplateSpec, false> =>
    node<JobTemplateSpec>({ ...jobTemplateSpecSchema, ...optionsSchema(options) }),
  /** Any JSON value, kept as it is (`x-kubernetes-preserve-unknown-fields`); typed `unknown`. */
  unknown: (options: CommonOptions<unknown> = {}): SchemaNode<unknown, false> =>
    node({ 'x-kubernetes-preserve-unknown-fields': true, ...optionsSchema(options) }),
  /** A schema written out by hand (or taken from elsewhere), typed as `T`: the escape hatch. */
  raw: <T>(schema: JSONSchemaProps): SchemaNode<T, false> => node<T>(schema),
} as const;
