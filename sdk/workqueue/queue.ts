import { realClock, type Clock } from './clock.js';
import { Deque } from './internal/deque.js';
import { DrainWaiters } from './internal/drain-waiters.js';
import { QueueMetricsRecorder } from './internal/queue-metrics.js';
import { noopMetricsProvider, type MetricsProvider } from './metrics.js';
import { ArgumentError, ArgumentRangeError } from './internal/errors.js';

/** Options of {@link Queue.get}. */
export interface QueueGetOptions {
  /** Stops waiting: the promise rejects with `signal.reason` and no key is handed to this call. */
  signal?: AbortSignal;
}

/** Options of {@link createQueue}. */
export interface QueueOptions {
  /** The queue's name in metrics. Default: none, and then no metrics are recorded even with a provider. */
  name?: string;
  /** Where a named queue reports client-go's workqueue series. Default: {@link noopMetricsProvider}. */
  metricsProvider?: MetricsProvider;
  /** The time source for metrics (and for delays, in the queues that have them). Default: {@link realClock}. */
  clock?: Clock;
  /**
   * How often a named queue with a provider sets the unfinished-work and longest-running-processor gauges.
   * Default: 500 (client-go's period).
   */
  unfinishedWorkUpdatePeriodMs?: number;
}

/**
 * A work queue of keys, with client-go's four properties:
 * - **fair**: keys are handed out in the order they were added (FIFO);
 * - **stingy**: a key is queued once however often it is added before it is handed out;
 * - **one worker per key**: a key handed out is not handed out again until `done(key)`; a key added meanwhile is
 *   processed again after `done` (once, however often it was added);
 * - **shutdown**: `shutDown()` stops handing out keys; `shutDownWithDrain()` also waits until every key handed out is
 *   done.
 *
 * Keys are compared as Map keys (SameValueZero): use strings such as `"namespace/name"`, since two equal-looking
 * objects are two different keys.
 *
 * Guarantees:
 * - Every key added while the queue runs is handed out at least once afterwards, unless the queue shuts down first.
 * - Concurrent `get()` calls each receive a distinct key; waiting callers are served in the order they called.
 * - After `done(key)`, a key that was re-added is queued at the back, behind keys added before its `done`.
 *
 * Caveats:
 * - Once shut down, the queue hands out nothing: `get()` resolves `undefined` at once, waiting `get()`s resolve
 *   `undefined`, keys still queued are dropped and `add` is ignored. (client-go's `Get` keeps handing out queued
 *   items until the queue is empty; a controller's keys are hints that the next start lists again, so kubeloop stops
 *   promptly instead.)
 * - `done` of a key that is not being processed does nothing. A key handed out and never `done` is never handed out
 *   again, and keeps `shutDownWithDrain()` waiting.
 * - `undefined` is not a key (`get()` uses it to say "shut down"); `add(undefined)` throws a TypeError
 *   (code `ERR_KUBE_INVALID_ARGUMENT`).
 */
export interface Queue<K = string> {
  /** Queues `key` unless it is already waiting; if it is being processed, it is processed again after `done`. */
  add(key: K): void;
  /** The number of keys waiting to be handed out (not counting keys being processed). */
  len(): number;
  /**
   * The next key, waiting for one if the queue is empty; `undefined` once the queue is shut down. The caller owns the
   * key until it calls `done(key)`.
   *
   * Errors: rejects with `options.signal.reason` if the signal aborts before a key is handed to this call (also when it
   * is already aborted).
   */
  get(options?: QueueGetOptions): Promise<K | undefined>;
  /** The next key if one is waiting right now, else `undefined` (also once shut down). Never waits. */
  tryGet(): K | undefined;
  /** Marks a key handed out by `get`/`tryGet` as processed. */
  done(key: K): void;
  /** Stops the queue: nothing more is handed out or queued. Returns at once. */
  shutDown(): void;
  /**
   * Shuts down as `shutDown()` does, then resolves once every key handed out has been `done`.
   *
   * Errors: rejects with `options.signal.reason` if the signal aborts first (the queue stays shut down).
   */
  shutDownWithDrain(options?: { signal?: AbortSignal }): Promise<void>;
  /** True once `shutDown` or `shutDownWithDrain` was called. */
  shuttingDown(): boolean;
}

/** The key is waiting in the FIFO. */
const queued = 1;
/** The key was handed out and is not done. */
const processing = 2;
/** The key is being processed and was added again: it is queued again on `done`. */
const processingDirty = 3;

interface Waiter<K> {
  resolve: (key: K | undefined) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  prev: Waiter<K> | undefined;
  next: Waiter<K> | undefined;
}

const resolvedUndefined: Promise<undefined> = Promise.resolve(undefined);

