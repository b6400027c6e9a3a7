/** How a reflector waits between failed attempts. Every field has a default. */
export interface BackoffOptions {
  /** The first delay. Default: 800. */
  initialMs?: number;
  /** No delay is longer than this. Default: 30000. */
  maxMs?: number;
  /** Each failure multiplies the delay by this. Default: 2. */
  factor?: number;
  /** A delay `d` becomes `d × (1 + jitter × r)`, `r` uniform in [0, 1), before the cap. Default: 1. */
  jitter?: number;
  /** After this long without a failure, the next delay starts again at `initialMs`. Default: 120000. */
  resetAfterMs?: number;
  /** Source of randomness in [0, 1), for tests. Default: Math.random. */
  random?: () => number;
  /** Clock in milliseconds, for tests. Default: Date.now. */
  now?: () => number;
}

/**
 * Exponential backoff with jitter and a reset after a healthy period: client-go's backoff manager, with its defaults
 * (800 ms doubling to 30 s, jitter 1.0, reset after 2 min).
 *
 * Guarantees: every delay is in `[min(initialMs × factorⁿ, maxMs), maxMs]` for the n-th failure since the last reset.
 */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly resetAfterMs: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private failures = 0;
  private lastFailureAt = Number.NEGATIVE_INFINITY;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 800;
    this.maxMs = options.maxMs ?? 30_000;
    this.factor = options.factor ?? 2;
    this.jitter = options.jitter ?? 1;
    this.resetAfterMs = options.resetAfterMs ?? 120_000;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /** Records a failure and returns how long to wait before the next attempt. */
  next(): number {
    const now = this.now();
    if (now - this.lastFailureAt > this.resetAfterMs) this.failures = 0;
    this.lastFailureAt = now;
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** this.failures);
    this.failures++;
    return Math.min(this.maxMs, base * (1 + this.jitter * this.random()));
  }

  /** Forgets past failures: the next delay is `initialMs` (with jitter). */
  reset(): void {
    this.failures = 0;
    this.lastFailureAt = Number.NEGATIVE_INFINITY;
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.failures;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts; never rejects, and leaves no timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
