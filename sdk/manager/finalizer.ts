import type { KubeObject, RequestOptions } from '../client/index.js';
import type { Client } from './client-types.js';
import type { ReconcileResult } from './reconcile.js';

/** What {@link finalizer} asks the reconcile function to do with the object. */
export type FinalizerEvent<T> =
  /** The object lives (and carries the finalizer): make the world match it. */
  | { type: 'apply'; object: T }
  /** The object is being deleted: undo what `apply` did outside the object. The finalizer goes once this succeeds. */
  | { type: 'cleanup'; object: T };

/**
 * Runs a reconcile that must clean up before its object may go, with a finalizer named `name`
 * (e.g. `widgets.example.com/cleanup`).
 *
 * - The object lives and lacks the finalizer: adds it (a JSON patch that tests the resourceVersion, so it never
 *   overwrites a newer object), then calls `reconcile({ type: 'apply' })` with the patched object.
 * - The object lives and has it: `reconcile({ type: 'apply' })`.
 * - The object is being deleted and has it: `reconcile({ type: 'cleanup' })`; when that resolves, removes the finalizer
 *   (a JSON patch that tests the entry it removes) and the API server finishes the deletion.
 * - The object is being deleted and lacks it: nothing; returns `{}`.
 *
 * Guarantees: cleanup runs before the finalizer is removed, and the finalizer is removed only after a cleanup that
 * did not throw. Other controllers' finalizers are never touched.
 *
 * Recovery: a cleanup that throws leaves the finalizer in place and the error propagates, so the controller retries
 * with backoff (a `TerminalError` stops the retries: the object then stays until someone removes the finalizer).
 *
 * Errors: a stale object (its resourceVersion or finalizers changed on the server) makes the patch fail with 409 or
 * 422; the reconcile is retried with the fresh object.
 *
 * Caveats: cleanup may run more than once (a crash after cleanup, before the patch): make it idempotent. An object
 * deleted before the finalizer was added is gone without cleanup, which is right only if `apply` never ran for it.
 */
export async function finalizer<T extends KubeObject>(
  client: Client,
  name: string,
  obj: T,
  reconcile: (event: FinalizerEvent<T>) => Promise<ReconcileResult>,
  options: RequestOptions = {},
): Promise<ReconcileResult> {
  const finalizers = obj.metadata?.finalizers ?? [];
  const index = finalizers.indexOf(name);
  if (obj.metadata?.deletionTimestamp) {
    if (index < 0) return {};
    await reconcile({ type: 'cleanup', object: obj });
    const path = `/metadata/finalizers/${index}`;
    await client.patch(
      obj,
      [
        { op: 'test', path, value: name },
        { op: 'remove', path },
      ],
      { ...options, patchType: 'json' },
    );
    return {}; // the object goes now: nothing to requeue
  }
  if (index >= 0) return reconcile({ type: 'apply', object: obj });
  const resourceVersion = obj.metadata?.resourceVersion;
  const add = obj.metadata?.finalizers
    ? { op: 'add', path: '/metadata/finalizers/-', value: name }
    : { op: 'add', path: '/metadata/finalizers', value: [name] };
  const ops = resourceVersion
    ? [{ op: 'test', path: '/metadata/resourceVersion', value: resourceVersion }, add]
    : [add];
  const patched = await client.patch(obj, ops, { ...options, patchType: 'json' });
  return reconcile({ type: 'apply', object: patched });
}
