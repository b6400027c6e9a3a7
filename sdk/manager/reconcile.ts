import type { Logger } from 'pino';
import { KubeloopError } from '../client/index.js';

/** Which object to reconcile: its namespace (`''` for cluster-scoped) and name. The key of the work queue. */
export interface ReconcileRequest {
  namespace: string;
  name: string;
}

/**
 * What to do after a reconcile that did not throw.
 * - `{}`: done; the object is reconciled again on its next change (or resync).
 * - `{ requeueAfterMs }`: reconcile again after that long, even without a change.
 * - `priority`: the priority of that requeue (higher is reconciled first; changes have 0, initial lists and resyncs
 *   -100). Default: the priority the key had when this reconcile took it.
 */
export interface ReconcileResult {
  requeueAfterMs?: number;
  priority?: number;
}

/** Per-reconcile context: abort signal (manager stopping, leadership lost), a logger bound to the request, an ID. */
export interface ReconcileContext {
  /** Aborts when the manager stops or loses leadership: pass it to every API call. */
  signal: AbortSignal;
  /** `log.child({ controller, namespace, name, reconcileID })`. */
  log: Logger;
  /** Unique per reconcile call, for correlating logs. */
  reconcileID: string;
}

/**
 * The one-method contract of a controller, as in controller-runtime. Outcomes:
 * - returns → the key is forgotten by the rate limiter (its backoff resets);
 * - returns `{ requeueAfterMs }` → forgotten, then requeued after that long (with the result's `priority`, if any);
 * - throws (or rejects) → requeued with per-key exponential backoff (5 ms → 1000 s, with a global token bucket);
 * - throws a {@link TerminalError} → logged and counted as an error, not retried until the object changes again.
 *
 * A reconcile is level-triggered: it reads the current state and makes the world match it. It must not assume which
 * event caused it, and may run for a key whose object is gone (then it usually does nothing).
 */
export interface Reconcile {
  reconcile(request: ReconcileRequest, context: ReconcileContext): Promise<ReconcileResult>;
}

/** What a controller does with a key after its reconcile: the row of {@link Reconcile}'s outcome table that applied. */
export type ReconcileDisposition = 'success' | 'requeue_after' | 'error' | 'terminal';

/** What {@link applyReconcileOutcome} needs of a queue: kubeloop/workqueue's `PriorityQueue` is one. */
export interface OutcomeQueue {
  forget(key: string): void;
  addWithOptions(key: string, options: { priority?: number; afterMs?: number; rateLimited?: boolean }): void;
}

/** How a reconcile ended: its result, or what it threw. */
export type ReconcileEnding = { result: ReconcileResult | undefined } | { error: unknown };

/**
 * The outcome table of {@link Reconcile}, applied to a key in one place (the manager's controllers and kubeloop/testing's
 * harness both use it):
 * - returned → `forget(key)` (its backoff resets); with `requeueAfterMs > 0`, also added back after that long, with the
 *   result's `priority` or else `priority`;
 * - threw a {@link TerminalError} → `forget(key)`, not requeued;
 * - threw anything else → added back rate-limited (per-key backoff), with `priority`.
 *
 * `priority` is the one the key was handed out with.
 */
export function applyReconcileOutcome(
  queue: OutcomeQueue,
  key: string,
  priority: number,
  ending: ReconcileEnding,
): ReconcileDisposition {
  if ('error' in ending) {
    if (isTerminalError(ending.error)) {
      queue.forget(key);
      return 'terminal';
    }
    queue.addWithOptions(key, { rateLimited: true, priority });
    return 'error';
  }
  queue.forget(key);
  const after = ending.result?.requeueAfterMs;
  if (after !== undefined && after > 0) {
    queue.addWithOptions(key, { afterMs: after, priority: ending.result?.priority ?? priority });
    return 'requeue_after';
  }
  return 'success';
}

/** An error the controller does not retry: wrong input only a change of the object can fix. Code `ERR_TERMINAL`. */
export class TerminalError extends KubeloopError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('ERR_TERMINAL', message, options);
  }
}

/** True for a {@link TerminalError}, from this copy of kubeloop or another. */
export function isTerminalError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'ERR_TERMINAL';
}
