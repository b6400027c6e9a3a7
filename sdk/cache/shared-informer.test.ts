import { afterEach, describe, expect, it, vi } from 'vitest';
import { TransportError, type KubeList, type KubeObject, type Watch, type WatchEvent } from '../client/index.js';
import { FakeListerWatcher } from './fake-list-watch.js';
import { createSharedIndexInformer, type SharedIndexInformerOptions } from './shared-informer.js';
import {
  isDeletedFinalStateUnknown,
  type DeepReadonly,
  type DeletedFinalStateUnknown,
  type ListerWatcher,
} from './types.js';
import { eventually, type EventuallyOptions } from '../../test/support/wait.js';

const poll: EventuallyOptions = { timeoutMs: 3000, intervalMs: 2 };

type CM = KubeObject & { data?: Record<string, string> };

const cm = (name: string, v = '0', ns = 'ns'): CM => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: ns, name, managedFields: [{ manager: 'test', operation: 'Update' }] },
  data: { v },
});

const name = (o: DeepReadonly<CM>): string => `${o.metadata?.namespace}/${o.metadata?.name}`;

/** Records every notification as a line: `add ns/a v=0 initial`, `update ns/a 0->1`, `delete ns/a`, `tombstone ns/a`. */
function recorder() {
  const lines: string[] = [];
  return {
    lines,
    handler: {
      onAdd: (o: DeepReadonly<CM>, initial: boolean) =>
        void lines.push(`add ${name(o)} v=${o.data?.['v']}${initial ? ' initial' : ''}`),
      onUpdate: (a: DeepReadonly<CM>, b: DeepReadonly<CM>) =>
        void lines.push(`update ${name(b)} ${a.data?.['v']}->${b.data?.['v']}`),
      onDelete: (o: DeepReadonly<CM> | DeletedFinalStateUnknown<DeepReadonly<CM>>) =>
        void lines.push(
          isDeletedFinalStateUnknown(o) ? `tombstone ${o.key} v=${o.obj.data?.['v']}` : `delete ${name(o)}`,
        ),
    },
  };
}

