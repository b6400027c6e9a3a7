import { hostname } from 'node:os';
import {
  createClientset,
  isAlreadyExists,
  isKubeloopError,
  isNotFound,
  KubeloopError,
  type corev1,
  type eventsv1,
  type RestConfig,
} from '../client/index.js';
import { realClock, type Clock, type ClockTimer } from '../workqueue/index.js';

/** `Normal` for what went as expected, `Warning` for what an operator of the cluster should look at. */
export type EventType = 'Normal' | 'Warning';

/** The object an Event is about: any Kubernetes object (cached ones too), or a reference to one. */
export type EventSubject =
  | {
      readonly apiVersion?: string;
      readonly kind?: string;
      readonly metadata?: {
        readonly name?: string;
        readonly namespace?: string;
        readonly uid?: string;
        readonly resourceVersion?: string;
      };
    }
  | Readonly<corev1.ObjectReference>;

/** An Event to record, with every field {@link EventRecorder.event} takes plus `related`. */
export interface EventInput {
  regarding: EventSubject;
  /** A second object the action involved (the Pod a ReplicaSet created). */
  related?: EventSubject;
  type: EventType;
  /** Why, CamelCase and machine-readable: `Created`, `FailedScheduling`. At most 128 characters (longer is cut). */
  reason: string;
  /** What happened, for humans. At most 1 kB (longer is cut). */
  note: string;
  /** What was done, CamelCase: `Create`, `Scale`. Default: the reason. At most 128 characters. */
  action?: string;
}

/**
 * Records Kubernetes Events (events.k8s.io/v1) about objects, as client-go's event recorder: what `kubectl describe`
 * and `kubectl events` show.
 *
 * Guarantees: `event()` and `record()` never throw and never wait: the Event is queued and written in the
 * background, in order. Repeats of the same Event (same object, type, reason, action, note and related object)
 * within the aggregation window become one Event whose `series.count` grows (by PATCH), not new Events.
 *
 * Errors: none reach the caller. A write the API server rejects (403, 422, the namespace terminating) is logged and
 * dropped; a write that got no answer is retried a few times, then dropped and logged.
 *
 * Caveats: Events are best-effort: when the queue is full (the API server slow or unreachable), new Events are
 * dropped and that is logged. Never base logic on them.
 */
export interface EventRecorder {
  /** Records an Event about `regarding`: `recorder.event(widget, 'Normal', 'Created', \`created deployment ${name}\`)`. */
  event(regarding: EventSubject, type: EventType, reason: string, note: string, action?: string): void;
  /** Records an Event given as an object (with `related`). */
  record(event: EventInput): void;
  /** Resolves once every Event recorded so far has been written or dropped (retries included). */
  flush(options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Stops taking Events, waits up to `timeoutMs` (default 5000) for the queue to drain, then drops what is left and
   * aborts writes in flight. Calling it again waits for the first call.
   */
  shutdown(options?: { timeoutMs?: number }): Promise<void>;
}

/** Where a recorder writes: the API server, or a stand-in in tests. */
export interface EventSink {
  create(namespace: string, event: eventsv1.Event, options: { signal: AbortSignal }): Promise<unknown>;
  patch(
    namespace: string,
    name: string,
    patch: { series: eventsv1.EventSeries },
    options: { signal: AbortSignal },
  ): Promise<unknown>;
}

/** A pino-shaped logger (pino's Logger fits). */
export interface EventLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** Options of {@link createEventRecorder}. */
export interface EventRecorderOptions {
  /** Whose credentials write the Events. One of `config` and `sink` is required. */
  config?: RestConfig;
  /** Writes Events instead of a client made from `config` (tests, or a custom transport). */
  sink?: EventSink;
  /**
   * `reportingController` of every Event: the controller's name, a qualified name such as `widget-operator` or
   * `example.com/widget-controller`.
   */
  component: string;
  /** `reportingInstance`: which replica. Default: `<component>-<hostname>`, cut to 128 characters. */
  instance?: string;
  log: EventLogger;
  /** Events (and series updates) waiting to be written before new ones are dropped. Default: 1000. */
  maxQueueLength?: number;
  /** How long after its last occurrence a repeated Event still joins its series. Default: 360000 (6 minutes). */
  aggregationWindowMs?: number;
  /** Distinct Events remembered for aggregation; the oldest are forgotten first. Default: 4096. */
  maxSeries?: number;
  /** Tries of a write that got no answer (network errors), counting the first. Default: 12. */
  maxAttempts?: number;
  /** Wait between those tries. Default: 10000. */
  retryDelayMs?: number;
  /** Time for the aggregation window and retries. Default: the real clock. */
  clock?: Clock;
  /**
   * Per-object rate limit of new Events (client-go's spam filter): each object may start `objectBurst` Events at
   * once, then one every `objectRefillMs`. Repeats that join a series are not limited (they are coalesced anyway).
   * Default: 25 and 300000 (5 minutes).
   */
  objectBurst?: number;
  objectRefillMs?: number;
}

interface Series {
  key: string;
  namespace: string;
  event: eventsv1.Event;
  count: number;
  lastObservedMs: number;
  lastObservedTime: string;
  state: 'queued' | 'sending' | 'created' | 'dropped';
  patchQueued: boolean;
}

interface Job {
  kind: 'create' | 'patch';
  series: Series;
  attempts: number;
}

const maxNoteBytes = 1024;
const maxShortField = 128;
const qualifiedName = /^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** metav1.MicroTime: RFC 3339 in UTC with six fractional digits. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function cutBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = text.slice(0, maxBytes);
  while (Buffer.byteLength(out) > maxBytes - 3) out = out.slice(0, -1);
  return `${out}...`;
}

