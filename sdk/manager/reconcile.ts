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
 */
export interface ReconcileResult {
  requeueAfterMs?: number;
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
 * - returns `{ requeueAfterMs }` → forgotten, then requeued after that long;
 * - throws (or rejects) → requeued with per-key exponential backoff (5 ms → 1000 s, with a global token bucket);
 * - throws a {@link TerminalError} → logged and counted as an error, not retried until the object changes again.
 *
 * A reconcile is level-triggered: it reads the current state and makes the world match it. It must not assume which
 * event caused it, and may run for a key whose object is gone (then it usually does nothing).
 */
export interface Reconcile {
  reconcile(request: ReconcileRequest, context: ReconcileContext): Promise<ReconcileResult>;
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
