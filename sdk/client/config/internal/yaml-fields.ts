/**
 * Reads typed fields out of a YAML document the way kubectl does.
 *
 * kubectl (client-go's clientcmd) turns the YAML into JSON first (sigs.k8s.io/yaml, on go-yaml v2's YAML 1.1
 * resolution) and then decodes the JSON into typed fields. So an unquoted scalar that YAML 1.1 reads as a number or a
 * boolean (`0123`, `1e3`, `yes`, `on`, `y`) is not a string, and a string field holding one is an error there. The
 * same here: a string field refuses such a scalar and asks for quotes, rather than quietly keeping `"0123"` (kubectl
 * refuses it) or turning it into `"83"`. Timestamps and sexagesimal forms (`12:30:00`) stay strings, as in go-yaml.
 *
 * The text is parsed twice: once with the YAML 1.1 schema, for boolean fields (`yes`/`no`/`on`/`off` are booleans,
 * as in go-yaml v2), and once with the failsafe schema, where every scalar is its source text and a plain scalar that
 * go-yaml v2 would type as a number or boolean is marked. Both parses see the same structure: merge keys (`<<`) are
 * on in both, and duplicate keys keep the last value in both, as in kubectl.
 */
import { createRequire } from 'node:module';
import type * as JsYaml from 'js-yaml';
import { ConfigError } from '../../errors.js';

/** Prefix of a plain scalar's source text that go-yaml v2 types as a number or boolean (never in real text). */
const goTypedMark = '\u0000go-typed:';

interface Yaml {
  lib: typeof JsYaml;
  /** The failsafe schema with merge keys, marking the plain scalars that go-yaml v2 does not read as strings. */
  rawSchema: JsYaml.Schema;
}
let yaml: Yaml | undefined;

/**
 * js-yaml (its CommonJS build, synchronously) and the raw schema, made at the first parse: a process that is handed
 * its config, as a manager in a test or a benchmark, never loads js-yaml's 250 KB.
 */
function yamlLibrary(): Yaml {
  if (!yaml) {
    const lib = createRequire(import.meta.url)('js-yaml') as typeof JsYaml;
    const goTypedTag = lib.defineScalarTag<string>('tag:kubeloop.dev,2026:go-typed', {
      implicit: true,
      resolve: (source) => (goYamlTypes(source) ? goTypedMark + source : lib.NOT_RESOLVED),
      identify: () => false,
    });
    yaml = { lib, rawSchema: lib.FAILSAFE_SCHEMA.withTags(lib.mergeTag, goTypedTag) };
  }
  return yaml;
}

