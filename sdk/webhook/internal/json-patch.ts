/** One RFC 6902 operation, as a mutating webhook sends them. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace';
  path: string;
  value?: unknown;
}

/** RFC 6901: `~` → `~0`, `/` → `~1`. */
export function pointerSegment(key: string): string {
  return key.replaceAll('~', '~0').replaceAll('/', '~1');
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a).filter((k) => a[k] !== undefined);
    return (
      keys.length === Object.keys(b).filter((k) => b[k] !== undefined).length && keys.every((k) => equal(a[k], b[k]))
    );
  }
  return false;
}

/**
 * The JSON patch that turns `from` into `to`, both plain JSON (a key whose value is `undefined` counts as absent, as
 * in JSON.stringify). Objects are compared key by key; arrays element by element, with the tail added or removed
 * (removals from the end backwards, so each index is valid when applied). Keys are visited in sorted order, so the
 * same pair always gives the same patch.
 */
export function createJsonPatch(from: unknown, to: unknown): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  diff(from, to, '', ops);
  return ops;
}

function diff(from: unknown, to: unknown, path: string, ops: JsonPatchOperation[]): void {
  if (equal(from, to)) return;
  if (isObject(from) && isObject(to)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].toSorted();
    for (const key of keys) {
      const child = `${path}/${pointerSegment(key)}`;
      const [a, b] = [from[key], to[key]];
      if (b === undefined) {
        if (a !== undefined) ops.push({ op: 'remove', path: child });
      } else if (a === undefined) {
        ops.push({ op: 'add', path: child, value: b });
      } else {
        diff(a, b, child, ops);
      }
    }
    return;
  }
  if (Array.isArray(from) && Array.isArray(to)) {
    const common = Math.min(from.length, to.length);
    for (let i = 0; i < common; i++) diff(from[i], to[i], `${path}/${i}`, ops);
    for (let i = common; i < to.length; i++) ops.push({ op: 'add', path: `${path}/${i}`, value: to[i] });
    for (let i = from.length - 1; i >= common; i--) ops.push({ op: 'remove', path: `${path}/${i}` });
    return;
  }
  ops.push({ op: 'replace', path, value: to });
}

/** Applies a patch made by {@link createJsonPatch} to a copy of `doc` (for tests and the fake client). */
export function applyJsonPatch<T>(doc: T, ops: readonly JsonPatchOperation[]): T {
  let root: unknown = structuredClone(doc);
  for (const op of ops) {
    if (op.path === '') {
      root = op.op === 'remove' ? undefined : structuredClone(op.value);
      continue;
    }
    const segments = op.path
      .slice(1)
      .split('/')
      .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
    const last = segments.pop()!;
    let parent = root as Record<string, unknown> | unknown[];
    for (const s of segments) parent = (parent as Record<string, unknown>)[s] as Record<string, unknown>;
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (op.op === 'add') parent.splice(index, 0, structuredClone(op.value));
      else if (op.op === 'remove') parent.splice(index, 1);
      else parent[index] = structuredClone(op.value);
    } else if (op.op === 'remove') {
      delete parent[last];
    } else {
      parent[last] = structuredClone(op.value);
    }
  }
  return root as T;
}
