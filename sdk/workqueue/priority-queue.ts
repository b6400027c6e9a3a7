import { realClock, type Clock, type ClockTimer } from './clock.js';
import { DelayHeap } from './internal/delay-heap.js';
import { Deque } from './internal/deque.js';
import { DrainWaiters } from './internal/drain-waiters.js';
import { QueueMetricsRecorder } from './internal/queue-metrics.js';
import { noopMetricsProvider } from './metrics.js';
import type { QueueGetOptions } from './queue.js';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiters.js';
import type { RateLimitingQueue, RateLimitingQueueOptions } from './rate-limiting-queue.js';
import { ArgumentError, ArgumentRangeError } from './internal/errors.js';

/**
 * The priority of keys from an initial list or a resync (controller-runtime's `handler.LowPriority`): below the
 * default 0, so changes users make go first.
 */
export const lowPriority = -100;

/** Options of {@link PriorityQueue.addWithOptions}. */
export interface PriorityAddOptions {
  /** Higher is handed out first. Default: 0. */
  priority?: number;
  /** Add after this long instead of now. Default: 0. */
  afterMs?: number;
  /** Add after the rate limiter's delay for the key (one more failure); overrides `afterMs`. Default: false. */
  rateLimited?: boolean;
}

/** A key handed out by {@link PriorityQueue.getWithPriority}, with the priority it had. */
export interface PrioritizedKey<K> {
  key: K;
  priority: number;
}

/**
 * A {@link RateLimitingQueue} that hands out keys by priority, higher first: controller-runtime's priority queue
 * (its default since 0.23). `add`, `addAfter` and `addRateLimited` use priority 0; `addWithOptions` takes one.
 *
 * Guarantees, client-go's four properties, within priorities:
 * - **fair within a priority**: keys of one priority are handed out in the order they became ready (FIFO);
 * - **stingy**: a key waits once; adding a waiting key again with a higher priority raises it (to the back of its
 *   new priority), with a lower one changes nothing;
 * - **one worker per key**: a key added while it is processed is queued again on `done`, with the highest priority
 *   it was added with meanwhile;
 * - **shutdown**: as {@link Queue}'s (queued and delayed keys are dropped; `shutDownWithDrain` waits for `done`).
 *
 * Delays work as the {@link DelayingQueue}'s (a delayed key keeps the earlier of two ready times); a delayed key keeps
 * the highest priority it was delayed with and is added with it when due. Metrics are the plain queue's series, under
 * the same names.
 */
export interface PriorityQueue<K = string> extends RateLimitingQueue<K> {
  addWithOptions(key: K, options: PriorityAddOptions): void;
  /** As `get`, with the priority the key was handed out with. */
  getWithPriority(options?: QueueGetOptions): Promise<PrioritizedKey<K> | undefined>;
}

const queued = 1;
const processing = 2;
const processingDirty = 3;

interface Entry {
  state: number;
  /** Queued: its priority; dirty: the priority it is queued with on `done`. */
  priority: number;
  /** Bumped each time the key is queued anew, so stale slots in the buckets are skipped. */
  generation: number;
}

interface Slot<K> {
  key: K;
  generation: number;
}

interface Waiter<K> {
  resolve: (value: PrioritizedKey<K> | undefined) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

class PriorityQueueImpl<K> implements PriorityQueue<K> {
  readonly #entries = new Map<K, Entry>();
  /** One FIFO per priority; `#priorities` lists the non-empty ones, highest first. */
  readonly #buckets = new Map<number, Deque<Slot<K>>>();
  #priorities: number[] = [];
  #queuedCount = 0;
  #processingCount = 0;
  #shuttingDown = false;
  /** Callers of `get` waiting for a key, oldest first (a Set keeps insertion order and deletes in O(1)). */
  readonly #waiters = new Set<Waiter<K>>();
  readonly #drainWaiters = new DrainWaiters();
  readonly #delayed = new DelayHeap<K>();
  readonly #delayedPriority = new Map<K, number>();
  #timer: ClockTimer | undefined;
  #timerAt = Infinity;
  readonly #clock: Clock;
  readonly #metrics: QueueMetricsRecorder<K> | undefined;
  readonly #rateLimiter: RateLimiter<K>;

