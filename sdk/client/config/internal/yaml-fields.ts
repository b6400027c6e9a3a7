/**
 * Reads typed fields out of a YAML document the way kubectl does, with one improvement.
 *
 * The text is parsed twice: once with the YAML 1.1 schema (so `yes`/`no`/`on`/`off` are booleans and `0644` is
 * octal, as in the Go YAML library kubectl uses) and once with the failsafe schema, where every scalar is its source
 * text. A boolean field takes the YAML 1.1 value; a string field takes the source text, so `token: 0123` stays
 * `"0123"` and `namespace: no` stays `"no"` (kubectl would turn them into `"83"` and `"false"`). Both parses see the
 * same structure: merge keys (`<<`) are on in both, and duplicate keys keep the last value in both, as in kubectl.
 */
import { FAILSAFE_SCHEMA, YAML11_SCHEMA, YAMLException, loadAll, mergeTag } from 'js-yaml';
import { ConfigError } from '../../errors.js';

const rawSchema = FAILSAFE_SCHEMA.withTags(mergeTag);

/** A value of the document with its source text twin and where it sits, for error messages. */
export class YamlNode {
  constructor(
    /** The YAML 1.1 value. */
    readonly typed: unknown,
    /** The same value with every scalar as its source text. */
    readonly raw: unknown,
    /** Path of this value, e.g. `users[dev].user`; '' for the document. */
    readonly path: string,
    readonly file: string | undefined,
  ) {}

  /** An error about this node (or one of its fields). Never includes the value. */
  error(message: string, key?: string): ConfigError {
    return new ConfigError(message, { file: this.file, field: this.fieldPath(key) || undefined });
  }

  fieldPath(key?: string): string {
    if (key === undefined) return this.path;
    return this.path ? `${this.path}.${key}` : key;
  }

  /** The same value, addressed by another path in error messages. */
  at(path: string): YamlNode {
    return new YamlNode(this.typed, this.raw, path, this.file);
  }

  /** An empty mapping at `path`: what an absent section reads as. */
  static emptyMapping(path: string, file: string | undefined): YamlNode {
    return new YamlNode({}, {}, path, file);
  }

  isNull(): boolean {
    return this.typed === null || this.typed === undefined;
  }

  isMapping(): boolean {
    return isMapping(this.typed);
  }

  /** The field `key` of a mapping, or undefined when absent or null. */
  get(key: string): YamlNode | undefined {
    if (!isMapping(this.typed) || !Object.hasOwn(this.typed, key)) return undefined;
    const typed = this.typed[key];
    if (typed === null || typed === undefined) return undefined;
    const raw = isMapping(this.raw) && Object.hasOwn(this.raw, key) ? this.raw[key] : undefined;
    return new YamlNode(typed, raw, this.fieldPath(key), this.file);
  }

  /** A field that must be a mapping when present. */
  mapping(key: string): YamlNode | undefined {
    const node = this.get(key);
    if (node && !node.isMapping()) throw this.error('must be a mapping (key: value pairs)', key);
    return node;
  }

  /** A field that must be a list when present; its items, each with its path from `itemPath(index)`. */
  list(key: string, itemPath: (index: number) => string = (i) => `[${i}]`): YamlNode[] | undefined {
    const node = this.get(key);
    if (!node) return undefined;
    if (!Array.isArray(node.typed)) throw this.error('must be a list', key);
    const raw = Array.isArray(node.raw) ? (node.raw as unknown[]) : [];
    return node.typed.map((typed, i) => new YamlNode(typed, raw[i], `${node.path}${itemPath(i)}`, this.file));
  }

  /** A string field. Scalars keep their source text; empty strings count as absent, as in client-go. */
  string(key: string): string | undefined {
    const node = this.get(key);
    if (!node) return undefined;
    const text = node.scalarText();
    if (text === undefined) throw this.error('must be a string', key);
    return text === '' ? undefined : text;
  }