/** The plain queue; the delaying and rate-limiting queues extend it. */
export class QueueImpl<K> implements Queue<K> {
  readonly #fifo = new Deque<K>();
  /** Every key queued or being processed, with its state. */
  readonly #state = new Map<K, number>();
  #processingCount = 0;
  #shuttingDown = false;
  #waitersHead: Waiter<K> | undefined;
  #waitersTail: Waiter<K> | undefined;
  readonly #drainWaiters = new DrainWaiters();
  protected readonly clock: Clock;
  protected readonly metrics: QueueMetricsRecorder<K> | undefined;

  constructor(options: QueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    const provider = options.metricsProvider ?? noopMetricsProvider;
    if (options.name !== undefined && options.name !== '' && provider !== noopMetricsProvider) {
      const periodMs = options.unfinishedWorkUpdatePeriodMs ?? 500;
      if (!(periodMs > 0)) throw new ArgumentRangeError(`unfinishedWorkUpdatePeriodMs must be > 0, got ${periodMs}`);
      this.metrics = new QueueMetricsRecorder<K>(provider.newQueueMetrics(options.name), this.clock, periodMs);
    }
  }

  add(key: K): void {
    if (key === undefined) throw new ArgumentError('a work queue key cannot be undefined');
    if (this.#shuttingDown) return;
    const state = this.#state.get(key);
    if (state === undefined) {
      this.metrics?.add(key);
      if (this.#waitersHead !== undefined) this.#handOut(key);
      else {
        this.#state.set(key, queued);
        this.#fifo.push(key);
      }
    } else if (state === processing) {
      this.metrics?.add(key);
      this.#state.set(key, processingDirty);
    }
    // queued or processingDirty: already waiting, nothing to do.
  }

  len(): number {
    return this.#fifo.size;
  }

  get(options?: QueueGetOptions): Promise<K | undefined> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const key = this.tryGet();
    if (key !== undefined) return Promise.resolve(key);
    if (this.#shuttingDown) return resolvedUndefined;
    return new Promise<K | undefined>((resolve, reject) => {
      const waiter: Waiter<K> = {
        resolve,
        reject,
        signal,
        onAbort: undefined,
        prev: this.#waitersTail,
        next: undefined,
      };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.#unlink(waiter);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      if (this.#waitersTail === undefined) this.#waitersHead = waiter;
      else this.#waitersTail.next = waiter;
      this.#waitersTail = waiter;
    });
  }

  tryGet(): K | undefined {
    if (this.#shuttingDown) return undefined;
    const key = this.#fifo.shift();
    if (key === undefined) return undefined;
    this.#state.set(key, processing);
    this.#processingCount++;
    this.metrics?.get(key);
    return key;
  }

  done(key: K): void {
    const state = this.#state.get(key);
    if (state === processing) {
      this.#state.delete(key);
    } else if (state === processingDirty) {
      if (this.#shuttingDown) {
        this.#state.delete(key);
        this.metrics?.drop(key);
      } else if (this.#waitersHead !== undefined) {
        this.metrics?.done(key);
        this.#processingCount--;
        this.#handOut(key);
        return;
      } else {
        this.#state.set(key, queued);
        this.#fifo.push(key);
      }
    } else {
      return; // not being processed
    }
    this.metrics?.done(key);
    this.#processingCount--;
    if (this.#processingCount === 0 && this.#shuttingDown) this.#drained();
  }

  shutDown(): void {
    if (this.#shuttingDown) return;
    this.#shuttingDown = true;
    this.#fifo.drain((key) => {
      this.#state.delete(key);
      this.metrics?.drop(key);
    });
    for (let waiter = this.#waitersHead; waiter !== undefined; waiter = waiter.next) {
      if (waiter.onAbort !== undefined) waiter.signal!.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(undefined);
    }
    this.#waitersHead = undefined;
    this.#waitersTail = undefined;
    this.metrics?.stop();
    this.onShutDown();
  }

  shutDownWithDrain(options?: { signal?: AbortSignal }): Promise<void> {
    this.shutDown();
    if (this.#processingCount === 0) return Promise.resolve();
    return this.#drainWaiters.wait(options?.signal);
  }

  shuttingDown(): boolean {
    return this.#shuttingDown;
  }

  /** Called once, when the queue starts shutting down. */
  protected onShutDown(): void {}

  /** Hands `key` (not in the FIFO) to the longest-waiting `get`. */
  #handOut(key: K): void {
    const waiter = this.#waitersHead!;
    this.#unlink(waiter);
    if (waiter.onAbort !== undefined) waiter.signal!.removeEventListener('abort', waiter.onAbort);
    this.#state.set(key, processing);
    this.#processingCount++;
    this.metrics?.get(key);
    waiter.resolve(key);
  }

  #unlink(waiter: Waiter<K>): void {
    if (waiter.prev === undefined) this.#waitersHead = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.#waitersTail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = undefined;
    waiter.next = undefined;
  }

  #drained(): void {
    this.#drainWaiters.release();
  }
}

/** Makes a {@link Queue}. */
export function createQueue<K = string>(options?: QueueOptions): Queue<K> {
  return new QueueImpl<K>(options);
}
