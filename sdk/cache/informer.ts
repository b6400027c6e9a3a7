import { AlreadyStartedError, type KubeObject, type ResourceDescriptor } from '../client/index.js';
import { createDeltaFIFO, type DeltaFIFO, type Deltas } from './delta-fifo.js';
import { Reflector, type ReflectorOptions, type ReflectorStore } from './reflector.js';
import { deepFreeze, reportInformerError, stripManagedFields, type TransformFunc } from './shared-informer.js';
import { MapIndexer, type IndexerReader, type Indexers } from './store.js';
import type { CacheLogger, DeepReadonly, InformerHealth, ListerWatcher, ResourceEventHandler } from './types.js';

export interface InformerOptions<T extends KubeObject> extends Omit<
  ReflectorOptions<T>,
  'listerWatcher' | 'store' | 'logger'
> {
  /** The list and watch of one resource (a ResourceInterface is one). */
  listWatch: ListerWatcher<T>;
  /** Told of every change, one call at a time; a call that returns a promise holds the next change back until it settles. */
  handler: ResourceEventHandler<T>;
  /**
   * Every this many ms, `onUpdate(obj, obj)` for every cached object that has no change queued (client-go's resync).
   * 0: never. Periods under 1000 ms are raised to 1000. Default: 0.
   */
  resyncPeriodMs?: number;
  /**
   * The kind the informer holds, as client-go's `objType`: an object whose `apiVersion` or `kind` says otherwise is
   * reported and left out. It also names the informer in logs (its plural). Default: no check.
   */
  objectType?: ResourceDescriptor<NoInfer<T>>;
  /** Index functions besides the built-in `namespace` index. */
  indexers?: Indexers<DeepReadonly<T>>;
  /** Default: {@link stripManagedFields}. `undefined` stores objects as received. */
  transform?: TransformFunc<T> | undefined;
  /** Freeze stored objects (deeply). Default: true unless `NODE_ENV=production`. */
  freeze?: boolean;
  /** Receives handler, transform and index failures (error level) and list/watch retries (debug level). */
  logger?: CacheLogger;
}

/**
 * A cache of one resource and the one handler it tells of changes, through a {@link DeltaFIFO}: client-go's
 * `NewInformer` (or `NewIndexerInformer` with `indexers`). What {@link createInformer} returns.
 */
export interface Informer<T extends KubeObject> {
  /** The cache, read-only. Objects are shared: do not change them. */
  getStore(): IndexerReader<DeepReadonly<T>>;
  /** Same as {@link getStore}. */
  getIndexer(): IndexerReader<DeepReadonly<T>>;
  /** True once every object of the initial list is in the cache and the handler has been called for it. */
  hasSynced(): boolean;
  /** Resolves true once {@link hasSynced}, or false when `signal` aborts (or the informer stops) first. Never rejects. */
  waitForSync(signal?: AbortSignal): Promise<boolean>;
  /** The resourceVersion of the last list, event or bookmark the reflector wrote to the queue. */
  lastSyncResourceVersion(): string;
  /** The reflector's health; `synced` is {@link hasSynced}. */
  health(): InformerHealth;
  /**
   * Lists, watches and calls the handler until `signal` aborts; resolves then, once the handler call in progress has
   * settled. Never rejects.
   *
   * Errors: throws `ERR_KUBE_ALREADY_STARTED` when called twice.
   */
  start(signal: AbortSignal): Promise<void>;
}

const minResyncMs = 1000;

class FifoInformer<T extends KubeObject> implements Informer<T> {
  private readonly indexer: MapIndexer<DeepReadonly<T>>;
  private readonly fifo: DeltaFIFO<DeepReadonly<T>>;
  private readonly handler: ResourceEventHandler<T>;
  private readonly name: string | undefined;
  private reflector: Reflector<T> | undefined;
  private started = false;
  private stopped = false;
  private readonly syncWaiters = new Set<() => void>();

