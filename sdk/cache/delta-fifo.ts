import { ArgumentError, hasErrorCode, KubeloopError } from '../client/index.js';
import type { ReflectorStore } from './reflector.js';
import { metaNamespaceKey, type KeyFunc } from './store.js';
import { DeletedFinalStateUnknown, isDeletedFinalStateUnknown } from './types.js';

/**
 * What happened to an object: `Added`, `Updated` and `Deleted` come from watch events; `Replaced` from a (re)list when
 * `emitDeltaTypeReplaced` is set; `Sync` from a relist without it, and from a periodic {@link DeltaFIFO.resync}.
 */
export type DeltaType = 'Added' | 'Updated' | 'Deleted' | 'Replaced' | 'Sync';

/**
 * One change of one object and its state after the change. A `Deleted` delta carries the final state, or a
 * {@link DeletedFinalStateUnknown} when the deletion was inferred from a relist.
 */
export type Delta<T> =
  | { readonly type: 'Added' | 'Updated' | 'Replaced' | 'Sync'; readonly object: T }
  | { readonly type: 'Deleted'; readonly object: T | DeletedFinalStateUnknown<T> };

/** The changes of one key, oldest first; never empty. */
export type Deltas<T> = readonly Delta<T>[];

/** What a DeltaFIFO needs of the consumer's store: its keys and its objects by key. Every {@link StoreReader} is one. */
export interface KeyListerGetter<T> {
  listKeys(): string[];
  getByKey(key: string): T | undefined;
}

/** Handles the deltas of one key, popped from a {@link DeltaFIFO}: throw (or reject with) a {@link RequeueError} to retry them. */
export type PopProcessFunc<T> = (deltas: Deltas<T>, isInInitialList: boolean) => void | Promise<void>;

export interface DeltaFIFOOptions<T> {
  /** Keys objects (a tombstone's key is its own `key`). Default: {@link metaNamespaceKey} (`namespace/name`). */
  keyFunction?: KeyFunc<T>;
  /**
   * The consumer's store: what the consumer has been told of. `replace` compares the new list with it to queue
   * deletions of objects that vanished, and `resync` queues a `Sync` for each of its objects. Without it, `replace`
   * detects deletions only among the keys still queued, and `resync` does nothing. Default: none.
   */
  knownObjects?: KeyListerGetter<T>;
  /** Queue `Replaced` (instead of `Sync`) for the objects of a `replace`. Default: false, as client-go (for old consumers). */
  emitDeltaTypeReplaced?: boolean;
  /**
   * Changes each object before it is queued (not `Sync` objects, which come from `knownObjects`, nor tombstones). It may
   * change `obj` in place. An error it throws propagates to the writer (`add`, `update`, `delete`, `replace`). Default: none.
   */
  transform?: (obj: T) => T;
}

/**
 * Thrown (or rejected with) by a {@link PopProcessFunc} to have its deltas queued again: client-go's ErrRequeue. `cause`
 * is why. `pop` rejects with this error after re-queueing.
 */
export class RequeueError extends KubeloopError {
  constructor(cause?: unknown) {
    const why = cause instanceof Error ? cause.message : cause === undefined ? undefined : String(cause);
    super('ERR_KUBE_FIFO_REQUEUE', `the deltas were queued again${why === undefined ? '' : `: ${why}`}`, { cause });
  }
}

/** What `pop` rejects with once the DeltaFIFO is closed and empty: client-go's ErrFIFOClosed. */
export class DeltaFIFOClosedError extends KubeloopError {
  constructor() {
    super('ERR_KUBE_FIFO_CLOSED', 'the DeltaFIFO is closed: nothing more will be popped');
  }
}

