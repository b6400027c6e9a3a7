import { parseLabelSelector, type LabelSelector } from '../../cache/index.js';
import { badRequest } from './status.js';
import { parseFieldSelector as parseFields, type ApiError, type FieldSelector } from '../../client/index.js';
import { isObject } from './json.js';

/** A parsed field selector, matched against a stored object. */
export interface ObjectFieldSelector {
  matches(obj: unknown): boolean;
}

const everything: ObjectFieldSelector = { matches: () => true };

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
 * Parses a field selector with the API server's grammar (kubeloop/client's parseFieldSelector: `=`, `==`, `!=`,
 * escaped values, nothing trimmed). Errors: a 400 ApiError, as the server answers, for one that does not parse.
 * Caveat: the server accepts only the fields each kind declares (`metadata.name` and `metadata.namespace` always);
 * this reads any dotted path.
 */
export function parseFieldSelector(text: string | undefined): ObjectFieldSelector {
  let selector: FieldSelector;
  try {
    selector = parseFields(text ?? '');
  } catch (err) {
    throw badRequest(`invalid field selector: ${(err as Error).message}`);
  }
  if (selector.empty()) return everything;
  const paths = [...new Set(selector.requirements().map((r) => r.field))];
  return { matches: (obj) => selector.matches(Object.fromEntries(paths.map((path) => [path, fieldValue(obj, path)]))) };
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