  constructor(private readonly options: InformerOptions<T>) {
    this.indexer = new MapIndexer<DeepReadonly<T>>({ ...(options.indexers && { indexers: options.indexers }) });
    this.handler = options.handler;
    this.name = options.name ?? options.objectType?.plural;
    const transform = 'transform' in options ? options.transform : stripManagedFields;
    const freeze = options.freeze ?? process.env['NODE_ENV'] !== 'production';
    this.fifo = createDeltaFIFO<DeepReadonly<T>>({
      knownObjects: this.indexer,
      emitDeltaTypeReplaced: true,
      transform: (obj) => {
        let out = obj as T;
        try {
          if (transform) out = transform(out);
        } catch (err) {
          // Dropping the change could leave a deleted object cached: keep it as received instead.
          this.report(err, `the transform failed on ${this.fifo.keyOf(obj)}; the object is kept as received`);
        }
        if (freeze) deepFreeze(out);
        return out as DeepReadonly<T>;
      },
    });
  }

  getStore(): IndexerReader<DeepReadonly<T>> {
    return this.indexer;
  }

  getIndexer(): IndexerReader<DeepReadonly<T>> {
    return this.indexer;
  }

  hasSynced(): boolean {
    return this.fifo.hasSynced();
  }

  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.hasSynced()) return Promise.resolve(true);
    if (this.stopped || signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const finish = (): void => {
        this.syncWaiters.delete(finish);
        signal?.removeEventListener('abort', finish);
        resolve(this.hasSynced());
      };
      this.syncWaiters.add(finish);
      signal?.addEventListener('abort', finish, { once: true });
    });
  }

  lastSyncResourceVersion(): string {
    return this.reflector?.lastSyncResourceVersion() ?? '';
  }

  health(): InformerHealth {
    const synced = this.hasSynced();
    if (this.reflector) return { ...this.reflector.health(), synced };
    return {
      synced,
      watching: false,
      lastEventAgeMs: undefined,
      relists: 0,
      consecutiveFailures: 0,
      lastError: undefined,
      resourceVersion: '',
      waitingForResource: false,
    };
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.started) throw new AlreadyStartedError('informer', 'the informer was started already');
    this.started = true;
    this.reflector = new Reflector<T>({
      ...this.options,
      ...(this.name !== undefined && { name: this.name }),
      listerWatcher: this.options.listWatch,
      store: this.sink,
      dropsManagedFields: !('transform' in this.options) || this.options.transform === stripManagedFields,
    });
    const close = (): void => this.fifo.close();
    signal.addEventListener('abort', close, { once: true });
    if (signal.aborted) close();
    const resyncPeriodMs = this.options.resyncPeriodMs ?? 0;
    const period = resyncPeriodMs > 0 ? Math.max(minResyncMs, resyncPeriodMs) : 0;
    const timer = period > 0 ? setInterval(() => this.fifo.resync(), period) : undefined;
    const reflecting = this.reflector.start(signal);
    try {
      while (!signal.aborted) {
        try {
          await this.fifo.pop(this.process);
        } catch (err) {
          // Closed: the signal aborted. The process reports its own failures, so nothing else is expected here.
          if (!this.fifo.isClosed()) this.report(err, 'processing a change failed');
        }
        this.checkSynced();
      }
    } finally {
      clearInterval(timer);
      signal.removeEventListener('abort', close);
      await reflecting;
      this.stopped = true;
      for (const finish of this.syncWaiters) finish();
    }
  }

  /** Where the reflector writes: the queue, behind the `objectType` check. */
  private readonly sink: ReflectorStore<T> = {
    replace: (items, resourceVersion) => {
      this.fifo.replace(items.filter((obj) => this.expected(obj)) as DeepReadonly<T>[], resourceVersion);
      // An empty first list syncs without a pop.
      this.checkSynced();
    },
    add: (obj) => {
      if (this.expected(obj)) this.fifo.add(obj as DeepReadonly<T>);
    },
    update: (obj) => {
      if (this.expected(obj)) this.fifo.update(obj as DeepReadonly<T>);
    },
    delete: (obj) => {
      if (this.expected(obj)) this.fifo.delete(obj as DeepReadonly<T>);
    },
  };

  /** Applies one key's deltas to the cache, telling the handler of each after the cache has it (client-go's processDeltas). */
  private readonly process = async (deltas: Deltas<DeepReadonly<T>>, isInInitialList: boolean): Promise<void> => {
    for (const delta of deltas) {
      if (delta.type === 'Deleted') {
        this.indexer.deleteByKey(this.fifo.keyOf(delta.object));
        await this.call('onDelete', () => this.handler.onDelete?.(delta.object));
        continue;
      }
      const obj = delta.object;
      const old = this.indexer.get(obj);
      try {
        this.indexer.add(obj);
      } catch (err) {
        this.report(err, `an index function failed on ${this.fifo.keyOf(obj)}; the change is dropped`);
        continue;
      }
      if (old === undefined) await this.call('onAdd', () => this.handler.onAdd?.(obj, isInInitialList));
      else await this.call('onUpdate', () => this.handler.onUpdate?.(old, obj));
    }
  };

  /** Calls the handler; a failure is reported and does not stop the informer. */
  private async call(method: string, fn: () => void | Promise<void>): Promise<void> {
    try {
      const result = fn();
      if (result !== undefined) await result;
    } catch (err) {
      this.report(err, `the event handler failed on ${method}`);
    }
  }

  private expected(obj: T): boolean {
    const type = this.options.objectType;
    if (!type) return true;
    const apiVersion = type.group ? `${type.group}/${type.version}` : type.version;
    if (
      (obj.kind === undefined || obj.kind === type.kind) &&
      (obj.apiVersion === undefined || obj.apiVersion === apiVersion)
    )
      return true;
    this.report(
      new TypeError(`expected ${apiVersion} ${type.kind}, got ${obj.apiVersion ?? '?'} ${obj.kind ?? '?'}`),
      'an object of an unexpected type was left out',
    );
    return false;
  }

  private checkSynced(): void {
    if (this.syncWaiters.size > 0 && this.hasSynced()) for (const finish of this.syncWaiters) finish();
  }

  private report(err: unknown, message: string): void {
    reportInformerError(this.options.logger, this.name, err, message);
  }
}