  constructor(options: RateLimitingQueueOptions<K>) {
    this.#clock = options.clock ?? realClock;
    const provider = options.metricsProvider ?? noopMetricsProvider;
    if (options.name !== undefined && options.name !== '' && provider !== noopMetricsProvider) {
      const periodMs = options.unfinishedWorkUpdatePeriodMs ?? 500;
      if (!(periodMs > 0)) throw new ArgumentRangeError(`unfinishedWorkUpdatePeriodMs must be > 0, got ${periodMs}`);
      this.#metrics = new QueueMetricsRecorder<K>(provider.newQueueMetrics(options.name), this.#clock, periodMs);
    }
    this.#rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<K>({ clock: this.#clock });
  }

  add(key: K): void {
    this.#add(key, 0);
  }

  addAfter(key: K, ms: number): void {
    this.addWithOptions(key, { afterMs: ms });
  }

  addRateLimited(key: K): void {
    this.addWithOptions(key, { rateLimited: true });
  }

  addWithOptions(key: K, options: PriorityAddOptions): void {
    if (key === undefined) throw new ArgumentError('a work queue key cannot be undefined');
    if (this.#shuttingDown) return;
    const priority = options.priority ?? 0;
    const ms = options.rateLimited ? this.#rateLimiter.when(key) : (options.afterMs ?? 0);
    if (options.rateLimited || options.afterMs !== undefined) this.#metrics?.retry();
    if (!(ms > 0)) {
      this.#add(key, priority);
      return;
    }
    const before = this.#delayedPriority.get(key);
    if (before === undefined || priority > before) this.#delayedPriority.set(key, priority);
    const readyAt = this.#clock.now() + ms;
    if (this.#delayed.push(key, readyAt) && readyAt < this.#timerAt) this.#arm();
  }

  forget(key: K): void {
    this.#rateLimiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.#rateLimiter.numRequeues(key);
  }

  len(): number {
    return this.#queuedCount;
  }

  async get(options?: QueueGetOptions): Promise<K | undefined> {
    return (await this.getWithPriority(options))?.key;
  }

  getWithPriority(options?: QueueGetOptions): Promise<PrioritizedKey<K> | undefined> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const next = this.#shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const waiter: Waiter<K> = { resolve, reject, signal, onAbort: undefined };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#waiters.delete(waiter);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.add(waiter);
    });
  }

  tryGet(): K | undefined {
    return this.#shift()?.key;
  }

