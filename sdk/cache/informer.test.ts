import { describe, expect, it } from 'vitest';
import { hasErrorCode, type KubeObject, type ResourceDescriptor } from '../client/index.js';
import { FakeListerWatcher } from './fake-list-watch.js';
import { createInformer, type Informer, type InformerOptions } from './informer.js';
import {
  isDeletedFinalStateUnknown,
  type CacheLogger,
  type DeepReadonly,
  type DeletedFinalStateUnknown,
} from './types.js';
import { eventually, type EventuallyOptions } from '../../test/support/wait.js';

const poll: EventuallyOptions = { timeoutMs: 5000, intervalMs: 2 };

type CM = KubeObject & { data?: Record<string, string> };
const ConfigMap: ResourceDescriptor<CM> = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
};

const cm = (name: string, v = '0'): CM => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: 'ns', name, managedFields: [{ manager: 'test', operation: 'Update' }] },
  data: { v },
});

const name = (o: DeepReadonly<CM>): string => `${o.metadata?.namespace}/${o.metadata?.name}`;

/** Records each handler call as a line, with what the store held for that key at the time of the call. */
function recorder(store: () => Informer<CM>) {
  const lines: string[] = [];
  const cached = (key: string): string => store().getStore().getByKey(key)?.data?.['v'] ?? 'none';
  return {
    lines,
    handler: {
      onAdd: (o: DeepReadonly<CM>, initial: boolean) =>
        void lines.push(`add ${name(o)} v=${o.data?.['v']}${initial ? ' initial' : ''} (cached ${cached(name(o))})`),
      onUpdate: (a: DeepReadonly<CM>, b: DeepReadonly<CM>) =>
        void lines.push(
          `update ${name(b)} ${a.data?.['v']}->${b.data?.['v']}${a === b ? ' same' : ''} (cached ${cached(name(b))})`,
        ),
      onDelete: (o: DeepReadonly<CM> | DeletedFinalStateUnknown<DeepReadonly<CM>>) =>
        void lines.push(
          isDeletedFinalStateUnknown(o)
            ? `tombstone ${o.key} v=${o.obj.data?.['v']} (cached ${cached(o.key)})`
            : `delete ${name(o)} (cached ${cached(name(o))})`,
        ),
    },
  };
}

function capturingLogger(): CacheLogger & { errors: string[] } {
  const errors: string[] = [];
  return {
    errors,
    debug: () => undefined,
    warn: () => undefined,
    error: (obj, msg) => void errors.push(`${msg}: ${(obj as { err?: Error }).err?.message}`),
  };
}

