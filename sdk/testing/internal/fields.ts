import { jsonEqual, type ManagedFieldsEntry } from '../../client/index.js';
import { isObject, jsonCopy, type JsonObject } from './json.js';
import { listKind } from './patch.js';

/**
 * Field ownership for server-side apply, as the API server records it in `metadata.managedFields` (FieldsV1):
 * which manager set which field. A path is a list of FieldsV1 segments: `f:<field>`, `k:<json of the merge key>` for an
 * item of a keyed list, `v:<json>` for an item of a set-like list. Leaves are owned; so are the items of keyed lists.
 */
export type FieldPath = readonly string[];

/** Paths by their joined text (segments never hold a raw newline: JSON escapes it). */
export type FieldSet = Map<string, FieldPath>;

const join = (path: FieldPath): string => path.join('\n');

/** What a write may own: which top-level parts of the object count. */
export type FieldScope = 'main' | 'status' | 'all';

const ownedMetadata = ['labels', 'annotations', 'finalizers', 'ownerReferences'];

/** The fields set in `obj`, within `scope` (`main` leaves out `status` when it is a subresource). */
export function fieldsOf(obj: unknown, builtin: boolean, scope: FieldScope): FieldSet {
  const out: FieldSet = new Map();
  if (!isObject(obj)) return out;
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined || key === 'apiVersion' || key === 'kind') continue;
    if (scope === 'status' && key !== 'status') continue;
    if (scope === 'main' && key === 'status') continue;
    if (key === 'metadata') {
      if (!isObject(value)) continue;
      for (const m of ownedMetadata) {
        if (value[m] !== undefined) collect(value[m], ['f:metadata', `f:${m}`], m, builtin, true, out);
      }
      continue;
    }
    collect(value, [`f:${key}`], key, builtin, false, out);
  }
  return out;
}

function collect(
  value: unknown,
  path: string[],
  field: string,
  builtin: boolean,
  inMetadata: boolean,
  out: FieldSet,
): void {
  if (isObject(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined);
    if (keys.length === 0) out.set(join(path), path);
    for (const k of keys) collect(value[k], [...path, `f:${k}`], k, builtin, inMetadata, out);
    return;
  }
  if (Array.isArray(value)) {
    const kind = listKind(field, value, builtin, inMetadata);
    if (kind.type === 'atomic') {
      out.set(join(path), path);
      return;
    }
    for (const item of value) {
      if (kind.type === 'set') {
        const p = [...path, `v:${JSON.stringify(item)}`];
        out.set(join(p), p);
        continue;
      }
      const obj = item as JsonObject;
      const p = [...path, `k:${JSON.stringify({ [kind.key]: obj[kind.key] })}`];
      out.set(join(p), p);
      for (const k of Object.keys(obj))
        if (obj[k] !== undefined) collect(obj[k], [...p, `f:${k}`], k, builtin, inMetadata, out);
    }
    return;
  }
  out.set(join(path), path);
}

const missing = Symbol('missing');

/** The value at a path, or `missing`. */
function valueAt(obj: unknown, path: FieldPath): unknown {
  let node: unknown = obj;
  for (const seg of path) {
    if (seg.startsWith('f:')) {
      if (!isObject(node) || !Object.hasOwn(node, seg.slice(2))) return missing;
      node = node[seg.slice(2)];
    } else if (seg.startsWith('k:')) {
      const key = JSON.parse(seg.slice(2)) as JsonObject;
      const [k, v] = Object.entries(key)[0] ?? [];
      if (!Array.isArray(node) || k === undefined) return missing;
      node = node.find((i) => isObject(i) && jsonEqual(i[k], v));
      if (node === undefined) return missing;
    } else if (seg.startsWith('v:')) {
      const v = JSON.parse(seg.slice(2)) as unknown;
      if (!Array.isArray(node) || !node.some((i) => jsonEqual(i, v))) return missing;
      node = v;
    } else {
      return missing;
    }
  }
  return node;
}

