import { objectKey, parseGroupVersion } from '../client/index.js';
import type { ReconcileRequest } from './reconcile.js';
import type { CachedObject, CreateEvent, DeleteEvent, GenericEvent, UpdateEvent } from './predicates.js';

/** Options of {@link RequestQueue.add}. */
export interface RequestQueueAddOptions {
  /**
   * Higher is reconciled first. Default: what the source gives the event: 0 for a change, `lowPriority` (-100, from
   * kubeloop/workqueue) for an initial list or a resync.
   */
  priority?: number;
  /** Enqueue after this long instead of now. Default: 0. */
  afterMs?: number;
}

/** Where an event handler puts reconcile requests: de-duplicated by `namespace/name` (the highest priority wins). */
export interface RequestQueue {
  add(request: ReconcileRequest, options?: RequestQueueAddOptions): void;
}

/**
 * Turns events of a watched resource into reconcile requests (controller-runtime's handler.EventHandler). Each
 * method is optional; a missing one enqueues nothing. `generic` events come from a `Source` such as
 * `channelSource()` or `pollingSource()`.
 *
 * A method may return a promise: the controller awaits it before this handler gets the next event of the same
 * informer (or channel), so an async handler's requests stay in the order of the events.
 */
export interface EventHandler {
  create?(event: CreateEvent, queue: RequestQueue): void | Promise<void>;
  update?(event: UpdateEvent, queue: RequestQueue): void | Promise<void>;
  delete?(event: DeleteEvent, queue: RequestQueue): void | Promise<void>;
  generic?(event: GenericEvent, queue: RequestQueue): void | Promise<void>;
}

