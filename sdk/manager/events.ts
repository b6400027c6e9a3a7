import { hostname } from 'node:os';
import {
  createClientset,
  formatMicroTime,
  KubeloopError,
  type corev1,
  type eventsv1,
  type Logger,
  type RestConfig,
} from '../client/index.js';
import { realClock, type Clock } from '../workqueue/index.js';
import { createEventCorrelator } from './internal/event-correlator.js';
import { EventWriter } from './internal/event-writer.js';

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

/** The levels of kubeloop/client's structural {@link Logger} the event recorder writes (pino's Logger fits). */
export type EventLogger = Pick<Logger, 'debug' | 'warn'>;

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

const maxNoteBytes = 1024;
const maxShortField = 128;
const qualifiedName =
  /^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

function cutBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = text.slice(0, maxBytes);
  while (Buffer.byteLength(out) > maxBytes - 3) out = out.slice(0, -1);
  return `${out}...`;
}

function referenceOf(subject: EventSubject): corev1.ObjectReference {
  const meta =
    'metadata' in subject && subject.metadata ? subject.metadata : (subject as Readonly<corev1.ObjectReference>);
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

/** An occurrence as the Event to create: references, cut fields, a unique name, the current time. */
function buildEvent(input: EventInput, component: string, instance: string): eventsv1.Event {
  const regarding = referenceOf(input.regarding);
  const related = input.related ? referenceOf(input.related) : undefined;
  const reason = input.reason.slice(0, maxShortField);
  const name = regarding.name || 'unknown';
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: {
      name: `${name.slice(0, 253 - 17)}.${uniqueNanos().toString(16)}`,
      namespace: regarding.namespace || 'default',
    },
    eventTime: formatMicroTime(Date.now()),
    reportingController: component,
    reportingInstance: instance,
    action: (input.action || input.reason).slice(0, maxShortField),
    reason,
    note: cutBytes(input.note, maxNoteBytes),
    type: input.type,
    regarding,
    ...(related && { related }),
  };
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
  const { log, component } = options;
  const clock = options.clock ?? realClock;
  const instance = (options.instance ?? `${component}-${hostname()}`).slice(0, maxShortField);
  const correlator = createEventCorrelator({
    aggregationWindowMs: options.aggregationWindowMs ?? 360_000,
    maxSeries: options.maxSeries ?? 4096,
    objectBurst: options.objectBurst ?? 25,
    objectRefillMs: options.objectRefillMs ?? 300_000,
    clock,
  });
  const writer = new EventWriter({
    sink,
    log,
    maxQueueLength: options.maxQueueLength ?? 1000,
    maxAttempts: options.maxAttempts ?? 12,
    retryDelayMs: options.retryDelayMs ?? 10_000,
    clock,
    onDropped: (series) => correlator.forget(series),
  });
  let shuttingDown: Promise<void> | undefined;

  const record = (input: EventInput): void => {
    try {
      if (writer.closed) return;
      const event = buildEvent(input, component, instance);
      const correlation = correlator.correlate(event);
      if (correlation.kind === 'repeat') {
        writer.repeated(correlation.series);
      } else if (correlation.kind === 'limited') {
        if (correlation.first) {
          log.warn(
            { regarding: event.regarding, reason: event.reason },
            'too many new events for one object: dropping them for a while',
          );
        }
      } else if (writer.create(correlation.series)) {
        correlator.remember(correlation.series);
      }
    } catch (err) {
      log.warn({ err }, 'could not record an event');
    }
  };

  return {
    event: (regarding, type, reason, note, action) =>
      record({ regarding, type, reason, note, ...(action !== undefined && { action }) }),
    record,
    flush: (flushOptions) => writer.flush(flushOptions),
    shutdown(shutdownOptions = {}) {
      shuttingDown ??= writer.shutdown(shutdownOptions.timeoutMs ?? 5000);
      return shuttingDown;
    },
  };
}
