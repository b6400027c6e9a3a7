import { ArgumentRangeError } from './internal/errors.js';
import type { WallClock } from '../clock/index.js';

// The Clock itself lives in the leaf sdk/clock, shared with kubeloop/leaderelection; the queues import it from here.
export { realClock, type Clock, type ClockTimer, type WallClock } from '../clock/index.js';

/**
 * A clock that moves only when told to, for tests of code that waits: backoff, delayed requeues, periodic metrics.
 * Timer callbacks run synchronously inside `advance` and `step`; promises they settle resolve after those return, so
 * `await` once (or use a wait-for-condition) before asserting on asynchronous consumers.
 */
export interface FakeClock extends WallClock {
  /**
   * Moves time forward by `ms`, firing every timer that falls due on the way, earliest first (ties in the order the
   * timers were made). Each callback sees `now()` equal to its own due time; timers made by callbacks fire too if they
   * fall due within the same advance. Throws a RangeError (code `ERR_KUBE_INVALID_ARGUMENT`) for a negative or
   * non-finite `ms`.
   */
  advance(ms: number): void;
  /**
   * Moves time to the earliest pending timer and fires it, with any others due at the same instant. Returns the
   * milliseconds time moved, or `undefined` (time unchanged) when no timer is pending.
   */
  step(): number | undefined;
  /** How many timers are pending (made, not yet fired, not cancelled). */
  pendingTimers(): number;
}

/** Options of {@link createFakeClock}. */
export interface FakeClockOptions {
  /** The initial reading of `now()`. Default: 0. */
  startMs?: number;
  /** The initial `wallTime()`; it then moves with `now()`. Default: the system time when the clock is made. */
  startTime?: Date | number;
}

interface FakeTimer {
  dueAt: number;
  seq: number;
  callback: (() => void) | undefined;
}

/** Makes a {@link FakeClock}. */
export function createFakeClock(options: FakeClockOptions = {}): FakeClock {
  let now = options.startMs ?? 0;
  const origin = now;
  const startWallMs = options.startTime === undefined ? Date.now() : new Date(options.startTime).getTime();
  let seq = 0;
  // Pending timers sorted by (dueAt, seq). Test code keeps few timers; a sorted array is plenty.
  const pending: FakeTimer[] = [];

  const insert = (timer: FakeTimer): void => {
    let lo = 0;
    let hi = pending.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = pending[mid]!;
      if (other.dueAt < timer.dueAt || (other.dueAt === timer.dueAt && other.seq < timer.seq)) lo = mid + 1;
      else hi = mid;
    }
    pending.splice(lo, 0, timer);
  };

  const fireNext = (): void => {
    const timer = pending.shift()!;
    now = Math.max(now, timer.dueAt);
    const callback = timer.callback!;
    timer.callback = undefined;
    callback();
  };

  return {
    now: () => now,
    wallTime: () => new Date(startWallMs + (now - origin)),
    setTimer(callback, delayMs) {
      const timer: FakeTimer = { dueAt: now + Math.max(0, delayMs), seq: seq++, callback };
      insert(timer);
      return {
        cancel() {
          if (timer.callback === undefined) return;
          timer.callback = undefined;
          const index = pending.indexOf(timer);
          if (index >= 0) pending.splice(index, 1);
        },
        unref() {},
      };
    },
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new ArgumentRangeError(`advance(ms) needs a finite ms >= 0, got ${ms}`);
      const target = now + ms;
      while (pending.length > 0 && pending[0]!.dueAt <= target) fireNext();
      now = target;
    },
    step() {
      const first = pending[0];
      if (first === undefined) return undefined;
      const from = now;
      const dueAt = Math.max(now, first.dueAt);
      while (pending.length > 0 && pending[0]!.dueAt <= dueAt) fireNext();
      return dueAt - from;
    },
    pendingTimers: () => pending.length,
  };
}
