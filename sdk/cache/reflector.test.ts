import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ApiError,
  createResourceClientFactory,
  TransportError,
  type KubeObject,
  type ListOptions,
  type Watch,
  type WatchEvent,
  type WatchOptions,
} from '../client/index.js';
import { FakeListerWatcher } from './fake-list-watch.js';
import { Reflector, type ReflectorOptions } from './reflector.js';
import { createStore } from './store.js';
import type { ListerWatcher } from './types.js';
import { eventually, type EventuallyOptions } from '../../test/support/wait.js';

const poll: EventuallyOptions = { timeoutMs: 2000, intervalMs: 2 };

const cm = (name: string, data = ''): KubeObject & { data?: Record<string, string> } => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: 'ns', name },
  data: { v: data },
});

function setup(fake: FakeListerWatcher<KubeObject>, options: Partial<ReflectorOptions<KubeObject>> = {}) {
  const store = createStore<KubeObject>();
  const replaces: string[] = [];
  const sink = {
    replace: (items: KubeObject[], rv: string) => {
      replaces.push(rv);
      store.replace(items);
    },
    add: (o: KubeObject) => store.add(o),
    update: (o: KubeObject) => store.update(o),
    delete: (o: KubeObject) => store.delete(o),
  };
  const reflector = new Reflector<KubeObject>({
    listerWatcher: fake,
    store: sink,
    backoff: { random: () => 0, initialMs: 20, maxMs: 100 },
    ...options,
  });
  const controller = new AbortController();
  const done = reflector.start(controller.signal);
  const stop = async (): Promise<void> => {
    controller.abort();
    await done;
    expect(fake.openWatches).toBe(0);
  };
  return { store, reflector, replaces, stop, done };
}

const forbidden = (): ApiError =>
  ApiError.fromResponse(403, JSON.stringify({ kind: 'Status', code: 403, reason: 'Forbidden', message: 'no list' }));

/** The API server's answer for a resource it does not serve (a CRD not installed). */
const notServed = (): ApiError =>
  ApiError.fromResponse(
    404,
    JSON.stringify({
      kind: 'Status',
      code: 404,
      reason: 'NotFound',
      message: 'the server could not find the requested resource',
    }),
  );

const dataOf = (o: KubeObject | undefined): string | undefined => (o as { data?: { v?: string } } | undefined)?.data?.v;

