import { jsonEqual, type ApiError } from '../../client/index.js';
import { isObject, jsonCopy, type JsonObject } from './json.js';
import { badRequest, statusError } from './status.js';

/**
 * The patch formats of the API server, applied to plain JSON: RFC 6902 JSON patch, RFC 7386 merge patch and the
 * common cases of Kubernetes' strategic merge patch. Each returns a new document and leaves its input alone.
 */

function patchFailed(message: string): ApiError {
  // The server reports a patch that cannot be applied as 422 with this wording.
  return statusError(422, `the server rejected our request due to an error in our request: ${message}`);
}

function unescape(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw patchFailed(`invalid JSON pointer ${JSON.stringify(path)}`);
  return path.slice(1).split('/').map(unescape);
}

type Container = JsonObject | unknown[];

/** The container that holds the last token of `tokens`, and that token. */
function parentOf(doc: unknown, tokens: string[], path: string): { parent: Container; key: string } {
  let node = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isObject(node)) node = node[token];
    else node = undefined;
    if (node === undefined) throw patchFailed(`doc is missing path: ${JSON.stringify(path)}`);
  }
  if (!Array.isArray(node) && !isObject(node)) throw patchFailed(`doc is missing path: ${JSON.stringify(path)}`);
  return { parent: node, key: tokens.at(-1)! };
}

function arrayIndex(arr: unknown[], key: string, forInsert: boolean, path: string): number {
  if (key === '-' && forInsert) return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(key))
    throw patchFailed(`invalid array index ${JSON.stringify(key)} in ${JSON.stringify(path)}`);
  const i = Number(key);
  if (i > arr.length || (!forInsert && i === arr.length))
    throw patchFailed(`array index out of bounds in ${JSON.stringify(path)}`);
  return i;
}

function getAt(doc: unknown, path: string): unknown {
  let node = doc;
  for (const token of pointer(path)) {
    if (Array.isArray(node)) node = node[Number(token)];
    else if (isObject(node) && Object.hasOwn(node, token)) node = node[token];
    else throw patchFailed(`doc is missing path: ${JSON.stringify(path)}`);
    if (node === undefined) throw patchFailed(`doc is missing path: ${JSON.stringify(path)}`);
  }
  return node;
}

function add(doc: unknown, path: string, value: unknown): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0) return jsonCopy(value);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, true, path), 0, jsonCopy(value));
  else parent[key] = jsonCopy(value);
  return doc;
}

function remove(doc: unknown, path: string): unknown {
  const tokens = pointer(path);
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, false, path), 1);
  else if (Object.hasOwn(parent, key)) delete parent[key];
  else throw patchFailed(`doc is missing path: ${JSON.stringify(path)}`);
  return doc;
}

function replace(doc: unknown, path: string, value: unknown): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0) return jsonCopy(value);
  const { parent, key } = parentOf(doc, tokens, path);
  // Like the server's JSON patch library, a replace of a missing object member adds it.
  if (Array.isArray(parent)) parent[arrayIndex(parent, key, false, path)] = jsonCopy(value);
  else parent[key] = jsonCopy(value);
  return doc;
}

/** RFC 6902. Errors: 422 for an operation that does not apply (failed `test`, missing path), 400 for a malformed one. */
export function applyJsonPatch(document: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw badRequest('a JSON patch must be an array of operations');
  let doc = jsonCopy(document);
  for (const raw of operations) {
    if (!isObject(raw) || typeof raw['op'] !== 'string' || typeof raw['path'] !== 'string') {
      throw badRequest(`invalid JSON patch operation ${JSON.stringify(raw)}`);
    }
    const path = raw['path'];
    switch (raw['op']) {
      case 'add':
        doc = add(doc, path, raw['value']);
        break;
      case 'remove':
        doc = remove(doc, path);
        break;
      case 'replace':
        doc = replace(doc, path, raw['value']);
        break;
      case 'move': {
        const from = String(raw['from']);
        const value = getAt(doc, from);
        doc = add(remove(doc, from), path, value);
        break;
      }
      case 'copy':
        doc = add(doc, path, getAt(doc, String(raw['from'])));
        break;
      case 'test':
        if (!jsonEqual(getAt(doc, path), raw['value']))
          throw patchFailed(`testing value ${JSON.stringify(path)} failed`);
        break;
      default:
        throw badRequest(`unknown JSON patch operation ${JSON.stringify(raw['op'])}`);
    }
  }
  return doc;
}

/** RFC 7386: objects merge, `null` deletes, everything else (arrays included) replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return jsonCopy(patch);
  const result: JsonObject = isObject(target) ? jsonCopy(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else if (value !== undefined) result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/**
 * The merge keys of the built-in kinds' lists (`x-kubernetes-patch-merge-key` in their OpenAPI schemas), by field name:
 * these lists merge item by item in strategic merge patches and server-side apply; other lists are replaced whole.
 * `ports` is keyed by `containerPort` in containers and by `port` in Services.
 */
const mergeKeys: Record<string, string> = {
  addresses: 'type',
  allocatedResourcesStatus: 'name',
  conditions: 'type',
  containers: 'name',
  drivers: 'name',
  env: 'name',
  ephemeralContainers: 'name',
  hostAliases: 'ip',
  hostIPs: 'ip',
  imagePullSecrets: 'name',
  initContainers: 'name',
  matchConditions: 'name',
  ownerReferences: 'uid',
  podIPs: 'ip',
  resourceClaims: 'name',
  resourceClaimStatuses: 'name',
  reservedFor: 'uid',
  schedulingGates: 'name',
  secrets: 'name',
  topologySpreadConstraints: 'topologyKey',
  variables: 'name',
  volumeDevices: 'devicePath',
  volumeMounts: 'mountPath',
  volumes: 'name',
  webhooks: 'name',
};

