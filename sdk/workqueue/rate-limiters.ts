import { realClock, type Clock } from './clock.js';
import { ArgumentRangeError } from './internal/errors.js';

/**
 * Decides how long a key waits before it is retried. A {@link RateLimitingQueue} calls `when` on every
 * `addRateLimited`, `forget` when the caller says the key succeeded, and `numRequeues` when asked.
 *
 * Guarantees (of the limiters made here): `when` returns a finite number of milliseconds >= 0, and `forget` of an
 * unknown key does nothing.
 */
export interface RateLimiter<K = string> {
  /** Records one more failure (or reserves one more slot) for `key` and returns the milliseconds to wait. */
  when(key: K): number;
  /** Forgets `key`'s failures: its next `when` starts from the shortest delay again. */
  forget(key: K): void;
  /** How many times `when` was called for `key` since it was last forgotten (0 for limiters that do not count). */
  numRequeues(key: K): number;
}

function requireNonNegative(name: string, value: number): number {
  if (!(value >= 0)) throw new ArgumentRangeError(`${name} must be a number >= 0, got ${value}`);
  return value;
}

/** Options of {@link createExponentialFailureRateLimiter}. */
export interface ExponentialFailureRateLimiterOptions {
  /** The delay after the first failure. Default: 5. */
  baseDelayMs?: number;
  /** The longest delay. Default: 1_000_000 (1000 s). */
  maxDelayMs?: number;
}

/**
 * Per-key exponential backoff: the n-th failure of a key since it was forgotten waits `baseDelayMs * 2^(n-1)`, at
 * most `maxDelayMs` (client-go's ItemExponentialFailureRateLimiter).
 *
 * Caveats: it remembers every key that failed until it is forgotten: call `forget` when a key succeeds.
 */
export function createExponentialFailureRateLimiter<K = string>(
  options: ExponentialFailureRateLimiterOptions = {},
): RateLimiter<K> {
  const baseDelayMs = requireNonNegative('baseDelayMs', options.baseDelayMs ?? 5);
  const maxDelayMs = requireNonNegative('maxDelayMs', options.maxDelayMs ?? 1_000_000);
  const failures = new Map<K, number>();
  return {
    when(key) {
      const exp = failures.get(key) ?? 0;
      failures.set(key, exp + 1);
      const delayMs = baseDelayMs * 2 ** exp;
      return delayMs > maxDelayMs ? maxDelayMs : delayMs;
    },
    forget(key) {
      failures.delete(key);
    },
    numRequeues: (key) => failures.get(key) ?? 0,
  };
}

/** Options of {@link createTokenBucketRateLimiter}. */
export interface TokenBucketRateLimiterOptions {
  /** Tokens added per second. `Infinity` never delays. Default: 10. */
  ratePerSecond?: number;
  /** The bucket's size: how many calls pass at once before the rate applies; an integer >= 1. Default: 100. */
  burst?: number;
  /** Default: {@link realClock}. */
  clock?: Clock;
}

/**
 * One token bucket for all keys (client-go's BucketRateLimiter over golang.org/x/time/rate): the bucket starts full
 * with `burst` tokens and refills at `ratePerSecond`. Each `when` takes a token, reserving a future one if the
 * bucket is empty, and returns how long until that token exists; so n calls at once are spread `1000 / ratePerSecond`
 * ms apart after the first `burst`.
 *
 * Caveats: it does not count per key: `numRequeues` is always 0 and `forget` does nothing. A reservation is never
 * given back.
 */
export function createTokenBucketRateLimiter<K = string>(options: TokenBucketRateLimiterOptions = {}): RateLimiter<K> {
  const ratePerSecond = options.ratePerSecond ?? 10;
  const burst = options.burst ?? 100;
  const clock = options.clock ?? realClock;
  if (!(ratePerSecond > 0)) throw new ArgumentRangeError(`ratePerSecond must be > 0, got ${ratePerSecond}`);
  if (!Number.isInteger(burst) || burst < 1)
    throw new ArgumentRangeError(`burst must be an integer >= 1, got ${burst}`);
  let tokens = burst;
  let last = clock.now();
  return {
    when() {
      if (ratePerSecond === Infinity) return 0;
      const now = clock.now();
      const elapsedMs = now > last ? now - last : 0;
      tokens = Math.min(burst, tokens + (elapsedMs * ratePerSecond) / 1000) - 1;
      last = now > last ? now : last;
      return tokens < 0 ? (-tokens * 1000) / ratePerSecond : 0;
    },
    forget() {},
    numRequeues: () => 0,
  };
}

/**
 * Combines limiters: `when` asks every one (so each records the failure) and returns the longest delay;
 * `numRequeues` is the largest count; `forget` forgets in all (client-go's MaxOfRateLimiter).
 */
export function createMaxOfRateLimiter<K = string>(limiters: readonly RateLimiter<K>[]): RateLimiter<K> {
  const all = [...limiters];
  return {
    when(key) {
      let delayMs = 0;
      for (const limiter of all) delayMs = Math.max(delayMs, limiter.when(key));
      return delayMs;
    },
    forget(key) {
      for (const limiter of all) limiter.forget(key);
    },
    numRequeues(key) {
      let count = 0;
      for (const limiter of all) count = Math.max(count, limiter.numRequeues(key));
      return count;
    },
  };
}

/** Options of {@link createFastSlowRateLimiter}. */
export interface FastSlowRateLimiterOptions {
  /** The delay of a key's first `maxFastAttempts` failures. */
  fastDelayMs: number;
  /** The delay of every later failure. */
  slowDelayMs: number;
  /** How many failures of a key get the fast delay. */
  maxFastAttempts: number;
}

/**
 * Per key: `fastDelayMs` for the first `maxFastAttempts` failures since the key was forgotten, then `slowDelayMs`
 * (client-go's ItemFastSlowRateLimiter).
 *
 * Caveats: it remembers every key that failed until it is forgotten: call `forget` when a key succeeds.
 */
export function createFastSlowRateLimiter<K = string>(options: FastSlowRateLimiterOptions): RateLimiter<K> {
  const fastDelayMs = requireNonNegative('fastDelayMs', options.fastDelayMs);
  const slowDelayMs = requireNonNegative('slowDelayMs', options.slowDelayMs);
  const maxFastAttempts = requireNonNegative('maxFastAttempts', options.maxFastAttempts);
  const failures = new Map<K, number>();
  return {
    when(key) {
      const count = (failures.get(key) ?? 0) + 1;
      failures.set(key, count);
      return count <= maxFastAttempts ? fastDelayMs : slowDelayMs;
    },
    forget(key) {
      failures.delete(key);
    },
    numRequeues: (key) => failures.get(key) ?? 0,
  };
}

/** Options of {@link defaultControllerRateLimiter}. */
export interface DefaultControllerRateLimiterOptions {
  /** The clock of the token bucket. Default: {@link realClock}. */
  clock?: Clock;
}

/**
 * client-go's DefaultControllerRateLimiter: the longer of per-key exponential backoff from 5 ms to 1000 s and one
 * token bucket of 10 per second with a burst of 100 for all keys.
 */
export function defaultControllerRateLimiter<K = string>(
  options: DefaultControllerRateLimiterOptions = {},
): RateLimiter<K> {
  return createMaxOfRateLimiter<K>([
    createExponentialFailureRateLimiter<K>({ baseDelayMs: 5, maxDelayMs: 1_000_000 }),
    createTokenBucketRateLimiter<K>({ ratePerSecond: 10, burst: 100, clock: options.clock }),
  ]);
}
