/**
 * Field selectors, with apimachinery's grammar (k8s.io/apimachinery/pkg/fields): comma-separated terms, each
 * `field=value`, `field==value` (the same) or `field!=value`; in a value, `\,`, `\=` and `\\` stand for `,`, `=` and
 * `\`, and an unescaped `=` or any other escape is an error. Nothing is trimmed: `a = b` is the field `a ` and the
 * value ` b`, as the API server reads it. `''` selects everything.
 */
import { KubeloopError } from '../errors.js';

/**
 * A label or field selector that cannot be parsed or holds an invalid key or value (code
 * `ERR_KUBE_INVALID_SELECTOR`). `selector` is the input; `kind` says which grammar refused it.
 */
export class InvalidSelectorError extends KubeloopError {
  /** The selector as given. */
  readonly selector: string;
  /** Which grammar refused it: a label selector's or a field selector's. */
  readonly kind: 'label' | 'field';

  constructor(selector: string, problem: string, kind: 'label' | 'field' = 'label') {
    super('ERR_KUBE_INVALID_SELECTOR', `${kind} selector ${JSON.stringify(selector)}: ${problem}`);
    this.selector = selector;
    this.kind = kind;
  }
}

/** `=` (also written `==`) or `!=`. */
export type FieldSelectorOperator = '=' | '!=';

/** One term of a field selector (apimachinery's fields.Requirement), its value unescaped. */
export interface FieldSelectorTerm {
  /** The field path as written (`metadata.name`); never unescaped or trimmed. */
  readonly field: string;
  /** `=` (also for `==`) or `!=`. */
  readonly operator: FieldSelectorOperator;
  /** The value, its escapes undone. */
  readonly value: string;
}

/** A parsed field selector: every term must hold. Immutable. */
export interface FieldSelector {
  /**
   * True when every term holds for `fields` (field path to value, as the API server's field sets:
   * `{ 'metadata.name': 'web', 'status.phase': 'Running' }`). A missing field reads as `''`, as in apimachinery:
   * `a=` matches an object without `a`, and `a!=x` does too.
   */
  matches(fields: Readonly<Record<string, string>>): boolean;
  /** True when the selector has no terms (it selects everything). */
  empty(): boolean;
  /** The terms, in the canonical order (see toString). */
  requirements(): readonly FieldSelectorTerm[];
  /** The value `field` must equal (a `field=value` term), or undefined: apimachinery's RequiresExactMatch. */
  requiresExactMatch(field: string): string | undefined;
  /**
   * apimachinery's String(): the terms as `field=value` or `field!=value` (`==` written `=`), values escaped, in the
   * order the parser sorts them (by their text as written, byte-wise).
   */
  toString(): string;
}

/** Escapes `\`, `,` and `=` in a value with a backslash, so it can be placed in a field selector (EscapeValue). */
export function escapeFieldSelectorValue(value: string): string {
  return value.replace(/[\\,=]/g, (c) => `\\${c}`);
}

class Terms implements FieldSelector {
  constructor(private readonly terms: readonly FieldSelectorTerm[]) {}

  matches(fields: Readonly<Record<string, string>>): boolean {
    return this.terms.every((t) => {
      const have = Object.hasOwn(fields, t.field) ? fields[t.field]! : '';
      return t.operator === '=' ? have === t.value : have !== t.value;
    });
  }

  empty(): boolean {
    return this.terms.length === 0;
  }

  requirements(): readonly FieldSelectorTerm[] {
    return this.terms;
  }

  requiresExactMatch(field: string): string | undefined {
    return this.terms.find((t) => t.field === field && t.operator === '=')?.value;
  }

  toString(): string {
    return this.terms.map((t) => `${t.field}${t.operator}${escapeFieldSelectorValue(t.value)}`).join(',');
  }
}

/** The field selector that selects everything. */
export const everythingFields: FieldSelector = new Terms([]);

/** The terms of `selector`, split at commas that are not escaped (the escapes stay, to be undone per value). */
function splitTerms(selector: string): string[] {
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** Byte-wise (UTF-8) order, as Go sorts strings; JavaScript's default sort compares UTF-16 units. */
const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** `value` with its escapes undone, or the problem with it. */
function unescape(value: string): { value: string } | { problem: string } {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '=' || c === ',')
      return { problem: `unescaped ${JSON.stringify(c)} in the value ${JSON.stringify(value)} (write \\${c})` };
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = value[++i];
    if (next === undefined)
      return { problem: `the value ${JSON.stringify(value)} ends with a lone backslash (write \\\\)` };
    if (next !== '\\' && next !== ',' && next !== '=') {
      return {
        problem: `invalid escape sequence ${JSON.stringify(`\\${next}`)} in the value ${JSON.stringify(value)} (only \\\\, \\, and \\= are escapes)`,
      };
    }
    out += next;
  }
  return { value: out };
}

/** One term split at its first operator (`!=`, then `==`, then `=`, tried at each position), or undefined. */
function splitTerm(term: string): { field: string; operator: FieldSelectorOperator; raw: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    const rest = term.slice(i);
    const op = ['!=', '==', '='].find((o) => rest.startsWith(o));
    if (op) return { field: term.slice(0, i), operator: op === '!=' ? '!=' : '=', raw: term.slice(i + op.length) };
  }
  return undefined;
}

/**
 * Parses a field selector as the API server does (apimachinery's fields.ParseSelector): see the module doc for the
 * grammar. Terms are sorted by their text and empty terms skipped; a term with neither field nor value (`=`)
 * selects everything. Which fields exist is not checked here (the API server accepts `metadata.name`,
 * `metadata.namespace` and the fields each kind declares).
 *
 * Errors: {@link InvalidSelectorError} (code `ERR_KUBE_INVALID_SELECTOR`, `kind` `'field'`) naming the selector and
 * the term or escape at fault.
 */
export function parseFieldSelector(selector: string): FieldSelector {
  if (selector === '') return everythingFields;
  const terms: FieldSelectorTerm[] = [];
  for (const term of splitTerms(selector).toSorted(byUtf8)) {
    if (term === '') continue;
    const parts = splitTerm(term);
    if (!parts)
      throw new InvalidSelectorError(
        selector,
        `can't understand ${JSON.stringify(term)} (write field=value, field==value or field!=value)`,
        'field',
      );
    const value = unescape(parts.raw);
    if ('problem' in value) throw new InvalidSelectorError(selector, value.problem, 'field');
    if (parts.field === '' && value.value === '') continue;
    terms.push({ field: parts.field, operator: parts.operator, value: value.value });
  }
  return terms.length ? new Terms(terms) : everythingFields;
}

/**
 * The selector that requires each field to equal its value (apimachinery's SelectorFromSet), its terms sorted by
 * field so that toString is deterministic. An empty set selects everything. Values are not validated.
 */
export function fieldSelectorFromSet(set: Readonly<Record<string, string>>): FieldSelector {
  const terms = Object.keys(set)
    .toSorted(byUtf8)
    .map((field): FieldSelectorTerm => ({ field, operator: '=', value: set[field]! }));
  return terms.length ? new Terms(terms) : everythingFields;
}