/** Lists of scalars that merge as sets (`patchStrategy: merge` without a key). */
const setLists = new Set(['finalizers', 'podCIDRs']);

/** How a list merges: by a key of its items, as a set of scalars, or replaced whole (`atomic`). */
export type ListKind = { type: 'map'; key: string } | { type: 'set' } | { type: 'atomic' };

/**
 * How the list in field `field` merges, given its items. `builtin`: the built-in kinds' schemas apply; custom
 * resources only get the metadata lists' strategies (their own lists are atomic unless their CRD says otherwise,
 * which the fake does not read).
 */
export function listKind(field: string, items: readonly unknown[], builtin: boolean, inMetadata: boolean): ListKind {
  if (inMetadata && field === 'finalizers') return { type: 'set' };
  if (inMetadata && field === 'ownerReferences') return { type: 'map', key: 'uid' };
  if (!builtin || inMetadata) return { type: 'atomic' };
  if (setLists.has(field)) return { type: 'set' };
  let key = mergeKeys[field];
  if (field === 'ports') key = items.some((i) => isObject(i) && 'containerPort' in i) ? 'containerPort' : 'port';
  if (key && items.every((i) => isObject(i) && i[key] !== undefined)) return { type: 'map', key };
  return { type: 'atomic' };
}

const directive = '$patch';
const deleteFromPrefix = '$deleteFromPrimitiveList/';
const orderPrefix = '$setElementOrder/';
const retainKeys = '$retainKeys';

function strategicList(original: unknown[], patch: unknown[], kind: ListKind, builtin: boolean): unknown[] {
  if (kind.type === 'atomic') return jsonCopy(patch.filter((p) => !(isObject(p) && p[directive] !== undefined)));
  if (patch.some((p) => isObject(p) && p[directive] === 'replace')) {
    return jsonCopy(patch.filter((p) => !(isObject(p) && p[directive] === 'replace')));
  }
  if (kind.type === 'set') {
    // The patch's items first, then the original's others: the order the server produces.
    const out: unknown[] = [];
    for (const p of [...patch, ...original]) if (!out.some((o) => jsonEqual(o, p))) out.push(jsonCopy(p));
    return out;
  }
  const key = kind.key;
  // Patch items first, in patch order, then the items only the original had, each list keeping its order: the order
  // the server produces when the patch carries no $setElementOrder.
  const patched: { index: number; value: unknown }[] = [];
  const touched = new Set<number>();
  patch.forEach((p, index) => {
    if (!isObject(p)) return;
    const at = original.findIndex((o) => isObject(o) && jsonEqual(o[key], p[key]));
    if (at >= 0) touched.add(at);
    if (p[directive] === 'delete') return;
    const base = at >= 0 ? original[at] : {};
    patched.push({ index, value: strategicMerge(base, p, builtin) });
  });
  const kept = original.map((value, index) => ({ index, value })).filter((o) => !touched.has(o.index));
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < patched.length || j < kept.length) {
    if (j >= kept.length || (i < patched.length && patched[i]!.index <= kept[j]!.index)) out.push(patched[i++]!.value);
    else out.push(jsonCopy(kept[j++]!.value));
  }
  return out;
}

/**
 * Kubernetes' strategic merge patch for built-in kinds, in its common cases: maps merge (`null` deletes), lists with a
 * merge key merge item by item (`$patch: delete` removes an item, `$patch: replace` replaces the list), set-like lists
 * (finalizers) take the union, `$deleteFromPrimitiveList/<field>` removes scalars, `$retainKeys` drops unlisted keys;
 * `$setElementOrder` is accepted and ignored. Other lists are replaced whole.
 */
export function applyStrategicMergePatch(original: unknown, patch: unknown, builtin = true): unknown {
  if (!isObject(patch)) throw badRequest('a strategic merge patch must be a JSON object');
  return strategicMerge(original, patch, builtin);
}

function strategicMerge(original: unknown, patch: JsonObject, builtin: boolean, inMetadata = false): unknown {
  if (patch[directive] === 'replace') {
    const { [directive]: _, ...rest } = patch;
    return jsonCopy(rest);
  }
  if (patch[directive] === 'delete') return undefined;
  const result: JsonObject = isObject(original) ? jsonCopy(original) : {};
  const retain = patch[retainKeys];
  for (const [key, value] of Object.entries(patch)) {
    if (key === directive || key === retainKeys || key.startsWith(orderPrefix) || value === undefined) continue;
    if (key.startsWith(deleteFromPrefix)) {
      const field = key.slice(deleteFromPrefix.length);
      const current = result[field];
      if (Array.isArray(current) && Array.isArray(value))
        result[field] = current.filter((c) => !value.some((v) => jsonEqual(v, c)));
      continue;
    }
    if (value === null) {
      delete result[key];
      continue;
    }
    const current = result[key];
    const childInMetadata = inMetadata || key === 'metadata';
    if (Array.isArray(value)) {
      const kind = listKind(key, [...(Array.isArray(current) ? current : []), ...value], builtin, inMetadata);
      result[key] = strategicList(Array.isArray(current) ? current : [], value, kind, builtin);
    } else if (isObject(value)) {
      const merged = strategicMerge(current, value, builtin, childInMetadata);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else {
      result[key] = value;
    }
  }
  if (Array.isArray(retain)) {
    for (const key of Object.keys(result)) if (!retain.includes(key) && !Object.hasOwn(patch, key)) delete result[key];
  }
  return result;
}
