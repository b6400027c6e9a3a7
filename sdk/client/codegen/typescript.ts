/**
 * Schema → TypeScript: the mapping shared by the generator of the built-in API types (`npm run codegen`) and by
 * {@link generateTypesFromCrd}. It writes plain interfaces and type aliases for JSON as it is on the wire:
 *
 * - optional unless the schema's `required` names the field; `nullable` adds `| null`;
 * - `integer`/`number` → `number`; `x-kubernetes-int-or-string` → `number | string`; strings stay strings whatever
 *   their `format` (dates, bytes, quantities);
 * - `enum` → a union of its literals;
 * - `additionalProperties` → `Record<string, V>` (or an index signature beside declared properties);
 *   `x-kubernetes-preserve-unknown-fields` → an index signature of `unknown` (or `unknown` itself without a type);
 *   an object with neither properties nor either of those → `Record<string, never>`: the server keeps nothing in it;
 * - `x-kubernetes-embedded-resource` → an object with `apiVersion`, `kind` and `metadata`;
 * - `description` → a doc comment, with `@default` (non-empty defaults) and `@deprecated` (descriptions that start so).
 *
 * Inline object schemas (CRDs nest them) become named interfaces: the parent's name plus the property's, in PascalCase.
 */
import type { JsonSchema } from './schema.js';
import { ArgumentError } from '../errors.js';

export interface SchemaMapperOptions {
  /** The TypeScript type a `$ref` stands for. Default: refs are an error (CRD schemas have none). */
  resolveRef?: (ref: string) => string;
  /** The type of `metadata` in embedded resources. Default: `ObjectMeta`. */
  objectMetaType?: string;
  /** Names that declarations must not take (imports of the emitted module). */
  reservedNames?: Iterable<string>;
  /**
   * The type of an object schema with neither properties nor additionalProperties. Default: `Record<string, never>`,
   * right where the server prunes unknown fields (built-in types, structural CRD schemas); `Record<string, unknown>`
   * for legacy CRDs that keep unknown fields.
   */
  emptyObjectType?: string;
}

const identifier = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A property key as TypeScript needs it: bare when it is an identifier, quoted otherwise. */
export function propertyKey(name: string): string {
  return identifier.test(name) ? name : quote(name);
}

/** A single-quoted TypeScript string literal. */
export function quote(text: string): string {
  return `'${text.replaceAll('\\', '\\\\').replaceAll("'", "\\'").replaceAll('\n', '\\n').replaceAll('\r', '\\r')}'`;
}