/**
 * A queue of changes, one entry per key, each entry the key's deltas in order: client-go's DeltaFIFO. A {@link Reflector}
 * writes to it (it is a {@link ReflectorStore}); one consumer pops the deltas of one key at a time and applies them to
 * its own store (`knownObjects`), as {@link createInformer} does.
 *
 * Guarantees:
 * - Keys are popped in the order they were first queued; a key is queued once however many deltas it gathers, and its
 *   deltas stay in the order they were written.
 * - Two consecutive `Deleted` deltas of a key become one (the final state is kept over a tombstone). A `delete` of an
 *   object that is neither queued, nor being processed, nor in `knownObjects` is dropped: it was reported already.
 * - `replace(list)` queues `Replaced` (or `Sync`) for each listed object and a `Deleted` with a
 *   {@link DeletedFinalStateUnknown} for each object known (in `knownObjects`, queued, or being processed) but not
 *   listed, so a deletion missed while the watch was down is still reported, once.
 * - `resync()` queues a `Sync` of each object of `knownObjects` that has nothing queued or being processed (so it never
 *   brings back an older state).
 * - Pops run one at a time: a `pop` waits for the previous one's process to settle. Deltas written while a key is being
 *   processed are queued as a new entry; if that processing is retried, its deltas go first.
 * - `hasSynced()` is true once the first `replace`'s entries have all been popped and processed (or once anything was
 *   written before a first `replace`).
 *
 * Recovery: a process that throws (or rejects with) a {@link RequeueError} gets the same deltas again later: they are
 * queued at the end, or in front of what was written for that key meanwhile (client-go, whose Pop holds a lock through
 * the process, could not receive writes meanwhile). Any other error drops the deltas, and `pop` rejects with it.
 *
 * Errors: `pop` rejects with {@link DeltaFIFOClosedError} (`ERR_KUBE_FIFO_CLOSED`) once `close()` was called and
 * nothing is queued, with a {@link RequeueError} (`ERR_KUBE_FIFO_REQUEUE`) after re-queueing, or with what process threw.
 *
 * Caveats: as client-go's, `close()` stops nothing but waiting: entries queued before (or written after) it are still
 * handed out by `pop`. Objects are queued as given, not copied.
 */
export interface DeltaFIFO<T> extends ReflectorStore<T> {
  /** Queues an `Added` delta. */
  add(obj: T): void;
  /** Queues an `Updated` delta. */
  update(obj: T): void;
  /** Queues a `Deleted` delta, unless the object was reported deleted already (see the Guarantees). */
  delete(obj: T | DeletedFinalStateUnknown<T>): void;
  /** A whole new list at `resourceVersion` (unused, as in client-go): `Replaced`/`Sync` deltas and tombstones. */
  replace(list: readonly T[], resourceVersion: string): void;
  /** Queues a `Sync` delta of every object of `knownObjects` that has nothing queued or being processed. */
  resync(): void;
  /**
   * Waits for a queued key, takes its deltas out of the queue and hands them to `process`; resolves with them once
   * `process` has returned (or its promise resolved). See the Errors of {@link DeltaFIFO}.
   */
  pop(process: PopProcessFunc<T>): Promise<Deltas<T>>;
  /** Wakes waiting pops: from now on, a pop with nothing queued rejects with {@link DeltaFIFOClosedError}. */
  close(): void;
  isClosed(): boolean;
  /** True once the first `replace`'s entries have been popped and processed; see the Guarantees. */
  hasSynced(): boolean;
  /** The queued keys, in queue order. */
  listKeys(): string[];
  /** The newest object of each queued key (a tombstone's last known state), in queue order. */
  list(): T[];
  /** The deltas queued for `obj`'s key (a copy), or undefined. */
  get(obj: T | DeletedFinalStateUnknown<T>): Deltas<T> | undefined;
  /** The deltas queued under `key` (a copy), or undefined. */
  getByKey(key: string): Deltas<T> | undefined;
  /** The key of an object, of a tombstone (its `key`), or of deltas (their newest object's). */
  keyOf(obj: T | DeletedFinalStateUnknown<T> | Deltas<T>): string;
  /** How many keys are queued. */
  readonly length: number;
}

/** The newer of two consecutive `Deleted` deltas that stand for one deletion: the final state wins over a tombstone. */
function deletionDup<T>(a: Delta<T>, b: Delta<T>): Delta<T> | undefined {
  if (a.type !== 'Deleted' || b.type !== 'Deleted') return undefined;
  return isDeletedFinalStateUnknown(b.object) ? a : b;
}

/** Appends `delta`, folding it into a `Deleted` that ends `deltas`. */
function appendDelta<T>(deltas: Delta<T>[], delta: Delta<T>): void {
  const last = deltas.at(-1);
  const kept = last && deletionDup(last, delta);
  if (kept) deltas[deltas.length - 1] = kept;
  else deltas.push(delta);
}

function newestObject<T>(deltas: Deltas<T>): T | undefined {
  const object = deltas.at(-1)?.object;
  return isDeletedFinalStateUnknown(object) ? object.obj : object;
}

