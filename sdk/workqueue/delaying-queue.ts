import type { ClockTimer } from './clock.js';
import { DelayHeap } from './internal/delay-heap.js';
import { QueueImpl, type Queue, type QueueOptions } from './queue.js';
import { ArgumentError } from './internal/errors.js';

/** Options of {@link createDelayingQueue}: those of a plain queue; `clock` also times the delays. */
export type DelayingQueueOptions = QueueOptions;

/**
 * A {@link Queue} that can also add a key later.
 *
 * Guarantees:
 * - A key given to `addAfter(key, ms)` is added (as by `add`) no earlier than `ms` after the call on the queue's
 *   clock, and promptly after that while the event loop is free.
 * - A key waits once: `addAfter` of a key that is already waiting keeps the earlier of the two times (client-go's
 *   semantics), so a later call can bring a key forward but never push it back. Keys due at the same time are added
 *   in the order they were first delayed.
 * - All delayed keys share one timer, set for the earliest of them; there is no timer when nothing is delayed.
 *
 * Caveats:
 * - While keys are delayed, that timer keeps the process alive (they are pending work); shutting down drops the
 *   delayed keys and cancels it.
 * - A delayed key and the same key in the queue are independent: when the delay ends, `add` de-duplicates as usual.
 */
export interface DelayingQueue<K = string> extends Queue<K> {
  /** Adds `key` after `ms` milliseconds; at once if `ms <= 0`. Ignored once the queue is shutting down. */
  addAfter(key: K, ms: number): void;
}

/** The delaying queue; the rate-limiting queue extends it. */
export class DelayingQueueImpl<K> extends QueueImpl<K> implements DelayingQueue<K> {
  readonly #heap = new DelayHeap<K>();
  #timer: ClockTimer | undefined;
  /** The ready time the timer is set for; Infinity when there is no timer. */
  #timerAt = Infinity;

  addAfter(key: K, ms: number): void {
    if (this.shuttingDown()) return;
    this.metrics?.retry();
    if (!(ms > 0)) {
      // Zero, negative and NaN delays mean now.
      this.add(key);
      return;
    }
    if (key === undefined) throw new ArgumentError('a work queue key cannot be undefined');
    const readyAt = this.clock.now() + ms;
    if (this.#heap.push(key, readyAt) && readyAt < this.#timerAt) this.#arm();
  }

  protected override onShutDown(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#heap.clear();
    super.onShutDown();
  }

  /** Sets the one timer for the earliest delayed key, replacing any other. */
  #arm(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = this.#heap.peekReadyAt();
    if (this.#timerAt === Infinity) return;
    this.#timer = this.clock.setTimer(this.#fire, this.#timerAt - this.clock.now());
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const now = this.clock.now();
    while (this.#heap.peekReadyAt() <= now) this.add(this.#heap.pop()!);
    this.#arm();
  };
}

/** Makes a {@link DelayingQueue}. */
export function createDelayingQueue<K = string>(options?: DelayingQueueOptions): DelayingQueue<K> {
  return new DelayingQueueImpl<K>(options);
}