/**
 * A cache of one resource that tells one handler of every change: client-go's `NewInformer`. A {@link Reflector} lists
 * and watches into a {@link DeltaFIFO}; a loop pops one key's deltas at a time, applies them to the cache
 * (`getStore()`) and calls the handler, as client-go's controller does.
 *
 * Use a {@link SharedIndexInformer} (through {@link createSharedInformerFactory}) for anything several parts of a
 * program watch: it has no queue of deltas, gives each handler its own buffer and shares one watch. This informer is
 * for code written against client-go's NewInformer and DeltaFIFO, and for one consumer that wants backpressure.
 *
 * Guarantees: the cache is changed before the handler is told; the handler is called one change at a time in the
 * order of each key's deltas, and a handler that returns a promise holds back the next change (and the cache) until it
 * settles. `onAdd`'s `isInInitialList` is true for objects of the first list handled before {@link Informer.hasSynced}.
 * A relist turns each listed object into `onAdd` or `onUpdate` and each vanished one into
 * `onDelete(DeletedFinalStateUnknown)`; a deletion is reported once. A resync calls `onUpdate(obj, obj)` for every
 * cached object without a change queued. Objects are transformed (default: {@link stripManagedFields}) and frozen
 * (unless `NODE_ENV=production` or `freeze: false`).
 *
 * Recovery: that of the {@link Reflector}. The queue keeps the changes that arrive while the handler is busy.
 *
 * Errors: `start` never rejects; list and watch failures show in {@link Informer.health}. A handler that throws is
 * logged (a process warning without a logger) and gets the next change, as does an index function that throws (that
 * change is dropped) and a transform that throws (the object is kept as received). Objects that `objectType` does not
 * allow are logged and left out.
 *
 * Caveats: the queue is unbounded: a handler slower than the changes lets it grow. After `signal` aborts, changes still
 * queued are dropped.
 *
 * ```ts
 * const informer = createInformer({
 *   listWatch: cs.coreV1().configMaps('ns') as ListerWatcher<ConfigMap>,
 *   objectType: ConfigMap,
 *   resyncPeriodMs: 60_000,
 *   handler: { onAdd: (cm, isInInitialList) => {}, onUpdate: (oldCm, cm) => {}, onDelete: (cmOrTombstone) => {} },
 * });
 * void informer.start(signal);
 * await informer.waitForSync(signal);
 * ```
 */
export function createInformer<T extends KubeObject>(options: InformerOptions<T>): Informer<T> {
  return new FifoInformer<T>(options);
}
