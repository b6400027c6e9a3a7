/** Past this depth a copy goes to `structuredClone` (a cycle, or an object nested deeper than any Kubernetes object). */
const maxDepth = 64;

/** A value `copyJson` cannot copy: the whole copy is redone by `structuredClone`. */
const notJson: unique symbol = Symbol('not JSON');

/**
 * A deep copy of `value`, as `structuredClone` makes it, and faster for what the informer cache holds: objects parsed
 * from JSON (plain objects, arrays, strings, numbers, booleans, null), copied key by key. Anything else found inside
 * (a Date, a Map, a typed array, a class instance a transform put there, an object nested deeper than 64 levels, a
 * cycle) makes the whole copy a `structuredClone`, with its semantics and errors. Differences, none of which parsed JSON
 * has: an object reached twice through the graph is copied twice rather than once, and an array's non-index
 * properties are left out.
 */
export function deepCopy<T>(value: T): T {
  const copy = copyJson(value, 0);
  return copy === notJson ? structuredClone(value) : (copy as T);
}

function copyJson(value: unknown, depth: number): unknown {
  if (typeof value !== 'object' || value === null) {
    return typeof value === 'function' || typeof value === 'symbol' ? notJson : value;
  }
  if (depth > maxDepth) return notJson;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return notJson;
    // oxlint-disable-next-line unicorn/no-new-array -- the copy keeps the original's holes, as structuredClone does
    const out: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      // A hole stays a hole, as structuredClone keeps it.
      if (!(i in value)) continue;
      const item = copyJson(value[i], depth + 1);
      if (item === notJson) return notJson;
      out[i] = item;
    }
    return out;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return notJson;
  const out: Record<string, unknown> = {};
  for (const key in value) {
    const item = copyJson((value as Record<string, unknown>)[key], depth + 1);
    if (item === notJson) return notJson;
    // A `__proto__` key (JSON.parse makes it an own property) stays a property, not the copy's prototype.
    if (key === '__proto__')
      Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
    else out[key] = item;
  }
  return out;
}
