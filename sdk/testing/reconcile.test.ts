import 'reflect-metadata';
import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigMap, defineResource, isConflict, isNotFound, type Clientset, type RestConfig } from '../client/index.js';
import {
  CLIENT,
  CLIENTSET,
  CLOCK,
  EVENT_RECORDER,
  LOGGER,
  REST_CONFIG,
  Reconciler,
  TerminalError,
  createToken,
  defineFieldIndex,
  inject,
  type Client,
  type EventRecorder,
  type Reconcile,
  type ReconcileContext,
  type ReconcileRequest,
  type ReconcileResult,
} from '../manager/index.js';
import { createFakeClock, type WallClock } from '../workqueue/index.js';
import { createFakeClient } from './fake-client.js';
import { describeAction, failWith, intercept } from './interceptors.js';
import { createControllerHarness, fakeRestConfig, reconcileOnce, reconcileUntilStable } from './reconcile.js';

const Widget = defineResource<{ size: number }, { observedSize?: number }>({
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  namespaced: true,
});
const widget = (size: number) => ({
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w', namespace: 'ns' },
  spec: { size },
});

/** Mirrors each Widget's size into a ConfigMap and its status; records an Event when it creates the ConfigMap. */
@Reconciler({ for: Widget, owns: [ConfigMap] })
class WidgetReconciler implements Reconcile {
  constructor(
    @inject(CLIENT) private readonly client: Client,
    @inject(EVENT_RECORDER) private readonly recorder: EventRecorder,
    @inject(LOGGER) private readonly logger: Logger,
  ) {}

  async reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult> {
    const w = await this.client.get(Widget, req).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
    if (!w) return {};
    const data = { size: String(w.spec?.size) };
    const existing = await this.client.get(ConfigMap, req).catch(() => undefined);
    if (!existing) {
      await this.client.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: req.name, namespace: req.namespace },
        data,
      });
      this.recorder.event(w, 'Normal', 'Created', `created ConfigMap ${req.name}`);
    } else if (existing.data?.['size'] !== data.size) {
      await this.client.update({ ...existing, data });
    }
    await this.client.status().patch(w, { status: { observedSize: w.spec?.size } }, { patchType: 'merge' });
    ctx.log.info({ size: w.spec?.size }, 'reconciled');
    this.logger.debug('root logger works too');
    return {};
  }
}

