import { describe, expect, it } from 'vitest';
import { hasErrorCode, type KubeObject } from '../client/index.js';
import {
  createDeltaFIFO,
  DeltaFIFOClosedError,
  isRequeueError,
  RequeueError,
  type DeltaFIFO,
  type Deltas,
} from './delta-fifo.js';
import { FakeListerWatcher } from './fake-list-watch.js';
import { Reflector } from './reflector.js';
import { createStore, type Store } from './store.js';
import { DeletedFinalStateUnknown, isDeletedFinalStateUnknown } from './types.js';
import { eventually, type EventuallyOptions } from '../../test/support/wait.js';

const poll: EventuallyOptions = { timeoutMs: 3000, intervalMs: 2 };

type CM = KubeObject & { data?: Record<string, string> };

const cm = (name: string, v = '0'): CM => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: 'ns', name },
  data: { v },
});

/** `Added ns/a v=0`, `Deleted ns/a v=1`, `Deleted tombstone ns/a v=1` (v=- for a tombstone without an object). */
function describeDeltas(deltas: Deltas<CM>): string[] {
  return deltas.map((d) => {
    if (isDeletedFinalStateUnknown(d.object))
      return `${d.type} tombstone ${d.object.key} v=${d.object.obj?.data?.['v'] ?? '-'}`;
    return `${d.type} ${d.object.metadata?.namespace}/${d.object.metadata?.name} v=${d.object.data?.['v']}`;
  });
}

/** Pops one key and returns its deltas described, and whether they were in the initial list. */
async function popOne(fifo: DeltaFIFO<CM>): Promise<{ lines: string[]; initial: boolean }> {
  let initial = false;
  const deltas = await fifo.pop((_, isInInitialList) => {
    initial = isInInitialList;
  });
  return { lines: describeDeltas(deltas), initial };
}

/** Pops every queued key; returns each key's deltas described. */
async function drain(fifo: DeltaFIFO<CM>): Promise<string[][]> {
  const out: string[][] = [];
  while (fifo.length > 0) out.push((await popOne(fifo)).lines);
  return out;
}

/** A consumer store kept as an informer keeps its cache: what the FIFO's knownObjects reads. */
function applyTo(store: Store<CM>, fifo: DeltaFIFO<CM>) {
  return (deltas: Deltas<CM>): void => {
    for (const d of deltas) {
      if (d.type === 'Deleted') store.deleteByKey(fifo.keyOf(d.object));
      else store.add(d.object);
    }
  };
}

