import type { KubeList, KubeObject, ListOptions, Logger, Watch, WatchOptions } from '../client/index.js';

/**
 * A type made read-only at every depth: what caches hand out. The objects are also frozen at run time unless
 * `NODE_ENV=production`; copy before changing one (`structuredClone(obj)`).
 */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer U)[]
    ? readonly DeepReadonly<U>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

const tombstoneBrand = Symbol.for('kubeloop.cache.DeletedFinalStateUnknown');

/**
 * What `onDelete` receives when an object vanished while the watch was not looking (a relist no longer had it): its
 * key and the last state the cache knew, which may be stale. client-go's DeletedFinalStateUnknown.
 */
export class DeletedFinalStateUnknown<T> {
  readonly [tombstoneBrand] = true;

  constructor(
    readonly key: string,
    readonly obj: T,
  ) {}
}

/** True for a {@link DeletedFinalStateUnknown}, from this copy of kubeloop or another. */
export function isDeletedFinalStateUnknown<T>(
  value: T | DeletedFinalStateUnknown<T>,
): value is DeletedFinalStateUnknown<T> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[tombstoneBrand] === true;
}

/** The object of an `onDelete` argument, whether it is the final state or a tombstone's last known state. */
export function deletedObject<T>(value: T | DeletedFinalStateUnknown<T>): T {
  return isDeletedFinalStateUnknown(value) ? value.obj : value;
}

/**
 * Receives an informer's notifications. Each method is optional. A method may return a promise: the next notification
 * for this handler waits for it, while other handlers and the watch go on (each handler has its own buffer).
 *
 * Guarantees: notifications for one key arrive in the order the cache changed; `onUpdate`'s `oldObj` is the state this
 * handler saw last for that key. A handler that throws or rejects is reported to the informer's logger and gets the
 * next notification as usual.
 */
export interface ResourceEventHandler<T> {
  /** A new object, or one from the initial list (`isInInitialList`: from the first list, or replayed to a late handler). */
  onAdd?(obj: DeepReadonly<T>, isInInitialList: boolean): void | Promise<void>;
  /** A changed object; also a relist (same object twice if unchanged) and each resync period (`oldObj === newObj`). */
  onUpdate?(oldObj: DeepReadonly<T>, newObj: DeepReadonly<T>): void | Promise<void>;
  /** A deleted object: its final state, or a {@link DeletedFinalStateUnknown} when the deletion was missed. */
  onDelete?(obj: DeepReadonly<T> | DeletedFinalStateUnknown<DeepReadonly<T>>): void | Promise<void>;
}

/** What a reflector needs of the API: `list` and `watch` of one resource. Any ResourceInterface is one. */
export interface ListerWatcher<T extends KubeObject> {
  list(options: ListOptions & ListWatchHints): Promise<KubeList<T>>;
  watch(options: WatchOptions & ListWatchHints): Watch<T>;
}

/** What a reflector tells its {@link ListerWatcher} besides the request: hints, which a ListerWatcher may ignore. */
export interface ListWatchHints {
  /**
   * The informer drops `metadata.managedFields` from what it keeps (its default transform,
   * `stripManagedFields`): a decoder may leave them out. The metadata-only ListerWatcher's protobuf watch does.
   */
  dropsManagedFields?: boolean;
}

/** The levels of kubeloop/client's structural {@link Logger} that informers and reflectors write (a pino logger fits). */
export type CacheLogger = Pick<Logger, 'debug' | 'warn' | 'error'>;

/** The last failure of an informer's list or watch, as plain data for health endpoints and metrics. */
export interface InformerError {
  message: string;
  /** The kubeloop error code (`ERR_KUBE_API`, `ERR_KUBE_TRANSPORT`, `ERR_KUBE_WATCH_STALLED`), if any. */
  code?: string;
  /** The HTTP status of an API error (403, 410, 500, …). */
  statusCode?: number;
  /** The metav1.Status reason of an API error (`Forbidden`, `Expired`, …). */
  reason?: string;
  /** `list` or `watch`. */
  during: 'list' | 'watch';
  /** When it happened (ms since the epoch). */
  atMs: number;
  /** The error itself. */
  error: unknown;
}

/** An informer's health, for `/readyz` and metrics. A snapshot: ask again for fresh figures. */
export interface InformerHealth {
  /** The initial list is in the cache. Stays true through later relists. */
  synced: boolean;
  /** A watch is open (from the request until it ends or fails). */
  watching: boolean;
  /** Milliseconds since the last watch event or bookmark (or list); undefined before the first. */
  lastEventAgeMs: number | undefined;
  /** Lists after the first one: 410 Gone, or a watch that could not resume. */
  relists: number;
  /** Failed list or watch attempts in a row; 0 once an attempt succeeds. */
  consecutiveFailures: number;
  /** The most recent failure; undefined once a list or watch succeeded after it. */
  lastError: InformerError | undefined;
  /** The resourceVersion the cache is at. */
  resourceVersion: string;
  /**
   * The last list or watch got 404: the API server does not serve the resource (its CRD is not installed yet, or was
   * deleted). The informer keeps what it holds, retries with backoff, and relists once the resource is served again.
   */
  waitingForResource: boolean;
}