describe('reconcileOnce', () => {
  it('builds the class through the DI tokens and reports its result, writes, Events and logs', async () => {
    const r = await reconcileOnce(WidgetReconciler, { objects: [widget(3)], request: { namespace: 'ns', name: 'w' } });
    expect(r.error).toBeUndefined();
    expect(r.result).toEqual({});
    expect(r.actions.map(describeAction)).toEqual([
      'get widgets.example.com ns/w',
      'get configmaps ns/w',
      'create configmaps ns/w',
      'patch widgets.example.com/status ns/w (merge)',
    ]);
    expect(r.writes).toHaveLength(2);
    expect(r.events).toEqual([
      {
        type: 'Normal',
        reason: 'Created',
        note: 'created ConfigMap w',
        action: 'Created',
        regarding: expect.objectContaining({ kind: 'Widget', namespace: 'ns', name: 'w' }),
      },
    ]);
    expect(r.logs.find((l) => l.msg === 'reconciled')).toMatchObject({
      level: 'info',
      controller: 'widget',
      namespace: 'ns',
      name: 'w',
      size: 3,
    });
    expect(r.logs.some((l) => l.msg === 'root logger works too')).toBe(true);
    expect((await r.client.get(Widget, { namespace: 'ns', name: 'w' })).status).toEqual({ observedSize: 3 });
  });

  it('reports a thrown error instead of throwing, with the calls made before it', async () => {
    const r = await reconcileOnce(WidgetReconciler, {
      objects: [widget(1)],
      request: { namespace: 'ns', name: 'w' },
      interceptors: [intercept({ verb: 'create', resource: ConfigMap }, failWith(409))],
    });
    expect(r.result).toBeUndefined();
    expect(isConflict(r.error)).toBe(true);
    expect(r.writes.map(describeAction)).toEqual(['create configmaps ns/w']);
    expect(r.events).toEqual([]);
  });

  it('shares a client across calls: actions and events are each call’s own', async () => {
    const client = createFakeClient({ resources: [Widget], objects: [widget(1)] });
    const first = await reconcileOnce(WidgetReconciler, { client, request: { namespace: 'ns', name: 'w' } });
    await client.patch(widget(2), { spec: { size: 2 } }, { patchType: 'merge' });
    const second = await reconcileOnce(WidgetReconciler, { client, request: { namespace: 'ns', name: 'w' } });
    expect(first.writes.map((a) => a.verb)).toEqual(['create', 'patch']);
    expect(second.writes.map(describeAction)).toEqual([
      'update configmaps ns/w',
      'patch widgets.example.com/status ns/w (merge)',
    ]);
    expect(second.events).toEqual([]);
    expect((await client.get(ConfigMap, { namespace: 'ns', name: 'w' })).data).toEqual({ size: '2' });
  });

  it('builds classes that list their tokens in static inject, with services of their own', async () => {
    const GREETING = Symbol('GREETING');
    class Greeter implements Reconcile {
      static inject = [CLIENTSET, REST_CONFIG, GREETING] as const;
      constructor(
        private readonly cs: Clientset,
        private readonly config: RestConfig,
        private readonly greeting: string,
      ) {}
      async reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
        await this.cs
          .coreV1()
          .configMaps(req.namespace)
          .create({ metadata: { name: req.name }, data: { text: this.greeting, host: this.config.host } });
        return { requeueAfterMs: 5 };
      }
    }
    const r = await reconcileOnce(Greeter, {
      request: { namespace: 'ns', name: 'hi' },
      services: [[GREETING, 'hello']],
    });
    expect(r.result).toEqual({ requeueAfterMs: 5 });
    expect((await r.client.get(ConfigMap, { namespace: 'ns', name: 'hi' })).data).toEqual({
      text: 'hello',
      host: fakeRestConfig.host,
    });
  });

  it('says which token is missing when the class cannot be built', async () => {
    class Needy implements Reconcile {
      static inject = [Symbol.for('test.NOBODY_REGISTERED_THIS')] as const;
      async reconcile(): Promise<ReconcileResult> {
        return {};
      }
    }
    await expect(reconcileOnce(Needy, { request: { namespace: 'ns', name: 'x' } })).rejects.toThrow(
      /cannot construct Needy: nothing is registered for the token test\.NOBODY_REGISTERED_THIS.*services/s,
    );
  });

  it('names the unregistered @inject token, not just its position', async () => {
    const BILLING = createToken<{ charge(): void }>('BILLING_API');
    @Reconciler({ for: ConfigMap })
    class Billing implements Reconcile {
      constructor(
        @inject(CLIENT) readonly client: Client,
        @inject(BILLING) readonly billing: { charge(): void },
      ) {}
      async reconcile(): Promise<ReconcileResult> {
        this.billing.charge();
        return {};
      }
    }
    await expect(reconcileOnce(Billing, { request: { namespace: 'ns', name: 'x' } })).rejects.toThrow(
      /nothing is registered for the token BILLING_API/,
    );
    let charged = 0;
    await reconcileOnce(Billing, {
      request: { namespace: 'ns', name: 'x' },
      services: [[BILLING, { charge: () => charged++ }]],
    });
    expect(charged).toBe(1);
  });

  it('gives the fake client the field indexes declared with @Reconciler, and a list by an undeclared field throws as the cache does', async () => {
    const byColor = defineFieldIndex(ConfigMap, 'data.color', (cm) => [cm.data?.['color'] ?? '']);
    @Reconciler({ for: ConfigMap, indexes: [byColor] })
    class Colors implements Reconcile {
      constructor(@inject(CLIENT) readonly client: Client) {}
      async reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
        const same = await this.client.list(ConfigMap, {
          namespace: req.namespace,
          matchingFields: { 'data.color': 'red' },
        });
        await this.client.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { namespace: req.namespace, name: 'count' },
          data: { red: String(same.items.length) },
        });
        await this.client.list(ConfigMap, { namespace: req.namespace, matchingFields: { 'data.size': 'big' } });
        return {};
      }
    }
    const cmOf = (name: string, color: string) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { namespace: 'ns', name },
      data: { color },
    });
    const r = await reconcileOnce(Colors, {
      request: { namespace: 'ns', name: 'a' },
      objects: [cmOf('a', 'red'), cmOf('b', 'blue'), cmOf('c', 'red')],
    });
    expect((await r.client.get(ConfigMap, { namespace: 'ns', name: 'count' })).data).toEqual({ red: '2' });
    expect(r.error).toMatchObject({ code: 'ERR_CACHE_MISSING_INDEX' });
  });

  it('drives CLOCK (timers and wallTime) and the fake client timestamps from one fake clock', async () => {
    const clock = createFakeClock({ startTime: Date.parse('2026-03-01T10:00:00Z') });
    @Reconciler({ for: ConfigMap })
    class Stamper implements Reconcile {
      static inject = [CLIENT, CLOCK] as const;
      constructor(
        readonly client: Client,
        readonly time: WallClock,
      ) {}
      async reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
        await this.client.create({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { namespace: req.namespace, name: req.name },
          data: { at: this.time.wallTime().toISOString() },
        });
        return {};
      }
    }
    clock.advance(90_000);
    const r = await reconcileOnce(Stamper, { request: { namespace: 'ns', name: 'stamp' }, clock });
    const cm = await r.client.get(ConfigMap, { namespace: 'ns', name: 'stamp' });
    expect(cm.data).toEqual({ at: '2026-03-01T10:01:30.000Z' });
    expect(cm.metadata?.creationTimestamp).toBe('2026-03-01T10:01:30Z');
  });

  it('takes an instance as well as a class', async () => {
    const calls: string[] = [];
    const r = await reconcileOnce(
      { reconcile: async (req: ReconcileRequest) => (calls.push(`${req.namespace}/${req.name}`), {}) },
      { request: { namespace: 'a', name: 'b' } },
    );
    expect(r.result).toEqual({});
    expect(calls).toEqual(['a/b']);
  });
});

