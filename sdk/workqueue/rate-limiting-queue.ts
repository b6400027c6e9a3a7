import { DelayingQueueImpl, type DelayingQueue } from './delaying-queue.js';
import type { QueueOptions } from './queue.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiters.js';

/** Options of {@link createRateLimitingQueue}. */
export interface RateLimitingQueueOptions<K = string> extends QueueOptions {
  /**
   * Decides the delay of each `addRateLimited`. Default: {@link defaultControllerRateLimiter} on the queue's `clock`.
   */
  rateLimiter?: RateLimiter<K>;
}

/**
 * A {@link DelayingQueue} that retries failed keys with backoff: what a controller's workers use. The usual loop is
 * `get` → reconcile → on success `forget(key)`, on failure `addRateLimited(key)` → `done(key)`.
 *
 * Caveats: `forget` only resets the rate limiter's memory of the key; it does not remove the key from the queue.
 * A key that always fails keeps its place in the rate limiter until it is forgotten.
 */
export interface RateLimitingQueue<K = string> extends DelayingQueue<K> {
  /** Adds `key` after the delay the rate limiter gives it (recording one more failure). Ignored once shutting down. */
  addRateLimited(key: K): void;
  /** Tells the rate limiter that `key` succeeded: its next failure starts from the shortest delay. */
  forget(key: K): void;
  /** How many times `key` was requeued with `addRateLimited` since it was last forgotten. */
  numRequeues(key: K): number;
}

class RateLimitingQueueImpl<K> extends DelayingQueueImpl<K> implements RateLimitingQueue<K> {
  readonly #rateLimiter: RateLimiter<K>;

  constructor(options: RateLimitingQueueOptions<K>) {
    super(options);
    this.#rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<K>({ clock: this.clock });
  }

  addRateLimited(key: K): void {
    if (this.shuttingDown()) return;
    this.addAfter(key, this.#rateLimiter.when(key));
  }

  forget(key: K): void {
    this.#rateLimiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.#rateLimiter.numRequeues(key);
  }
}

/** Makes a {@link RateLimitingQueue}. */
export function createRateLimitingQueue<K = string>(options: RateLimitingQueueOptions<K> = {}): RateLimitingQueue<K> {
  return new RateLimitingQueueImpl<K>(options);
}
