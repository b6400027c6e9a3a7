import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type KubeObject, type ResourceDescriptor } from '../client/index.js';
import { FakeListerWatcher, SharedIndexInformer } from '../cache/index.js';
import { createFakeClock, lowPriority, type FakeClock } from '../workqueue/index.js';
import { Controller, type ControllerSource } from './controller.js';
import { enqueueRequestForObject, enqueueRequestForOwner, enqueueRequestsFromMapFunc } from './handlers.js';
import type { PredicateLike } from './predicates.js';
import { TerminalError, type ReconcileRequest, type ReconcileResult } from './reconcile.js';
import { channelSource, pollingSource, type Source } from './source.js';

const ConfigMap: ResourceDescriptor = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
};
const Widget: ResourceDescriptor = {
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  plural: 'widgets',
  namespaced: true,
};
const log = pino({ level: 'silent' });

function cm(name: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'ns', name, ...extra } };
}

type Script = (req: ReconcileRequest, call: number) => ReconcileResult | Promise<ReconcileResult>;

interface Run {
  controller: Controller;
  clock: FakeClock;
  lw: FakeListerWatcher<KubeObject>;
  /** Every reconcile, in order: `ns/name`. */
  calls: string[];
  stop(): Promise<void>;
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** A controller over one in-memory informer (and optionally more sources), its queue on a fake clock. */
async function run(options: {
  objects?: KubeObject[];
  script?: Script;
  predicates?: PredicateLike[];
  sources?: (informer: SharedIndexInformer<KubeObject>) => ControllerSource[];
  rawSources?: Source[];
  workers?: number;
}): Promise<Run> {
  const clock = createFakeClock();
  const lw = new FakeListerWatcher<KubeObject>();
  for (const obj of options.objects ?? []) lw.add(obj);
  const informer = new SharedIndexInformer<KubeObject>(lw);
  const calls: string[] = [];
  const perKey = new Map<string, number>();
  const script = options.script ?? (() => ({}));
  const controller = new Controller({
    name: 'test',
    reconciler: {
      reconcile: async (req) => {
        const key = `${req.namespace}/${req.name}`;
        const call = perKey.get(key) ?? 0;
        perKey.set(key, call + 1);
        calls.push(key);
        return script(req, call);
      },
    },
    sources: options.sources?.(informer) ?? [
      { resource: ConfigMap, handler: enqueueRequestForObject(), predicates: options.predicates ?? [] },
    ],
    ...(options.rawSources && { rawSources: options.rawSources }),
    informers: { informers: () => [informer] },
    log,
    clock,
    maxConcurrentReconciles: options.workers ?? 1,
    gracefulShutdownTimeoutMs: 1000,
  });
  const abort = new AbortController();
  const informerDone = informer.start(abort.signal);
  const controllerDone = controller.start(abort.signal);
  const stop = async (): Promise<void> => {
    abort.abort();
    await Promise.all([informerDone, controllerDone]);
  };
  stops.push(stop);
  return { controller, clock, lw, calls, stop };
}

/** Lets the workers and informer buffers run until nothing changes for a few turns of the event loop. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('Controller outcome table (fake clock)', () => {
  it('return → forgotten and not requeued', async () => {
    const r = await run({ objects: [cm('a')] });
    await vi.waitFor(() => expect(r.calls).toEqual(['ns/a']));
    r.clock.advance(3_600_000);
    await settle();
    expect(r.calls).toEqual(['ns/a']);
    expect(r.controller.queue.numRequeues('ns/a')).toBe(0);
  });

  it('requeueAfterMs → reconciled again after exactly that long on the clock', async () => {
    const r = await run({ objects: [cm('a')], script: (_req, call) => (call === 0 ? { requeueAfterMs: 30_000 } : {}) });
    await vi.waitFor(() => expect(r.calls).toHaveLength(1));
    r.clock.advance(29_999);
    await settle();
    expect(r.calls).toHaveLength(1);
    r.clock.advance(1);
    await vi.waitFor(() => expect(r.calls).toHaveLength(2));
    r.clock.advance(3_600_000);
    await settle();
    expect(r.calls).toHaveLength(2);
  });

  it('throw → retried with per-key backoff (5 ms, then 10 ms), and success resets it', async () => {
    const r = await run({
      objects: [cm('a')],
      script: (_req, call) => {
        if (call < 2) throw new Error(`failure ${call}`);
        return {};
      },
    });
    await vi.waitFor(() => expect(r.calls).toHaveLength(1));
    expect(r.controller.queue.numRequeues('ns/a')).toBe(1);
    r.clock.advance(4);
    await settle();
    expect(r.calls).toHaveLength(1);
    r.clock.advance(1);
    await vi.waitFor(() => expect(r.calls).toHaveLength(2));
    r.clock.advance(9);
    await settle();
    expect(r.calls).toHaveLength(2);
    r.clock.advance(1);
    await vi.waitFor(() => expect(r.calls).toHaveLength(3));
    expect(r.controller.queue.numRequeues('ns/a')).toBe(0);
  });

  it('TerminalError → forgotten, not retried until the object changes', async () => {
    const r = await run({
      objects: [cm('a')],
      script: () => {
        throw new TerminalError('bad spec');
      },
    });
    await vi.waitFor(() => expect(r.calls).toHaveLength(1));
    r.clock.advance(3_600_000);
    await settle();
    expect(r.calls).toHaveLength(1);
    r.lw.modify(cm('a', { labels: { fixed: 'yes' } }));
    await vi.waitFor(() => expect(r.calls).toHaveLength(2));
  });

  it('priority: a requeue with a higher priority goes before keys waiting at the default', async () => {
    let releaseFirst!: () => void;
    let releaseB!: () => void;
    const firstGate = new Promise<void>((resolve) => (releaseFirst = resolve));
    const bGate = new Promise<void>((resolve) => (releaseB = resolve));
    const wake = channelSource();
    const r = await run({
      rawSources: [wake],
      script: async (req, call) => {
        if (req.name === 'first' && call === 0) {
          await firstGate;
          return { requeueAfterMs: 1, priority: 10 };
        }
        if (req.name === 'b') await bGate;
        return {};
      },
    });
    wake.push({ namespace: 'ns', name: 'first' });
    await vi.waitFor(() => expect(r.calls).toEqual(['ns/first']));
    wake.push({ namespace: 'ns', name: 'b' }, { namespace: 'ns', name: 'c' });
    await settle();
    releaseFirst();
    await vi.waitFor(() => expect(r.calls).toEqual(['ns/first', 'ns/b']));
    r.clock.advance(1); // first is due now, at priority 10, while c waits at 0
    releaseB();
    await vi.waitFor(() => expect(r.calls).toHaveLength(4));
    expect(r.calls).toEqual(['ns/first', 'ns/b', 'ns/first', 'ns/c']);
  });
});

describe('Controller events', () => {
  it('predicates filter events before they become requests', async () => {
    const r = await run({
      objects: [cm('plain'), cm('chosen', { labels: { app: 'web' } })],
      predicates: [(obj) => obj.metadata?.labels?.['app'] === 'web'],
    });
    await vi.waitFor(() => expect(r.calls).toEqual(['ns/chosen']));
    r.lw.modify(cm('plain', { annotations: { a: 'b' } }));
    r.lw.modify(cm('chosen', { labels: { app: 'web' }, annotations: { a: 'b' } }));
    await vi.waitFor(() => expect(r.calls).toEqual(['ns/chosen', 'ns/chosen']));
    await settle();
    expect(r.calls).not.toContain('ns/plain');
  });

  it('maps owned objects to their controller owner', async () => {
    const owner = { apiVersion: 'example.com/v1', kind: 'Widget', name: 'w1', uid: 'u1', controller: true };
    const other = { apiVersion: 'example.com/v1', kind: 'Gadget', name: 'g1', uid: 'u2', controller: false };
    const r = await run({
      objects: [cm('owned', { ownerReferences: [owner, other] }), cm('orphan')],
      sources: () => [
        { resource: ConfigMap, handler: enqueueRequestForOwner(Widget, { onlyController: true }), predicates: [] },
      ],
    });
    await vi.waitFor(() => expect(r.calls).toEqual(['ns/w1']));
    await settle();
    expect(r.calls).toEqual(['ns/w1']);
  });

  it('reconciles a change made after start before the initial list drains (initial list at low priority)', async () => {
    const objects = Array.from({ length: 50 }, (_, i) => cm(`obj-${String(i).padStart(2, '0')}`));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let updates = 0;
    const r = await run({
      objects,
      predicates: [{ update: () => ++updates > 0 }],
      script: async (_req, call) => {
        if (call === 0 && r.calls.length === 1) await gate;
        return {};
      },
    });
    await vi.waitFor(() => expect(r.calls).toHaveLength(1));
    r.lw.modify(cm('obj-49', { labels: { changed: 'yes' } }));
    await vi.waitFor(() => expect(updates).toBe(1));
    release();
    await vi.waitFor(() => expect(r.calls).toHaveLength(50));
    expect(r.calls[0]).toBe('ns/obj-00');
    expect(r.calls[1]).toBe('ns/obj-49');
    expect(lowPriority).toBeLessThan(0);
  });

  it('starts workers only after the handler has every object of the initial list, and keeps async handlers in order', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `obj-${String(i).padStart(2, '0')}`);
    let queuedAtFirstReconcile = -1;
    const r = await run({
      objects: names.map((n) => cm(n)),
      // Earlier objects take longer to map: without awaiting, later ones would be enqueued first.
      sources: () => [
        {
          resource: ConfigMap,
          handler: enqueueRequestsFromMapFunc(async (obj) => {
            const index = names.indexOf(obj.metadata!.name!);
            await new Promise((resolve) => setTimeout(resolve, (names.length - index) % 5));
            return [{ namespace: 'ns', name: obj.metadata!.name! }];
          }),
          predicates: [],
        },
      ],
      script: () => {
        if (queuedAtFirstReconcile < 0) queuedAtFirstReconcile = r.controller.queue.len() + 1;
        return {};
      },
    });
    await vi.waitFor(() => expect(r.calls).toHaveLength(30), { timeout: 5000 });
    expect(queuedAtFirstReconcile).toBe(30);
    expect(r.calls).toEqual(names.map((n) => `ns/${n}`));
  });

  it('a channel source delivers pushed requests and objects through generic predicates, including pushes before start', async () => {
    let generic = 0;
    const wake = channelSource({
      predicates: [{ generic: (e) => (generic++, e.object.metadata?.name !== 'ignored') }],
    });
    wake.push({ namespace: 'ns', name: 'early' });
    const r = await run({ rawSources: [wake] });
    await vi.waitFor(() => expect(r.calls).toEqual(['ns/early']));
    wake.push(cm('object'), { namespace: 'ns', name: 'ignored' });
    await vi.waitFor(() => expect(r.calls).toEqual(['ns/early', 'ns/object']));
    expect(generic).toBe(3);
  });

  it('a polling source lists at start, before the workers, and again every everyMs', async () => {
    let lists = 0;
    const poll = pollingSource({
      everyMs: 20,
      list: async () => {
        lists++;
        return lists === 2 ? [] : [{ namespace: 'ext', name: `item-${lists}` }];
      },
    });
    const r = await run({ rawSources: [poll] });
    await vi.waitFor(() => expect(r.calls).toEqual(['ext/item-1']));
    // The wait between rounds runs on the controller's (fake) clock: nothing more until it moves.
    expect(lists).toBe(1);
    await vi.waitFor(() => {
      r.clock.advance(20);
      expect(r.calls.length).toBeGreaterThanOrEqual(2);
    });
    expect(r.calls[1]).toBe('ext/item-3');
    expect(lists).toBeGreaterThanOrEqual(3);
  });

  it('watch() adds a source to a running controller (its sync awaited), and refuses once stopped', async () => {
    const r = await run({});
    // run() started the controller already: a source added now starts at once.
    const late = channelSource();
    await r.controller.watch(late);
    late.push({ namespace: 'ns', name: 'late' });
    await vi.waitFor(() => expect(r.calls).toContain('ns/late'));
    let synced = false;
    const slow: Source = {
      start: () => undefined,
      waitForSync: async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        synced = true;
        return true;
      },
    };
    await r.controller.watch(slow);
    expect(synced).toBe(true);
    await r.stop();
    await expect(r.controller.watch(channelSource())).rejects.toMatchObject({ code: 'ERR_CONTROLLER_STOPPED' });
  });
});

describe('Controller cache-sync timeout and informers waiting for their resource', () => {
  const status = (code: number, reason: string): ApiError =>
    ApiError.fromResponse(code, JSON.stringify({ kind: 'Status', code, reason, message: reason }));

  /** A controller whose informer's first `failures` attempts get `err`; 25 ms between attempts, 100 ms sync timeout. */
  async function attempt(
    answer: () => ApiError,
    failures: number,
  ): Promise<{ calls: string[]; done: Promise<unknown>; abort: AbortController }> {
    const lw = new FakeListerWatcher<KubeObject>();
    lw.add(cm('a'));
    for (let i = 0; i < failures; i++) lw.failNext('list', answer());
    const informer = new SharedIndexInformer<KubeObject>(lw, {
      backoff: { initialMs: 25, maxMs: 25, jitter: 0 },
      initialList: 'list',
    });
    const calls: string[] = [];
    const controller = new Controller({
      name: 'sync-timeout',
      reconciler: { reconcile: async (req) => (calls.push(req.name), {}) },
      sources: [{ resource: Widget, handler: enqueueRequestForObject(), predicates: [] }],
      informers: { informers: () => [informer] },
      log,
      cacheSyncTimeoutMs: 100,
      gracefulShutdownTimeoutMs: 1000,
    });
    const abort = new AbortController();
    const informerDone = informer.start(abort.signal);
    const done = controller.start(abort.signal).then(
      () => 'stopped',
      (e: unknown) => e,
    );
    stops.push(async () => {
      abort.abort();
      await Promise.all([informerDone, done]);
    });
    return { calls, done, abort };
  }

  it('waits past cacheSyncTimeoutMs while the informer waits for its resource (404), then runs', async () => {
    // About 20 × 25 ms = 500 ms of 404s: five times the sync timeout.
    const r = await attempt(() => status(404, 'NotFound'), 20);
    await vi.waitFor(() => expect(r.calls).toEqual(['a']), { timeout: 3000 });
    r.abort.abort();
    expect(await r.done).toBe('stopped');
  });

  it('still times out when the informer fails for another reason (403)', async () => {
    const r = await attempt(() => status(403, 'Forbidden'), 20);
    const outcome = await r.done;
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toContain('timed out waiting for the caches to sync');
    expect(r.calls).toEqual([]);
  });
});
