/**
 * Time for kubeloop's packages: the one `Clock` (a monotonic millisecond reading and one-shot timers), the `WallClock`
 * that also tells the date, and the real clock. A leaf: it imports nothing, so kubeloop/workqueue (which must not
 * depend on Kubernetes code) and kubeloop/leaderelection can both take the same clock, and a test can hand one fake
 * clock (kubeloop/workqueue's `createFakeClock()`) to both. Not an entry of the package: users import these names from
 * kubeloop/workqueue (and the elector's from kubeloop/leaderelection).
 */

/** A pending one-shot timer made by a {@link Clock}. */
export interface ClockTimer {
  /** Stops the timer. Does nothing if it already fired or was cancelled. */
  cancel(): void;
  /** Lets the process exit while this timer is pending (Node's `unref`). A fake clock ignores it. */
  unref(): void;
}

/**
 * Time as the queues, rate limiters and the leader elector see it: a monotonic millisecond reading and one-shot
 * timers. Pass kubeloop/workqueue's `createFakeClock()` in tests to move time by hand instead of sleeping.
 *
 * Guarantees:
 * - `now()` never goes backwards. Its origin is arbitrary: only differences mean something.
 * - A timer's callback runs at most once, never before `delayMs` has passed on this clock, and never after `cancel()`.
 */
export interface Clock {
  /** Milliseconds since an arbitrary origin (may be fractional). */
  now(): number;
  /** Calls `callback` once, `delayMs` from now (a negative or zero delay: as soon as possible). */
  setTimer(callback: () => void, delayMs: number): ClockTimer;
}

/**
 * A {@link Clock} that also tells the wall-clock time, for code that schedules by the calendar (a cron schedule, an
 * expiry date) and must be testable: a fake clock moves `wallTime()` and `now()` together, and fires timers.
 *
 * Guarantees: `wallTime()` of a fake clock moves exactly as `now()` does. The real clock's follows the system clock,
 * which may jump (NTP, a manual change): measure durations with `now()`.
 */
export interface WallClock extends Clock {
  /** The current date and time. */
  wallTime(): Date;
}

/** The largest delay Node's `setTimeout` honours; longer timers are chained. */
const maxTimeoutMs = 2_147_483_647;

class RealTimer implements ClockTimer {
  #handle: NodeJS.Timeout | undefined;
  #unref = false;
  readonly #callback: () => void;
  readonly #dueAt: number;

  constructor(callback: () => void, delayMs: number) {
    this.#callback = callback;
    this.#dueAt = performance.now() + Math.max(0, delayMs);
    this.#arm(delayMs);
  }

  #arm(delayMs: number): void {
    // Timers may fire a fraction of a millisecond early against performance.now(): round up, and check on firing.
    this.#handle = setTimeout(this.#fire, Math.min(maxTimeoutMs, Math.max(1, Math.ceil(delayMs))));
    if (this.#unref) this.#handle.unref();
  }

  readonly #fire = (): void => {
    const remaining = this.#dueAt - performance.now();
    if (remaining > 0) {
      this.#arm(remaining);
      return;
    }
    this.#handle = undefined;
    this.#callback();
  };

  cancel(): void {
    if (this.#handle !== undefined) clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  unref(): void {
    this.#unref = true;
    this.#handle?.unref();
  }
}

/**
 * The default clock: `performance.now()` and Node timers. Its timers keep the process alive unless `unref()`ed, and
 * delays longer than Node's limit (about 24.8 days) are honoured by chaining timers.
 */
export const realClock: WallClock = {
  now: () => performance.now(),
  wallTime: () => new Date(),
  setTimer: (callback, delayMs) => new RealTimer(callback, delayMs),
};