const goBoolsAndFloats = new Set(
  [
    'y Y yes Yes YES true True TRUE on On ON',
    'n N no No NO false False FALSE off Off OFF',
    '.nan .NaN .NAN .inf .Inf .INF +.inf +.Inf +.INF -.inf -.Inf -.INF',
  ]
    .join(' ')
    .split(' '),
);
const goInt = /^([-+]?)(0[bB][01]+|0[oO][0-7]+|0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/;
const goFloat = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;

/**
 * Whether go-yaml v2 resolves this plain scalar to a boolean or a number (so JSON, and kubectl, see no string):
 * its YAML 1.1 booleans, `.inf`/`.nan`, and, after dropping `_`, Go integer literals (`0123` octal, `0x`, `0o`,
 * `0b`) within 64 bits and finite decimal floats. Timestamps, sexagesimal numbers and everything else are strings.
 */
export function goYamlTypes(source: string): boolean {
  if (goBoolsAndFloats.has(source)) return true;
  if (source.startsWith('.')) return /^\.[0-9]+([eE][-+]?[0-9]+)?$/.test(source);
  if (!/^[-+0-9]/.test(source)) return false;
  const bare = source.replaceAll('_', '');
  const int = goInt.exec(bare);
  if (int) {
    const digits = int[2]!;
    // A plain leading-zero run is octal; larger than 64 bits it still reads as a decimal float below.
    const value = /^0[0-7]+$/.test(digits) ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits === '0' ? 0 : digits);
    const limit = int[1] === '-' ? 2n ** 63n : int[1] === '+' ? 2n ** 63n - 1n : 2n ** 64n - 1n;
    if (value <= limit) return true;
  }
  return goFloat.test(bare) && Number.isFinite(Number(bare));
}

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

  /**
   * This node as a string scalar, or undefined when it is a mapping or list. An unquoted scalar that kubectl reads
   * as a number or boolean is an error that says to quote it (never quoting the value).
   */
  scalarText(): string | undefined {
    if (!isScalar(this.typed)) return undefined;
    if (typeof this.raw === 'string') {
      if (this.raw.startsWith(goTypedMark)) {
        const type = typeof this.typed === 'boolean' ? 'boolean' : 'number';
        throw this.error(
          `must be a string, but YAML reads this unquoted value as a ${type} (as kubectl does): put it in quotes`,
        );
      }
      return this.raw;
    }
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
 * The parser's reason without what it quotes from the file: a tag (`!<…>`), an alias or anchor name (`"…"`), or the
 * text after a colon (`tag name cannot contain such characters: …`), any of which could be a credential's start.
 */
export function safeReason(reason: string): string {
  const cut = reason
    .replace(/!<[^>]*>/g, 'a tag')
    .replace(/"[^"]*"/g, '(name not shown)')
    .replace(/: .*$/s, '');
  return cut.length > 120 ? `${cut.slice(0, 120)}…` : cut;
}

/**
 * Largest share of a document's nodes that may come from expanding aliases, as go-yaml (and so kubectl) allows it:
 * 99 % up to 400,000 nodes, falling to 10 % at 4,000,000, so a few hundred bytes of nested aliases (a "billion
 * laughs") cannot expand to billions of nodes, while real documents, which use few aliases, are never refused.
 */
function allowedAliasRatio(nodes: number): number {
  if (nodes <= 400_000) return 0.99;
  if (nodes >= 4_000_000) return 0.1;
  return 0.99 - (0.89 * (nodes - 400_000)) / 3_600_000;
}

/**
 * Refuses documents whose aliases would expand to far more nodes than they hold (go-yaml's "excessive aliasing"),
 * and aliases that contain themselves. js-yaml shares an aliased value instead of copying it, so the parse itself is
 * cheap; what explodes is any walk over the result (reading `extensions` copies it). The count is linear in the
 * document: each distinct collection is sized once.
 */
function checkAliasExpansion(documents: unknown[], file: string | undefined): void {
  for (const doc of documents) {
    const { expanded, unique } = expansionOf(doc, file);
    const aliased = expanded - unique;
    if (aliased > 100 && expanded > 1000 && aliased / expanded > allowedAliasRatio(expanded)) {
      throw new ConfigError(
        `the YAML document contains excessive aliasing: its aliases expand to about ${expanded.toPrecision(3)} nodes ` +
          `from ${unique} (as go-yaml, kubeloop refuses such a document; write the values out)`,
        { file },
      );
    }
  }
}

function childrenOf(node: unknown): unknown[] | undefined {
  if (Array.isArray(node)) return node;
  if (node instanceof Set) return [...node];
  if (isMapping(node)) return Object.values(node);
  return undefined;
}

interface SizeFrame {
  node: object;
  children: unknown[];
  next: number;
  size: number;
}

/**
 * Nodes in the document once every alias is expanded (`expanded`), and nodes written in it (`unique`), counted
 * without recursion (a chain of aliases nests deeper than the stack).
 */
function expansionOf(root: unknown, file: string | undefined): { expanded: number; unique: number } {
  const sized = new Map<object, number>();
  const open = new Set<object>();
  let unique = 0;
  const frame = (node: object, children: unknown[]): SizeFrame => {
    unique += 1 + (isMapping(node) ? children.length : 0);
    open.add(node);
    return { node, children, next: 0, size: 1 + (isMapping(node) ? children.length : 0) };
  };
  const rootChildren = childrenOf(root);
  if (!rootChildren) return { expanded: 1, unique: 1 };
  const stack: SizeFrame[] = [frame(root as object, rootChildren)];
  let total = 0;
  while (stack.length > 0) {
    const top = stack.at(-1)!;
    if (top.next < top.children.length) {
      const child = top.children[top.next++];
      const children = childrenOf(child);
      if (!children) {
        top.size += 1;
        unique += 1;
      } else if (sized.has(child as object)) {
        top.size += sized.get(child as object)!;
      } else if (open.has(child as object)) {
        throw new ConfigError('the YAML document has an alias that contains itself', { file });
      } else {
        stack.push(frame(child as object, children));
      }
      continue;
    }
    stack.pop();
    open.delete(top.node);
    sized.set(top.node, top.size);
    const parent = stack.at(-1);
    if (parent) parent.size += top.size;
    else total = top.size;
  }
  return { expanded: total, unique };
}

/**
 * Parses one YAML document. An empty document (nothing, or only comments) is `null`; empty documents after the first
 * are ignored, a second one with content is an error.
 *
 * Errors: a ConfigError naming the file with the line and column of malformed YAML. The message holds the parser's
 * reason only, without the source snippet and without the tags, alias names or text it quotes (see
 * {@link safeReason}), which could show a credential. A document whose aliases expand too far (a "billion laughs")
 * is a ConfigError too, found in time linear in the document (see {@link checkAliasExpansion}).
 */
export function parseYaml(text: string, file: string | undefined): YamlNode {
  const { lib, rawSchema } = yamlLibrary();
  const parse = (schema: JsYaml.Schema): unknown[] => lib.loadAll(text, { schema, json: true, filename: file });
  let typed: unknown[];
  let raw: unknown[];
  try {
    typed = parse(lib.YAML11_SCHEMA);
    checkAliasExpansion(typed, file);
    raw = parse(rawSchema);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if (err instanceof lib.YAMLException) {
      const at = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '';
      throw new ConfigError(`malformed YAML${at}: ${safeReason(err.reason)}`, { file });
    }
    throw new ConfigError('malformed YAML', { file });
  }
  // kubectl reads the first document and ignores the rest, even malformed; kubeloop refuses a second one that holds
  // anything, since it is usually two files concatenated by mistake. Empty documents (a trailing ---) do no harm.
  const documents = typed.filter((doc, i) => i === 0 || (doc !== null && doc !== undefined));
  if (documents.length > 1) {
    throw new ConfigError(
      `expected one YAML document, found ${documents.length} (separated by ---); kubectl would silently read only ` +
        'the first: keep one, or split them into files listed in KUBECONFIG',
      { file },
    );
  }
  return new YamlNode(typed[0] ?? null, raw[0] ?? null, '', file);
}