function run(fake: FakeListerWatcher<CM>, options: Partial<InformerOptions<CM>> = {}) {
  let informer!: Informer<CM>;
  const rec = recorder(() => informer);
  informer = createInformer<CM>({
    listWatch: fake,
    handler: rec.handler,
    backoff: { initialMs: 5, maxMs: 10, random: () => 0 },
    initialList: 'list',
    ...options,
  });
  const controller = new AbortController();
  const done = informer.start(controller.signal);
  return {
    informer,
    lines: rec.lines,
    controller,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

describe('createInformer (reflector → DeltaFIFO → store and handler)', () => {
  it('adds the initial list, then follows adds, updates and deletes, the store changed before each call', async () => {
    const fake = new FakeListerWatcher<CM>();
    fake.add(cm('a'));
    fake.add(cm('b'));
    const { informer, lines, stop } = run(fake);
    expect(informer.hasSynced()).toBe(false);
    expect(await informer.waitForSync()).toBe(true);
    expect(informer.health().synced).toBe(true);
    expect(lines).toEqual(['add ns/a v=0 initial (cached 0)', 'add ns/b v=0 initial (cached 0)']);
    const a = informer.getStore().getByKey('ns/a')!;
    expect(a.metadata?.managedFields).toBeUndefined();
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.data)).toBe(true);
    expect(informer.getIndexer().byIndex('namespace', 'ns')).toHaveLength(2);

    lines.length = 0;
    await eventually('the watch', () => fake.openWatches === 1, poll);
    fake.modify(cm('a', '1'));
    fake.add(cm('c', '1'));
    fake.delete(cm('b'));
    await eventually('three calls', () => lines.length === 3, poll);
    expect(lines).toEqual(['update ns/a 0->1 (cached 1)', 'add ns/c v=1 (cached 1)', 'delete ns/b (cached none)']);
    expect(informer.getStore().listKeys().toSorted()).toEqual(['ns/a', 'ns/c']);
    expect(informer.lastSyncResourceVersion()).toBe(fake.resourceVersion);
    await stop();
  });

  it('turns a relist after 410 into updates and tombstones for objects deleted while the watch was down', async () => {
    const fake = new FakeListerWatcher<CM>();
    fake.add(cm('a'));
    fake.add(cm('b'));
    const { informer, lines, stop } = run(fake);
    await informer.waitForSync();
    await eventually('the watch', () => fake.openWatches === 1, poll);
    lines.length = 0;
    fake.breakWatches();
    fake.delete(cm('b'));
    fake.modify(cm('a', '2'));
    fake.compact();
    await eventually('the relist', () => lines.length === 2, poll);
    expect(lines).toEqual(['update ns/a 0->2 (cached 2)', 'tombstone ns/b v=0 (cached none)']);
    expect(informer.health().relists).toBe(1);
    await stop();
  });

  it('resyncs: onUpdate(obj, obj) for every cached object each period', async () => {
    const fake = new FakeListerWatcher<CM>();
    fake.add(cm('a'));
    const started = Date.now();
    const { informer, lines, stop } = run(fake, { resyncPeriodMs: 1000 });
    await informer.waitForSync();
    await eventually('a resync', () => lines.length >= 2, { ...poll, timeoutMs: 3000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(lines.slice(0, 2)).toEqual(['add ns/a v=0 initial (cached 0)', 'update ns/a 0->0 same (cached 0)']);
    await stop();
  });

  it('calls the handler one change at a time, and goes on after a handler or index function fails', async () => {
    const fake = new FakeListerWatcher<CM>();
    const logger = capturingLogger();
    const calls: string[] = [];
    let release!: () => void;
    const { informer, stop } = run(fake, {
      logger,
      indexers: {
        byV: (o) => {
          if (o.data?.['v'] === 'bad-index') throw new Error('index boom');
          return [o.data?.['v'] ?? ''];
        },
      },
      handler: {
        onAdd: async (o) => {
          calls.push(`start ${o.metadata?.name}`);
          if (o.metadata?.name === 'slow') await new Promise<void>((resolve) => (release = resolve));
          if (o.metadata?.name === 'throws') throw new Error('handler boom');
          calls.push(`end ${o.metadata?.name}`);
        },
      },
    });
    await informer.waitForSync();
    fake.add(cm('slow'));
    fake.add(cm('next'));
    await eventually('the slow call', () => calls.length === 1, poll);
    await new Promise((resolve) => setTimeout(resolve, 20));
    // The next change waits for the slow one, and so does the store.
    expect(calls).toEqual(['start slow']);
    expect(informer.getStore().getByKey('ns/next')).toBeUndefined();
    release();
    await eventually('the next call', () => calls.length === 4, poll);
    expect(calls).toEqual(['start slow', 'end slow', 'start next', 'end next']);

    fake.add(cm('throws'));
    fake.add(cm('broken', 'bad-index'));
    fake.add(cm('after'));
    await eventually('the call after the failures', () => calls.includes('end after'), poll);
    expect(informer.getStore().getByKey('ns/broken')).toBeUndefined();
    expect(
      informer
        .getIndexer()
        .byIndex('byV', '0')
        .map((o) => o.metadata?.name)
        .toSorted(),
    ).toEqual(['after', 'next', 'slow', 'throws']);
    expect(logger.errors).toEqual([
      'the event handler failed on onAdd: handler boom',
      'an index function failed on ns/broken; the change is dropped: index boom',
    ]);
    await stop();
  });

  it('leaves out objects of another kind than objectType, and keeps objects whose transform throws', async () => {
    const fake = new FakeListerWatcher<CM>();
    fake.add(cm('a'));
    fake.add({ apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'ns', name: 'secret' } });
    const logger = capturingLogger();
    const { informer, stop } = run(fake, {
      objectType: ConfigMap,
      logger,
      transform: (o) => {
        if (o.metadata?.name === 'odd') throw new Error('transform boom');
        return { ...o, data: { v: 'transformed' } };
      },
    });
    await informer.waitForSync();
    expect(informer.getStore().listKeys()).toEqual(['ns/a']);
    expect(informer.getStore().getByKey('ns/a')?.data).toEqual({ v: 'transformed' });
    fake.add(cm('odd', '7'));
    await eventually('the odd object', () => informer.getStore().getByKey('ns/odd') !== undefined, poll);
    expect(informer.getStore().getByKey('ns/odd')?.data).toEqual({ v: '7' });
    expect(Object.isFrozen(informer.getStore().getByKey('ns/odd'))).toBe(true);
    expect(logger.errors).toEqual([
      'an object of an unexpected type was left out: expected v1 ConfigMap, got v1 Secret',
      'the transform failed on ns/odd; the object is kept as received: transform boom',
    ]);
    await stop();
  });

  it('is synced at once on an empty list; stops on abort; starts once', async () => {
    const fake = new FakeListerWatcher<CM>();
    const { informer, stop } = run(fake);
    expect(await informer.waitForSync()).toBe(true);
    await expect(informer.start(new AbortController().signal)).rejects.toSatisfy((err: unknown) =>
      hasErrorCode(err, 'ERR_KUBE_ALREADY_STARTED'),
    );
    await stop();
    expect(fake.openWatches).toBe(0);

    const failing = new FakeListerWatcher<CM>();
    failing.failNext('list', new Error('down'));
    failing.failNext('list', new Error('down'));
    const {
      informer: unsynced,
      controller,
      stop: stop2,
    } = run(failing, { backoff: { initialMs: 60_000, random: () => 0 } });
    const waiting = unsynced.waitForSync(controller.signal);
    await eventually('the failed list', () => unsynced.health().consecutiveFailures === 1, poll);
    expect(unsynced.hasSynced()).toBe(false);
    await stop2();
    expect(await waiting).toBe(false);
    expect(await unsynced.waitForSync()).toBe(false);
    expect(unsynced.health().lastError?.message).toBe('down');
  });
});
