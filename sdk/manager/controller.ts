import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  KubeloopError,
  AlreadyStartedError,
  objectKey,
  splitObjectKey,
  type KubeObject,
  type ResourceDescriptor,
} from '../client/index.js';
import type { SharedIndexInformer } from '../cache/index.js';
import {
  createPriorityQueue,
  defaultControllerRateLimiter,
  type Clock,
  type MetricsProvider,
  type PriorityQueue,
} from '../workqueue/index.js';
import type { ControllerOptions } from './controller-options.js';
import type { EventHandler, RequestQueue } from './handlers.js';
import type { PredicateLike } from './predicates.js';
import { applyReconcileOutcome, type Reconcile, type ReconcileEnding, type ReconcileResult } from './reconcile.js';
import { informerSource, type Source, type SourceContext } from './source.js';

/**
 * Where a controller's informers come from: the manager's shared cache (one informer per cached namespace). Not to be
 * confused with kubeloop/cache's `InformerSource`, what an informer factory lists and watches through.
 */
export interface InformerProvider {
  /** With `metadataOnly`, informers that hold `PartialObjectMetadata` only. */
  informers(resource: ResourceDescriptor, lookup?: { metadataOnly?: boolean }): SharedIndexInformer<KubeObject>[];
}

/** What a controller reports; the manager feeds controller-runtime's metric series from it. */
export interface ControllerMetrics {
  reconciled(
    controller: string,
    result: 'success' | 'error' | 'requeue_after',
    seconds: number,
    terminal: boolean,
  ): void;
  activeWorkers(controller: string, delta: number): void;
  maxConcurrentReconciles(controller: string, value: number): void;
}

/** A watched resource with its event handler and predicates. */
export interface ControllerSource {
  resource: ResourceDescriptor;
  handler: EventHandler;
  predicates: PredicateLike[];
  /** Watch through metadata-only informers: handlers and predicates see `PartialObjectMetadata`. Default: false. */
  metadataOnly?: boolean;
}

/**
 * What the manager hands a {@link Controller}: its {@link ControllerOptions} (each default in their docs) and what it
 * is wired to.
 */
export interface ControllerSetup extends ControllerOptions {
  name: string;
  reconciler: Reconcile;
  /** Watched resources, each turned into an {@link informerSource} over `informers`. */
  sources: ControllerSource[];
  informers: InformerProvider;
  /** Sources of other kinds (`channelSource()`, `pollingSource()`, your own). Default: none. */
  rawSources?: readonly Source[];
  /** The controller's logger; each reconcile gets `log.child({ namespace, name, reconcileID })`. */
  log: Logger;
  /** How long stopping waits for reconciles in flight. Default: 30000. */
  gracefulShutdownTimeoutMs?: number;
  metrics?: ControllerMetrics;
  queueMetricsProvider?: MetricsProvider;
  /** Time for the queue's delays (`requeueAfterMs`) and the default rate limiter's backoff. Default: the real clock. */
  clock?: Clock;
}

/**
 * Workers over a priority queue of `namespace/name` keys, fed by sources: informer events, channels, polls
 * (controller-runtime's Controller).
 *
 * Guarantees: a key is reconciled by one worker at a time; events for a key that is waiting are merged into one
 * reconcile; a key that changes while being reconciled is reconciled again afterwards. Keys from initial lists and
 * resyncs wait behind changes (priority -100 against 0; a result's `priority` sets its requeue's). Workers start only
 * after every source synced, for informers meaning each handler was handed the whole initial list. A reconcile that
 * throws never crashes the process: it is logged, counted and retried with backoff (see {@link Reconcile} for every
 * outcome, applied by {@link applyReconcileOutcome}).
 *
 * Caveats: when the signal aborts, reconciles in flight see their `context.signal` aborted (their API calls fail
 * fast); stopping waits for them up to `gracefulShutdownTimeoutMs`, then abandons them.
 */
