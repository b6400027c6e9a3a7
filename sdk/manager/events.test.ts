import { describe, expect, it } from 'vitest';
import { ApiError, TransportError, type eventsv1 } from '../client/index.js';
import { createFakeClock } from '../workqueue/index.js';
import { createEventRecorder, type EventRecorderOptions, type EventSink } from './events.js';

type Call =
  | { op: 'create'; namespace: string; event: eventsv1.Event }
  | { op: 'patch'; namespace: string; name: string; patch: { series: eventsv1.EventSeries } };

/** A sink that records calls; `fail` decides, per call, an error to throw instead of succeeding. */
function fakeSink(fail: (call: Call, index: number) => unknown = () => undefined): EventSink & { calls: Call[] } {
  const calls: Call[] = [];
  const answer = (call: Call): Promise<unknown> => {
    calls.push(structuredClone(call));
    const err = fail(call, calls.length - 1);
    return err === undefined ? Promise.resolve({}) : Promise.reject(err);
  };
  return {
    calls,
    create: (namespace, event) => answer({ op: 'create', namespace, event }),
    patch: (namespace, name, patch) => answer({ op: 'patch', namespace, name, patch }),
  };
}

function fakeLog(): {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  warnings: string[];
} {
  const warnings: string[] = [];
  return { warnings, debug: () => {}, warn: (_obj, msg) => warnings.push(msg) };
}

const widget = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w1', namespace: 'ns', uid: 'uid-1', resourceVersion: '42', labels: { a: 'b' } },
};

function recorder(sink: EventSink, extra: Partial<EventRecorderOptions> = {}) {
  const clock = createFakeClock();
  const log = fakeLog();
  const rec = createEventRecorder({
    sink,
    component: 'widget-operator',
    instance: 'widget-operator-pod-1',
    log,
    clock,
    ...extra,
  });
  return { rec, clock, log };
}

const apiError = (code: number, reason: string) =>
  new ApiError(code, { status: 'Failure', code, reason, message: reason });

