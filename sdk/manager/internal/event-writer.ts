// The event recorder's writer: one queue of creates and series patches, written in order by one worker, with
// retries of writes that got no answer, a bounded length (new writes are dropped when it is full), flush and shutdown.
// What to write comes from the correlator (./event-correlator.ts).
import { isAlreadyExists, isKubeloopError, isNotFound, KubeloopError } from '../../client/index.js';
import type { Clock, ClockTimer } from '../../workqueue/index.js';
import type { EventLogger, EventSink } from '../events.js';
import { eventBody, type EventSeries } from './event-correlator.js';

export interface EventWriterOptions {
  sink: EventSink;
  log: EventLogger;
  /** Writes waiting before new ones are dropped. */
  maxQueueLength: number;
  /** Tries of a write that got no answer, counting the first. */
  maxAttempts: number;
  /** Wait between those tries. */
  retryDelayMs: number;
  clock: Clock;
  /** Called when a series' Event is dropped (rejected, out of tries, not queued): its next occurrence is new. */
  onDropped(series: EventSeries): void;
}

/** Where a series' Event stands. A create not yet sent carries the count itself; otherwise one patch carries it. */
interface SeriesWrite {
  series: EventSeries;
  state: 'queued' | 'sending' | 'created' | 'dropped';
  patchQueued: boolean;
}

interface Job {
  kind: 'create' | 'patch';
  write: SeriesWrite;
  attempts: number;
}

export class EventWriter {
  readonly #options: EventWriterOptions;
  readonly #writes = new WeakMap<EventSeries, SeriesWrite>();
  readonly #queue: Job[] = [];
  readonly #retries = new Set<ClockTimer>();
  readonly #aborter = new AbortController();
  #inFlight = false;
  #closed = false;
  #dropped = 0;
  #idleWaiters: (() => void)[] = [];

  constructor(options: EventWriterOptions) {
    this.#options = options;
  }

  /** True once shutdown began: nothing more is taken. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues the creation of a new series' Event; false when it was dropped (queue full, or closed). */
  create(series: EventSeries): boolean {
    const write: SeriesWrite = { series, state: 'queued', patchQueued: false };
    this.#writes.set(series, write);
    return this.#enqueue({ kind: 'create', write, attempts: 0 });
  }

  /** A series got a repeat: makes sure a write will carry its new count. */
  repeated(series: EventSeries): void {
    const write = this.#writes.get(series);
    // A create not yet sent carries the count itself; otherwise one pending patch carries the latest count.
    if (write && write.state !== 'queued' && !write.patchQueued) {
      write.patchQueued = this.#enqueue({ kind: 'patch', write, attempts: 0 });
    }
  }

