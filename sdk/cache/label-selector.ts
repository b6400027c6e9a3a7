import { InvalidSelectorError } from '../client/index.js';

export { InvalidSelectorError };

/** The operators of a label selector requirement. */
/** `==` is kept apart from `=` only so that `toString()` writes back what was parsed, as apimachinery does; both mean the same. */
export type SelectorOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

/** One requirement: `key=value` (or `key==value`), `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key`, `!key`, `key>1`, `key<1`. */
export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

/** A parsed label selector: every requirement must hold. An empty selector matches everything. */
export interface LabelSelector {
  /** The requirements, sorted by key (stably) as apimachinery's parser sorts them. */
  readonly requirements: readonly SelectorRequirement[];
  /** True when there are no requirements. */
  readonly empty: boolean;
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  /** The canonical text form, as the API server accepts it: apimachinery's String(), requirements sorted by key. */
  toString(): string;
}

/** metav1.LabelSelector: `matchLabels` and `matchExpressions`, as in a Deployment's `spec.selector`. */
export interface LabelSelectorObject {
  matchLabels?: Readonly<Record<string, string>>;
  matchExpressions?: readonly {
    key: string;
    operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
    values?: readonly string[];
  }[];
}

/** The lexer's whitespace, as apimachinery's: space, tab, CR and LF only (a form feed or NBSP is part of a token). */
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isIdent = (c: string): boolean => !isSpace(c) && !'=!(),<>'.includes(c);
const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;

/** `text` as Go's strconv.ParseInt(text, 10, 64) reads it (an optional sign, decimal digits, in int64), or undefined. */
function parseInt64(text: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const n = BigInt(text);
  return n < int64Min || n > int64Max ? undefined : n;
}
const nameRe = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const prefixRe = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `key` is not a valid label key (a qualified name: optional DNS-subdomain prefix, `/`, a name of ≤ 63), or undefined. */
function keyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !prefixRe.test(prefix))) {
    return `key ${JSON.stringify(key)} has an invalid prefix (a DNS subdomain of at most 253 characters)`;
  }
  if (name.length === 0 || name.length > 63 || !nameRe.test(name)) {
    return `key ${JSON.stringify(key)} is invalid (at most 63 characters: letters, digits, '-', '_', '.', starting and ending alphanumeric)`;
  }
  return undefined;
}

function valueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !nameRe.test(value)) {
    return `value ${JSON.stringify(value)} is invalid (at most 63 characters: letters, digits, '-', '_', '.', starting and ending alphanumeric)`;
  }
  return undefined;
}