describe('createEventRecorder', () => {
  it('writes an events.k8s.io/v1 Event with every required field, in the background', async () => {
    const sink = fakeSink();
    const { rec } = recorder(sink);
    rec.event(widget, 'Normal', 'Created', 'created deployment w1-web');
    expect(sink.calls).toEqual([]); // never inside the caller's synchronous code
    await rec.flush();
    expect(sink.calls).toHaveLength(1);
    const call = sink.calls[0] as Extract<Call, { op: 'create' }>;
    expect(call.namespace).toBe('ns');
    expect(call.event).toEqual({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: expect.stringMatching(/^w1\.[0-9a-f]{16,}$/), namespace: 'ns' },
      eventTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/),
      reportingController: 'widget-operator',
      reportingInstance: 'widget-operator-pod-1',
      action: 'Created',
      reason: 'Created',
      note: 'created deployment w1-web',
      type: 'Normal',
      regarding: {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        namespace: 'ns',
        name: 'w1',
        uid: 'uid-1',
        resourceVersion: '42',
      },
    });
  });

  it('puts Events about cluster-scoped objects in default, and takes action and related', async () => {
    const sink = fakeSink();
    const { rec } = recorder(sink);
    rec.record({
      regarding: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', uid: 'n1' } },
      related: { apiVersion: 'v1', kind: 'Pod', name: 'p', namespace: 'ns' },
      type: 'Warning',
      reason: 'Evicting',
      note: 'evicting pods',
      action: 'Drain',
    });
    await rec.flush();
    expect(sink.calls[0]).toMatchObject({
      namespace: 'default',
      event: {
        action: 'Drain',
        type: 'Warning',
        related: { kind: 'Pod', name: 'p', namespace: 'ns' },
        regarding: { kind: 'Node', name: 'node-1' },
      },
    });
  });

  it('aggregates repeats into one Event: a count folded into a pending create, then series patches', async () => {
    const sink = fakeSink();
    const { rec, clock } = recorder(sink);
    for (let i = 0; i < 3; i++) rec.event(widget, 'Warning', 'Failed', 'image pull failed');
    await rec.flush();
    expect(sink.calls).toHaveLength(1);
    const created = sink.calls[0] as Extract<Call, { op: 'create' }>;
    expect(created.event.series).toEqual({ count: 3, lastObservedTime: expect.stringMatching(/Z$/) });

    clock.advance(60_000);
    rec.event(widget, 'Warning', 'Failed', 'image pull failed');
    rec.event(widget, 'Warning', 'Failed', 'image pull failed');
    await rec.flush();
    // The two repeats became one patch (the second joined the first while it waited), carrying the latest count.
    expect(sink.calls.slice(1)).toEqual([
      {
        op: 'patch',
        namespace: 'ns',
        name: created.event.metadata?.name,
        patch: { series: { count: 5, lastObservedTime: expect.any(String) } },
      },
    ]);
  });

  it('keeps different notes, reasons, types and objects apart, and starts anew after the window', async () => {
    const sink = fakeSink();
    const { rec, clock } = recorder(sink, { aggregationWindowMs: 1000 });
    rec.event(widget, 'Normal', 'Scaled', 'scaled to 2');
    rec.event(widget, 'Normal', 'Scaled', 'scaled to 3');
    rec.event(widget, 'Warning', 'Scaled', 'scaled to 3');
    rec.event(
      { ...widget, metadata: { ...widget.metadata, name: 'w2', uid: 'uid-2' } },
      'Normal',
      'Scaled',
      'scaled to 2',
    );
    await rec.flush();
    expect(sink.calls.map((c) => c.op)).toEqual(['create', 'create', 'create', 'create']);
    clock.advance(1001);
    rec.event(widget, 'Normal', 'Scaled', 'scaled to 2');
    await rec.flush();
    expect(sink.calls.at(-1)).toMatchObject({ op: 'create', event: { note: 'scaled to 2' } });
    expect((sink.calls.at(-1) as Extract<Call, { op: 'create' }>).event.series).toBeUndefined();
  });

  it('drops an Event the API server rejects, logs it, and creates the next occurrence anew', async () => {
    const sink = fakeSink((_call, i) => (i === 0 ? apiError(403, 'Forbidden') : undefined));
    const { rec, log } = recorder(sink);
    rec.event(widget, 'Normal', 'Synced', 'ok');
    await rec.flush();
    expect(log.warnings).toEqual(['the API server rejected an event; dropped']);
    rec.event(widget, 'Normal', 'Synced', 'ok');
    await rec.flush();
    expect(sink.calls.map((c) => c.op)).toEqual(['create', 'create']);
  });

  it('retries a write that got no answer after retryDelayMs, up to maxAttempts', async () => {
    const sink = fakeSink((_call, i) => (i < 2 ? new TransportError('connection refused') : undefined));
    const { rec, clock, log } = recorder(sink, { retryDelayMs: 10_000, maxAttempts: 3 });
    rec.event(widget, 'Normal', 'Synced', 'ok');
    await expect.poll(() => sink.calls.length).toBe(1);
    let flushed = false;
    const flushing = rec.flush().then(() => (flushed = true));
    clock.advance(9_999);
    await Promise.resolve();
    expect(sink.calls).toHaveLength(1);
    clock.advance(1);
    await expect.poll(() => sink.calls.length).toBe(2);
    expect(flushed).toBe(false); // a pending retry is unfinished work
    clock.advance(10_000);
    await flushing;
    expect(sink.calls.map((c) => c.op)).toEqual(['create', 'create', 'create']);
    expect(log.warnings).toEqual([]);

    const failing = fakeSink(() => new TransportError('connection refused'));
    const r2 = recorder(failing, { retryDelayMs: 5, maxAttempts: 2 });
    r2.rec.event(widget, 'Normal', 'Synced', 'ok');
    await expect.poll(() => failing.calls.length).toBe(1);
    r2.clock.advance(5);
    await r2.rec.flush();
    expect(failing.calls).toHaveLength(2);
    expect(r2.log.warnings).toEqual(['could not write an event; dropped']);
  });

  it('retries a series patch that got no answer, folding later repeats into it', async () => {
    let patches = 0;
    const sink = fakeSink((call) => (call.op === 'patch' && ++patches === 1 ? new TransportError('reset') : undefined));
    const { rec, clock } = recorder(sink, { retryDelayMs: 100 });
    rec.event(widget, 'Normal', 'Synced', 'ok');
    await rec.flush();
    rec.event(widget, 'Normal', 'Synced', 'ok');
    await expect.poll(() => sink.calls.length).toBe(2);
    rec.event(widget, 'Normal', 'Synced', 'ok');
    rec.event(widget, 'Normal', 'Synced', 'ok');
    clock.advance(100);
    await rec.flush();
    expect(sink.calls.map((c) => (c.op === 'patch' ? c.patch.series.count : c.op))).toEqual(['create', 2, 4]);
  });

  it('re-creates the Event with its series when the series patch finds it gone', async () => {
    const sink = fakeSink((call) => (call.op === 'patch' ? apiError(404, 'NotFound') : undefined));
    const { rec } = recorder(sink);
    rec.event(widget, 'Normal', 'Synced', 'ok');
    await rec.flush();
    rec.event(widget, 'Normal', 'Synced', 'ok');
    await rec.flush();
    expect(sink.calls.map((c) => c.op)).toEqual(['create', 'patch', 'create']);
    expect((sink.calls[2] as Extract<Call, { op: 'create' }>).event.series?.count).toBe(2);
  });

  it('drops Events beyond maxQueueLength instead of blocking, and logs it', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const calls: string[] = [];
    const slow: EventSink = {
      create: async (_ns, ev) => {
        calls.push(ev.note ?? '');
        await gate;
      },
      patch: () => Promise.resolve(),
    };
    const { rec, log } = recorder(slow, { maxQueueLength: 2 });
    for (let i = 0; i < 10; i++) rec.event(widget, 'Normal', 'Tick', `tick ${i}`);
    await expect.poll(() => calls.length).toBe(1);
    release();
    await rec.flush();
    expect(calls).toEqual(['tick 0', 'tick 1']);
    expect(log.warnings).toEqual([
      'the event queue is full: dropping events until it drains',
      'dropped events: the event queue was full',
    ]);
  });

  it('limits new Events per object (burst, then one per refill period); other objects and repeats are not limited', async () => {
    const sink = fakeSink();
    const { rec, clock, log } = recorder(sink, { objectBurst: 3, objectRefillMs: 60_000 });
    for (let i = 0; i < 5; i++) rec.event(widget, 'Normal', 'Step', `step ${i}`);
    const other = { ...widget, metadata: { ...widget.metadata, name: 'w2', uid: 'uid-2' } };
    rec.event(other, 'Normal', 'Step', 'step 0');
    rec.event(widget, 'Normal', 'Step', 'step 0'); // a repeat joins its series
    await rec.flush();
    const created = sink.calls
      .filter((c) => c.op === 'create')
      .map(
        (c) =>
          `${(c as Extract<Call, { op: 'create' }>).event.regarding?.name}:${(c as Extract<Call, { op: 'create' }>).event.note}`,
      );
    expect(created).toEqual(['w1:step 0', 'w1:step 1', 'w1:step 2', 'w2:step 0']);
    expect(log.warnings).toEqual(['too many new events for one object: dropping them for a while']);
    clock.advance(60_000);
    rec.event(widget, 'Normal', 'Step', 'step 5');
    await rec.flush();
    expect(sink.calls.filter((c) => c.op === 'create')).toHaveLength(5);
  });

  it('never throws into the caller, even when the sink throws synchronously', async () => {
    const throwing: EventSink = {
      create: () => {
        throw new Error('sync failure');
      },
      patch: () => Promise.resolve(),
    };
    const { rec, log } = recorder(throwing, { maxAttempts: 1 });
    expect(() => rec.event(widget, 'Normal', 'X', 'y')).not.toThrow();
    await rec.flush();
    expect(log.warnings).toEqual(['could not write an event; dropped']);
  });

  it('cuts the note to 1 kB and reason and action to 128 characters', async () => {
    const sink = fakeSink();
    const { rec } = recorder(sink);
    rec.event(widget, 'Normal', 'R'.repeat(200), 'é'.repeat(1000));
    await rec.flush();
    const ev = (sink.calls[0] as Extract<Call, { op: 'create' }>).event;
    expect(ev.reason).toHaveLength(128);
    expect(ev.action).toHaveLength(128);
    expect(Buffer.byteLength(ev.note ?? '')).toBeLessThanOrEqual(1024);
    expect(ev.note?.endsWith('...')).toBe(true);
  });

  it('shutdown stops taking Events, aborts writes in flight and resolves; flush honours its signal', async () => {
    const signals: AbortSignal[] = [];
    const hanging: EventSink = {
      create: (_ns, _ev, { signal }) => {
        signals.push(signal);
        return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
      patch: () => Promise.resolve(),
    };
    const { rec } = recorder(hanging);
    rec.event(widget, 'Normal', 'A', 'a');
    await expect.poll(() => signals.length).toBe(1);
    const ac = new AbortController();
    const flushing = rec.flush({ signal: ac.signal });
    ac.abort(new Error('stop waiting'));
    await expect(flushing).rejects.toThrow('stop waiting');
    await Promise.all([rec.shutdown({ timeoutMs: 20 }), rec.shutdown()]);
    expect(signals[0]?.aborted).toBe(true);
    rec.event(widget, 'Normal', 'B', 'after shutdown');
    await rec.flush();
    expect(signals).toHaveLength(1);
  });

  it('checks its options', () => {
    const log = fakeLog();
    expect(() => createEventRecorder({ sink: fakeSink(), component: 'Not A Name!', log })).toThrow(
      /not a qualified name/,
    );
    expect(() => createEventRecorder({ component: 'ok', log })).toThrow(
      expect.objectContaining({ code: 'ERR_EVENT_RECORDER_OPTIONS' }),
    );
    expect(() =>
      createEventRecorder({ sink: fakeSink(), component: 'example.com/widget-controller', log }),
    ).not.toThrow();
  });
});
