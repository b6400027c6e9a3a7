// Finalizers on an object, in place. Part of controllerutil (../controllerutil.ts); the finalizer() helper that runs
// cleanup is ../finalizer.ts.
import type { KubeObject } from '../../client/index.js';

/** Adds `finalizer` to the object unless it is there. Returns whether it changed the object. */
export function addFinalizer(obj: KubeObject, finalizer: string): boolean {
  obj.metadata ??= {};
  const finalizers = (obj.metadata.finalizers ??= []);
  if (finalizers.includes(finalizer)) return false;
  finalizers.push(finalizer);
  return true;
}

/** Removes every occurrence of `finalizer`. Returns whether it changed the object. An emptied list is removed. */
export function removeFinalizer(obj: KubeObject, finalizer: string): boolean {
  const finalizers = obj.metadata?.finalizers;
  if (!finalizers?.includes(finalizer)) return false;
  const kept = finalizers.filter((f) => f !== finalizer);
  if (kept.length === 0) delete obj.metadata!.finalizers;
  else obj.metadata!.finalizers = kept;
  return true;
}

/** True when the object has `finalizer`. Works on cached (read-only) objects. */
export function containsFinalizer(
  obj: { readonly metadata?: { readonly finalizers?: readonly string[] } },
  finalizer: string,
): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}
