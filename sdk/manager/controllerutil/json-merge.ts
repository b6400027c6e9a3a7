// JSON merge patches (RFC 7386): what createOrPatch sends (JSON equality is kubeloop/client's jsonEqual). Part of
// controllerutil (../controllerutil.ts).
import { jsonEqual } from '../../client/index.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The JSON merge patch (RFC 7386) that turns `from` into `to`: changed fields set, removed ones `null`, lists
 * replaced whole. For two objects; anything else yields `to` itself.
 */
export function mergePatch(from: unknown, to: unknown): unknown {
  if (!isPlainObject(from) || !isPlainObject(to)) return to === undefined ? null : to;
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(from)) {
    if (v !== undefined && to[k] === undefined) patch[k] = null;
  }
  for (const [k, v] of Object.entries(to)) {
    if (v === undefined || jsonEqual(from[k], v)) continue;
    patch[k] = isPlainObject(v) && isPlainObject(from[k]) ? mergePatch(from[k], v) : v;
  }
  return patch;
}