export class Controller {
  readonly name: string;
  readonly queue: PriorityQueue<string>;
  private readonly options: ControllerSetup;
  private started = false;
  /** Sources given to {@link watch} before start: they start with the others. */
  private readonly pending: Source[] = [];
  /** While running: what a source added by {@link watch} is started with. */
  private running: SourceContext | undefined;

  constructor(options: ControllerSetup) {
    this.options = options;
    this.name = options.name;
    this.queue = createPriorityQueue<string>({
      name: options.name,
      ...(options.clock && { clock: options.clock }),
      rateLimiter: options.rateLimiter ?? defaultControllerRateLimiter(options.clock ? { clock: options.clock } : {}),
      ...(options.queueMetricsProvider && { metricsProvider: options.queueMetricsProvider }),
    });
  }

  /** Runs until the signal aborts: starts the sources, waits for them to sync, then runs the workers. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.started) throw new AlreadyStartedError(`controller ${this.name}`);
    this.started = true;
    const { log } = this.options;
    const stopSources = new AbortController();
    const stop = (): void => {
      stopSources.abort();
      this.queue.shutDown();
    };
    const watched: SharedIndexInformer<KubeObject>[] = [];
    const sources: Source[] = [
      ...this.options.sources.map((s) => {
        const informers = this.options.informers.informers(s.resource, { metadataOnly: s.metadataOnly ?? false });
        watched.push(...informers);
        return informerSource({ informers, handler: s.handler, predicates: s.predicates });
      }),
      ...(this.options.rawSources ?? []),
      ...this.pending.splice(0),
    ];
    const queue: RequestQueue = {
      add: (request, opts) =>
        this.queue.addWithOptions(objectKey(request), {
          ...(opts?.priority !== undefined && { priority: opts.priority }),
          ...(opts?.afterMs !== undefined && { afterMs: opts.afterMs }),
        }),
    };
    const syncTimeout = syncDeadline(watched, this.options.cacheSyncTimeoutMs ?? 120_000);
    const syncSignal = AbortSignal.any([signal, syncTimeout.signal]);
    let synced: boolean[];
    const context: SourceContext = {
      queue,
      signal: stopSources.signal,
      log,
      ...(this.options.clock && { clock: this.options.clock }),
    };
    this.running = context;
    stopSources.signal.addEventListener('abort', () => (this.running = undefined), { once: true });
    try {
      for (const source of sources) await source.start(context);
      synced = await Promise.all(sources.map(async (source) => (await source.waitForSync?.(syncSignal)) ?? true));
    } catch (err) {
      stop();
      throw err;
    } finally {
      syncTimeout.clear();
    }
    if (!synced.every(Boolean)) {
      stop();
      if (signal.aborted) return;
      throw new KubeloopError(
        'ERR_CACHE_NOT_SYNCED',
        `controller ${this.name}: timed out waiting for the caches to sync`,
      );
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
    stop();
    const grace = this.options.gracefulShutdownTimeoutMs ?? 30_000;
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), grace).unref());
    if ((await Promise.race([Promise.all(running), timer])) === 'timeout') {
      log.warn({ gracefulShutdownTimeoutMs: grace }, 'reconciles still running after the graceful shutdown timeout');
    }
  }

  /**
   * Adds a source (controller-runtime's `Controller.Watch`): before start it starts with the others, and the workers
   * wait for its sync too; on a running controller it starts at once, and the promise resolves once it synced (within
   * `cacheSyncTimeoutMs`). For a resource watched at run time:
   * `ctrl.watch(informerSource({ informers: mgr.cache.informers(Kind), handler }))`.
   *
   * Errors: `ERR_CACHE_NOT_SYNCED` when the source does not sync in time (it keeps running: its requests still come);
   * `ERR_CONTROLLER_STOPPED` on a controller that has stopped.
   */
  async watch(source: Source): Promise<void> {
    if (!this.started) {
      this.pending.push(source);
      return;
    }
    const context = this.running;
    if (context === undefined) {
      throw new KubeloopError(
        'ERR_CONTROLLER_STOPPED',
        `controller ${this.name} is not running: a source can be added before start or while it runs`,
      );
    }
    await source.start(context);
    if (!source.waitForSync) return;
    const timeoutMs = this.options.cacheSyncTimeoutMs ?? 120_000;
    const deadline = AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]);
    if (!(await source.waitForSync(deadline)) && !context.signal.aborted) {
      throw new KubeloopError(
        'ERR_CACHE_NOT_SYNCED',
        `controller ${this.name}: a source added at run time did not sync within ${timeoutMs} ms`,
      );
    }
  }

  private async worker(signal: AbortSignal): Promise<void> {
    for (;;) {
      const next = await this.queue.getWithPriority();
      if (next === undefined) return;
      try {
        await this.reconcileKey(next.key, next.priority, signal);
      } finally {
        this.queue.done(next.key);
      }
    }
  }

  private async reconcileKey(key: string, priority: number, signal: AbortSignal): Promise<void> {
    const { namespace, name } = splitObjectKey(key);
    const reconcileID = randomUUID();
    // The controller's logger already carries `controller`. The child is made on first use: most reconciles that
    // succeed never log, and a pino child costs more than the rest of the reconcile's bookkeeping.
    let child: Logger | undefined;
    const parent = this.options.log;
    const log = (): Logger => (child ??= parent.child({ namespace, name, reconcileID }));
    const metrics = this.options.metrics;
    metrics?.activeWorkers(this.name, 1);
    const started = performance.now();
    const timeoutMs = this.options.reconcileTimeoutMs ?? 0;
    const reconcileSignal = timeoutMs > 0 ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : signal;
    let ending: ReconcileEnding;
    try {
      const result: ReconcileResult | undefined = await this.options.reconciler.reconcile(
        { namespace, name },
        {
          signal: reconcileSignal,
          get log() {
            return log();
          },
          reconcileID,
        },
      );
      ending = { result };
    } catch (thrown) {
      ending = { error: thrown };
    }
    try {
      const seconds = (performance.now() - started) / 1000;
      const disposition = applyReconcileOutcome(this.queue, key, priority, ending);
      if (disposition === 'success' || disposition === 'requeue_after') {
        metrics?.reconciled(this.name, disposition, seconds, false);
        return;
      }
      const thrown = (ending as { error: unknown }).error;
      // `throw 'text'` and rejections with non-Errors still get a message and a stack in the log.
      const err =
        thrown instanceof Error
          ? thrown
          : new Error(`reconcile threw a non-Error value: ${String(thrown)}`, { cause: thrown });
      if (disposition === 'terminal') {
        log().error({ err }, 'reconcile failed with a terminal error; not retrying until the object changes');
      } else {
        log().error({ err, retries: this.queue.numRequeues(key) }, 'reconcile failed; retrying with backoff');
      }
      metrics?.reconciled(this.name, 'error', seconds, disposition === 'terminal');
    } finally {
      metrics?.activeWorkers(this.name, -1);
    }
  }
}

/**
 * Aborts once `timeoutMs` passed without every informer synced; the time an informer spends waiting for its resource
 * (a CRD not installed yet) does not count, so a controller of an absent kind waits for it instead of failing.
 */
function syncDeadline(
  informers: readonly SharedIndexInformer<KubeObject>[],
  timeoutMs: number,
): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  let deadline = Date.now() + timeoutMs;
  const timer = setInterval(
    () => {
      const now = Date.now();
      if (informers.some((i) => i.health().waitingForResource)) deadline = now + timeoutMs;
      else if (now >= deadline) controller.abort(new Error(`timed out after ${timeoutMs} ms`));
    },
    Math.max(10, Math.min(1000, timeoutMs / 4)),
  );
  timer.unref();
  return { signal: controller.signal, clear: () => clearInterval(timer) };
}