/** Removes the node at a path from `obj` (in place). */
function removeAt(obj: unknown, path: FieldPath): void {
  const parent = valueAt(obj, path.slice(0, -1));
  const seg = path.at(-1);
  if (parent === missing || seg === undefined) return;
  if (seg.startsWith('f:') && isObject(parent)) {
    delete parent[seg.slice(2)];
  } else if (Array.isArray(parent)) {
    const index = parent.findIndex((i) => {
      if (seg.startsWith('v:')) return jsonEqual(i, JSON.parse(seg.slice(2)));
      const [k, v] = Object.entries(JSON.parse(seg.slice(2)) as JsonObject)[0] ?? [];
      return k !== undefined && isObject(i) && jsonEqual(i[k], v);
    });
    if (index >= 0) parent.splice(index, 1);
  }
}

/** `.spec.containers[name="web"].image`: how the server names a field in apply conflicts. */
export function describePath(path: FieldPath): string {
  return path
    .map((seg) => {
      if (seg.startsWith('f:')) return `.${seg.slice(2)}`;
      if (seg.startsWith('k:')) {
        const key = JSON.parse(seg.slice(2)) as JsonObject;
        return `[${Object.entries(key)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}]`;
      }
      return `[=${seg.slice(2)}]`;
    })
    .join('');
}

/** FieldsV1 of a set: nested objects, `.` marking an owned node that has owned children. */
export function toFieldsV1(set: FieldSet): JsonObject {
  const root: JsonObject = {};
  const paths = [...set.values()];
  for (const path of paths) {
    let node = root;
    for (const seg of path) {
      const next = isObject(node[seg]) ? (node[seg] as JsonObject) : {};
      node[seg] = next;
      node = next;
    }
  }
  for (const path of paths) {
    let node = root;
    for (const seg of path) node = node[seg] as JsonObject;
    if (Object.keys(node).some((k) => k !== '.')) node['.'] = {};
  }
  return root;
}

export function fromFieldsV1(fields: unknown): FieldSet {
  const out: FieldSet = new Map();
  const walk = (node: unknown, path: string[]): void => {
    if (!isObject(node)) return;
    const keys = Object.keys(node).filter((k) => k !== '.');
    if (path.length > 0 && (keys.length === 0 || Object.hasOwn(node, '.'))) out.set(join(path), path);
    for (const k of keys) walk(node[k], [...path, k]);
  };
  walk(fields, []);
  return out;
}

/** One manager's entry, with its fields parsed. */
interface Owner {
  manager: string;
  operation: 'Apply' | 'Update';
  subresource: string | undefined;
  apiVersion: string | undefined;
  time: string | undefined;
  fields: FieldSet;
}

function ownersOf(obj: JsonObject): Owner[] {
  const entries = ((obj['metadata'] as JsonObject | undefined)?.['managedFields'] ?? []) as ManagedFieldsEntry[];
  return entries.map((e) => ({
    manager: e.manager ?? '',
    operation: e.operation === 'Apply' ? 'Apply' : 'Update',
    subresource: e.subresource,
    apiVersion: e.apiVersion,
    time: e.time,
    fields: fromFieldsV1(e.fieldsV1),
  }));
}

function writeOwners(obj: JsonObject, owners: Owner[]): void {
  const metadata = (obj['metadata'] ?? {}) as JsonObject;
  const entries: ManagedFieldsEntry[] = owners
    .filter((o) => o.fields.size > 0 || o.operation === 'Apply')
    .map((o) => ({
      manager: o.manager,
      operation: o.operation,
      ...(o.apiVersion && { apiVersion: o.apiVersion }),
      ...(o.time && { time: o.time }),
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(o.fields),
      ...(o.subresource && { subresource: o.subresource }),
    }));
  if (entries.length > 0) metadata['managedFields'] = entries;
  else delete metadata['managedFields'];
  obj['metadata'] = metadata;
}

