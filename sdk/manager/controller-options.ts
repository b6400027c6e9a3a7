import type { RateLimiter } from '../workqueue/index.js';
import { ArgumentRangeError } from '../client/index.js';

/**
 * How a controller runs, the one shape of these settings (controller-runtime's `controller.Options`): the fields of
 * `@Reconciler({...})`, the argument of the builder's `withOptions(...)`, and what the manager hands each controller.
 * Every field is optional; each one's default is in its doc.
 */
export interface ControllerOptions {
  /** Workers reconciling different keys at once; a whole number ≥ 1. Default: 1. */
  maxConcurrentReconciles?: number;
  /** The queue's rate limiter for retries after errors. Default: `defaultControllerRateLimiter()` (client-go's). */
  rateLimiter?: RateLimiter<string>;
  /**
   * Abort a reconcile's `context.signal` after this long (its API calls then fail; the reconcile counts as failed and
   * is retried with backoff). Default: 0, no limit.
   */
  reconcileTimeoutMs?: number;
  /**
   * How long the controller's start waits for its informers' first sync before failing; time an informer spends
   * waiting for its resource (a CRD not installed yet) does not count. Default: 120000.
   */
  cacheSyncTimeoutMs?: number;
}

const optionKeys = [
  'maxConcurrentReconciles',
  'rateLimiter',
  'reconcileTimeoutMs',
  'cacheSyncTimeoutMs',
] as const satisfies readonly (keyof ControllerOptions)[];

/**
 * The {@link ControllerOptions} fields of `options` that are set (a decorator's metadata carries other fields too),
 * checked: `maxConcurrentReconciles` must be a whole number ≥ 1.
 */
export function pickControllerOptions(options: ControllerOptions): ControllerOptions {
  const max = options.maxConcurrentReconciles;
  if (max !== undefined && (!Number.isInteger(max) || max < 1)) {
    throw new ArgumentRangeError(`maxConcurrentReconciles must be a whole number ≥ 1, not ${max}`);
  }
  const picked: Record<string, unknown> = {};
  for (const key of optionKeys) if (options[key] !== undefined) picked[key] = options[key];
  return picked as ControllerOptions;
}