const isDeletedAtEnd = <T>(deltas: Deltas<T> | undefined): boolean => deltas?.at(-1)?.type === 'Deleted';

class FIFO<T> implements DeltaFIFO<T> {
  /** Queued deltas by key; the map's insertion order is the queue's order. */
  private readonly items = new Map<string, Delta<T>[]>();
  private readonly keyFunction: KeyFunc<T>;
  private readonly knownObjects: KeyListerGetter<T> | undefined;
  private readonly replaceType: 'Replaced' | 'Sync';
  private readonly transform: ((obj: T) => T) | undefined;
  /** The key being processed by a pop, and its deltas. */
  private processing: { key: string; deltas: Deltas<T> } | undefined;
  /** Anything was written (a replace, an add, a requeue). */
  private populated = false;
  /** Entries of the first replace not yet popped and processed. */
  private initialPopulationCount = 0;
  private closed = false;
  private wakers: (() => void)[] = [];
  /** The last pop: the next one starts when it has settled. */
  private popTail: Promise<unknown> = Promise.resolve();

  constructor(options: DeltaFIFOOptions<T>) {
    this.keyFunction = options.keyFunction ?? (metaNamespaceKey as KeyFunc<T>);
    this.knownObjects = options.knownObjects;
    this.replaceType = options.emitDeltaTypeReplaced ? 'Replaced' : 'Sync';
    this.transform = options.transform;
  }

  get length(): number {
    return this.items.size;
  }

  keyOf(obj: T | DeletedFinalStateUnknown<T> | Deltas<T>): string {
    if (Array.isArray(obj)) {
      const newest = (obj as Deltas<T>).at(-1);
      if (!newest) throw new ArgumentError('the key of empty deltas is undefined');
      return this.keyOf(newest.object);
    }
    if (isDeletedFinalStateUnknown(obj as T | DeletedFinalStateUnknown<T>))
      return (obj as DeletedFinalStateUnknown<T>).key;
    return this.keyFunction(obj as T);
  }

  add(obj: T): void {
    this.populated = true;
    this.queue('Added', obj);
  }

  update(obj: T): void {
    this.populated = true;
    this.queue('Updated', obj);
  }

  delete(obj: T | DeletedFinalStateUnknown<T>): void {
    const key = this.keyOf(obj);
    this.populated = true;
    // Queued deltas are enough: a Deleted among them is folded into this one. Otherwise report the deletion only of
    // an object the consumer knows (or is being told of right now) and has not been told is deleted.
    if (!this.items.has(key) && !this.alive(key)) return;
    this.queue('Deleted', obj);
  }

  replace(list: readonly T[], _resourceVersion: string): void {
    const keys = new Set<string>();
    for (const obj of list) {
      keys.add(this.keyOf(obj));
      this.queue(this.replaceType, obj, true);
    }
    let queuedDeletions = 0;
    const tombstone = (key: string, last: T | undefined): void => {
      queuedDeletions++;
      this.queue('Deleted', new DeletedFinalStateUnknown<T>(key, last as T));
    };
    // Queued keys that the list no longer has (a Deleted ending their deltas absorbs this one). Only existing entries
    // change here, so the map can be iterated as it is.
    for (const [key, deltas] of this.items) if (!keys.has(key)) tombstone(key, newestObject(deltas));
    // The object being processed (the consumer's store may not have it yet), and known objects with nothing queued.
    const p = this.processing;
    if (p && !keys.has(p.key) && !this.items.has(p.key) && !isDeletedAtEnd(p.deltas))
      tombstone(p.key, newestObject(p.deltas));
    if (this.knownObjects) {
      for (const key of this.knownObjects.listKeys()) {
        if (keys.has(key) || this.items.has(key) || !this.alive(key)) continue;
        tombstone(key, this.knownObjects.getByKey(key));
      }
    }
    if (!this.populated) {
      this.populated = true;
      this.initialPopulationCount = keys.size + queuedDeletions;
    }
  }

  resync(): void {
    if (!this.knownObjects) return;
    for (const key of this.knownObjects.listKeys()) {
      // Something queued or being processed is newer than what the consumer's store holds: a Sync would go back.
      if (this.items.has(key) || this.processing?.key === key) continue;
      const obj = this.knownObjects.getByKey(key);
      if (obj === undefined) continue;
      this.queue('Sync', obj);
    }
  }