function ownerFor(
  owners: Owner[],
  manager: string,
  operation: Owner['operation'],
  subresource: string | undefined,
  apiVersion: string | undefined,
): Owner {
  let owner = owners.find((o) => o.manager === manager && o.operation === operation && o.subresource === subresource);
  if (!owner) {
    owner = { manager, operation, subresource, apiVersion, time: undefined, fields: new Map() };
    owners.push(owner);
  }
  return owner;
}

const sameSet = (a: FieldSet, b: FieldSet): boolean => a.size === b.size && [...a.keys()].every((k) => b.has(k));

/** What a write is: who made it, on which part, as which kind of object. */
export interface WriteContext {
  manager: string;
  subresource: string | undefined;
  builtin: boolean;
  apiVersion: string | undefined;
  now: string;
}

const scopeOf = (subresource: string | undefined, statusIsSubresource: boolean): FieldScope =>
  subresource === 'status' ? 'status' : statusIsSubresource ? 'main' : 'all';

/**
 * Records an update (create, update, patch): the writer takes the fields it set or changed; fields it removed are
 * nobody's. Writes the result into `next.metadata.managedFields`.
 */
export function recordUpdate(
  prev: JsonObject | undefined,
  next: JsonObject,
  ctx: WriteContext,
  statusIsSubresource: boolean,
): void {
  const owners = prev ? ownersOf(prev) : [];
  const scope = scopeOf(ctx.subresource, statusIsSubresource);
  const before = prev ? fieldsOf(prev, ctx.builtin, scope) : new Map<string, FieldPath>();
  const after = fieldsOf(next, ctx.builtin, scope);
  const changed: FieldSet = new Map();
  for (const [key, path] of after) {
    const node = path.at(-1) ?? '';
    const isItem = node.startsWith('k:') || node.startsWith('v:');
    if (!before.has(key) || (!isItem && !jsonEqual(valueAt(prev, path), valueAt(next, path)))) changed.set(key, path);
  }
  const removed = [...before.keys()].filter((k) => !after.has(k));
  if (changed.size === 0 && removed.length === 0) {
    writeOwners(next, owners);
    return;
  }
  for (const o of owners) {
    const had = o.fields.size;
    for (const k of removed) o.fields.delete(k);
    for (const k of changed.keys()) o.fields.delete(k);
    if (o.fields.size !== had) o.time = ctx.now;
  }
  const mine = ownerFor(owners, ctx.manager, 'Update', ctx.subresource, ctx.apiVersion);
  for (const [k, p] of changed) mine.fields.set(k, p);
  mine.time = ctx.now;
  mine.apiVersion = ctx.apiVersion;
  writeOwners(next, owners);
}

/** A field another manager owns with a different value than the applied one. */
export interface FieldConflict {
  field: string;
  manager: string;
}

/** Lists keep their items' order; maps merge; keyed lists merge item by item; set-like lists take the union. */
function mergeApplied(live: unknown, applied: unknown, field: string, builtin: boolean, inMetadata: boolean): unknown {
  if (isObject(applied)) {
    const out: JsonObject = isObject(live) ? jsonCopy(live) : {};
    for (const [k, v] of Object.entries(applied)) {
      if (v === undefined) continue;
      if (v === null) delete out[k];
      else out[k] = mergeApplied(out[k], v, k, builtin, inMetadata || k === 'metadata');
    }
    return out;
  }
  if (Array.isArray(applied)) {
    const current = Array.isArray(live) ? live : [];
    const kind = listKind(field, [...current, ...applied], builtin, inMetadata);
    if (kind.type === 'atomic') return jsonCopy(applied);
    const out = jsonCopy(current);
    for (const item of applied) {
      if (kind.type === 'set') {
        if (!out.some((o) => jsonEqual(o, item))) out.push(jsonCopy(item));
        continue;
      }
      const key = (item as JsonObject)[kind.key];
      const at = out.findIndex((o) => isObject(o) && jsonEqual(o[kind.key], key));
      if (at >= 0) out[at] = mergeApplied(out[at], item, field, builtin, inMetadata);
      else out.push(jsonCopy(item));
    }
    return out;
  }
  return jsonCopy(applied);
}