/** Settles pending microtasks and one macrotask. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('DeltaFIFO', () => {
  it('accumulates each key’s deltas in order and pops keys in the order they were first queued', async () => {
    const fifo = createDeltaFIFO<CM>();
    fifo.add(cm('a', '1'));
    fifo.add(cm('b', '1'));
    fifo.update(cm('a', '2'));
    fifo.update(cm('b', '2'));
    fifo.delete(cm('a', '3'));
    fifo.add(cm('c', '1'));
    expect(fifo.listKeys()).toEqual(['ns/a', 'ns/b', 'ns/c']);
    expect(fifo.length).toBe(3);
    expect(fifo.list().map((o) => `${o.metadata?.name}=${o.data?.['v']}`)).toEqual(['a=3', 'b=2', 'c=1']);
    expect(describeDeltas(fifo.getByKey('ns/a')!)).toEqual(['Added ns/a v=1', 'Updated ns/a v=2', 'Deleted ns/a v=3']);
    expect(describeDeltas(fifo.get(cm('b'))!)).toEqual(['Added ns/b v=1', 'Updated ns/b v=2']);
    fifo.delete(new DeletedFinalStateUnknown('ns/c', cm('c', '7')));
    // The newest object of a key whose deltas end with a tombstone is the tombstone's object.
    expect(fifo.list().map((o) => `${o.metadata?.name}=${o.data?.['v']}`)).toEqual(['a=3', 'b=2', 'c=7']);
    fifo.add(cm('c', '1'));
    expect(fifo.getByKey('ns/zzz')).toBeUndefined();

    expect(await drain(fifo)).toEqual([
      ['Added ns/a v=1', 'Updated ns/a v=2', 'Deleted ns/a v=3'],
      ['Added ns/b v=1', 'Updated ns/b v=2'],
      ['Added ns/c v=1', 'Deleted tombstone ns/c v=7', 'Added ns/c v=1'],
    ]);
    expect(fifo.length).toBe(0);
  });

  it('hands out copies of its deltas, keys objects by namespace/name and tombstones by their key', () => {
    const fifo = createDeltaFIFO<CM>();
    fifo.add(cm('a'));
    const copy = fifo.getByKey('ns/a') as unknown[];
    copy.push('junk');
    expect(fifo.getByKey('ns/a')).toHaveLength(1);
    expect(fifo.keyOf(cm('x'))).toBe('ns/x');
    expect(fifo.keyOf(new DeletedFinalStateUnknown('other/key', cm('x')))).toBe('other/key');
    expect(fifo.keyOf(fifo.getByKey('ns/a')!)).toBe('ns/a');
    expect(() => fifo.keyOf([])).toThrow(TypeError);
    const byName = createDeltaFIFO<CM>({ keyFunction: (o) => o.metadata!.name! });
    byName.add(cm('a'));
    expect(byName.listKeys()).toEqual(['a']);
  });

  it('drops a delete of an object it does not know, and keeps one of an object it does', async () => {
    const lone = createDeltaFIFO<CM>();
    lone.delete(cm('gone'));
    expect(lone.length).toBe(0);

    const store = createStore<CM>();
    store.add(cm('known', '5'));
    const fifo = createDeltaFIFO<CM>({ knownObjects: store });
    fifo.delete(cm('unknown'));
    fifo.delete(cm('known', '6'));
    expect(await drain(fifo)).toEqual([['Deleted ns/known v=6']]);
  });

  it('folds two consecutive deletes into one, keeping a final state over a tombstone', async () => {
    const store = createStore<CM>();
    for (const name of ['a', 'b', 'c']) store.add(cm(name, '1'));
    const fifo = createDeltaFIFO<CM>({ knownObjects: store });
    // Final state, then a tombstone: the final state stays.
    fifo.delete(cm('a', '2'));
    fifo.delete(new DeletedFinalStateUnknown('ns/a', cm('a', '1')));
    // Tombstone, then a final state: the final state replaces it.
    fifo.delete(new DeletedFinalStateUnknown('ns/b', cm('b', '1')));
    fifo.delete(cm('b', '3'));
    // Two final states: the newer one.
    fifo.delete(cm('c', '2'));
    fifo.delete(cm('c', '3'));
    // A delete after another change is a delta of its own.
    fifo.update(cm('d', '1'));
    fifo.delete(cm('d', '2'));
    expect(await drain(fifo)).toEqual([
      ['Deleted ns/a v=2'],
      ['Deleted ns/b v=3'],
      ['Deleted ns/c v=3'],
      ['Updated ns/d v=1', 'Deleted ns/d v=2'],
    ]);
  });

  it('replace queues Sync by default, Replaced when asked, and tombstones for known objects the list lacks', async () => {
    const store = createStore<CM>();
    store.add(cm('kept', '1'));
    store.add(cm('vanished', '1'));
    const fifo = createDeltaFIFO<CM>({ knownObjects: store });
    fifo.replace([cm('kept', '2'), cm('new', '1')], '10');
    expect(await drain(fifo)).toEqual([
      ['Sync ns/kept v=2'],
      ['Sync ns/new v=1'],
      ['Deleted tombstone ns/vanished v=1'],
    ]);

    const replaced = createDeltaFIFO<CM>({ knownObjects: store, emitDeltaTypeReplaced: true });
    replaced.replace([cm('kept', '3')], '11');
    expect((await drain(replaced)).flat()).toEqual(['Replaced ns/kept v=3', 'Deleted tombstone ns/vanished v=1']);
  });

  it('replace tombstones queued objects the list lacks, with their newest state, and reports a queued deletion once', async () => {
    const fifo = createDeltaFIFO<CM>({ emitDeltaTypeReplaced: true });
    fifo.add(cm('a', '1'));
    fifo.update(cm('a', '2'));
    fifo.add(cm('b', '1'));
    fifo.delete(cm('b', '2'));
    fifo.replace([cm('d', '1')], '20');
    expect(await drain(fifo)).toEqual([
      ['Added ns/a v=1', 'Updated ns/a v=2', 'Deleted tombstone ns/a v=2'],
      // The deletion already queued absorbs the relist's tombstone.
      ['Added ns/b v=1', 'Deleted ns/b v=2'],
      ['Replaced ns/d v=1'],
    ]);
  });

  it('replace does not report again an object whose deletion is queued or being processed, nor an unknown one', async () => {
    const store = createStore<CM>();
    store.add(cm('a', '1'));
    const fifo = createDeltaFIFO<CM>({ knownObjects: store, emitDeltaTypeReplaced: true });
    fifo.delete(cm('a', '2'));
    let release!: () => void;
    const processing = fifo.pop(() => new Promise<void>((resolve) => (release = resolve)));
    await tick();
    // ns/a's deletion is being processed and the store still has it: the relist must not report it again.
    fifo.replace([], '30');
    expect(fifo.length).toBe(0);
    release();
    await processing;
  });

  it('replace during the processing of an add reports the object as deleted even before the consumer stored it', async () => {
    const store = createStore<CM>();
    const fifo = createDeltaFIFO<CM>({ knownObjects: store, emitDeltaTypeReplaced: true });
    fifo.add(cm('a', '1'));
    let release!: () => void;
    const processing = fifo.pop(async (deltas) => {
      await new Promise<void>((resolve) => (release = resolve));
      applyTo(store, fifo)(deltas);
    });
    await tick();
    fifo.replace([], '40');
    // A delete event while the add is processed is kept too (folded into the relist's tombstone).
    fifo.delete(cm('a', '2'));
    release();
    await processing;
    expect(await drain(fifo)).toEqual([['Deleted ns/a v=2']]);
  });

  it('hasSynced is true once the first replace’s entries, tombstones included, have been popped and processed', async () => {
    const store = createStore<CM>();
    store.add(cm('old'));
    const fifo = createDeltaFIFO<CM>({ knownObjects: store, emitDeltaTypeReplaced: true });
    expect(fifo.hasSynced()).toBe(false);
    fifo.replace([cm('a'), cm('b')], '1');
    fifo.add(cm('c'));
    expect(fifo.hasSynced()).toBe(false);

    const seen: string[] = [];
    const syncedDuring: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      await fifo.pop(async (deltas, isInInitialList) => {
        await tick();
        syncedDuring.push(fifo.hasSynced());
        seen.push(`${fifo.keyOf(deltas)} ${isInInitialList ? 'initial' : 'later'}`);
      });
    }
    expect(seen).toEqual(['ns/a initial', 'ns/b initial', 'ns/old initial', 'ns/c later']);
    // Still false while the last initial entry is being processed.
    expect(syncedDuring).toEqual([false, false, false, true]);
    expect(fifo.hasSynced()).toBe(true);

    // A later replace does not make it unsynced.
    fifo.replace([cm('z')], '2');
    expect(fifo.hasSynced()).toBe(true);
  });

  it('hasSynced is true at once for an empty first list, and after writes that came before any list', () => {
    const empty = createDeltaFIFO<CM>();
    empty.replace([], '1');
    expect(empty.hasSynced()).toBe(true);
    const added = createDeltaFIFO<CM>();
    added.add(cm('a'));
    expect(added.hasSynced()).toBe(true);
  });

  it('resync queues Sync of each known object that has nothing queued or being processed', async () => {
    const store = createStore<CM>();
    for (const name of ['a', 'b', 'c']) store.add(cm(name, '1'));
    const fifo = createDeltaFIFO<CM>({ knownObjects: store });
    fifo.update(cm('b', '2'));
    fifo.add(cm('c', '2'));
    let release!: () => void;
    const processing = fifo.pop(() => new Promise<void>((resolve) => (release = resolve))); // ns/b, in flight
    await tick();
    fifo.resync();
    release();
    await processing;
    expect(await drain(fifo)).toEqual([['Added ns/c v=2'], ['Sync ns/a v=1']]);

    const lone = createDeltaFIFO<CM>();
    lone.resync();
    expect(lone.length).toBe(0);
  });

  it('re-queues the deltas of a process that throws a RequeueError, and rejects with it', async () => {
    const fifo = createDeltaFIFO<CM>();
    fifo.add(cm('a', '1'));
    fifo.add(cm('b', '1'));
    const cause = new Error('conflict');
    const err = await fifo
      .pop(() => {
        throw new RequeueError(cause);
      })
      .catch((e: unknown) => e);
    expect(isRequeueError(err)).toBe(true);
    expect(hasErrorCode(err, 'ERR_KUBE_FIFO_REQUEUE')).toBe(true);
    expect((err as RequeueError).cause).toBe(cause);
    expect((err as Error).message).toMatch(/queued again: conflict/);
    // Back at the end of the queue.
    expect(fifo.listKeys()).toEqual(['ns/b', 'ns/a']);
    expect(await drain(fifo)).toEqual([['Added ns/b v=1'], ['Added ns/a v=1']]);
  });

  it('re-queues rejected deltas in front of those that arrived while they were processed', async () => {
    const store = createStore<CM>();
    store.add(cm('a', '0'));
    const fifo = createDeltaFIFO<CM>({ knownObjects: store });
    fifo.update(cm('a', '1'));
    fifo.add(cm('b', '1'));
    const popping = fifo.pop(async () => {
      await tick();
      // While ns/a is processed: a delete (ns/a is known and not yet reported deleted) and a new add.
      fifo.delete(cm('a', '2'));
      fifo.add(cm('a', '3'));
      throw new RequeueError();
    });
    await expect(popping).rejects.toThrow(RequeueError);
    // ns/a was queued again while processed, after ns/b: it keeps that place.
    expect(fifo.listKeys()).toEqual(['ns/b', 'ns/a']);
    expect(describeDeltas(fifo.getByKey('ns/a')!)).toEqual(['Updated ns/a v=1', 'Deleted ns/a v=2', 'Added ns/a v=3']);
  });

  it('drops a delete that arrives while the same deletion is being processed', async () => {
    const store = createStore<CM>();
    store.add(cm('a', '0'));
    const fifo = createDeltaFIFO<CM>({ knownObjects: store });
    fifo.delete(cm('a', '1'));
    await fifo.pop(async () => {
      await tick();
      fifo.delete(cm('a', '1'));
      fifo.delete(new DeletedFinalStateUnknown('ns/a', cm('a', '1')));
    });
    expect(fifo.length).toBe(0);
  });

  it('drops the deltas of a process that fails otherwise, and rejects with its error', async () => {
    const fifo = createDeltaFIFO<CM>();
    fifo.add(cm('a'));
    await expect(fifo.pop(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(fifo.length).toBe(0);
  });

  it('runs one pop at a time', async () => {
    const fifo = createDeltaFIFO<CM>();
    fifo.add(cm('a'));
    fifo.add(cm('b'));
    const events: string[] = [];
    const process = async (deltas: Deltas<CM>): Promise<void> => {
      events.push(`start ${fifo.keyOf(deltas)}`);
      await tick();
      events.push(`end ${fifo.keyOf(deltas)}`);
    };
    await Promise.all([fifo.pop(process), fifo.pop(process)]);
    expect(events).toEqual(['start ns/a', 'end ns/a', 'start ns/b', 'end ns/b']);
  });

  it('a pop waits for a key, and rejects with ERR_KUBE_FIFO_CLOSED once closed and empty', async () => {
    const fifo = createDeltaFIFO<CM>();
    const waiting = popOne(fifo);
    await tick();
    fifo.add(cm('a'));
    expect((await waiting).lines).toEqual(['Added ns/a v=0']);

    const blocked = fifo.pop(() => undefined);
    await tick();
    expect(fifo.isClosed()).toBe(false);
    fifo.close();
    expect(fifo.isClosed()).toBe(true);
    const err = await blocked.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeltaFIFOClosedError);
    expect(hasErrorCode(err, 'ERR_KUBE_FIFO_CLOSED')).toBe(true);
    expect((err as Error).message).toMatch(/closed/);
  });

  it('hands out what was queued before close, then rejects', async () => {
    const fifo = createDeltaFIFO<CM>();
    fifo.add(cm('a'));
    fifo.close();
    expect((await popOne(fifo)).lines).toEqual(['Added ns/a v=0']);
    await expect(fifo.pop(() => undefined)).rejects.toThrow(DeltaFIFOClosedError);
  });

  it('transforms queued objects, but not Sync objects and tombstones', async () => {
    const store = createStore<CM>();
    store.add(cm('known', '1'));
    const transformed: string[] = [];
    const fifo = createDeltaFIFO<CM>({
      knownObjects: store,
      transform: (obj) => {
        transformed.push(obj.metadata!.name!);
        return { ...obj, data: { v: `t${obj.data?.['v']}` } };
      },
    });
    fifo.add(cm('a', '1'));
    fifo.delete(cm('a', '2'));
    fifo.resync();
    fifo.replace([cm('b', '1')], '5');
    expect(transformed).toEqual(['a', 'a', 'b']);
    expect(await drain(fifo)).toEqual([
      ['Added ns/a v=t1', 'Deleted ns/a v=t2'],
      ['Sync ns/known v=1', 'Deleted tombstone ns/known v=1'],
      ['Sync ns/b v=t1'],
    ]);
  });

  it('is a store a Reflector writes to: list, watch events, and a relist after 410 with tombstones', async () => {
    const fake = new FakeListerWatcher<CM>({ watchList: false });
    fake.add(cm('a', '1'));
    fake.add(cm('b', '1'));
    const store = createStore<CM>();
    const fifo = createDeltaFIFO<CM>({ knownObjects: store, emitDeltaTypeReplaced: true });
    const reflector = new Reflector<CM>({
      listerWatcher: fake,
      store: fifo,
      backoff: { initialMs: 5, maxMs: 10, random: () => 0 },
    });
    const controller = new AbortController();
    const running = reflector.start(controller.signal);
    const apply = applyTo(store, fifo);
    const lines: string[] = [];
    const next = async (): Promise<void> => {
      lines.push(...describeDeltas(await fifo.pop(apply)));
    };
    await next();
    await next();
    expect(fifo.hasSynced()).toBe(true);
    await eventually('the watch', () => fake.openWatches === 1, poll);
    fake.modify(cm('a', '2'));
    fake.delete(cm('b', '1'));
    fake.add(cm('c', '1'));
    await next();
    await next();
    await next();
    // b vanishes while the watch is down and its resourceVersion expires: the relist reports it with a tombstone.
    fake.add(cm('b', '2'));
    await next();
    fake.breakWatches();
    fake.delete(cm('b', '2'));
    fake.compact();
    await eventually('the relist', () => fifo.length >= 2, poll);
    while (fifo.length > 0) await next();
    controller.abort();
    fifo.close();
    await running;
    expect(lines).toEqual([
      'Replaced ns/a v=1',
      'Replaced ns/b v=1',
      'Updated ns/a v=2',
      'Deleted ns/b v=1',
      'Added ns/c v=1',
      'Added ns/b v=2',
      'Replaced ns/a v=2',
      'Replaced ns/c v=1',
      'Deleted tombstone ns/b v=2',
    ]);
    expect(store.listKeys().toSorted()).toEqual(['ns/a', 'ns/c']);
  });
});