function run(lw: ListerWatcher<CM>, options: SharedIndexInformerOptions<CM> = {}) {
  const informer = createSharedIndexInformer<CM>(lw, {
    backoff: { initialMs: 10, maxMs: 20, random: () => 0 },
    ...options,
  });
  const controller = new AbortController();
  let done: Promise<void> | undefined;
  return {
    informer,
    start: () => {
      done = informer.start(controller.signal);
    },
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

describe('SharedIndexInformer', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('syncs, strips managedFields, freezes, and notifies add/update/delete in order', async () => {
    const fake = new FakeListerWatcher<CM>();
    fake.add(cm('a'));
    fake.add(cm('b'));
    const { informer, start, stop } = run(fake);
    const rec = recorder();
    const reg = informer.addEventHandler(rec.handler);
    expect(reg.hasSynced()).toBe(false);
    start();
    expect(await informer.waitForSync()).toBe(true);
    await eventually('registration sync', () => reg.hasSynced(), poll);
    expect(rec.lines.toSorted()).toEqual(['add ns/a v=0 initial', 'add ns/b v=0 initial']);

    const a = informer.getIndexer().getByKey('ns/a')!;
    expect(a.metadata?.managedFields).toBeUndefined();
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.metadata)).toBe(true);
    expect(Object.isFrozen(a.data)).toBe(true);

    rec.lines.length = 0;
    fake.modify(cm('a', '1'));
    fake.modify(cm('a', '2'));
    fake.delete(cm('a'));
    fake.add(cm('a', '3'));
    fake.add(cm('c'));
    await eventually('five notifications', () => rec.lines.length === 5, poll);
    expect(rec.lines).toEqual(['update ns/a 0->1', 'update ns/a 1->2', 'delete ns/a', 'add ns/a v=3', 'add ns/c v=0']);
    expect(informer.getIndexer().byIndex('namespace', 'ns')).toHaveLength(3);
    await stop();
    expect(informer.isStopped).toBe(true);
    expect(() => informer.addEventHandler({})).toThrow(/has stopped/);
  });

  it('replays the current state to a handler added after start, then delivers live changes', async () => {
    const fake = new FakeListerWatcher<CM>();
    fake.add(cm('a'));
    fake.add(cm('b'));
    const { informer, start, stop } = run(fake);
    start();
    await informer.waitForSync();
    fake.modify(cm('a', '1'));
    await eventually('update in cache', () => informer.getIndexer().getByKey('ns/a')?.data?.['v'] === '1', poll);
    const rec = recorder();
    const reg = informer.addEventHandler(rec.handler);
    expect(reg.hasSynced()).toBe(false);
    await eventually('late registration sync', () => reg.hasSynced(), poll);
    expect(rec.lines.toSorted()).toEqual(['add ns/a v=1 initial', 'add ns/b v=0 initial']);
    fake.delete(cm('b'));
    await eventually('live delete', () => rec.lines.length === 3, poll);
    expect(rec.lines[2]).toBe('delete ns/b');
    await stop();
  });

  it('turns a relist into updates, adds and tombstones for what vanished', async () => {
    const fake = new FakeListerWatcher<CM>();
    fake.add(cm('keep'));
    fake.add(cm('change'));
    fake.add(cm('vanish', '7'));
    const { informer, start, stop } = run(fake);
    const rec = recorder();
    informer.addEventHandler(rec.handler);
    start();
    await informer.waitForSync();
    await eventually('initial', () => rec.lines.length === 3, poll);
    rec.lines.length = 0;

    fake.breakWatches(new TransportError('reset'));
    fake.modify(cm('change', '1'));
    fake.delete(cm('vanish'));
    fake.add(cm('new'));
    fake.compact();
    await eventually('relist notifications', () => informer.health().relists === 1 && rec.lines.length === 4, poll);
    expect(rec.lines.toSorted()).toEqual([
      'add ns/new v=0',
      'tombstone ns/vanish v=7',
      'update ns/change 0->1',
      'update ns/keep 0->0',
    ]);
    expect(informer.getIndexer().listKeys().toSorted()).toEqual(['ns/change', 'ns/keep', 'ns/new']);
    await stop();
  });

  it('keeps the namespace and user indexes right across a relist, with tombstones for what vanished', async () => {
    const fake = new FakeListerWatcher<CM>();
    fake.add(cm('a', 'web', 'ns1'));
    fake.add(cm('b', 'db', 'ns1'));
    fake.add(cm('c', 'web', 'ns2'));
    const byV = (o: DeepReadonly<CM>): string[] => [o.data?.['v'] ?? ''];
    const transformed: string[] = [];
    const { informer, start, stop } = run(fake, {
      indexers: { v: byV },
      transform: (o) => {
        transformed.push(o.metadata?.name ?? '');
        return o;
      },
    });
    const rec = recorder();
    informer.addEventHandler(rec.handler);
    start();
    await informer.waitForSync();
    await eventually('initial', () => rec.lines.length === 3, poll);
    expect(rec.lines).toEqual(['add ns1/a v=web initial', 'add ns1/b v=db initial', 'add ns2/c v=web initial']);
    expect(transformed).toEqual(['a', 'b', 'c']);
    const ix = informer.getIndexer();
    expect(ix.indexKeys('v', 'web')).toEqual(['ns1/a', 'ns2/c']);
    expect(ix.indexKeys('namespace', 'ns1')).toEqual(['ns1/a', 'ns1/b']);
    rec.lines.length = 0;
    transformed.length = 0;

    fake.breakWatches(new TransportError('reset'));
    fake.modify(cm('a', 'db', 'ns1'));
    fake.delete(cm('c', 'web', 'ns2'));
    fake.add(cm('d', 'web', 'ns3'));
    fake.compact();
    await eventually('relist notifications', () => informer.health().relists === 1 && rec.lines.length === 4, poll);
    expect(rec.lines).toEqual([
      'update ns1/a web->db',
      'update ns1/b db->db',
      'add ns3/d v=web',
      'tombstone ns2/c v=web',
    ]);
    expect(transformed.toSorted()).toEqual(['a', 'b', 'd']);
    expect(ix.listKeys().toSorted()).toEqual(['ns1/a', 'ns1/b', 'ns3/d']);
    expect(ix.indexKeys('v', 'web')).toEqual(['ns3/d']);
    expect(ix.indexKeys('v', 'db').toSorted()).toEqual(['ns1/a', 'ns1/b']);
    expect(ix.listIndexFuncValues('v').toSorted()).toEqual(['db', 'web']);
    expect(ix.listIndexFuncValues('namespace').toSorted()).toEqual(['ns1', 'ns3']);
    expect(ix.byIndex('namespace', 'ns2')).toEqual([]);
    await stop();
  });

  it('keeps its previous content when an index function fails during a relist', async () => {
    const fake = new FakeListerWatcher<CM>();
    fake.add(cm('a'));
    const errors: string[] = [];
    const logger = { debug() {}, warn() {}, error: (_: object, msg: string) => void errors.push(msg) };
    const picky = (o: DeepReadonly<CM>): string[] => {
      if (o.data?.['v'] === 'bad') throw new Error('bad object');
      return [o.data?.['v'] ?? ''];
    };
    const { informer, start, stop } = run(fake, { indexers: { v: picky }, logger });
    const rec = recorder();
    informer.addEventHandler(rec.handler);
    start();
    await informer.waitForSync();
    await eventually('initial', () => rec.lines.length === 1, poll);
    fake.breakWatches(new TransportError('reset'));
    fake.add(cm('b', 'bad'));
    fake.compact();
    await eventually('the failed relist', () => errors.some((m) => m.includes('during a relist')), poll);
    expect(informer.getIndexer().listKeys()).toEqual(['ns/a']);
    expect(informer.getIndexer().indexKeys('v', '0')).toEqual(['ns/a']);
    expect(rec.lines).toEqual(['add ns/a v=0 initial']);
    await stop();
  });

  it('shows the WatchList initial objects only all together at the bookmark, each transformed once as it arrived', async () => {
    const rv = (o: CM, resourceVersion: string): CM => ({ ...o, metadata: { ...o.metadata, resourceVersion } });
    const initial: WatchEvent<CM>[] = [
      { type: 'ADDED', object: rv(cm('a', '1'), '1') },
      { type: 'ADDED', object: rv(cm('b'), '2') },
      { type: 'MODIFIED', object: rv(cm('a', '2'), '3') },
      { type: 'DELETED', object: rv(cm('b'), '4') },
      { type: 'ADDED', object: rv(cm('c'), '5') },
    ];
    const bookmark: WatchEvent<CM> = {
      type: 'BOOKMARK',
      object: { metadata: { resourceVersion: '5', annotations: { 'k8s.io/initial-events-end': 'true' } } } as CM,
    };
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const lw: ListerWatcher<CM> = {
      list: async (): Promise<KubeList<CM>> => ({ metadata: { resourceVersion: '1' }, items: [] }),
      watch: (o): Watch<CM> => ({
        async *[Symbol.asyncIterator]() {
          yield* initial.splice(0);
          await released;
          yield bookmark;
          if (!o.signal?.aborted)
            await new Promise<void>((resolve) => o.signal?.addEventListener('abort', () => resolve()));
        },
        close() {},
        async [Symbol.asyncDispose]() {},
      }),
    };
    const transformed: string[] = [];
    const { informer, start, stop } = run(lw, {
      transform: (o) => {
        transformed.push(`${o.metadata?.name}=${o.data?.['v']}`);
        return o;
      },
    });
    const rec = recorder();
    informer.addEventHandler(rec.handler);
    start();
    await eventually('the initial objects', () => informer.health().lastEventAgeMs !== undefined, poll);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(informer.hasSynced()).toBe(false);
    expect(informer.getIndexer().size).toBe(0);
    // Transformed on arrival (so what the transform drops is not held until the bookmark), the cache still empty.
    expect(transformed).toEqual(['a=1', 'b=0', 'a=2', 'c=0']);
    release();
    await informer.waitForSync();
    expect(informer.getIndexer().listKeys()).toEqual(['ns/a', 'ns/c']);
    expect(informer.getIndexer().indexKeys('namespace', 'ns')).toEqual(['ns/a', 'ns/c']);
    expect(informer.lastSyncResourceVersion()).toBe('5');
    await eventually('notifications', () => rec.lines.length === 2, poll);
    expect(rec.lines).toEqual(['add ns/a v=2 initial', 'add ns/c v=0 initial']);
    expect(transformed).toEqual(['a=1', 'b=0', 'a=2', 'c=0']); // none again at the bookmark
    await stop();
  });

  it('reports a deletion once: a DELETED event for an object no longer cached is dropped', async () => {
    const events: WatchEvent<CM>[] = [
      { type: 'DELETED', object: { ...cm('a'), metadata: { namespace: 'ns', name: 'a', resourceVersion: '5' } } },
      { type: 'DELETED', object: { ...cm('a'), metadata: { namespace: 'ns', name: 'a', resourceVersion: '6' } } },
    ];
    const lw: ListerWatcher<CM> = {
      list: async (): Promise<KubeList<CM>> => ({ metadata: { resourceVersion: '4' }, items: [cm('a')] }),
      watch: (o): Watch<CM> => ({
        async *[Symbol.asyncIterator]() {
          yield* events.splice(0);
          await new Promise<void>((resolve) => o.signal?.addEventListener('abort', () => resolve()));
        },
        close() {},
        async [Symbol.asyncDispose]() {},
      }),
    };
    const { informer, start, stop } = run(lw, { initialList: 'list' });
    const rec = recorder();
    informer.addEventHandler(rec.handler);
    start();
    await eventually('both events', () => informer.lastSyncResourceVersion() === '6', poll);
    await eventually('notifications', () => rec.lines.length === 2, poll);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(rec.lines).toEqual(['add ns/a v=0 initial', 'delete ns/a']);
    await stop();
  });

  it('keeps a slow handler from holding up other handlers and the cache', async () => {
    const fake = new FakeListerWatcher<CM>();
    const { informer, start, stop } = run(fake);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slowSeen: string[] = [];
    informer.addEventHandler({
      onAdd: async (o) => {
        slowSeen.push(o.metadata!.name!);
        await gate;
      },
    });
    const fast = recorder();
    informer.addEventHandler(fast.handler);
    start();
    await informer.waitForSync();
    for (let i = 0; i < 50; i++) fake.add(cm(`o${i}`));
    await eventually(
      'fast handler and cache',
      () => fast.lines.length === 50 && informer.getIndexer().size === 50,
      poll,
    );
    expect(slowSeen).toEqual(['o0']);
    release();
    await eventually('slow handler catches up', () => slowSeen.length === 50, poll);
    await stop();
  });

  it('stops delivering to a removed handler', async () => {
    const fake = new FakeListerWatcher<CM>();
    const { informer, start, stop } = run(fake);
    const rec = recorder();
    const reg = informer.addEventHandler(rec.handler);
    start();
    await informer.waitForSync();
    fake.add(cm('a'));
    await eventually('first', () => rec.lines.length === 1, poll);
    reg.remove();
    reg.remove();
    expect(reg.hasSynced()).toBe(false);
    fake.add(cm('b'));
    await eventually('cache', () => informer.getIndexer().size === 2, poll);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(rec.lines).toEqual(['add ns/a v=0']);
    await stop();
  });

  it('resyncs each handler on its own period', async () => {
    const fake = new FakeListerWatcher<CM>();
    fake.add(cm('a'));
    const { informer, start, stop } = run(fake, { resyncPeriodMs: 1000 });
    const every = recorder();
    const never = recorder();
    informer.addEventHandler(every.handler);
    informer.addEventHandler(never.handler, { resyncPeriodMs: 0 });
    const started = Date.now();
    start();
    await eventually('a resync', () => every.lines.includes('update ns/a 0->0'), { ...poll, timeoutMs: 3000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(never.lines).toEqual(['add ns/a v=0 initial']);
    await stop();
  });

  it('applies a custom transform, refuses setTransform after start, and does not freeze in production', async () => {
    vi.stubEnv('NODE_ENV', 'production');
    const fake = new FakeListerWatcher<CM>();
    fake.add(cm('a'));
    const { informer, start, stop } = run(fake);
    informer.setTransform((o) => ({ ...o, data: { v: `t${o.data?.['v']}` } }));
    start();
    expect(() => informer.setTransform(undefined)).toThrow(/before start/);
    await informer.waitForSync();
    const a = informer.getIndexer().getByKey('ns/a')!;
    expect(a.data?.['v']).toBe('t0');
    expect(a.metadata?.managedFields).toHaveLength(1); // the default transform was replaced
    expect(Object.isFrozen(a)).toBe(false);
    await stop();
  });

  it('reports a throwing handler without losing later notifications', async () => {
    const fake = new FakeListerWatcher<CM>();
    const errors: string[] = [];
    const logger = {
      debug: () => undefined,
      warn: () => undefined,
      error: (o: object, msg: string) => void errors.push(msg),
    };
    const { informer, start, stop } = run(fake, { logger });
    const seen: string[] = [];
    informer.addEventHandler({
      onAdd: (o) => {
        if (o.metadata?.name === 'bad') throw new Error('boom');
        seen.push(o.metadata!.name!);
      },
    });
    start();
    await informer.waitForSync();
    fake.add(cm('bad'));
    fake.add(cm('good'));
    await eventually('good', () => seen.length === 1, poll);
    expect(errors).toEqual(['an event handler failed on add']);
    await stop();
  });

  it('answers waitForSync with false when the signal aborts first', async () => {
    const fake = new FakeListerWatcher<CM>({ watchList: false });
    fake.failNext('list', new TransportError('refused'));
    const { informer, start, stop } = run(fake, { backoff: { initialMs: 60_000, random: () => 0 } });
    start();
    expect(await informer.waitForSync(AbortSignal.timeout(50))).toBe(false);
    expect(informer.health().lastError?.message).toBe('refused');
    await stop();
    expect(await informer.waitForSync()).toBe(false);
  });
});