/**
 * Server-side apply of `config` onto `live` (undefined: the object is new) by `ctx.manager`: conflicts with other
 * managers' fields unless `force` (then it takes them), merges, and removes the fields this manager applied before and
 * no longer applies when nobody else owns them. Returns the new object, or the conflicts.
 */
export function applyConfig(
  live: JsonObject | undefined,
  config: JsonObject,
  ctx: WriteContext,
  options: { force: boolean; statusIsSubresource: boolean },
): { object: JsonObject } | { conflicts: FieldConflict[] } {
  const scope = scopeOf(ctx.subresource, options.statusIsSubresource);
  const applied = fieldsOf(config, ctx.builtin, scope);
  const owners = live ? ownersOf(live) : [];
  const conflicts: FieldConflict[] = [];
  for (const [key, path] of applied) {
    const node = path.at(-1) ?? '';
    if (node.startsWith('k:') || node.startsWith('v:')) continue;
    const liveValue = live ? valueAt(live, path) : missing;
    if (liveValue === missing || jsonEqual(liveValue, valueAt(config, path))) continue;
    for (const o of owners) {
      if (o.manager === ctx.manager) continue;
      if (!o.fields.has(key)) continue;
      if (options.force) o.fields.delete(key);
      else conflicts.push({ field: describePath(path), manager: o.manager });
    }
  }
  if (conflicts.length > 0) return { conflicts };

  let merged = (live ? jsonCopy(live) : {}) as JsonObject;
  for (const [k, v] of Object.entries(config)) {
    if (k === 'metadata' || v === undefined) continue;
    if (scope === 'status' && k !== 'status') continue;
    if (scope === 'main' && k === 'status') continue;
    if (v === null) delete merged[k];
    else merged[k] = mergeApplied(merged[k], v, k, ctx.builtin, false);
  }
  const meta = (config['metadata'] ?? {}) as JsonObject;
  const mergedMeta = (merged['metadata'] ?? {}) as JsonObject;
  for (const m of ownedMetadata) {
    if (meta[m] !== undefined) mergedMeta[m] = mergeApplied(mergedMeta[m], meta[m], m, ctx.builtin, true);
  }
  merged['metadata'] = mergedMeta;

  // Fields this manager applied before and leaves out now go, unless another manager owns them (or something in them).
  const mine = ownerFor(owners, ctx.manager, 'Apply', ctx.subresource, ctx.apiVersion);
  const dropped = [...mine.fields.entries()].filter(([k]) => !applied.has(k));
  const others = owners.filter((o) => o !== mine);
  const ownedByOthers = (key: string): boolean =>
    others.some((o) => o.fields.has(key) || [...o.fields.keys()].some((k) => k.startsWith(`${key}\n`)));
  for (const [key, path] of dropped.toSorted((a, b) => b[1].length - a[1].length)) {
    if (!ownedByOthers(key)) removeAt(merged, path);
  }
  if (!sameSet(mine.fields, applied) || !live) mine.time = ctx.now;
  mine.fields = applied;
  mine.apiVersion = ctx.apiVersion;
  // Fields the apply changed are no longer an updater's.
  for (const o of others) {
    if (o.operation !== 'Update') continue;
    for (const [key, path] of applied) {
      if (o.fields.has(key) && !jsonEqual(valueAt(live, path), valueAt(merged, path))) o.fields.delete(key);
    }
  }
  merged = jsonCopy(merged);
  writeOwners(merged, owners);
  return { object: merged };
}

/** The object without `time` in its managed fields: what "unchanged" is judged on. */
export function withoutManagedFieldTimes(obj: unknown): unknown {
  if (!isObject(obj) || !isObject(obj['metadata'])) return obj;
  const entries = (obj['metadata']['managedFields'] ?? []) as ManagedFieldsEntry[];
  return {
    ...obj,
    metadata: { ...obj['metadata'], managedFields: entries.map(({ time: _time, ...rest }) => rest) },
  };
}