  /** Resolves once every write queued so far has been done or dropped (retries included). */
  flush(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#idle()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const signal = options.signal;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        this.#idleWaiters = this.#idleWaiters.filter((w) => w !== done);
        reject(signal!.reason);
      };
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#idleWaiters.push(done);
    });
  }

  /** Stops taking writes, waits up to `timeoutMs` for the queue to drain, then drops the rest and aborts writes. */
  async shutdown(timeoutMs: number): Promise<void> {
    this.#closed = true;
    const timeout = AbortSignal.timeout(timeoutMs);
    // Retries wait seconds each: give up on them at once; what is queued gets its chance.
    for (const t of this.#retries) t.cancel();
    this.#retries.clear();
    await this.flush({ signal: timeout }).catch(() => undefined);
    this.#queue.length = 0;
    this.#aborter.abort(new KubeloopError('ERR_EVENT_RECORDER_STOPPED', 'the event recorder was shut down'));
    await this.flush({ signal: AbortSignal.timeout(1000) }).catch(() => undefined);
  }

  #idle(): boolean {
    return this.#queue.length === 0 && !this.#inFlight && this.#retries.size === 0;
  }

  #notifyIdle(): void {
    if (!this.#idle()) return;
    if (this.#dropped > 0) {
      this.#options.log.warn(
        { dropped: this.#dropped, maxQueueLength: this.#options.maxQueueLength },
        'dropped events: the event queue was full',
      );
      this.#dropped = 0;
    }
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #enqueue(job: Job): boolean {
    const maxQueueLength = this.#options.maxQueueLength;
    if (this.#closed || this.#queue.length >= maxQueueLength) {
      if (!this.#closed) {
        if (this.#dropped === 0)
          this.#options.log.warn({ maxQueueLength }, 'the event queue is full: dropping events until it drains');
        this.#dropped++;
      }
      return false;
    }
    this.#queue.push(job);
    // Written after the caller's synchronous code: recording never runs client code inside a reconcile's stack.
    if (!this.#inFlight) queueMicrotask(() => void this.#drain());
    return true;
  }

  #forget(write: SeriesWrite): void {
    write.state = 'dropped';
    this.#options.onDropped(write.series);
  }

  /** Retries a job that got no answer, later; false when out of tries. */
  #retry(job: Job, err: unknown): boolean {
    if (this.#closed || job.attempts >= this.#options.maxAttempts) return false;
    this.#options.log.debug(
      { err, attempt: job.attempts, event: job.write.series.event.metadata?.name },
      'writing an event failed; retrying',
    );
    const timer = this.#options.clock.setTimer(() => {
      this.#retries.delete(timer);
      if (!this.#enqueue(job)) {
        if (job.kind === 'create') this.#forget(job.write);
        else job.write.patchQueued = false;
      }
      this.#notifyIdle();
    }, this.#options.retryDelayMs);
    timer.unref();
    this.#retries.add(timer);
    return true;
  }

  async #drain(): Promise<void> {
    if (this.#inFlight) return;
    this.#inFlight = true;
    try {
      for (let job = this.#queue.shift(); job; job = this.#queue.shift()) {
        try {
          await (job.kind === 'create' ? this.#create(job) : this.#patch(job));
        } catch (err) {
          this.#options.log.warn({ err }, 'event recorder failure');
        }
      }
    } finally {
      this.#inFlight = false;
      this.#notifyIdle();
    }
  }

  async #create(job: Job): Promise<void> {
    const { write } = job;
    const event = write.series.event;
    const signal = this.#aborter.signal;
    job.attempts++;
    write.state = 'sending';
    try {
      await this.#options.sink.create(event.metadata!.namespace!, eventBody(write.series), { signal });
      write.state = 'created';
    } catch (err) {
      if (isAlreadyExists(err)) {
        write.state = 'created';
      } else if (isKubeloopError(err) && err.code === 'ERR_KUBE_API') {
        this.#forget(write);
        this.#options.log.warn(
          { err, event: event.metadata?.name, reason: event.reason },
          'the API server rejected an event; dropped',
        );
      } else if (!this.#retry(job, err)) {
        this.#forget(write);
        if (!signal.aborted)
          this.#options.log.warn(
            { err, event: event.metadata?.name, reason: event.reason },
            'could not write an event; dropped',
          );
      } else {
        write.state = 'queued';
      }
    }
  }

  async #patch(job: Job): Promise<void> {
    const { write } = job;
    const { event, count, lastObservedTime } = write.series;
    const signal = this.#aborter.signal;
    job.attempts++;
    write.patchQueued = false;
    // A create still to come carries the count itself; a dropped Event gets no series.
    if (write.state !== 'created') return;
    try {
      await this.#options.sink.patch(
        event.metadata!.namespace!,
        event.metadata!.name!,
        { series: { count, lastObservedTime } },
        { signal },
      );
    } catch (err) {
      if (isNotFound(err)) {
        // The Event expired or was deleted: start it again, with its series.
        write.state = 'queued';
        await this.#create({ kind: 'create', write, attempts: 0 });
      } else if (isKubeloopError(err) && err.code === 'ERR_KUBE_API') {
        this.#options.log.warn(
          { err, event: event.metadata?.name, reason: event.reason },
          'the API server rejected an event series update; dropped',
        );
      } else if (!write.patchQueued && this.#retry(job, err)) {
        write.patchQueued = true;
      } else if (!signal.aborted && !write.patchQueued) {
        this.#options.log.warn(
          { err, event: event.metadata?.name, reason: event.reason },
          'could not update an event series; dropped',
        );
      }
    }
  }
}
