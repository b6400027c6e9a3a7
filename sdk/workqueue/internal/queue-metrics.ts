import type { Clock, ClockTimer } from '../clock.js';
import type { QueueMetrics } from '../metrics.js';

/**
 * Feeds one queue's series. Only a queue with a name and a provider has one, so a queue without metrics pays a single
 * `undefined` check per operation and reads no clock.
 */
export class QueueMetricsRecorder<K> {
  readonly #series: QueueMetrics;
  readonly #clock: Clock;
  readonly #updatePeriodMs: number;
  readonly #addedAt = new Map<K, number>();
  readonly #startedAt = new Map<K, number>();
  #timer: ClockTimer | undefined;
  #stopped = false;

  constructor(series: QueueMetrics, clock: Clock, updatePeriodMs: number) {
    this.#series = series;
    this.#clock = clock;
    this.#updatePeriodMs = updatePeriodMs;
    this.#schedule();
  }

  /** A key became dirty (waiting to be handed out). It has no add time yet: that goes when it is handed out or dropped. */
  add(key: K): void {
    this.#series.adds.inc();
    this.#series.depth.inc();
    this.#addedAt.set(key, this.#clock.now());
  }

  /** A dirty key was handed out. */
  get(key: K): void {
    const now = this.#clock.now();
    this.#series.depth.dec();
    this.#startedAt.set(key, now);
    const addedAt = this.#addedAt.get(key);
    if (addedAt !== undefined) {
      this.#series.latency.observe((now - addedAt) / 1000);
      this.#addedAt.delete(key);
    }
  }

  /** A key handed out is done. */
  done(key: K): void {
    const startedAt = this.#startedAt.get(key);
    if (startedAt !== undefined) {
      this.#series.workDuration.observe((this.#clock.now() - startedAt) / 1000);
      this.#startedAt.delete(key);
    }
  }

  /** A dirty key will never be handed out: the queue shut down. */
  drop(key: K): void {
    this.#series.depth.dec();
    this.#addedAt.delete(key);
  }

  retry(): void {
    this.#series.retries.inc();
  }

  /** Stops the periodic update of the unfinished-work gauges. */
  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  updateUnfinishedWork(): void {
    const now = this.#clock.now();
    let total = 0;
    let oldest = 0;
    for (const startedAt of this.#startedAt.values()) {
      const age = (now - startedAt) / 1000;
      total += age;
      if (age > oldest) oldest = age;
    }
    this.#series.unfinishedWorkSeconds.set(total);
    this.#series.longestRunningProcessorSeconds.set(oldest);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = this.#clock.setTimer(this.#tick, this.#updatePeriodMs);
    this.#timer.unref();
  }

  readonly #tick = (): void => {
    this.#timer = undefined;
    this.updateUnfinishedWork();
    this.#schedule();
  };
}
