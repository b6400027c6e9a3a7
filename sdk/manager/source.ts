import type { Logger } from 'pino';
import { ArgumentRangeError, type KubeObject } from '../client/index.js';
import {
  isDeletedFinalStateUnknown,
  type DeepReadonly,
  type HandlerRegistration,
  type SharedIndexInformer,
} from '../cache/index.js';
import { lowPriority, realClock, type Clock } from '../workqueue/index.js';
import {
  enqueueRequestForObject,
  type EventHandler,
  type RequestQueue,
  type RequestQueueAddOptions,
} from './handlers.js';
import { toPredicate, type CachedObject, type PredicateLike } from './predicates.js';
import type { ReconcileRequest } from './reconcile.js';

/** What a {@link Source} is started with: where its requests go, until when, and where it reports failures. */
export interface SourceContext {
  /** The controller's queue: `add(request, { priority, afterMs })`, de-duplicated by `namespace/name`. */
  queue: RequestQueue;
  /** Aborts when the controller stops: stop producing then, and remove listeners and timers. */
  signal: AbortSignal;
  /** The controller's logger. */
  log: Logger;
  /** The controller's clock (the manager's `clock` option, a fake one in tests) for timers. Default: the real clock. */
  clock?: Clock;
}

/**
 * Where a controller's reconcile requests come from (controller-runtime's `source.Source`): informers of watched
 * resources (`for`, `owns`, `watches`), a {@link channelSource}, a {@link pollingSource}, or one of your own.
 * `@Reconciler({ sources: [...] })` and `controllerFor(mgr).watchesRawSource(src)` add one.
 *
 * Guarantees (of the controller): `start` is called once per controller, before its workers run; workers start only
 * after every source with a `waitForSync` resolved true (a controller times out with `cacheSyncTimeoutMs` otherwise).
 *
 * Errors: a `start` that throws or rejects fails the controller's start, as a cache that never syncs does.
 */
export interface Source {
  /** Starts producing requests into `context.queue`; may return before the first one (a background loop). */
  start(context: SourceContext): void | Promise<void>;
  /**
   * Resolves true once the source has delivered its initial requests (an informer: once its handler was handed the
   * whole initial list), or false when `signal` aborts first. Absent: nothing to wait for.
   */
  waitForSync?(signal: AbortSignal): Promise<boolean>;
}

/** How long a source's sync wait sleeps between checks of its handler registrations. */
const registrationPollMs = 10;

/** Options of {@link informerSource}. */
export interface InformerSourceOptions {
  /** The informers whose events are watched: several when the cache has one per namespace. */
  informers: readonly SharedIndexInformer<KubeObject>[];
  /** Default: {@link enqueueRequestForObject}. */
  handler?: EventHandler;
  /** Every one must let an event through before the handler hears of it. Default: none. */
  predicates?: readonly PredicateLike[];
}

/**
 * Informers as a {@link Source} (controller-runtime's `source.Kind`): what `for`, `owns` and `watches` use, and what
 * watches an informer of your own (another cluster's factory, say).
 *
 * Guarantees:
 * - Events from an initial list (`onAdd` with `isInInitialList`) and resyncs (an update whose resourceVersion did not
 *   change) are enqueued with {@link lowPriority}; other changes with priority 0, so a change made after start is
 *   reconciled before the initial backlog.
 * - A handler method that returns a promise is awaited before that informer hands this source its next event, so an
 *   async handler's events stay in order (each informer has its own buffer per handler; other controllers go on).
 * - `waitForSync` resolves true only once each informer synced **and** this source's handler was handed every object
 *   of the initial list (client-go's handler registration `hasSynced`), so workers never start on part of the list.
 *
 * Caveats: a handler that never settles holds up that informer's events for this source.
 */
