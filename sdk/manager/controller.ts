import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { splitObjectKey, type KubeObject, type ResourceDescriptor } from '../client/index.js';
import { isDeletedFinalStateUnknown, type DeepReadonly, type HandlerRegistration, type SharedIndexInformer } from '../cache/index.js';
import {
  createRateLimitingQueue,
  defaultControllerRateLimiter,
  type Clock,
  type MetricsProvider,
  type RateLimiter,
  type RateLimitingQueue,
} from '../workqueue/index.js';
import type { EventHandler, RequestQueue } from './handlers.js';
import { toPredicate, type CachedObject, type Predicate, type PredicateLike } from './predicates.js';
import { isTerminalError, type Reconcile, type ReconcileRequest } from './reconcile.js';

/** Where a controller's informers come from: the manager's shared cache (one informer per cached namespace). */
export interface InformerSource {
  informers(resource: ResourceDescriptor): SharedIndexInformer<KubeObject>[];
}

/** What a controller reports; the manager feeds controller-runtime's metric series from it. */
export interface ControllerMetrics {
  reconciled(controller: string, result: 'success' | 'error' | 'requeue_after', seconds: number, terminal: boolean): void;
  activeWorkers(controller: string, delta: number): void;
  maxConcurrentReconciles(controller: string, value: number): void;
}

/** A watched resource with its event handler and predicates. */
export interface ControllerSource {
  resource: ResourceDescriptor;
  handler: EventHandler;
  predicates: PredicateLike[];
}

export interface ControllerOptions {
  name: string;
  reconciler: Reconcile;
  sources: ControllerSource[];
  informers: InformerSource;
  /** The controller's logger; each reconcile gets `log.child({ namespace, name, reconcileID })`. */
  log: Logger;
  /** Default: 1. */
  maxConcurrentReconciles?: number;
  /** Default: `defaultControllerRateLimiter()`. */
  rateLimiter?: RateLimiter<string>;
  /**
   * Abort a reconcile's `context.signal` after this long (its API calls then fail; the reconcile counts as failed and
   * is retried with backoff). Default: 0, no limit.
   */
  reconcileTimeoutMs?: number;
  /** How long start() waits for the informers' first sync before failing. Default: 120000. */
  cacheSyncTimeoutMs?: number;
  /** How long stopping waits for reconciles in flight. Default: 30000. */
  gracefulShutdownTimeoutMs?: number;
  metrics?: ControllerMetrics;
  queueMetricsProvider?: MetricsProvider;
  /** Time for the queue's delays (`requeueAfterMs`) and the default rate limiter's backoff. Default: the real clock. */
  clock?: Clock;
}

/**
 * Workers over a rate-limited queue of `namespace/name` keys, fed by informer events (controller-runtime's Controller).
 *
 * Guarantees: a key is reconciled by one worker at a time; events for a key that is waiting are merged into one
 * reconcile; a key that changes while being reconciled is reconciled again afterwards. Workers start only after every
 * source's informer has synced. A reconcile that throws never crashes the process: it is logged, counted and retried
 * with backoff (see {@link Reconcile} for every outcome).
 *
 * Caveats: when the signal aborts, reconciles in flight see their `context.signal` aborted (their API calls fail
 * fast); stopping waits for them up to `gracefulShutdownTimeoutMs`, then abandons them.
 */
export class Controller {
  readonly name: string;
  readonly queue: RateLimitingQueue<string>;
  private readonly options: ControllerOptions;
  private readonly registrations: HandlerRegistration[] = [];
  private started = false;

  constructor(options: ControllerOptions) {
    this.options = options;
    this.name = options.name;
    this.queue = createRateLimitingQueue<string>({
      name: options.name,
      ...(options.clock && { clock: options.clock }),
      rateLimiter: options.rateLimiter ?? defaultControllerRateLimiter(options.clock ? { clock: options.clock } : {}),
      ...(options.queueMetricsProvider && { metricsProvider: options.queueMetricsProvider }),
    });
  }