/** `tls-config` → `TlsConfig`, `matchLabels` → `MatchLabels`, `x509` → `X509`. */
export function pascalCase(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** A TypeScript literal of a JSON value, for enums; undefined for objects and arrays. */
function literal(value: unknown): string | undefined {
  if (value === null) return 'null';
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function isEmptyValue(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && value !== null && Object.keys(value).length === 0;
}

/**
 * The lines of a doc comment for a schema: its description, then `@default` and `@deprecated` tags. `extra` lines
 * come after the description.
 */
export function docLines(schema: JsonSchema | undefined, extra: readonly string[] = []): string[] {
  const lines: string[] = [];
  const description = schema?.description?.trim();
  if (description) lines.push(...description.split('\n').map((line) => line.trimEnd()));
  if (extra.length) {
    if (lines.length) lines.push('');
    lines.push(...extra);
  }
  if (schema && schema.default !== undefined && !isEmptyValue(schema.default)) {
    if (lines.length) lines.push('');
    lines.push(`@default ${JSON.stringify(schema.default)}`);
  }
  if (description && /(^|\.\s+)(deprecated|DEPRECATED)\b[:\s-]/i.test(description)) lines.push('@deprecated');
  return lines;
}

/** A doc comment block at an indentation; empty when there is nothing to say. */
export function docComment(lines: readonly string[], indent = ''): string {
  if (!lines.length) return '';
  const body = lines.map((line) => line.replaceAll('*/', '*\\/'));
  if (body.length === 1 && !body[0]!.includes('@')) return `${indent}/** ${body[0]} */\n`;
  return `${indent}/**\n${body.map((line) => (line ? `${indent} * ${line}` : `${indent} *`)).join('\n')}\n${indent} */\n`;
}

function needsParens(type: string): boolean {
  return / [|&] /.test(type) && !/^\{[\s\S]*\}$/.test(type);
}

/** The schema behind a single-element `allOf` (how OpenAPI v3 attaches a description or default to a `$ref`). */
function unwrap(schema: JsonSchema): JsonSchema {
  if (schema.allOf?.length === 1 && !schema.type && !schema.properties && !schema.$ref) {
    const inner = schema.allOf[0]!;
    return inner.$ref ? { $ref: inner.$ref } : unwrap(inner);
  }
  return schema;
}

/** One property of an interface being written. */
export interface PropertyInfo {
  name: string;
  type: string;
  optional: boolean;
  doc: string[];
}

/**
 * Collects the declarations of one module: `declare` and `typeOf` add named interfaces and aliases, `render` writes
 * them in the order they were first named (a parent before the types nested in it).
 */
export class SchemaMapper {
  private readonly declarations = new Map<string, string | undefined>();
  private readonly reserved: Set<string>;
  private readonly resolveRef: (ref: string) => string;
  private readonly objectMetaType: string;
  private readonly emptyObjectType: string;
  /** Appended to the names of inline objects' declarations (a CRD version: `WidgetSpecV1`). */
  suffix = '';
  /** True once a declaration used the ObjectMeta type (embedded resources), so the module must import it. */
  usesObjectMeta = false;

  constructor(options: SchemaMapperOptions = {}) {
    this.reserved = new Set(options.reservedNames ?? []);
    this.objectMetaType = options.objectMetaType ?? 'ObjectMeta';
    this.emptyObjectType = options.emptyObjectType ?? 'Record<string, never>';
    this.resolveRef =
      options.resolveRef ??
      ((ref) => {
        throw new ArgumentError(`unexpected $ref ${ref}: this schema must be self-contained`);
      });
  }

  /** True once a declaration took the name. */
  has(name: string): boolean {
    return this.declarations.has(name);
  }

  /** `base + suffix` if free, else with the smallest number after `base` that makes it free (`WidgetSpecFoo2V1`). */
  uniqueName(base: string, suffix = ''): string {
    let candidate = base + suffix;
    for (let n = 2; this.declarations.has(candidate) || this.reserved.has(candidate); n++)
      candidate = `${base}${n}${suffix}`;
    return candidate;
  }

  /** Adds finished text under a name (which must be free). */
  add(name: string, text: string): void {
    if (this.declarations.get(name) !== undefined) throw new Error(`${name} is declared twice`);
    this.declarations.set(name, text);
  }

  /** Replaces the text of a declaration made before (a placeholder that holds a position). */
  replace(name: string, text: string): void {
    if (!this.declarations.has(name)) throw new Error(`${name} was never declared`);
    this.declarations.set(name, text);
  }

  /** Declares `export type name = type`. */
  alias(name: string, type: string, doc: readonly string[]): void {
    this.add(name, `${docComment(doc)}export type ${name} = ${type};\n`);
  }

  /**
   * Declares a schema under `name` (which must be free): an interface for an object with properties (or an embedded
   * resource), an alias otherwise. `extraDoc` lines follow the description.
   */
  declare(name: string, schema: JsonSchema, extraDoc: readonly string[] = []): void {
    const s = unwrap(schema);
    const doc = docLines({ ...s, ...schema }, extraDoc);
    if (this.isInterface(s)) {
      this.declarations.set(name, undefined); // hold the place: nested declarations come after it
      this.add(name, this.interfaceText(name, name, s, doc));
    } else {
      this.declarations.set(name, undefined);
      this.add(name, `${docComment(doc)}export type ${name} = ${this.typeOf(s, name)};\n`);
    }
  }

  /**
   * Declares an interface from explicit properties (the root of a custom resource), with an optional `extends`.
   */
  declareInterface(
    name: string,
    doc: readonly string[],
    properties: readonly PropertyInfo[],
    extendsType?: string,
  ): void {
    const members = properties.map(
      (p) => `${docComment(p.doc, '  ')}  ${propertyKey(p.name)}${p.optional ? '?' : ''}: ${p.type};\n`,
    );
    const heritage = extendsType ? ` extends ${extendsType}` : '';
    this.add(name, `${docComment(doc)}export interface ${name}${heritage} {\n${members.join('')}}\n`);
  }

  /** All declarations, in order, separated by blank lines. */
  render(): string {
    const texts = [...this.declarations].map(([name, text]) => {
      if (text === undefined) throw new Error(`${name} was named but never declared`);
      return text;
    });
    return texts.join('\n');
  }

  private isInterface(s: JsonSchema): boolean {
    if (s.$ref) return false;
    const hasProperties = !!s.properties && Object.keys(s.properties).length > 0;
    return (hasProperties && (s.type === 'object' || s.type === undefined)) || !!s['x-kubernetes-embedded-resource'];
  }

  /**
   * The properties of an object schema as interface members (with their nested declarations made, named after
   * `parentName`).
   */
  properties(parentName: string, s: JsonSchema): PropertyInfo[] {
    const required = new Set(s.required ?? []);
    const embedded = !!s['x-kubernetes-embedded-resource'];
    return Object.entries(s.properties ?? {}).map(([name, prop]) => {
      const type =
        embedded && name === 'metadata' && !unwrap(prop).properties
          ? this.objectMeta()
          : this.typeOf(prop, parentName + pascalCase(name));
      return { name, type, optional: !required.has(name), doc: docLines({ ...unwrap(prop), ...prop }) };
    });
  }

  private objectMeta(): string {
    this.usesObjectMeta = true;
    return this.objectMetaType;
  }

  /** `name` is the declared name, `base` the one nested names start from (the name without the suffix). */
  private interfaceText(name: string, base: string, s: JsonSchema, doc: readonly string[]): string {
    const props = this.properties(base, s);
    if (s['x-kubernetes-embedded-resource']) {
      const have = new Set(props.map((p) => p.name));
      const implied: PropertyInfo[] = [
        { name: 'apiVersion', type: 'string', optional: true, doc: [] },
        { name: 'kind', type: 'string', optional: true, doc: [] },
        { name: 'metadata', type: this.objectMetaType, optional: true, doc: [] },
      ];
      const missing = implied.filter((p) => !have.has(p.name));
      if (missing.some((p) => p.name === 'metadata')) this.usesObjectMeta = true;
      props.unshift(...missing);
    }
    const members = props.map(
      (p) => `${docComment(p.doc, '  ')}  ${propertyKey(p.name)}${p.optional ? '?' : ''}: ${p.type};\n`,
    );
    const index = this.indexSignature(name, s, props);
    if (index) members.push(`  [key: string]: ${index};\n`);
    return `${docComment(doc)}export interface ${name} {\n${members.join('')}}\n`;
  }

  /** The value type of an object's index signature, when it has one. */
  private indexSignature(name: string, s: JsonSchema, props: readonly PropertyInfo[]): string | undefined {
    if (s['x-kubernetes-preserve-unknown-fields'] || s.additionalProperties === true) return 'unknown';
    if (typeof s.additionalProperties !== 'object') return undefined;
    const value = this.typeOf(s.additionalProperties, `${name}Value`);
    if (value === 'unknown' || !props.length) return value;
    const union = new Set([value, ...props.map((p) => p.type)]);
    if (props.some((p) => p.optional)) union.add('undefined');
    return [...union].join(' | ');
  }

  /** The TypeScript type of a schema; inline objects with properties are declared under `nameHint` (made unique). */
  typeOf(schema: JsonSchema, nameHint: string): string {
    const s = unwrap(schema);
    const nullable = schema.nullable || s.nullable;
    const type = this.baseType(s, nameHint);
    return nullable && type !== 'unknown' && !/(^| )null( |$)/.test(type) ? `${type} | null` : type;
  }

  private baseType(s: JsonSchema, nameHint: string): string {
    if (s.$ref) return this.resolveRef(s.$ref);
    if (s['x-kubernetes-int-or-string'] || s.format === 'int-or-string') return 'number | string';
    if (this.isInterface(s)) {
      const name = this.uniqueName(nameHint, this.suffix);
      this.declarations.set(name, undefined);
      // The default belongs to the property (which says it); the type only carries the description.
      this.add(name, this.interfaceText(name, nameHint, s, docLines({ description: s.description })));
      return name;
    }
    if (s.enum?.length) {
      const literals = s.enum.map(literal);
      if (literals.every((l) => l !== undefined)) return [...new Set(literals)].join(' | ');
    }
    if (s.allOf && s.allOf.length > 1) {
      return s.allOf
        .map((part, i) => this.typeOf(part, `${nameHint}${i + 1}`))
        .map((t) => (needsParens(t) ? `(${t})` : t))
        .join(' & ');
    }
    switch (s.type) {
      case 'string':
        return 'string';
      case 'integer':
      case 'number':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'null':
        return 'null';
      case 'array': {
        const item = s.items ? this.typeOf(s.items, nameHint) : 'unknown';
        return needsParens(item) ? `(${item})[]` : `${item}[]`;
      }
      case 'object':
        return this.mapType(s, nameHint);
      case undefined: {
        const variants = s.oneOf ?? s.anyOf;
        if (variants?.length && variants.every((v) => v.type || v.$ref)) {
          return [...new Set(variants.map((v, i) => this.typeOf(v, `${nameHint}${i + 1}`)))].join(' | ');
        }
        if (s.additionalProperties !== undefined) return this.mapType(s, nameHint);
        return 'unknown';
      }
    }
  }

  private mapType(s: JsonSchema, nameHint: string): string {
    if (s['x-kubernetes-preserve-unknown-fields'] || s.additionalProperties === true) return 'Record<string, unknown>';
    if (typeof s.additionalProperties === 'object')
      return `Record<string, ${this.typeOf(s.additionalProperties, nameHint)}>`;
    return this.emptyObjectType;
  }
}