export function informerSource(options: InformerSourceOptions): Source {
  const handler = options.handler ?? enqueueRequestForObject();
  const predicates = (options.predicates ?? []).map(toPredicate);
  const registrations: HandlerRegistration[] = [];
  return {
    start({ queue, signal }) {
      const low: RequestQueue = { add: (request, opts) => queue.add(request, { priority: lowPriority, ...opts }) };
      for (const informer of options.informers) {
        registrations.push(
          informer.addEventHandler({
            onAdd: (obj: DeepReadonly<KubeObject>, isInInitialList: boolean) => {
              const event = { object: obj as CachedObject };
              if (predicates.every((p) => p.create(event)))
                return handler.create?.(event, isInInitialList ? low : queue);
            },
            onUpdate: (oldObj: DeepReadonly<KubeObject>, newObj: DeepReadonly<KubeObject>) => {
              const event = { objectOld: oldObj as CachedObject, objectNew: newObj as CachedObject };
              const resync = oldObj.metadata?.resourceVersion === newObj.metadata?.resourceVersion;
              if (predicates.every((p) => p.update(event))) return handler.update?.(event, resync ? low : queue);
            },
            onDelete: (objOrTombstone: unknown) => {
              const unknownState = isDeletedFinalStateUnknown(objOrTombstone);
              const object = (unknownState ? (objOrTombstone as { obj: unknown }).obj : objOrTombstone) as CachedObject;
              const event = { object, deleteStateUnknown: unknownState };
              if (predicates.every((p) => p.delete(event))) return handler.delete?.(event, queue);
            },
          }),
        );
      }
      const remove = (): void => {
        for (const r of registrations.splice(0)) r.remove();
      };
      if (signal.aborted) remove();
      else signal.addEventListener('abort', remove, { once: true });
    },
    async waitForSync(signal) {
      const synced = await Promise.all(options.informers.map((i) => i.waitForSync(signal)));
      if (!synced.every(Boolean)) return false;
      while (!registrations.every((r) => r.hasSynced())) {
        if (signal.aborted) return false;
        await new Promise((resolve) => setTimeout(resolve, registrationPollMs));
      }
      return !signal.aborted;
    },
  };
}

/** What a channel or polling source is fed: a request, or an object (its namespace and name are used). */
export type SourceItem = ReconcileRequest | CachedObject | KubeObject;

/** Options of {@link channelSource} and {@link pollingSource}. */
export interface GenericSourceOptions {
  /** Maps each item's generic event to requests. Default: {@link enqueueRequestForObject} (the item's own key). */
  handler?: EventHandler;
  /** Every one's `generic` must let an item through. Default: none. */
  predicates?: readonly PredicateLike[];
  /** The priority its requests are queued with (higher first). Default: 0. */
  priority?: number;
}

/** Turns items into generic events through predicates and the handler; what channel and polling sources share. */
function genericDelivery(
  options: GenericSourceOptions,
): (items: readonly SourceItem[], queue: RequestQueue) => Promise<void> {
  const handler = options.handler ?? enqueueRequestForObject();
  const predicates = (options.predicates ?? []).map(toPredicate);
  const addOptions: RequestQueueAddOptions = options.priority === undefined ? {} : { priority: options.priority };
  return async (items, queue) => {
    const q: RequestQueue = { add: (request, opts) => queue.add(request, { ...addOptions, ...opts }) };
    for (const item of items) {
      const event = { object: asObject(item) };
      if (predicates.every((p) => p.generic(event))) await handler.generic?.(event, q);
    }
  };
}

function asObject(item: SourceItem): CachedObject {
  if ('metadata' in item && item.metadata) return item as CachedObject;
  const { namespace, name } = item as ReconcileRequest;
  return { metadata: { namespace, name } } as CachedObject;
}

/** A {@link Source} fed from anywhere with `push`: a webhook, a message queue, another controller. */
export interface ChannelSource extends Source {
  /**
   * Delivers items as generic events (predicates' and handlers' `generic`) to every controller this source was
   * started in. Items pushed before any controller started are kept and delivered on the first start.
   */
  push(...items: SourceItem[]): void;
}