describe('Reflector', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('syncs through WatchList, then follows changes on the same stream', async () => {
    const fake = new FakeListerWatcher<KubeObject>();
    fake.add(cm('a'));
    fake.add(cm('b'));
    const { store, reflector, stop } = setup(fake);
    await eventually('sync', () => reflector.health().synced, poll);
    expect(store.listKeys().toSorted()).toEqual(['ns/a', 'ns/b']);
    fake.modify(cm('a', '2'));
    fake.delete(cm('b'));
    fake.add(cm('c'));
    await eventually('changes', () => store.size === 2 && dataOf(store.getByKey('ns/a')) === '2', poll);
    expect(store.listKeys().toSorted()).toEqual(['ns/a', 'ns/c']);
    expect(fake.calls.map((c) => c.verb)).toEqual(['watch']);
    expect(fake.calls[0]!.options).toMatchObject({
      sendInitialEvents: true,
      resourceVersionMatch: 'NotOlderThan',
      allowWatchBookmarks: true,
      resourceVersion: '',
    });
    expect(reflector.lastSyncResourceVersion()).toBe(fake.resourceVersion);
    expect(reflector.health()).toMatchObject({ synced: true, watching: true, relists: 0, consecutiveFailures: 0 });
    await stop();
  });

  it('hands the initial events to replace in arrival order, applying any change or deletion before the bookmark', async () => {
    const fake = new FakeListerWatcher<KubeObject>();
    const withRv = (o: KubeObject, rv: string): KubeObject => ({
      ...o,
      metadata: { ...o.metadata, resourceVersion: rv },
    });
    const events: WatchEvent<KubeObject>[] = [
      { type: 'ADDED', object: withRv(cm('a'), '1') },
      { type: 'ADDED', object: withRv(cm('b'), '2') },
      { type: 'ADDED', object: withRv(cm('c'), '3') },
      { type: 'MODIFIED', object: withRv(cm('a', '2'), '4') },
      { type: 'DELETED', object: withRv(cm('b'), '5') },
      { type: 'ADDED', object: withRv(cm('d'), '6') },
      {
        type: 'BOOKMARK',
        object: {
          metadata: { resourceVersion: '6', annotations: { 'k8s.io/initial-events-end': 'true' } },
        } as KubeObject,
      },
    ];
    const lw = {
      list: (o: ListOptions) => fake.list(o),
      watch: (o: WatchOptions): Watch<KubeObject> => ({
        async *[Symbol.asyncIterator]() {
          yield* events.splice(0);
          if (!o.signal?.aborted)
            await new Promise<void>((resolve) => o.signal?.addEventListener('abort', () => resolve()));
        },
        close() {},
        async [Symbol.asyncDispose]() {},
      }),
    };
    const seen: string[][] = [];
    const { store, reflector, replaces, stop } = setup(fake, { listerWatcher: lw });
    const replace = store.replace.bind(store);
    store.replace = (items) => {
      seen.push([...items].map((o) => `${o.metadata?.name}=${dataOf(o)}`));
      replace(items);
    };
    await eventually('sync', () => reflector.health().synced, poll);
    expect(replaces).toEqual(['6']);
    expect(seen).toEqual([['a=2', 'c=', 'd=']]);
    expect(store.listKeys()).toEqual(['ns/a', 'ns/c', 'ns/d']);
    expect(reflector.lastSyncResourceVersion()).toBe('6');
    await stop();
  });

  it('falls back to a paginated LIST for good when the server rejects WatchList', async () => {
    const fake = new FakeListerWatcher<KubeObject>({ watchList: false });
    for (let i = 0; i < 5; i++) fake.add(cm(`o${i}`));
    const { store, reflector, stop } = setup(fake, { pageSize: 2 });
    await eventually('watch', () => reflector.health().watching && fake.openWatches === 1, poll);
    expect(store.size).toBe(5);
    const lists = fake.calls.filter((c) => c.verb === 'list');
    expect(lists).toHaveLength(3);
    expect(lists[0]!.options).toMatchObject({ limit: 2, resourceVersion: '' });
    expect((lists[1]!.options as ListOptions).continue).toBeTruthy();
    // A relist after 410 goes straight to LIST.
    fake.add(cm('late'));
    fake.compact();
    fake.breakWatches();
    await eventually('relist', () => reflector.health().relists === 1 && fake.openWatches === 1, poll);
    expect(store.size).toBe(6);
    expect(
      fake.calls.filter((c) => c.verb === 'watch' && (c.options as { sendInitialEvents?: boolean }).sendInitialEvents),
    ).toHaveLength(1);
    await stop();
  });

  it("passes each object of every LIST page and WatchList event through the store's prepare as it arrives", async () => {
    for (const initialList of ['list', 'watch-list'] as const) {
      const fake = new FakeListerWatcher<KubeObject>();
      for (let i = 0; i < 5; i++) fake.add(cm(`o${i}`));
      const log: string[] = [];
      const store = createStore<KubeObject>();
      const lw = {
        list: async (o: Parameters<typeof fake.list>[0]) => {
          log.push('list');
          return fake.list(o);
        },
        watch: (o: Parameters<typeof fake.watch>[0]) => fake.watch(o),
      };
      const sink = {
        // Drops o1, and marks what it keeps: replace must get exactly what prepare returned.
        prepare: (o: KubeObject) => {
          log.push(`prepare ${o.metadata?.name}`);
          return o.metadata?.name === 'o1' ? undefined : { ...o, data: { v: 'prepared' } };
        },
        replace: (items: KubeObject[]) => {
          log.push('replace');
          store.replace(items);
        },
        add: (o: KubeObject) => store.add(o),
        update: (o: KubeObject) => store.update(o),
        delete: (o: KubeObject) => store.delete(o),
      };
      const controller = new AbortController();
      const reflector = new Reflector<KubeObject>({ listerWatcher: lw, store: sink, initialList, pageSize: 2 });
      const done = reflector.start(controller.signal);
      await eventually('sync', () => reflector.health().synced, poll);
      const prepares = ['o0', 'o1', 'o2', 'o3', 'o4'].map((n) => `prepare ${n}`);
      expect(log).toEqual(
        initialList === 'list'
          ? ['list', ...prepares.slice(0, 2), 'list', ...prepares.slice(2, 4), 'list', prepares[4], 'replace']
          : [...prepares, 'replace'],
      );
      expect(store.listKeys().toSorted()).toEqual(['ns/o0', 'ns/o2', 'ns/o3', 'ns/o4']);
      expect(store.list().map(dataOf)).toEqual(['prepared', 'prepared', 'prepared', 'prepared']);
      controller.abort();
      await done;
    }
  });

  it('lists everything in one request when a continue token expires', async () => {
    const fake = new FakeListerWatcher<KubeObject>();
    for (let i = 0; i < 5; i++) fake.add(cm(`o${i}`));
    let expire = true;
    const lw = {
      list: async (o: Parameters<typeof fake.list>[0]) => {
        const page = await fake.list(o);
        if (expire && page.metadata.continue) {
          expire = false;
          fake.expireContinueTokens();
        }
        return page;
      },
      watch: (o: Parameters<typeof fake.watch>[0]) => fake.watch(o),
    };
    const { store, reflector, stop } = setup(fake, { listerWatcher: lw, initialList: 'list', pageSize: 2 });
    await eventually('sync', () => reflector.health().synced, poll);
    expect(store.size).toBe(5);
    const lists = fake.calls.filter((c) => c.verb === 'list').map((c) => c.options as ListOptions);
    expect(lists).toHaveLength(3);
    expect(lists[2]!.limit).toBeUndefined();
    expect(lists[2]!.continue).toBeUndefined();
    await stop();
  });

  it('resumes from the last resourceVersion after a watch ends, without a relist or a missed change', async () => {
    const fake = new FakeListerWatcher<KubeObject>();
    fake.add(cm('a'));
    const { store, reflector, replaces, stop } = setup(fake);
    await eventually('watch', () => fake.openWatches === 1, poll);
    fake.modify(cm('a', '1'));
    await eventually('first change', () => dataOf(store.getByKey('ns/a')) === '1', poll);
    const seenRv = reflector.lastSyncResourceVersion();
    fake.endWatches();
    fake.modify(cm('a', '2')); // happens while no watch is open
    await eventually('change made between watches', () => dataOf(store.getByKey('ns/a')) === '2', poll);
    const resumed = fake.calls.at(-1)!;
    expect(resumed.verb).toBe('watch');
    expect(resumed.options).toMatchObject({ resourceVersion: seenRv, allowWatchBookmarks: true });
    const timeout = (resumed.options as { timeoutSeconds: number }).timeoutSeconds;
    expect(timeout).toBeGreaterThanOrEqual(300);
    expect(timeout).toBeLessThan(600);
    expect(replaces).toHaveLength(1);
    expect(reflector.health().relists).toBe(0);
    await stop();
  });

  it('backs off after a broken watch, records the error, and clears it once watching again', async () => {
    const fake = new FakeListerWatcher<KubeObject>();
    const { store, reflector, stop } = setup(fake);
    await eventually('watch', () => fake.openWatches === 1, poll);
    fake.failNext('watch', new TransportError('connect ECONNREFUSED 127.0.0.1:1'));
    fake.breakWatches();
    await eventually('two failures', () => reflector.health().consecutiveFailures === 2, poll);
    expect(reflector.health().lastError).toMatchObject({ code: 'ERR_KUBE_TRANSPORT', during: 'watch' });
    fake.add(cm('after'));
    await eventually(
      `recovery (${JSON.stringify(fake.calls.map((c) => [c.verb, c.options.resourceVersion]))}, ${JSON.stringify(reflector.health().lastError?.message)})`,
      () => store.size === 1,
      poll,
    );
    expect(reflector.health()).toMatchObject({ consecutiveFailures: 0, lastError: undefined, relists: 0 });
    await stop();
  });

  it('relists once on 410 Gone, not in a loop', async () => {
    const fake = new FakeListerWatcher<KubeObject>();
    fake.add(cm('keep'));
    fake.add(cm('gone'));
    const { store, reflector, replaces, stop } = setup(fake);
    await eventually('watch', () => fake.openWatches === 1, poll);
    fake.failNext('watch', new TransportError('reset'));
    fake.breakWatches();
    fake.delete(cm('gone'));
    fake.compact(); // the reflector's resourceVersion is now too old
    await eventually('relist', () => reflector.health().relists === 1 && fake.openWatches === 1, poll);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(reflector.health().relists).toBe(1);
    expect(replaces).toHaveLength(2);
    expect(store.listKeys()).toEqual(['ns/keep']);
    await stop();
  });

  it('relists when the 410 comes as an HTTP answer to the watch', async () => {
    const fake = new FakeListerWatcher<KubeObject>();
    const { reflector, stop } = setup(fake);
    await eventually('watch', () => fake.openWatches === 1, poll);
    const gone = ApiError.fromResponse(
      410,
      JSON.stringify({ kind: 'Status', code: 410, reason: 'Gone', message: 'too old' }),
    );
    fake.failNext('watch', gone);
    fake.endWatches();
    await eventually('relist', () => reflector.health().relists === 1, poll);
    expect(fake.calls.filter((c) => c.verb === 'watch')).toHaveLength(3);
    await stop();
  });

  it('keeps retrying a forbidden list with growing delays and never throws', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const fake = new FakeListerWatcher<KubeObject>({ watchList: false });
    for (let i = 0; i < 5; i++) fake.failNext('list', forbidden());
    const { reflector, stop } = setup(fake, { backoff: { random: () => 0 } });
    const listCalls = (): number => fake.calls.filter((c) => c.verb === 'list').length;
    await vi.advanceTimersByTimeAsync(0);
    expect(listCalls()).toBe(1);
    expect(reflector.health().lastError).toMatchObject({ statusCode: 403, reason: 'Forbidden', during: 'list' });
    await vi.advanceTimersByTimeAsync(799);
    expect(listCalls()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(listCalls()).toBe(2);
    await vi.advanceTimersByTimeAsync(1600);
    expect(listCalls()).toBe(3);
    await vi.advanceTimersByTimeAsync(3200);
    expect(listCalls()).toBe(4);
    expect(reflector.health()).toMatchObject({ synced: false, consecutiveFailures: 4 });
    await vi.advanceTimersByTimeAsync(6400 + 12800);
    expect(reflector.health().synced).toBe(true);
    expect(reflector.health().lastError).toBeUndefined();
    await stop();
  });

  it('does not spin on a watch the server ends at once', async () => {
    const fake = new FakeListerWatcher<KubeObject>();
    const lw = {
      list: (o: Parameters<typeof fake.list>[0]) => fake.list(o),
      watch: (o: Parameters<typeof fake.watch>[0]) => {
        if (o.sendInitialEvents) return fake.watch(o);
        fake.calls.push({ verb: 'watch', options: o });
        return {
          async *[Symbol.asyncIterator]() {},
          close() {},
          async [Symbol.asyncDispose]() {},
        };
      },
    };
    const { reflector, stop } = setup(fake, {
      listerWatcher: lw,
      initialList: 'list',
      backoff: { random: () => 0, initialMs: 50, maxMs: 50 },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const watches = fake.calls.filter((c) => c.verb === 'watch').length;
    expect(watches).toBeLessThan(10);
    expect(reflector.health().lastError?.message).toMatch(/ended at once/);
    await stop();
  });

  it('resolves start when aborted, closing the watch', async () => {
    const fake = new FakeListerWatcher<KubeObject>();
    const { reflector, stop } = setup(fake);
    await eventually('watch', () => fake.openWatches === 1, poll);
    await stop();
    expect(reflector.health().watching).toBe(false);
    await expect(reflector.start(new AbortController().signal)).rejects.toThrow(/started once/);
  });

  it('parks on 404 (resource not served), retries with backoff, and relists once the resource is served', async () => {
    const fake = new FakeListerWatcher<KubeObject>();
    fake.add(cm('a'));
    // WatchList and LIST both answer 404 three times over: the CRD is not installed yet.
    for (let i = 0; i < 3; i++) fake.failNext('watch', notServed());
    const { store, reflector, replaces, stop } = setup(fake);
    await eventually('the reflector to park', () => reflector.health().waitingForResource, poll);
    expect(reflector.health()).toMatchObject({
      synced: false,
      waitingForResource: true,
      lastError: { statusCode: 404, during: 'list' },
    });
    // A 404 on the WatchList parks at once: no LIST is sent for a resource that is not served.
    expect(fake.calls.every((c) => c.verb === 'watch')).toBe(true);
    await eventually('the list once the resource is served', () => reflector.health().synced, poll);
    expect(reflector.health()).toMatchObject({
      waitingForResource: false,
      consecutiveFailures: 0,
      lastError: undefined,
    });
    expect(store.listKeys()).toEqual(['ns/a']);
    expect(replaces).toHaveLength(1);
    await stop();
  });

  it('parks when its resource is deleted while watched and relists from scratch when it is back', async () => {
    const fake = new FakeListerWatcher<KubeObject>();
    fake.add(cm('a'));
    const { store, reflector, replaces, stop } = setup(fake, { initialList: 'list' });
    await eventually('the watch', () => reflector.health().watching, poll);
    // The CRD goes away: its objects are deleted, the watch ends, and the next attempts answer 404.
    fake.delete(cm('a'));
    await eventually('the delete', () => store.listKeys().length === 0, poll);
    fake.failNext('watch', notServed());
    fake.failNext('list', notServed());
    fake.failNext('list', notServed());
    fake.breakWatches();
    await eventually('the reflector to park', () => reflector.health().waitingForResource, poll);
    fake.add(cm('b'));
    await eventually(
      'the relist',
      () => !reflector.health().waitingForResource && store.listKeys().includes('ns/b'),
      poll,
    );
    // A relist (not a watch resumed from the old resourceVersion) brought the new resource in.
    expect(replaces).toHaveLength(2);
    expect(fake.calls.filter((c) => c.verb === 'list').length).toBeGreaterThanOrEqual(4);
    await stop();
  });
});

// A server that answers every resumed watch with 410 Gone (as a too-old resourceVersion gets after each compaction):
// the reflector must wait through its backoff before each relist, as client-go's ListAndWatch does, instead of
// relisting at once in a loop.
describe('Reflector against a server that answers every watch with 410 Gone', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function goneServer(): Promise<{ host: string; lists: () => number }> {
    let lists = 0;
    server = createServer((req, res) => {
      const query = new URL(req.url ?? '/', 'http://x').searchParams;
      if (query.get('watch') !== 'true') {
        lists++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            apiVersion: 'v1',
            kind: 'ConfigMapList',
            metadata: { resourceVersion: String(lists) },
            items: [],
          }),
        );
        return;
      }
      const status = {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        code: 410,
        reason: 'Expired',
        message: 'too old resource version',
      };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const a = server.address();
    return { host: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, lists: () => lists };
  }

  it('waits through its backoff (800 ms doubling) before each relist', async () => {
    const { host, lists } = await goneServer();
    const cms = createResourceClientFactory({ host }).resource<KubeObject>({
      group: '',
      version: 'v1',
      plural: 'configmaps',
    });
    const lw: ListerWatcher<KubeObject> = { list: (o) => cms.list(o), watch: (o) => cms.watch(o) };
    const reflector = new Reflector<KubeObject>({
      listerWatcher: lw,
      store: createStore<KubeObject>(),
      backoff: { random: () => 0 },
    });
    const controller = new AbortController();
    const done = reflector.start(controller.signal);
    // With the default backoff and no jitter, LISTs start at 0, 0.8 s and 2.4 s: three in the first 2.4 s at most, however
    // fast the machine. Without the backoff, this server drew about 80 LISTs in 5 s.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    controller.abort();
    await done;
    expect(lists()).toBeGreaterThanOrEqual(1);
    expect(lists()).toBeLessThanOrEqual(3);
    expect(reflector.health().lastError).toMatchObject({ statusCode: 410, during: 'watch' });
  });

  it('does not wedge the event loop with a lister and watcher that answer at once', async () => {
    let lists = 0;
    const controller = new AbortController();
    const gone = ApiError.fromResponse(
      410,
      JSON.stringify({ kind: 'Status', code: 410, reason: 'Expired', message: 'too old' }),
    );
    const lw: ListerWatcher<KubeObject> = {
      list: () => {
        // A safety stop so that a regression fails this test instead of hanging the worker.
        if (++lists >= 500) controller.abort();
        return Promise.resolve({
          apiVersion: 'v1',
          kind: 'List',
          metadata: { resourceVersion: String(lists) },
          items: [],
        });
      },
      watch: (): Watch<KubeObject> => ({
        // eslint-disable-next-line require-yield
        async *[Symbol.asyncIterator]() {
          throw gone;
        },
        close() {},
        async [Symbol.asyncDispose]() {},
      }),
    };
    const reflector = new Reflector<KubeObject>({
      listerWatcher: lw,
      store: createStore<KubeObject>(),
      initialList: 'list',
      backoff: { random: () => 0, initialMs: 10, maxMs: 10 },
    });
    const done = reflector.start(controller.signal);
    // A timer can fire: the reflector's loop gives the event loop back between attempts.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const listsWhenTimerFired = lists;
    controller.abort();
    await done;
    expect(listsWhenTimerFired).toBeLessThanOrEqual(2);
  });
});