  /** This node as a string scalar, or undefined when it is a mapping or list. */
  scalarText(): string | undefined {
    if (!isScalar(this.typed)) return undefined;
    if (typeof this.raw === 'string') return this.raw;
    return typeof this.typed === 'string' ? this.typed : undefined;
  }

  /** A boolean field: YAML 1.1 forms (`true`, `yes`, `on`, …). A quoted `"true"` is a string, hence an error. */
  boolean(key: string): boolean | undefined {
    const node = this.get(key);
    if (!node) return undefined;
    if (typeof node.typed !== 'boolean') throw this.error('must be a boolean (true or false)', key);
    return node.typed;
  }

  /** A list of strings. */
  strings(key: string): string[] | undefined {
    const items = this.list(key);
    return items?.map((item) => {
      const text = item.isNull() ? '' : item.scalarText();
      if (text === undefined) throw item.error('must be a string');
      return text;
    });
  }

  /** A mapping of strings to strings. */
  stringMap(key: string): Record<string, string> | undefined {
    const node = this.mapping(key);
    if (!node) return undefined;
    const out: Record<string, string> = {};
    for (const name of Object.keys(node.typed as object)) out[name] = node.string(name) ?? '';
    return out;
  }

  /** A mapping of strings to lists of strings. */
  stringListMap(key: string): Record<string, string[]> | undefined {
    const node = this.mapping(key);
    if (!node) return undefined;
    const out: Record<string, string[]> = {};
    for (const name of Object.keys(node.typed as object)) out[name] = node.strings(name) ?? [];
    return out;
  }

  /** This node as plain JSON-like data (for extensions): YAML 1.1 values, timestamps and binary kept as text. */
  plain(): unknown {
    return plain(this.typed, this.raw);
  }
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof Date) &&
    !(value instanceof Uint8Array) &&
    !(value instanceof Set)
  );
}

function isScalar(value: unknown): boolean {
  return value === null || typeof value !== 'object' || value instanceof Date || value instanceof Uint8Array;
}

function plain(typed: unknown, raw: unknown): unknown {
  if (typed instanceof Date || typed instanceof Uint8Array) {
    if (typeof raw === 'string') return raw;
    return typed instanceof Date ? typed.toISOString() : Buffer.from(typed).toString('base64');
  }
  if (typed instanceof Set) return [...typed].map((item) => plain(item, undefined));
  if (Array.isArray(typed)) {
    const rawItems = Array.isArray(raw) ? (raw as unknown[]) : [];
    return typed.map((item, i) => plain(item, rawItems[i]));
  }
  if (isMapping(typed)) {
    const rawMap = isMapping(raw) ? raw : {};
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(typed))
      out[key] = plain(value, Object.hasOwn(rawMap, key) ? rawMap[key] : undefined);
    return out;
  }
  return typed;
}

/**
 * Parses one YAML document. An empty document (nothing, or only comments) is `null`.
 *
 * Errors: a ConfigError naming the file with the line and column of malformed YAML. The message holds the parser's
 * reason only, never the source snippet, which could show a credential.
 */
export function parseYaml(text: string, file: string | undefined): YamlNode {
  const parse = (schema: typeof YAML11_SCHEMA): unknown[] => loadAll(text, { schema, json: true, filename: file });
  let typed: unknown[];
  let raw: unknown[];
  try {
    typed = parse(YAML11_SCHEMA);
    raw = parse(rawSchema);
  } catch (err) {
    if (err instanceof YAMLException) {
      const at = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '';
      throw new ConfigError(`malformed YAML${at}: ${err.reason}`, { file });
    }
    throw new ConfigError('malformed YAML', { file, cause: err });
  }
  if (typed.length > 1) {
    throw new ConfigError(`expected one YAML document, found ${typed.length} (separated by ---)`, { file });
  }
  return new YamlNode(typed[0] ?? null, raw[0] ?? null, '', file);
}