/**
 * A source you push requests or objects into (controller-runtime's `source.Channel`):
 * `const wake = channelSource(); … wake.push({ namespace: 'ns', name: 'w' })`.
 *
 * Guarantees: each item goes through the predicates' `generic` and the handler's `generic` (by default it enqueues the
 * item's own `namespace/name`), in push order; a source shared by several controllers delivers to each. Pushes after
 * every controller using it stopped are dropped.
 */
export function channelSource(options: GenericSourceOptions = {}): ChannelSource {
  const deliver = genericDelivery(options);
  const destinations = new Set<RequestQueue>();
  let pending: SourceItem[] | undefined = [];
  let chain: Promise<void> = Promise.resolve();
  let log: Logger | undefined;
  const send = (items: readonly SourceItem[], queues: readonly RequestQueue[]): void => {
    // One chain keeps pushes in order when a handler is async.
    const deliverAll = async (): Promise<void> => {
      for (const queue of queues) await deliver(items, queue);
    };
    chain = chain.then(deliverAll).catch((err: unknown) => log?.error({ err }, 'a channel source handler failed'));
  };
  return {
    push(...items) {
      if (pending) pending.push(...items);
      else send(items, [...destinations]);
    },
    start(context) {
      const { queue, signal } = context;
      if (signal.aborted) return;
      log ??= context.log;
      const q: RequestQueue = {
        add: (request, opts) => {
          if (!signal.aborted) queue.add(request, opts);
        },
      };
      destinations.add(q);
      signal.addEventListener('abort', () => destinations.delete(q), { once: true });
      if (pending) {
        const items = pending;
        pending = undefined;
        send(items, [q]);
      }
    },
  };
}

/** Options of {@link pollingSource}. */
export interface PollingSourceOptions extends GenericSourceOptions {
  /** Time between the end of one `list` and the start of the next. Required, > 0. */
  everyMs: number;
  /** What to reconcile now: requests or objects, from an external system, say. Called at start, then every `everyMs`. */
  list: (signal: AbortSignal) => Promise<readonly SourceItem[]> | readonly SourceItem[];
}

/**
 * A source that calls `list` at start and then every `everyMs`, and enqueues what it returns as generic events (for
 * state outside Kubernetes that nothing watches): `pollingSource({ everyMs: 60_000, list: async (signal) => … })`.
 *
 * Guarantees: one `list` at a time per controller; the first completes before the controller's workers start (its
 * `waitForSync`), so the first round is in the queue from the beginning. The wait between rounds runs on the
 * controller's clock (the manager's `clock` option), so a fake clock drives it in tests.
 *
 * Errors: a `list` that throws or rejects is logged on the controller's logger and tried again after `everyMs`; the
 * first one failing does not stop the controller.
 */
export function pollingSource(options: PollingSourceOptions): Source {
  if (!(options.everyMs > 0))
    throw new ArgumentRangeError(`pollingSource: everyMs must be > 0, not ${options.everyMs}`);
  const deliver = genericDelivery(options);
  const firstRounds = new Set<Promise<void>>();
  return {
    start({ queue, signal, log, clock = realClock }) {
      const round = async (): Promise<void> => {
        try {
          await deliver(await options.list(signal), queue);
        } catch (err) {
          if (!signal.aborted) log.error({ err }, 'a polling source failed to list; trying again later');
        }
      };
      const loop = async (): Promise<void> => {
        while (!signal.aborted) {
          await new Promise<void>((resolve) => {
            const timer = clock.setTimer(done, options.everyMs);
            function done(): void {
              timer.cancel();
              signal.removeEventListener('abort', done);
              resolve();
            }
            signal.addEventListener('abort', done, { once: true });
          });
          if (!signal.aborted) await round();
        }
      };
      const first = round();
      firstRounds.add(first);
      void first.then(() => {
        firstRounds.delete(first);
        return loop();
      });
    },
    async waitForSync(signal) {
      await Promise.all(firstRounds);
      return !signal.aborted;
    },
  };
}
