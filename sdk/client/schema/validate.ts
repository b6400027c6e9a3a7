/**
 * `validateObject`: a custom resource's schema applied to an object as the API server applies a CRD's schema on create
 * and update (types, formats, bounds, enums, required fields, list sets and map keys, CEL rules including transition
 * rules with `oldSelf`), giving field errors shaped like the server's (`spec.replicas: Invalid value: 200: …`).
 *
 * Deliberate differences (the API server has the last word): defaults are not applied and unknown fields are not
 * pruned; `messageExpression` is not evaluated (the rule's message is used); some formats and CEL libraries are not
 * available locally (see formats.ts and cel.ts). Like the server (validation ratcheting), on update a value equal to
 * the old one is not refused for the schema or for rules that do not read `oldSelf`.
 */
import { jsonEqual } from '../meta/json.js';
import type { KubeObject, Unstructured } from '../meta/types.js';
import type { JSONSchemaProps } from '../generated/apiextensions-v1.js';
import type { ResourceDescriptor } from '../meta/descriptor.js';
import { evaluateRule, isTransitionRule, toCel } from './cel.js';
import { matchesFormat } from './formats.js';

/** The reason of a field error, as the API server names it in `status.details.causes[].reason`. */
export type FieldErrorType =
  | 'FieldValueInvalid'
  | 'FieldValueTypeInvalid'
  | 'FieldValueRequired'
  | 'FieldValueNotSupported'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueNotFound'
  | 'InternalError';

/**
 * One field at fault, as the API server's own validation reports it (apimachinery's `field.Error`):
 * `{ type: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: 200: …' }`. kubeloop/webhook's
 * `FieldError` is this type.
 */
export interface FieldError {
  type: FieldErrorType;
  /** The field's path as the API server writes it: `spec.items[0].name`, `spec.labels.app`; `<nil>` for the whole object. */
  field: string;
  /** The message without the path (the server's `causes[].message`). */
  message: string;
}

/** A field error as the API server prints it: `spec.replicas: Invalid value: 200: …`. */
export function formatFieldError(error: FieldError): string {
  return `${error.field}: ${error.message}`;
}

/** A resource descriptor that carries its CRD schema (`defineCustomResource` makes them). */
export interface SchemaCarrier {
  readonly crdVersion?: { schema?: { openAPIV3Schema?: JSONSchemaProps } };
}