  /** Runs until the signal aborts: registers handlers, waits for the caches, then runs the workers. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.started) throw new Error(`controller ${this.name} was already started`);
    this.started = true;
    const { log } = this.options;
    const informers = this.options.sources.flatMap((source) =>
      this.options.informers.informers(source.resource).map((informer) => {
        this.registrations.push(informer.addEventHandler(this.adapter(source)));
        return informer;
      }),
    );
    const syncTimeout = AbortSignal.timeout(this.options.cacheSyncTimeoutMs ?? 120_000);
    const synced = await Promise.all(informers.map((i) => i.waitForSync(AbortSignal.any([signal, syncTimeout]))));
    if (!synced.every(Boolean)) {
      this.stopSources();
      this.queue.shutDown();
      if (signal.aborted) return;
      throw new Error(`controller ${this.name}: timed out waiting for the caches to sync`);
    }
    const workers = this.options.maxConcurrentReconciles ?? 1;
    this.options.metrics?.maxConcurrentReconciles(this.name, workers);
    log.info({ workers }, 'starting workers');
    const running = Array.from({ length: workers }, () => this.worker(signal));
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    log.info('stopping workers');
    this.stopSources();
    this.queue.shutDown();
    const grace = this.options.gracefulShutdownTimeoutMs ?? 30_000;
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), grace).unref());
    if ((await Promise.race([Promise.all(running), timer])) === 'timeout') {
      log.warn({ gracefulShutdownTimeoutMs: grace }, 'reconciles still running after the graceful shutdown timeout');
    }
  }

  private stopSources(): void {
    for (const r of this.registrations.splice(0)) r.remove();
  }

  /** Turns informer events into predicate-filtered handler calls that enqueue keys. */
  private adapter(source: ControllerSource): Parameters<SharedIndexInformer<KubeObject>['addEventHandler']>[0] {
    const predicates: Required<Predicate>[] = source.predicates.map(toPredicate);
    const handler = source.handler;
    const queue: RequestQueue = {
      add: (request: ReconcileRequest) =>
        this.queue.add(request.namespace ? `${request.namespace}/${request.name}` : request.name),
    };
    return {
      onAdd: (obj: DeepReadonly<KubeObject>) => {
        const event = { object: obj as CachedObject };
        if (predicates.every((p) => p.create(event))) handler.create?.(event, queue);
      },
      onUpdate: (oldObj: DeepReadonly<KubeObject>, newObj: DeepReadonly<KubeObject>) => {
        const event = { objectOld: oldObj as CachedObject, objectNew: newObj as CachedObject };
        if (predicates.every((p) => p.update(event))) handler.update?.(event, queue);
      },
      onDelete: (objOrTombstone: unknown) => {
        const unknownState = isDeletedFinalStateUnknown(objOrTombstone);
        const object = (unknownState ? (objOrTombstone as { obj: unknown }).obj : objOrTombstone) as CachedObject;
        const event = { object, deleteStateUnknown: unknownState };
        if (predicates.every((p) => p.delete(event))) handler.delete?.(event, queue);
      },
    };
  }

  private async worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.reconcileKey(key, signal);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async reconcileKey(key: string, signal: AbortSignal): Promise<void> {
    const { namespace, name } = splitObjectKey(key);
    const reconcileID = randomUUID();
    // The controller's logger already carries `controller`.
    const log = this.options.log.child({ namespace, name, reconcileID });
    const metrics = this.options.metrics;
    metrics?.activeWorkers(this.name, 1);
    const started = performance.now();
    const timeoutMs = this.options.reconcileTimeoutMs ?? 0;
    const reconcileSignal = timeoutMs > 0 ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : signal;
    try {
      const result = await this.options.reconciler.reconcile({ namespace, name }, { signal: reconcileSignal, log, reconcileID });
      const seconds = (performance.now() - started) / 1000;
      this.queue.forget(key);
      if (result?.requeueAfterMs !== undefined && result.requeueAfterMs > 0) {
        this.queue.addAfter(key, result.requeueAfterMs);
        metrics?.reconciled(this.name, 'requeue_after', seconds, false);
      } else {
        metrics?.reconciled(this.name, 'success', seconds, false);
      }
    } catch (thrown) {
      const seconds = (performance.now() - started) / 1000;
      // `throw 'text'` and rejections with non-Errors still get a message and a stack in the log.
      const err = thrown instanceof Error ? thrown : new Error(`reconcile threw a non-Error value: ${String(thrown)}`, { cause: thrown });
      if (isTerminalError(err)) {
        this.queue.forget(key);
        log.error({ err }, 'reconcile failed with a terminal error; not retrying until the object changes');
        metrics?.reconciled(this.name, 'error', seconds, true);
      } else {
        this.queue.addRateLimited(key);
        log.error({ err, retries: this.queue.numRequeues(key) }, 'reconcile failed; retrying with backoff');
        metrics?.reconciled(this.name, 'error', seconds, false);
      }
    } finally {
      metrics?.activeWorkers(this.name, -1);
    }
  }
}