function referenceOf(subject: EventSubject): corev1.ObjectReference {
  const meta = 'metadata' in subject && subject.metadata ? subject.metadata : (subject as Readonly<corev1.ObjectReference>);
  const ref: corev1.ObjectReference = {};
  if (subject.apiVersion) ref.apiVersion = subject.apiVersion;
  if (subject.kind) ref.kind = subject.kind;
  if (meta.namespace) ref.namespace = meta.namespace;
  if (meta.name) ref.name = meta.name;
  if (meta.uid) ref.uid = meta.uid;
  if (meta.resourceVersion) ref.resourceVersion = meta.resourceVersion;
  return ref;
}

function clientSink(config: RestConfig): EventSink {
  const cs = createClientset(config);
  return {
    create: (namespace, event, { signal }) => cs.eventsV1().events(namespace).create(event, { signal }),
    patch: (namespace, name, patch, { signal }) =>
      cs.eventsV1().events(namespace).patch(name, patch, { patchType: 'merge', signal }),
  };
}

let lastNanos = 0n;

/** Unique, increasing nanoseconds since the epoch, for Event names. */
function uniqueNanos(): bigint {
  const nanos = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  lastNanos = nanos > lastNanos ? nanos : lastNanos + 1n;
  return lastNanos;
}

/**
 * Makes an {@link EventRecorder} writing events.k8s.io/v1 Events with `reportingController: component`.
 *
 * Guarantees: each Event is created in the namespace of the object it is about (`default` for cluster-scoped
 * objects) and named `<object name>.<hex nanoseconds>`, with `eventTime` (MicroTime), `regarding`, `related`,
 * `reportingController`, `reportingInstance`, `action`, `reason`, `note` and `type`. A repeat within
 * `aggregationWindowMs` of the previous occurrence increments `series.count` (2 on the first repeat) and sets
 * `series.lastObservedTime`, by merge PATCH of that Event; repeats that arrive while a write is pending are folded
 * into it. An Event of a series that vanished (expired, deleted) is created again with its series.
 *
 * Errors: throws a KubeloopError `ERR_EVENT_RECORDER_OPTIONS` for a `component` that is not a qualified name or
 * when neither `config` nor `sink` is given. Nothing else throws (see {@link EventRecorder}).
 *
 * Caveats: one queue, written in order by one worker: a slow API server fills the queue and later Events are
 * dropped, never the reconciles. client-go aggregates on the object, reason, action and related object only; this
 * recorder also keeps Events with different notes apart, so no note is lost.
 */
