import { describe, expect, it } from 'vitest';
import type { corev1, eventsv1 } from '../../client/index.js';
import { createFakeClock, type FakeClock } from '../../workqueue/index.js';
import { createEventCorrelator, eventBody, type EventCorrelatorOptions, type EventSeries } from './event-correlator.js';

const widget: corev1.ObjectReference = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  namespace: 'ns',
  name: 'w1',
  uid: 'uid-1',
};
let seq = 0;

/** An Event as the recorder builds it: a fresh name and eventTime for each occurrence. */
function occurrence(overrides: Partial<eventsv1.Event> = {}): eventsv1.Event {
  seq++;
  return {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name: `w1.${seq}`, namespace: 'ns' },
    eventTime: `2026-01-01T00:00:${String(seq % 60).padStart(2, '0')}.000000Z`,
    reportingController: 'widget-operator',
    reportingInstance: 'widget-operator-pod-1',
    action: 'Scale',
    reason: 'Scaled',
    note: 'scaled to 2',
    type: 'Normal',
    regarding: widget,
    ...overrides,
  };
}

function correlator(options: Partial<EventCorrelatorOptions> = {}): {
  c: ReturnType<typeof createEventCorrelator>;
  clock: FakeClock;
} {
  const clock = createFakeClock();
  const c = createEventCorrelator({
    aggregationWindowMs: 1000,
    maxSeries: 100,
    objectBurst: 25,
    objectRefillMs: 300_000,
    clock,
    ...options,
  });
  return { c, clock };
}

/** Correlates an occurrence and, when it is new, remembers it (as the recorder does once it is queued). */
function observe(c: ReturnType<typeof createEventCorrelator>, event: eventsv1.Event): ReturnType<typeof c.correlate> {
  const result = c.correlate(event);
  if (result.kind === 'new') c.remember(result.series);
  return result;
}

function seriesOf(result: ReturnType<ReturnType<typeof createEventCorrelator>['correlate']>): EventSeries {
  if (result.kind === 'limited') throw new TypeError('expected a series, got a limited Event');
  return result.series;
}

describe('createEventCorrelator', () => {
  it('starts a series with the first occurrence and counts repeats within the window from the last one', () => {
    const { c, clock } = correlator();
    const first = occurrence();
    const series = seriesOf(observe(c, first));
    expect(series).toMatchObject({ event: first, count: 1, lastObservedMs: 0, lastObservedTime: first.eventTime });

    clock.advance(1000);
    const second = occurrence();
    expect(observe(c, second)).toEqual({ kind: 'repeat', series });
    expect(series).toMatchObject({ event: first, count: 2, lastObservedMs: 1000, lastObservedTime: second.eventTime });

    clock.advance(1000); // the window runs from the last occurrence, not the first
    expect(observe(c, occurrence()).kind).toBe('repeat');
    expect(series.count).toBe(3);

    clock.advance(1001);
    const late = observe(c, occurrence());
    expect(late.kind).toBe('new');
    expect(seriesOf(late)).not.toBe(series);
    expect(seriesOf(late).count).toBe(1);
  });

  it('keeps Events apart that differ in object, type, reason, action, note or related object', () => {
    const { c } = correlator();
    const variants: Partial<eventsv1.Event>[] = [
      {},
      { regarding: { ...widget, uid: 'uid-2' } },
      { regarding: { ...widget, namespace: 'other' } },
      { type: 'Warning' },
      { reason: 'Failed' },
      { action: 'Delete' },
      { note: 'scaled to 3' },
      { related: { apiVersion: 'v1', kind: 'Pod', namespace: 'ns', name: 'p1', uid: 'uid-p' } },
    ];
    for (const v of variants) expect(observe(c, occurrence(v)).kind).toBe('new');
    // Names, times and reporting fields are not part of the key: each variant again is a repeat.
    for (const v of variants)
      expect(observe(c, occurrence({ ...v, reportingInstance: 'elsewhere' })).kind).toBe('repeat');
  });

  it('counts nothing for an Event it was not told to remember, and forgets what it is told to', () => {
    const { c } = correlator();
    const unqueued = c.correlate(occurrence());
    expect(unqueued.kind).toBe('new');
    expect(c.correlate(occurrence()).kind).toBe('new'); // not remembered: the queue was full

    const series = seriesOf(observe(c, occurrence()));
    c.forget(series); // its Event was dropped
    const again = observe(c, occurrence());
    expect(again.kind).toBe('new');
    c.forget(series); // an older series of the same key does not forget the newer one
    expect(observe(c, occurrence())).toEqual({ kind: 'repeat', series: seriesOf(again) });
  });

  it('forgets the oldest series beyond maxSeries (repeats do not make a series younger)', () => {
    const { c } = correlator({ maxSeries: 2 });
    observe(c, occurrence({ note: 'a' }));
    observe(c, occurrence({ note: 'b' }));
    expect(observe(c, occurrence({ note: 'a' })).kind).toBe('repeat');
    observe(c, occurrence({ note: 'c' })); // evicts a, the oldest series
    expect(observe(c, occurrence({ note: 'b' })).kind).toBe('repeat');
    expect(observe(c, occurrence({ note: 'a' })).kind).toBe('new');
  });

  it('limits new Events per object: a burst, then one per refill period; repeats and other objects are not limited', () => {
    const { c, clock } = correlator({ objectBurst: 2, objectRefillMs: 10_000, aggregationWindowMs: 60_000 });
    expect(observe(c, occurrence({ note: '1' })).kind).toBe('new');
    expect(observe(c, occurrence({ note: '2' })).kind).toBe('new');
    expect(observe(c, occurrence({ note: '3' }))).toEqual({ kind: 'limited', first: true });
    expect(observe(c, occurrence({ note: '4' }))).toEqual({ kind: 'limited', first: false });
    expect(observe(c, occurrence({ note: '1' })).kind).toBe('repeat');
    expect(observe(c, occurrence({ note: '1', regarding: { ...widget, name: 'w2', uid: 'uid-2' } })).kind).toBe('new');

    clock.advance(5000); // half a token
    expect(observe(c, occurrence({ note: '5' })).kind).toBe('limited');
    clock.advance(5000);
    expect(observe(c, occurrence({ note: '6' })).kind).toBe('new');
    expect(observe(c, occurrence({ note: '7' }))).toEqual({ kind: 'limited', first: true }); // first since one was let through
  });

  it('eventBody adds the series once an Event has repeats', () => {
    const { c } = correlator();
    const first = occurrence();
    const series = seriesOf(observe(c, first));
    expect(eventBody(series)).toBe(first);
    const repeat = occurrence();
    observe(c, repeat);
    expect(eventBody(series)).toEqual({ ...first, series: { count: 2, lastObservedTime: repeat.eventTime } });
  });
});