  pop(process: PopProcessFunc<T>): Promise<Deltas<T>> {
    const popped = this.popTail.then(() => this.popOne(process));
    this.popTail = popped.catch(() => undefined);
    return popped;
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  isClosed(): boolean {
    return this.closed;
  }

  hasSynced(): boolean {
    return this.populated && this.initialPopulationCount === 0;
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  list(): T[] {
    const out: T[] = [];
    for (const deltas of this.items.values()) {
      const obj = newestObject(deltas);
      if (obj !== undefined) out.push(obj);
    }
    return out;
  }

  get(obj: T | DeletedFinalStateUnknown<T>): Deltas<T> | undefined {
    return this.getByKey(this.keyOf(obj));
  }

  getByKey(key: string): Deltas<T> | undefined {
    const deltas = this.items.get(key);
    return deltas && [...deltas];
  }

  /**
   * Whether the consumer has (or is being handed) `key` and has not been told it is deleted: the object being processed
   * decides if its key is in flight, else `knownObjects` (without it, nothing outside the queue is alive).
   */
  private alive(key: string): boolean {
    if (this.processing?.key === key) return !isDeletedAtEnd(this.processing.deltas);
    return this.knownObjects?.getByKey(key) !== undefined;
  }

  /** Appends a delta to its key's entry, queueing the key if it is new. `listed`: an object of a replace. */
  private queue(type: DeltaType, obj: T | DeletedFinalStateUnknown<T>, listed = false): void {
    const key = this.keyOf(obj);
    let object = obj;
    // Resync objects come from knownObjects, and tombstones from queued or known objects: transformed already.
    const transformed = (type === 'Sync' && !listed) || isDeletedFinalStateUnknown(obj);
    if (this.transform && !transformed) object = this.transform(obj as T);
    const delta = { type, object } as Delta<T>;
    const deltas = this.items.get(key);
    if (deltas) {
      appendDelta(deltas, delta);
    } else {
      this.items.set(key, [delta]);
      this.wake();
    }
  }

  /** Queues popped deltas again: at the end, or in front of deltas written for the key since. */
  private requeue(key: string, deltas: Deltas<T>): void {
    this.populated = true;
    const newer = this.items.get(key);
    if (!newer) {
      this.items.set(key, [...deltas]);
      this.wake();
      return;
    }
    const merged = [...deltas];
    for (const delta of newer) appendDelta(merged, delta);
    this.items.set(key, merged);
  }

  private wake(): void {
    const wakers = this.wakers;
    this.wakers = [];
    for (const wake of wakers) wake();
  }

  private async popOne(process: PopProcessFunc<T>): Promise<Deltas<T>> {
    while (this.items.size === 0) {
      if (this.closed) throw new DeltaFIFOClosedError();
      await new Promise<void>((resolve) => this.wakers.push(resolve));
    }
    const isInInitialList = !this.hasSynced();
    const [key, deltas] = this.items.entries().next().value!;
    this.items.delete(key);
    this.processing = { key, deltas };
    try {
      await process(deltas, isInInitialList);
    } catch (err) {
      this.processing = undefined;
      if (hasErrorCode(err, 'ERR_KUBE_FIFO_REQUEUE')) this.requeue(key, deltas);
      throw err;
    } finally {
      this.processing = undefined;
      if (this.initialPopulationCount > 0) this.initialPopulationCount--;
    }
    return deltas;
  }
}

/**
 * Makes a {@link DeltaFIFO}: client-go's `NewDeltaFIFOWithOptions`.
 *
 * ```ts
 * const store = createIndexer<ConfigMap>();
 * const fifo = createDeltaFIFO<ConfigMap>({ knownObjects: store, emitDeltaTypeReplaced: true });
 * void new Reflector({ listerWatcher, store: fifo }).start(signal);
 * for (;;) {
 *   await fifo.pop((deltas) => {
 *     for (const d of deltas) d.type === 'Deleted' ? store.deleteByKey(fifo.keyOf(d.object)) : store.update(d.object);
 *   });
 * }
 * ```
 */
export function createDeltaFIFO<T>(options: DeltaFIFOOptions<T> = {}): DeltaFIFO<T> {
  return new FIFO<T>(options);
}

/** True for a {@link RequeueError}, from this copy of kubeloop or another. */
export function isRequeueError(err: unknown): err is RequeueError {
  return hasErrorCode(err, 'ERR_KUBE_FIFO_REQUEUE');
}