export function createEventRecorder(options: EventRecorderOptions): EventRecorder {
  if (!qualifiedName.test(options.component)) {
    throw new KubeloopError(
      'ERR_EVENT_RECORDER_OPTIONS',
      `component ${JSON.stringify(options.component)} is not a qualified name (such as widget-operator or example.com/widget-controller)`,
    );
  }
  const sink = options.sink ?? (options.config ? clientSink(options.config) : undefined);
  if (!sink) throw new KubeloopError('ERR_EVENT_RECORDER_OPTIONS', 'createEventRecorder needs a config (or a sink)');
  const log = options.log;
  const clock = options.clock ?? realClock;
  const component = options.component;
  const instance = (options.instance ?? `${component}-${hostname()}`).slice(0, maxShortField);
  const maxQueue = options.maxQueueLength ?? 1000;
  const windowMs = options.aggregationWindowMs ?? 360_000;
  const maxSeries = options.maxSeries ?? 4096;
  const maxAttempts = options.maxAttempts ?? 12;
  const retryDelayMs = options.retryDelayMs ?? 10_000;

  const objectBurst = options.objectBurst ?? 25;
  const objectRefillMs = options.objectRefillMs ?? 300_000;
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  let limited = 0;
  /** Takes a token of the object's bucket; false when the object has had too many new Events lately. */
  const allow = (objectKey: string, nowMs: number): boolean => {
    const b = buckets.get(objectKey) ?? { tokens: objectBurst, atMs: nowMs };
    b.tokens = Math.min(objectBurst, b.tokens + (nowMs - b.atMs) / objectRefillMs);
    b.atMs = nowMs;
    buckets.delete(objectKey);
    buckets.set(objectKey, b);
    if (buckets.size > maxSeries) {
      const oldest = buckets.keys().next().value;
      if (oldest !== undefined) buckets.delete(oldest);
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };

  const seriesByKey = new Map<string, Series>();
  const queue: Job[] = [];
  const retries = new Set<ClockTimer>();
  const aborter = new AbortController();
  let inFlight = false;
  let closed = false;
  let dropped = 0;
  let idleWaiters: (() => void)[] = [];
  let shuttingDown: Promise<void> | undefined;

  const idle = (): boolean => queue.length === 0 && !inFlight && retries.size === 0;
  const notifyIdle = (): void => {
    if (!idle()) return;
    if (dropped > 0) {
      log.warn({ dropped, maxQueueLength: maxQueue }, 'dropped events: the event queue was full');
      dropped = 0;
    }
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  };

  const enqueue = (job: Job): boolean => {
    if (closed || queue.length >= maxQueue) {
      if (!closed) {
        if (dropped === 0) log.warn({ maxQueueLength: maxQueue }, 'the event queue is full: dropping events until it drains');
        dropped++;
      }
      return false;
    }
    queue.push(job);
    // Written after the caller's synchronous code: recording never runs client code inside a reconcile's stack.
    if (!inFlight) queueMicrotask(() => void drain());
    return true;
  };

  const eventBody = (s: Series): eventsv1.Event =>
    s.count >= 2 ? { ...s.event, series: { count: s.count, lastObservedTime: s.lastObservedTime } } : s.event;

  const forget = (s: Series): void => {
    s.state = 'dropped';
    if (seriesByKey.get(s.key) === s) seriesByKey.delete(s.key);
  };

  /** Retries a job that got no answer, later; false when out of tries. */
  const retry = (job: Job, err: unknown): boolean => {
    if (closed || job.attempts >= maxAttempts) return false;
    log.debug({ err, attempt: job.attempts, event: job.series.event.metadata?.name }, 'writing an event failed; retrying');
    const timer = clock.setTimer(() => {
      retries.delete(timer);
      if (!enqueue(job)) {
        if (job.kind === 'create') forget(job.series);
        else job.series.patchQueued = false;
      }
      notifyIdle();
    }, retryDelayMs);
    timer.unref();
    retries.add(timer);
    return true;
  };

  const run = async (job: Job): Promise<void> => {
    const s = job.series;
    const signal = aborter.signal;
    job.attempts++;
    if (job.kind === 'create') {
      s.state = 'sending';
      try {
        await sink.create(s.namespace, eventBody(s), { signal });
        s.state = 'created';
      } catch (err) {
        if (isAlreadyExists(err)) {
          s.state = 'created';
        } else if (isKubeloopError(err) && err.code === 'ERR_KUBE_API') {
          forget(s);
          log.warn({ err, event: s.event.metadata?.name, reason: s.event.reason }, 'the API server rejected an event; dropped');
        } else if (!retry(job, err)) {
          forget(s);
          if (!signal.aborted) log.warn({ err, event: s.event.metadata?.name, reason: s.event.reason }, 'could not write an event; dropped');
        } else {
          s.state = 'queued';
        }
      }
      return;
    }
    s.patchQueued = false;
    // A create still to come carries the count itself; a dropped Event gets no series.
    if (s.state !== 'created') return;
    const series = { count: s.count, lastObservedTime: s.lastObservedTime };
    try {
      await sink.patch(s.namespace, s.event.metadata!.name!, { series }, { signal });
    } catch (err) {
      if (isNotFound(err)) {
        // The Event expired or was deleted: start it again, with its series.
        s.state = 'queued';
        await run({ kind: 'create', series: s, attempts: 0 });
      } else if (isKubeloopError(err) && err.code === 'ERR_KUBE_API') {
        log.warn({ err, event: s.event.metadata?.name, reason: s.event.reason }, 'the API server rejected an event series update; dropped');
      } else if (!s.patchQueued && retry(job, err)) {
        s.patchQueued = true;
      } else if (!signal.aborted && !s.patchQueued) {
        log.warn({ err, event: s.event.metadata?.name, reason: s.event.reason }, 'could not update an event series; dropped');
      }
    }
  };

  const drain = async (): Promise<void> => {
    if (inFlight) return;
    inFlight = true;
    try {
      for (let job = queue.shift(); job; job = queue.shift()) {
        try {
          await run(job);
        } catch (err) {
          log.warn({ err }, 'event recorder failure');
        }
      }
    } finally {
      inFlight = false;
      notifyIdle();
    }
  };

  const record = (input: EventInput): void => {
    try {
      if (closed) return;
      const regarding = referenceOf(input.regarding);
      const related = input.related ? referenceOf(input.related) : undefined;
      const reason = input.reason.slice(0, maxShortField);
      const action = (input.action || input.reason).slice(0, maxShortField);
      const note = cutBytes(input.note, maxNoteBytes);
      const nowMs = clock.now();
      const wallMs = Date.now();
      const key = JSON.stringify([
        regarding.apiVersion,
        regarding.kind,
        regarding.namespace,
        regarding.name,
        regarding.uid,
        input.type,
        reason,
        action,
        note,
        related && [related.apiVersion, related.kind, related.namespace, related.name, related.uid],
      ]);

      const existing = seriesByKey.get(key);
      if (existing && existing.state !== 'dropped' && nowMs - existing.lastObservedMs <= windowMs) {
        existing.count++;
        existing.lastObservedMs = nowMs;
        existing.lastObservedTime = microTime(wallMs);
        // A create not yet sent carries the count itself; otherwise one pending patch carries the latest count.
        if (existing.state !== 'queued' && !existing.patchQueued) {
          existing.patchQueued = enqueue({ kind: 'patch', series: existing, attempts: 0 });
        }
        return;
      }

      const objectKey = JSON.stringify([regarding.apiVersion, regarding.kind, regarding.namespace, regarding.name, regarding.uid]);
      if (!allow(objectKey, nowMs)) {
        if (limited++ === 0) log.warn({ regarding, reason }, 'too many new events for one object: dropping them for a while');
        return;
      }
      limited = 0;
      const name = regarding.name || 'unknown';
      const event: eventsv1.Event = {
        apiVersion: 'events.k8s.io/v1',
        kind: 'Event',
        metadata: { name: `${name.slice(0, 253 - 17)}.${uniqueNanos().toString(16)}`, namespace: regarding.namespace || 'default' },
        eventTime: microTime(wallMs),
        reportingController: component,
        reportingInstance: instance,
        action,
        reason,
        note,
        type: input.type,
        regarding,
        ...(related && { related }),
      };
      const s: Series = {
        key,
        namespace: event.metadata!.namespace!,
        event,
        count: 1,
        lastObservedMs: nowMs,
        lastObservedTime: event.eventTime,
        state: 'queued',
        patchQueued: false,
      };
      if (!enqueue({ kind: 'create', series: s, attempts: 0 })) return;
      seriesByKey.delete(key);
      seriesByKey.set(key, s);
      if (seriesByKey.size > maxSeries) {
        const oldest = seriesByKey.keys().next().value;
        if (oldest !== undefined) seriesByKey.delete(oldest);
      }
    } catch (err) {
      log.warn({ err }, 'could not record an event');
    }
  };

  const flush = (flushOptions: { signal?: AbortSignal } = {}): Promise<void> => {
    if (idle()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const signal = flushOptions.signal;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const onAbort = (): void => {
        idleWaiters = idleWaiters.filter((w) => w !== done);
        reject(signal!.reason);
      };
      const done = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      idleWaiters.push(done);
    });
  };

  return {
    event: (regarding, type, reason, note, action) =>
      record({ regarding, type, reason, note, ...(action !== undefined && { action }) }),
    record,
    flush,
    shutdown(shutdownOptions = {}) {
      shuttingDown ??= (async () => {
        closed = true;
        const timeout = AbortSignal.timeout(shutdownOptions.timeoutMs ?? 5000);
        // Retries wait seconds each: give up on them at once; what is queued gets its chance.
        for (const t of retries) t.cancel();
        retries.clear();
        await flush({ signal: timeout }).catch(() => undefined);
        queue.length = 0;
        aborter.abort(new KubeloopError('ERR_EVENT_RECORDER_STOPPED', 'the event recorder was shut down'));
        await flush({ signal: AbortSignal.timeout(1000) }).catch(() => undefined);
      })();
      return shuttingDown;
    },
  };
}