describe('reconcileUntilStable', () => {
  it('repeats until a reconcile changes nothing, retrying failures', async () => {
    const r = await reconcileUntilStable(WidgetReconciler, {
      objects: [widget(2)],
      request: { namespace: 'ns', name: 'w' },
      interceptors: [intercept({ verb: 'patch', subresource: 'status' }, failWith(409), { nth: 1 })],
    });
    expect(r.stable).toBe(true);
    expect(r.rounds.map((x) => (x.error ? 'error' : x.writes.length))).toEqual(['error', 1, 1]);
    expect((await r.client.get(Widget, { namespace: 'ns', name: 'w' })).status).toEqual({ observedSize: 2 });
  });

  it('gives up after maxRounds when the reconcile keeps asking to be requeued, and stops at a TerminalError', async () => {
    const requeue = await reconcileUntilStable(
      { reconcile: async () => ({ requeueAfterMs: 1000 }) },
      { request: { namespace: 'ns', name: 'x' }, maxRounds: 3 },
    );
    expect(requeue.stable).toBe(false);
    expect(requeue.rounds).toHaveLength(3);
    const terminal = await reconcileUntilStable(
      {
        reconcile: async () => {
          throw new TerminalError('bad spec');
        },
      },
      { request: { namespace: 'ns', name: 'x' } },
    );
    expect(terminal.stable).toBe(false);
    expect(terminal.rounds).toHaveLength(1);
    expect(terminal.last.error).toBeInstanceOf(TerminalError);
  });
});

describe('createControllerHarness', () => {
  it('honours requeueAfterMs on the fake clock, without waiting', async () => {
    const clock = createFakeClock();
    const h = createControllerHarness({ reconcile: async () => ({ requeueAfterMs: 30_000 }) }, { clock });
    h.enqueue({ namespace: 'ns', name: 'w' });
    expect((await h.runReady()).map((r) => [r.key, r.atMs])).toEqual([['ns/w', 0]]);
    expect(await h.advance(29_999)).toEqual([]);
    expect((await h.advance(1)).map((r) => r.atMs)).toEqual([30_000]);
    h.shutDown();
  });

  it('retries failures with per-key exponential backoff (5 ms, 10 ms, 20 ms) and forgets it after a success', async () => {
    const clock = createFakeClock();
    let failures = 3;
    const h = createControllerHarness(
      {
        reconcile: async () => {
          if (failures-- > 0) throw new Error('not yet');
          return {};
        },
      },
      { clock },
    );
    h.enqueue({ namespace: '', name: 'cluster-scoped' });
    const at: number[] = [];
    for (const r of await h.runReady()) at.push(r.atMs);
    for (const step of [4, 1, 9, 1, 19, 1]) for (const r of await h.advance(step)) at.push(r.atMs);
    expect(at).toEqual([0, 5, 15, 35]);
    expect(h.queue.numRequeues('cluster-scoped')).toBe(0);
    expect(await h.advance(10_000)).toEqual([]);
    h.shutDown();
  });
});