/** Requirements sorted by key (stable), as apimachinery sorts them: the order of `requirements` and toString(). */
const byKey = (requirements: readonly SelectorRequirement[]): SelectorRequirement[] =>
  requirements.toSorted((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

class Selector implements LabelSelector {
  readonly requirements: readonly SelectorRequirement[];

  constructor(requirements: readonly SelectorRequirement[]) {
    this.requirements = byKey(requirements);
  }

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(labels: Readonly<Record<string, string>> | undefined): boolean {
    for (const r of this.requirements) {
      const has = labels !== undefined && Object.hasOwn(labels, r.key);
      const value = has ? labels[r.key]! : undefined;
      switch (r.operator) {
        case '=':
        case '==':
        case 'in':
          if (value === undefined || !r.values.includes(value)) return false;
          break;
        case '!=':
        case 'notin':
          if (value !== undefined && r.values.includes(value)) return false;
          break;
        case 'exists':
          if (!has) return false;
          break;
        case '!':
          if (has) return false;
          break;
        case 'gt':
        case 'lt': {
          const have = value === undefined ? undefined : parseInt64(value);
          const want = parseInt64(r.values[0] ?? '');
          if (have === undefined || want === undefined) return false;
          if (r.operator === 'gt' ? !(have > want) : !(have < want)) return false;
          break;
        }
      }
    }
    return true;
  }

  toString(): string {
    return this.requirements
      .map((r) => {
        switch (r.operator) {
          case '=':
          case '==':
            return `${r.key}${r.operator}${r.values[0] ?? ''}`;
          case '!=':
            return `${r.key}!=${r.values[0] ?? ''}`;
          case 'in':
          case 'notin':
            return `${r.key} ${r.operator} (${r.values.join(',')})`;
          case 'exists':
            return r.key;
          case '!':
            return `!${r.key}`;
          case 'gt':
            return `${r.key}>${r.values[0] ?? ''}`;
          case 'lt':
            return `${r.key}<${r.values[0] ?? ''}`;
        }
        return '';
      })
      .join(',');
  }
}

/** The selector that matches everything. */
export const everything: LabelSelector = new Selector([]);

/**
 * Parses a label selector in the API server's syntax: comma-separated requirements, each `key=value` (or `==`),
 * `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key` (exists), `!key` (does not exist), `key>n`, `key<n`.
 * Space, tab, CR and LF around tokens are ignored (any other character, a form feed or a non-breaking space
 * included, is part of a token and so makes the key or value invalid), as in apimachinery. `''` matches everything.
 *
 * `>` and `<` compare as int64, as the API server does: the selector's number must be a valid label value and an
 * int64 (so no sign: `key>-1` is refused, and so is a 20-digit number), and a label whose value is not an int64
 * never matches.
 *
 * Errors: {@link InvalidSelectorError} naming the selector and what is wrong (unknown operator, missing value, bad
 * key or value, unclosed parenthesis).
 */
export function parseLabelSelector(selector: string): LabelSelector {
  return new SelectorParser(selector).parse();
}

/** A recursive-descent reader of one label selector's text; every method fails with an InvalidSelectorError. */
class SelectorParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parse(): LabelSelector {
    const requirements: SelectorRequirement[] = [];
    this.skipSpace();
    if (this.pos === this.text.length) return everything;
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === '!') {
        this.pos++;
        requirements.push({ key: this.readKey(), operator: '!', values: [] });
      } else {
        requirements.push(this.readRequirement(this.readKey()));
      }
      this.skipSpace();
      if (this.pos === this.text.length) break;
      if (this.text[this.pos] !== ',')
        this.fail(`expected ',' at position ${this.pos}, found ${JSON.stringify(this.text[this.pos])}`);
      this.pos++;
    }
    return new Selector(requirements);
  }

  private fail(problem: string): never {
    throw new InvalidSelectorError(this.text, problem);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && isSpace(this.text[this.pos]!)) this.pos++;
  }

  private readIdent(): string {
    const start = this.pos;
    while (this.pos < this.text.length && isIdent(this.text[this.pos]!)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private readKey(): string {
    this.skipSpace();
    const key = this.readIdent();
    if (!key) this.fail(`expected a label key at position ${this.pos}`);
    const problem = keyProblem(key);
    if (problem) this.fail(problem);
    return key;
  }

  private readValue(): string {
    this.skipSpace();
    const value = this.readIdent();
    const problem = valueProblem(value);
    if (problem) this.fail(problem);
    return value;
  }

  /** What follows a key: nothing (exists), `=`/`==`/`!=` value, `>`/`<` int64, or `in`/`notin` (values). */
  private readRequirement(key: string): SelectorRequirement {
    this.skipSpace();
    const rest = this.text.slice(this.pos);
    if (this.pos === this.text.length || rest.startsWith(',')) return { key, operator: 'exists', values: [] };
    if (rest.startsWith('==') || rest.startsWith('=') || rest.startsWith('!=')) {
      const operator = rest.startsWith('==') ? '==' : rest.startsWith('!=') ? '!=' : '=';
      this.pos += operator.length;
      return { key, operator, values: [this.readValue()] };
    }
    if (rest.startsWith('>') || rest.startsWith('<')) {
      this.pos++;
      this.skipSpace();
      const value = this.readIdent();
      if (parseInt64(value) === undefined)
        this.fail(`${key} ${rest[0]} needs an integer (int64), not ${JSON.stringify(value)}`);
      const problem = valueProblem(value);
      if (problem) this.fail(`${key} ${rest[0]} needs a label value: ${problem}`);
      return { key, operator: rest.startsWith('>') ? 'gt' : 'lt', values: [value] };
    }
    const word = this.readIdent();
    if (word !== 'in' && word !== 'notin') {
      this.fail(
        `expected =, ==, !=, in, notin, > or < after ${JSON.stringify(key)}, found ${JSON.stringify(word || this.text[this.pos] || '')}`,
      );
    }
    return { key, operator: word, values: this.readValues(key, word) };
  }

  /** `(a, b, …)` after `key in`/`key notin`: the values, de-duplicated and sorted. */
  private readValues(key: string, word: string): string[] {
    this.skipSpace();
    if (this.text[this.pos] !== '(') this.fail(`expected '(' after ${JSON.stringify(`${key} ${word}`)}`);
    this.pos++;
    const values: string[] = [];
    for (;;) {
      values.push(this.readValue());
      this.skipSpace();
      const c = this.text[this.pos];
      if (c !== ',' && c !== ')') this.fail(`expected ',' or ')' in the values of ${JSON.stringify(key)}`);
      this.pos++;
      if (c === ')') return [...new Set(values)].toSorted();
    }
  }
}

/**
 * A selector from metav1.LabelSelector (`matchLabels` and `matchExpressions`). An empty object matches everything.
 *
 * Errors: {@link InvalidSelectorError} for an unknown operator, `In`/`NotIn` without values, or invalid keys or values.
 */
export function labelSelectorFromObject(selector: LabelSelectorObject): LabelSelector {
  const requirements: SelectorRequirement[] = [];
  const text = JSON.stringify(selector);
  const check = (problem: string | undefined): void => {
    if (problem) throw new InvalidSelectorError(text, problem);
  };
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    check(keyProblem(key));
    check(valueProblem(value));
    requirements.push({ key, operator: '=', values: [value] });
  }
  for (const e of selector.matchExpressions ?? []) {
    check(keyProblem(e.key));
    const values = [...new Set(e.values ?? [])].toSorted();
    for (const v of values) check(valueProblem(v));
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) check(`${e.key} ${e.operator} needs at least one value`);
        requirements.push({ key: e.key, operator: e.operator === 'In' ? 'in' : 'notin', values });
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) check(`${e.key} ${e.operator} takes no values`);
        requirements.push({ key: e.key, operator: e.operator === 'Exists' ? 'exists' : '!', values: [] });
        break;
      default:
        check(`unknown operator ${JSON.stringify(e.operator)}`);
    }
  }
  return requirements.length ? new Selector(requirements) : everything;
}