  done(key: K): void {
    const entry = this.#entries.get(key);
    if (entry === undefined || entry.state === queued) return;
    this.#metrics?.done(key);
    this.#processingCount--;
    if (entry.state === processingDirty && !this.#shuttingDown) {
      this.#entries.delete(key);
      this.#enqueue(key, entry.priority);
      return;
    }
    if (entry.state === processingDirty) this.#metrics?.drop(key);
    this.#entries.delete(key);
    if (this.#processingCount === 0 && this.#shuttingDown) {
      this.#drainWaiters.release();
    }
  }

  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    for (const [key, entry] of this.#entries) {
      if (entry.state !== queued) continue;
      this.#entries.delete(key);
      this.#metrics?.drop(key);
    }
    this.#buckets.clear();
    this.#priorities = [];
    this.#queuedCount = 0;
    for (const waiter of this.#waiters) {
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(undefined);
    }
    this.#waiters.clear();
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#delayed.clear();
    this.#delayedPriority.clear();
    this.#metrics?.stop();
  }

  shutDownWithDrain(options?: { signal?: AbortSignal }): Promise<void> {
    this.shutDown();
    if (this.#processingCount === 0) return Promise.resolve();
    return this.#drainWaiters.wait(options?.signal);
  }

  shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  #add(key: K, priority: number): void {
    if (key === undefined) throw new ArgumentError('a work queue key cannot be undefined');
    if (this.#shuttingDown) return;
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#metrics?.add(key);
      this.#enqueue(key, priority);
    } else if (entry.state === queued) {
      if (priority > entry.priority) {
        // Raised: a new slot at the back of the higher priority; the old one goes stale.
        entry.priority = priority;
        entry.generation++;
        this.#pushSlot(key, entry);
      }
    } else if (entry.state === processing) {
      this.#metrics?.add(key);
      entry.state = processingDirty;
      entry.priority = priority;
    } else if (priority > entry.priority) {
      entry.priority = priority;
    }
  }

  /** Queues a key that is neither queued nor processing (its metrics `add` already counted), or hands it out. */
  #enqueue(key: K, priority: number): void {
    const waiter = this.#waiters.values().next().value;
    if (waiter !== undefined) {
      this.#waiters.delete(waiter);
      if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
      this.#entries.set(key, { state: processing, priority, generation: 0 });
      this.#processingCount++;
      this.#metrics?.get(key);
      waiter.resolve({ key, priority });
      return;
    }
    const entry: Entry = { state: queued, priority, generation: 0 };
    this.#entries.set(key, entry);
    this.#queuedCount++;
    this.#pushSlot(key, entry);
  }

  #pushSlot(key: K, entry: Entry): void {
    let bucket = this.#buckets.get(entry.priority);
    if (bucket === undefined) {
      bucket = new Deque<Slot<K>>();
      this.#buckets.set(entry.priority, bucket);
      const at = this.#priorities.findIndex((p) => p < entry.priority);
      if (at === -1) this.#priorities.push(entry.priority);
      else this.#priorities.splice(at, 0, entry.priority);
    }
    bucket.push({ key, generation: entry.generation });
  }

  #shift(): PrioritizedKey<K> | undefined {
    if (this.#shuttingDown) return undefined;
    while (this.#priorities.length > 0) {
      const priority = this.#priorities[0]!;
      const bucket = this.#buckets.get(priority)!;
      for (let slot = bucket.shift(); slot !== undefined; slot = bucket.shift()) {
        const entry = this.#entries.get(slot.key);
        if (entry === undefined || entry.state !== queued || entry.generation !== slot.generation) continue;
        entry.state = processing;
        this.#queuedCount--;
        this.#processingCount++;
        this.#metrics?.get(slot.key);
        if (bucket.size === 0) this.#dropBucket(priority);
        return { key: slot.key, priority };
      }
      this.#dropBucket(priority);
    }
    return undefined;
  }

  #dropBucket(priority: number): void {
    this.#buckets.delete(priority);
    this.#priorities.splice(this.#priorities.indexOf(priority), 1);
  }

  #arm(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#timerAt = this.#delayed.peekReadyAt();
    if (this.#timerAt === Infinity) return;
    this.#timer = this.#clock.setTimer(this.#fire, this.#timerAt - this.#clock.now());
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const now = this.#clock.now();
    while (this.#delayed.peekReadyAt() <= now) {
      const key = this.#delayed.pop()!;
      const priority = this.#delayedPriority.get(key) ?? 0;
      this.#delayedPriority.delete(key);
      this.#add(key, priority);
    }
    this.#arm();
  };
}

/**
 * Makes a {@link PriorityQueue}: the rate-limiting queue with priorities that a controller uses by default. Takes the
 * rate-limiting queue's options (`rateLimiter` defaults to {@link defaultControllerRateLimiter} on the queue's clock).
 */
export function createPriorityQueue<K = string>(options: RateLimitingQueueOptions<K> = {}): PriorityQueue<K> {
  return new PriorityQueueImpl<K>(options);
}