function requestFor(obj: CachedObject): ReconcileRequest {
  return { namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' };
}

/**
 * Enqueues the object of the event itself: `{ namespace, name }` of the object (the new object of an update). What
 * `for(Widget)` uses.
 */
export function enqueueRequestForObject(): Required<EventHandler> {
  return {
    create: (e, q) => q.add(requestFor(e.object)),
    update: (e, q) => q.add(requestFor(e.objectNew)),
    delete: (e, q) => q.add(requestFor(e.object)),
    generic: (e, q) => q.add(requestFor(e.object)),
  };
}

/** The owner kind an {@link enqueueRequestForOwner} handler looks for. A resource descriptor fits. */
export interface OwnerResource {
  /** The API group of the owner (`''` for the core group, `apps`, `example.com`); the version is not compared. */
  group: string;
  kind: string;
  /**
   * Whether the owner kind is namespaced: a request for a namespaced owner takes the object's namespace, one for a
   * cluster-scoped owner the namespace `''`. Default: true (a descriptor always says).
   */
  namespaced?: boolean;
}

/** Options of {@link enqueueRequestForOwner}. */
export interface EnqueueRequestForOwnerOptions {
  /** Only follow the owner reference marked `controller: true`, ignoring other owners. Default: false. */
  onlyController?: boolean;
}

/**
 * Enqueues the owners of the event's object that are of `owner`'s group and kind, read from its
 * `metadata.ownerReferences`: what `owns(Deployment)` uses, so a change to an owned Deployment reconciles the Widget
 * that owns it. On update, the owners of the old and the new object are both enqueued (an owner that was removed
 * hears of it), each once.
 *
 * Guarantees: the request's name is the reference's name; its namespace is the object's namespace for a namespaced
 * owner (owner references never cross namespaces) and `''` for a cluster-scoped one. References whose apiVersion is
 * of another group, or another kind, are ignored; versions are not compared.
 */
export function enqueueRequestForOwner(
  owner: OwnerResource,
  options: EnqueueRequestForOwnerOptions = {},
): Required<EventHandler> {
  const namespaced = owner.namespaced ?? true;
  const onlyController = options.onlyController ?? false;
  const ownersOf = (obj: CachedObject, into: Map<string, ReconcileRequest>): void => {
    for (const ref of obj.metadata?.ownerReferences ?? []) {
      if (onlyController && ref.controller !== true) continue;
      if (ref.kind !== owner.kind || parseGroupVersion(ref.apiVersion).group !== owner.group) continue;
      const request = { namespace: namespaced ? (obj.metadata?.namespace ?? '') : '', name: ref.name };
      into.set(objectKey(request), request);
    }
  };
  const enqueue = (q: RequestQueue, ...objects: CachedObject[]): void => {
    const requests = new Map<string, ReconcileRequest>();
    for (const obj of objects) ownersOf(obj, requests);
    for (const request of requests.values()) q.add(request);
  };
  return {
    create: (e, q) => enqueue(q, e.object),
    update: (e, q) => enqueue(q, e.objectOld, e.objectNew),
    delete: (e, q) => enqueue(q, e.object),
    generic: (e, q) => enqueue(q, e.object),
  };
}

/** Maps an object to the requests it should cause; may be async. */
export type MapFunc = (obj: CachedObject) => readonly ReconcileRequest[] | Promise<readonly ReconcileRequest[]>;

/**
 * An {@link EventHandler} with every method, each of which may return a promise: the one
 * {@link enqueueRequestsFromMapFunc} makes. The controller awaits what a method returns, which keeps the events of one
 * informer in order for this handler.
 */
export interface AsyncEventHandler {
  create(event: CreateEvent, queue: RequestQueue): void | Promise<void>;
  update(event: UpdateEvent, queue: RequestQueue): void | Promise<void>;
  delete(event: DeleteEvent, queue: RequestQueue): void | Promise<void>;
  generic(event: GenericEvent, queue: RequestQueue): void | Promise<void>;
}

/** Options of {@link enqueueRequestsFromMapFunc}. */
export interface EnqueueRequestsFromMapFuncOptions {
  /**
   * Hears of a map function that threw or rejected; that event then enqueues nothing. Default: a process warning
   * (`process.emitWarning`, type `KubeloopMapFuncError`).
   */
  onError?: (err: unknown, obj: CachedObject) => void;
}

function addAll(q: RequestQueue, lists: (readonly ReconcileRequest[])[]): void {
  const requests = new Map<string, ReconcileRequest>();
  for (const list of lists) {
    for (const r of list) requests.set(objectKey(r), { namespace: r.namespace, name: r.name });
  }
  for (const request of requests.values()) q.add(request);
}

/**
 * Enqueues whatever `fn` maps the event's object to: for watches of related objects that are not owned (a
 * ConfigMap referenced by many Widgets). On update, `fn` runs on both the old and the new object and the union of
 * their requests is enqueued, each once.
 *
 * Guarantees: a synchronous `fn` enqueues before the handler method returns. An async one enqueues when it settles;
 * the method then returns that promise (resolved, never rejected), which the controller awaits: events stay in order.
 *
 * Errors: a `fn` that throws or rejects is reported to `onError` and enqueues nothing for that event; it never
 * reaches the informer.
 *
 * Caveats: `fn` gets the cached object, shared and frozen: read it, never change it.
 */
export function enqueueRequestsFromMapFunc(
  fn: MapFunc,
  options: EnqueueRequestsFromMapFuncOptions = {},
): AsyncEventHandler {
  const onError =
    options.onError ??
    ((err: unknown) => {
      process.emitWarning(
        `enqueueRequestsFromMapFunc: the map function failed: ${String(err)}`,
        'KubeloopMapFuncError',
      );
    });
  const enqueue = (q: RequestQueue, ...objects: CachedObject[]): void | Promise<void> => {
    const results: (readonly ReconcileRequest[] | Promise<readonly ReconcileRequest[]>)[] = [];
    for (const obj of objects) {
      try {
        results.push(fn(obj));
      } catch (err) {
        onError(err, obj);
        return;
      }
    }
    if (!results.some((r) => r instanceof Promise)) {
      addAll(q, results as (readonly ReconcileRequest[])[]);
      return;
    }
    let failed = false;
    const settled = results.map((r, i) =>
      Promise.resolve(r).catch((err: unknown) => {
        if (!failed) onError(err, objects[i]!);
        failed = true;
        return [];
      }),
    );
    return (async () => {
      const lists = await Promise.all(settled);
      if (!failed) addAll(q, lists);
    })();
  };
  return {
    create: (e, q) => enqueue(q, e.object),
    update: (e, q) => enqueue(q, e.objectOld, e.objectNew),
    delete: (e, q) => enqueue(q, e.object),
    generic: (e, q) => enqueue(q, e.object),
  };
}
