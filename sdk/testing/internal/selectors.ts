import { parseLabelSelector, type LabelSelector } from '../../cache/index.js';
import { badRequest } from './status.js';
import type { ApiError } from '../../client/index.js';
import { isObject } from './json.js';

/** A parsed field selector: `metadata.name=a,status.phase!=Running` (`==` is `=`). */
export interface FieldSelector {
  matches(obj: unknown): boolean;
}

const everything: FieldSelector = { matches: () => true };

/** The value at a dotted path, as the server's field selectors see it: a string, or '' when absent. */
function fieldValue(obj: unknown, path: string): string {
  let node: unknown = obj;
  for (const part of path.split('.')) {
    if (!isObject(node)) return '';
    node = node[part];
  }
  if (node === undefined || node === null) return '';
  return typeof node === 'string' ? node : typeof node === 'object' ? JSON.stringify(node) : String(node);
}

/**
 * Parses a field selector. Errors: a 400 ApiError, as the server answers, for a term without `=` or `!=`.
 * Caveat: the server accepts only the fields each kind declares (`metadata.name` and `metadata.namespace` always);
 * this accepts any dotted path.
 */
export function parseFieldSelector(text: string | undefined): FieldSelector {
  if (!text?.trim()) return everything;
  const terms = text.split(',').map((term) => {
    const m = /^\s*([^!=\s]+)\s*(==|!=|=)\s*([^\s]*)\s*$/.exec(term);
    if (!m) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    return { path: m[1]!, negate: m[2] === '!=', value: m[3]! };
  });
  return { matches: (obj) => terms.every((t) => (fieldValue(obj, t.path) === t.value) !== t.negate) };
}

/** Parses a label selector; a 400 ApiError (as the server answers) when it does not parse. */
export function parseLabels(text: string | undefined): LabelSelector {
  try {
    return parseLabelSelector(text ?? '');
  } catch (err) {
    const e: ApiError = badRequest(`unable to parse requirement: ${(err as Error).message}`);
    throw e;
  }
}