/** The root schema a descriptor carries, if any. */
export function schemaOf(resource: ResourceDescriptor | SchemaCarrier): JSONSchemaProps | undefined {
  return (resource as SchemaCarrier).crdVersion?.schema?.openAPIV3Schema;
}

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? 'null'));
const child = (path: string, name: string): string => (path ? `${path}.${name}` : name);
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The JSON type name of a value, as the server's messages say it. */
function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(schema: JSONSchemaProps, v: unknown): boolean {
  if (schema['x-kubernetes-int-or-string'])
    return typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
  switch (schema.type) {
    case 'object':
      return isPlainObject(v);
    case 'array':
      return Array.isArray(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'string':
    case 'boolean':
      return typeof v === schema.type;
    default:
      return true;
  }
}

/** The walk's state at one value: where it is, and the old value it correlates with (on update). */
interface At {
  path: string;
  old: unknown;
  hasOld: boolean;
}

/** Schema errors of these types stop the CEL rules from being evaluated, as on the API server. */
const blocking = new Set<FieldErrorType>([
  'FieldValueNotSupported',
  'FieldValueRequired',
  'FieldValueTooLong',
  'FieldValueTooMany',
  'FieldValueTypeInvalid',
]);

class Walk {
  readonly errors: FieldError[] = [];
  /** The CEL rules met on the way, evaluated once the schema is known to hold (see {@link Walk.finish}). */
  private readonly pending: (() => void)[] = [];

  /** The CEL rules, unless a blocking schema error makes the server skip them (it says so at `<nil>`). */
  finish(): FieldError[] {
    if (this.errors.some((e) => blocking.has(e.type))) {
      this.errors.push({
        type: 'FieldValueInvalid',
        field: '<nil>',
        message:
          'Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
      });
    } else {
      for (const evaluate of this.pending) evaluate();
    }
    return this.errors.toSorted((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
  }

  private add(list: FieldError[], type: FieldErrorType, field: string, message: string): void {
    list.push({ type, field, message });
  }

  value(schema: JSONSchemaProps, v: unknown, at: At): void {
    const own: FieldError[] = [];
    if (v === null) {
      if (!schema.nullable)
        this.add(
          own,
          'FieldValueTypeInvalid',
          at.path,
          `Invalid value: "null": ${at.path} in body must be of type ${schema.type ?? 'object'}: "null"`,
        );
      this.keep(own, v, at);
      return;
    }
    if (!typeMatches(schema, v)) {
      const expected = schema['x-kubernetes-int-or-string'] ? 'integer,string' : (schema.type ?? '');
      this.add(
        own,
        'FieldValueTypeInvalid',
        at.path,
        `Invalid value: ${show(typeName(v))}: ${at.path} in body must be of type ${expected}: ${show(typeName(v))}`,
      );
      this.keep(own, v, at);
      return;
    }
    if (schema.enum && !schema.enum.some((e) => jsonEqual(e, v))) {
      this.add(
        own,
        'FieldValueNotSupported',
        at.path,
        `Unsupported value: ${show(v)}: supported values: ${schema.enum.map(show).join(', ')}`,
      );
    }
    if (typeof v === 'string') this.string(schema, v, at, own);
    if (typeof v === 'number') this.number(schema, v, at, own);
    if (Array.isArray(v)) this.array(schema, v, at, own);
    if (isPlainObject(v)) this.object(schema, v, at, own);
    this.keep(own, v, at);
    if (schema['x-kubernetes-validations']?.length) this.pending.push(() => this.rules(schema, v, at));
  }

  /** The errors found at one value, unless the value is unchanged on update (validation ratcheting). */
  private keep(own: FieldError[], v: unknown, at: At): void {
    if (at.hasOld && jsonEqual(v, at.old)) return;
    this.errors.push(...own);
  }

  private string(schema: JSONSchemaProps, v: string, at: At, own: FieldError[]): void {
    // Characters as Go counts them (code points): a surrogate pair is one.
    const length = v.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '_').length;
    if (schema.maxLength !== undefined && length > schema.maxLength) {
      this.add(own, 'FieldValueTooLong', at.path, `Too long: may not be more than ${schema.maxLength} bytes`);
    }
    if (schema.minLength !== undefined && length < schema.minLength) {
      this.add(
        own,
        'FieldValueInvalid',
        at.path,
        `Invalid value: ${show(v)}: ${at.path} in body should be at least ${schema.minLength} chars long`,
      );
    }
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(v)) {
      this.add(
        own,
        'FieldValueInvalid',
        at.path,
        `Invalid value: ${show(v)}: ${at.path} in body should match '${schema.pattern}'`,
      );
    }
    if (schema.format !== undefined && !matchesFormat(schema.format, v)) {
      this.add(
        own,
        'FieldValueTypeInvalid',
        at.path,
        `Invalid value: ${show(v)}: ${at.path} in body must be of type ${schema.format}: ${show(v)}`,
      );
    }
  }

  private number(schema: JSONSchemaProps, v: number, at: At, own: FieldError[]): void {
    const { minimum: min, maximum: max } = schema;
    if (max !== undefined && (schema.exclusiveMaximum ? v >= max : v > max)) {
      const than = schema.exclusiveMaximum ? 'less than' : 'less than or equal to';
      this.add(own, 'FieldValueInvalid', at.path, `Invalid value: ${v}: ${at.path} in body should be ${than} ${max}`);
    }
    if (min !== undefined && (schema.exclusiveMinimum ? v <= min : v < min)) {
      const than = schema.exclusiveMinimum ? 'greater than' : 'greater than or equal to';
      this.add(own, 'FieldValueInvalid', at.path, `Invalid value: ${v}: ${at.path} in body should be ${than} ${min}`);
    }
    if (schema.multipleOf !== undefined && !Number.isInteger(v / schema.multipleOf)) {
      this.add(
        own,
        'FieldValueInvalid',
        at.path,
        `Invalid value: ${v}: ${at.path} in body should be a multiple of ${schema.multipleOf}`,
      );
    }
  }

  private array(schema: JSONSchemaProps, v: unknown[], at: At, own: FieldError[]): void {
    if (schema.maxItems !== undefined && v.length > schema.maxItems) {
      this.add(own, 'FieldValueTooMany', at.path, `Too many: ${v.length}: must have at most ${schema.maxItems} items`);
    }
    if (schema.minItems !== undefined && v.length < schema.minItems) {
      this.add(
        own,
        'FieldValueInvalid',
        at.path,
        `Invalid value: ${v.length}: ${at.path} in body should have at least ${schema.minItems} items`,
      );
    }
    const items = isPlainObject(schema.items) ? (schema.items as JSONSchemaProps) : undefined;
    const listType = schema['x-kubernetes-list-type'];
    const keys = schema['x-kubernetes-list-map-keys'] ?? [];
    const keyOf = (item: unknown): string =>
      listType === 'map'
        ? JSON.stringify(keys.map((k) => (isPlainObject(item) ? item[k] : undefined)))
        : JSON.stringify(item);
    const oldByKey = new Map<string, unknown>();
    if (listType === 'map' && at.hasOld && Array.isArray(at.old))
      for (const item of at.old) oldByKey.set(keyOf(item), item);
    const seen = new Set<string>();
    for (const [i, item] of v.entries()) {
      const path = `${at.path}[${i}]`;
      if (listType === 'set' || listType === 'map') {
        const key = keyOf(item);
        if (seen.has(key)) {
          const dup =
            listType === 'map' && isPlainObject(item)
              ? `{${keys.map((k) => `"${k}":${show(item[k])}`).join(', ')}}`
              : show(item);
          this.add(own, 'FieldValueDuplicate', path, `Duplicate value: ${dup}`);
        }
        seen.add(key);
      }
      if (items) this.value(items, item, { path, old: oldByKey.get(keyOf(item)), hasOld: oldByKey.has(keyOf(item)) });
    }
  }

  private object(schema: JSONSchemaProps, v: Record<string, unknown>, at: At, own: FieldError[]): void {
    const old = at.hasOld && isPlainObject(at.old) ? at.old : undefined;
    const required = schema['x-kubernetes-embedded-resource']
      ? ['apiVersion', 'kind', ...(schema.required ?? [])]
      : (schema.required ?? []);
    for (const name of required) {
      if (v[name] === undefined) this.add(own, 'FieldValueRequired', child(at.path, name), 'Required value');
    }
    const count = Object.keys(v).length;
    if (schema.maxProperties !== undefined && count > schema.maxProperties) {
      this.add(
        own,
        'FieldValueTooMany',
        at.path,
        `Too many: ${count}: must have at most ${schema.maxProperties} items`,
      );
    }
    if (schema.minProperties !== undefined && count < schema.minProperties) {
      this.add(
        own,
        'FieldValueInvalid',
        at.path,
        `Invalid value: ${count}: ${at.path} in body should have at least ${schema.minProperties} properties`,
      );
    }
    const extra = isPlainObject(schema.additionalProperties)
      ? (schema.additionalProperties as JSONSchemaProps)
      : undefined;
    for (const [name, value] of Object.entries(v)) {
      const sub = schema.properties?.[name] ?? extra;
      if (!sub || value === undefined) continue;
      this.value(sub, value, {
        path: child(at.path, name),
        old: old?.[name],
        hasOld: old !== undefined && old[name] !== undefined,
      });
    }
  }

  /** The CEL rules of one value: transition rules only with an old value; the rest ratcheted like the schema. */
  private rules(schema: JSONSchemaProps, v: unknown, at: At): void {
    const rules = schema['x-kubernetes-validations'] ?? [];
    if (rules.length === 0) return;
    const unchanged = at.hasOld && jsonEqual(v, at.old);
    const self = toCel(schema, v);
    // The server shows a scalar's value in the message, and nothing for an object or a list.
    const shown = typeof v === 'object' && v !== null ? '' : `${show(v)}: `;
    for (const rule of rules) {
      const transition = isTransitionRule(rule.rule);
      if (transition ? !at.hasOld : unchanged) continue;
      const outcome = evaluateRule(rule.rule, self, transition ? toCel(schema, at.old) : undefined);
      if (outcome === true) continue;
      if (typeof outcome === 'string') {
        this.errors.push({
          type: 'FieldValueInvalid',
          field: at.path,
          message: `Invalid value: ${shown}${outcome} evaluating rule: ${rule.rule}`,
        });
        continue;
      }
      const field = rule.fieldPath ? `${at.path}${rule.fieldPath}` : at.path;
      const text = rule.message ?? `failed rule: ${rule.rule}`;
      const reason = (rule.reason ?? 'FieldValueInvalid') as FieldErrorType;
      const message =
        reason === 'FieldValueForbidden'
          ? `Forbidden: ${text}`
          : reason === 'FieldValueRequired'
            ? `Required value: ${text}`
            : reason === 'FieldValueDuplicate'
              ? `Duplicate value: ${text}`
              : `Invalid value: ${shown}${text}`;
      this.errors.push({ type: reason, field, message });
    }
  }
}

/**
 * The field errors the API server would give for `obj` under the schema `resource` carries (none when it carries no
 * schema); `oldObj` makes it an update (transition rules, ratcheting):
 * `validateObject(Widget, widget)` → `[{ type: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: 200: …' }]`.
 * The errors are sorted by field.
 */
export function validateObject<T extends KubeObject>(
  resource: ResourceDescriptor<T> | SchemaCarrier,
  obj: T | Unstructured,
  oldObj?: T | Unstructured,
): FieldError[] {
  const schema = schemaOf(resource);
  if (!schema) return [];
  const walk = new Walk();
  const root: JSONSchemaProps = { ...schema, properties: { ...schema.properties } };
  // The server checks metadata itself (name, labels, …); the schema only restricts name and generateName there.
  root.properties!['metadata'] = {
    type: 'object',
    ...(schema.properties?.['metadata'] && { properties: schema.properties['metadata'].properties }),
  };
  walk.value(root, obj, { path: '', old: oldObj, hasOld: oldObj !== undefined });
  return walk.finish();
}
