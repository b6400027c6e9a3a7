// The event recorder's correlator: which Events are repeats of an earlier one (and join its series), which are new,
// and which are spam (too many new Events about one object). Pure: no I/O, no timers; time comes from the clock given.
// Its role is that of client-go's tools/record/events_cache.go (EventCorrelator: aggregator, series logger and
// per-object spam filter), with this recorder's rules (see createEventRecorder).
import type { eventsv1 } from '../../client/index.js';

/** One distinct Event and how often it occurred: the first occurrence and the latest. */
export interface EventSeries {
  /** The aggregation key: the object, type, reason, action, note and related object. */
  readonly key: string;
  /** The first occurrence, as built by the recorder (its name, eventTime, …). */
  readonly event: eventsv1.Event;
  /** Occurrences so far (1 for a new Event). */
  count: number;
  /** When the latest occurrence happened, on the correlator's clock. */
  lastObservedMs: number;
  /** When the latest occurrence happened, as that occurrence's eventTime (MicroTime). */
  lastObservedTime: string;
}

/** What became of one occurrence. */
export type Correlation =
  /** A new Event to create (its series has count 1); {@link EventCorrelator.remember} it once it is queued. */
  | { kind: 'new'; series: EventSeries }
  /** A repeat within the window: the series' count and last observation are already updated. */
  | { kind: 'repeat'; series: EventSeries }
  /**
   * A new Event over its object's rate limit: drop it. `first` is true for the first one limited since a new Event
   * was last let through (log that one).
   */
  | { kind: 'limited'; first: boolean };

export interface EventCorrelatorOptions {
  /** How long after its last occurrence a repeat still joins the series. */
  aggregationWindowMs: number;
  /**
   * Distinct series remembered (the oldest started are forgotten first; repeats do not make a series younger), and
   * objects remembered by the spam filter (the one with the oldest new Event is forgotten first).
   */
  maxSeries: number;
  /** New Events an object may start at once. */
  objectBurst: number;
  /** Time for one more new Event of an object to be allowed, up to `objectBurst`. */
  objectRefillMs: number;
  /** Time of the window and of the rate limit. */
  clock: { now(): number };
}

export interface EventCorrelator {
  /** Classifies an occurrence (an Event built by the recorder); a repeat updates its series. */
  correlate(event: eventsv1.Event): Correlation;
  /** Remembers a new series (from a `new` correlation) so that its repeats join it. */
  remember(series: EventSeries): void;
  /** Forgets a series (its Event was dropped): the next occurrence is new. */
  forget(series: EventSeries): void;
}

/** Sets `key` as the newest entry of `map`, then evicts the oldest entry beyond `max`. */
function touch<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}

function referenceKey(ref: eventsv1.Event['regarding']): unknown[] | undefined {
  return ref && [ref.apiVersion, ref.kind, ref.namespace, ref.name, ref.uid];
}

/** The aggregation key: Events equal in all of these are occurrences of one series. */
function seriesKey(event: eventsv1.Event): string {
  return JSON.stringify([
    ...(referenceKey(event.regarding) ?? []),
    event.type,
    event.reason,
    event.action,
    event.note,
    referenceKey(event.related),
  ]);
}

/**
 * Per-object token buckets (client-go's EventSourceObjectSpamFilter): each object may start `burst` new Events at once,
 * then one every `refillMs`.
 */
function createSpamFilter(options: EventCorrelatorOptions): (objectKey: string, nowMs: number) => boolean {
  const { objectBurst: burst, objectRefillMs: refillMs, maxSeries } = options;
  const buckets = new Map<string, { tokens: number; atMs: number }>();
  return (objectKey, nowMs) => {
    const b = buckets.get(objectKey) ?? { tokens: burst, atMs: nowMs };
    b.tokens = Math.min(burst, b.tokens + (nowMs - b.atMs) / refillMs);
    b.atMs = nowMs;
    touch(buckets, objectKey, b, maxSeries);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };
}

/** Makes the recorder's correlator (see the file's header). */
export function createEventCorrelator(options: EventCorrelatorOptions): EventCorrelator {
  const { aggregationWindowMs: windowMs, maxSeries, clock } = options;
  const allow = createSpamFilter(options);
  const seriesByKey = new Map<string, EventSeries>();
  let limited = 0;
  return {
    correlate(event) {
      const key = seriesKey(event);
      const nowMs = clock.now();
      const existing = seriesByKey.get(key);
      if (existing && nowMs - existing.lastObservedMs <= windowMs) {
        existing.count++;
        existing.lastObservedMs = nowMs;
        existing.lastObservedTime = event.eventTime;
        return { kind: 'repeat', series: existing };
      }
      // Repeats that join a series are not limited (they are coalesced anyway); new Events are.
      if (!allow(JSON.stringify(referenceKey(event.regarding)), nowMs))
        return { kind: 'limited', first: limited++ === 0 };
      limited = 0;
      return {
        kind: 'new',
        series: { key, event, count: 1, lastObservedMs: nowMs, lastObservedTime: event.eventTime },
      };
    },
    remember(series) {
      touch(seriesByKey, series.key, series, maxSeries);
    },
    forget(series) {
      if (seriesByKey.get(series.key) === series) seriesByKey.delete(series.key);
    },
  };
}

/** The body that creates a series' Event: the first occurrence, with `series` once it has repeats. */
export function eventBody(series: EventSeries): eventsv1.Event {
  return series.count >= 2
    ? { ...series.event, series: { count: series.count, lastObservedTime: series.lastObservedTime } }
    : series.event;
}
