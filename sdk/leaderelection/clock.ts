import { realClock, type Clock, type ClockTimer } from '../clock/index.js';

/** A pending one-shot timer made by a {@link LeaderElectionClock}: the shared clock's timer. */
export type LeaderElectionTimer = ClockTimer;

/**
 * Time as the elector sees it: the one `Clock` kubeloop/workqueue has too (so a test can share one fake clock,
 * `createFakeClock()`, between the two packages), with the wall time it stamps the Lease with. `now()` measures the
 * renew deadline and lease expiry; its guarantees are the Clock's: it never goes backwards, and a timer's callback
 * runs at most once, never before `delayMs` has passed on this clock, never after `cancel()`.
 */
export interface LeaderElectionClock extends Clock {
  /**
   * Milliseconds since the Unix epoch, used only to stamp `acquireTime` and `renewTime` (nothing compares those with a
   * clock). Default when absent: `Date.now()`.
   */
  epochMs?(): number;
}

/** The default clock: the real clock (`performance.now()`, Node timers never firing early), and `Date.now()` for the stamps. */
export const realLeaderElectionClock: LeaderElectionClock = {
  now: realClock.now,
  setTimer: realClock.setTimer,
  epochMs: () => Date.now(),
};

/** Resolves `true` after `delayMs` on `clock`, or `false` as soon as `signal` aborts (at once if it already has). */
export function sleep(clock: LeaderElectionClock, delayMs: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      timer.cancel();
      resolve(false);
    };
    const timer = clock.setTimer(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, delayMs);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Settles like `promise`, or rejects with `signal.reason` as soon as `signal` aborts, whichever comes first: a call
 * that ignores its signal still cannot hold the caller past it.
 */
export async function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  // The abandoned promise may still reject later: never let that become an unhandled rejection.
  promise.catch(() => {});
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as unknown);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** An AbortController that aborts with a TimeoutError DOMException after `delayMs` on `clock`, or with a parent's reason
 * when one of `parents` aborts. Call `dispose()` once done to cancel the timer and drop the listeners. */
export function deadlineController(
  clock: LeaderElectionClock,
  delayMs: number,
  message: string,
  parents: readonly AbortSignal[],
): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const listeners: [AbortSignal, () => void][] = [];
  let timer: LeaderElectionTimer | undefined;
  const dispose = (): void => {
    timer?.cancel();
    for (const [parent, listener] of listeners) parent.removeEventListener('abort', listener);
    listeners.length = 0;
  };
  for (const parent of parents) {
    if (parent.aborted) {
      controller.abort(parent.reason);
      return { signal: controller.signal, dispose };
    }
  }
  timer = clock.setTimer(() => {
    dispose();
    controller.abort(new DOMException(message, 'TimeoutError'));
  }, delayMs);
  for (const parent of parents) {
    const listener = (): void => {
      dispose();
      controller.abort(parent.reason);
    };
    parent.addEventListener('abort', listener, { once: true });
    listeners.push([parent, listener]);
  }
  return { signal: controller.signal, dispose };
}
