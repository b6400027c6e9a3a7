import { ArgumentError, ArgumentRangeError, KubeloopError, type KubeObject, type ResourceDescriptor } from '../client/index.js';
import type { DeepReadonly } from '../cache/index.js';
import type { RateLimiter } from '../workqueue/index.js';
import type { ControllerSource } from './controller.js';
import type { FieldIndexSpec, WatchSpec } from './decorator.js';
import { enqueueRequestForObject, enqueueRequestForOwner, type EventHandler } from './handlers.js';
import type { PredicateLike } from './predicates.js';
import type { Reconcile } from './reconcile.js';
import type { Source } from './source.js';
import { isMetadataOnly } from './metadata-only.js';

/** What a controller is made of, before the manager builds it. */
export interface ControllerSpec {
  name: string;
  forResource: ResourceDescriptor;
  sources: ControllerSource[];
  /** Sources besides informers (`watchesRawSource`). */
  rawSources?: Source[];
  maxConcurrentReconciles: number;
  rateLimiter?: RateLimiter<string>;
  reconcileTimeoutMs?: number;
  /** Field indexes to register in the cache (`withIndex`). Default: none. */
  indexes?: FieldIndexSpec[];
}

/** The manager side of the builder: where a completed controller goes. */
export interface ControllerRegistry {
  /** Used by `controllerFor(mgr)…complete()`; throws `ERR_MANAGER_REGISTRATION` after start or on a duplicate name. */
  addController(spec: ControllerSpec, reconciler: Reconcile): void;
}

export interface ForOptions {
  predicates?: PredicateLike[];
}

/** Options of `owns` and `watches`. */
export interface WatchOptions extends ForOptions {
  /**
   * Watch through a metadata-only informer: handlers and predicates get `PartialObjectMetadata` (name, labels,
   * annotations, owner references…), and the cache never holds the whole objects for this watch (controller-runtime's
   * `builder.OnlyMetadata`). Same as passing `metadataOnly(resource)`. Default: false.
   */
  metadataOnly?: boolean;
}

/**
 * Builds a controller, as controller-runtime's builder does:
 * `controllerFor(mgr).for(Widget).owns(Deployment).withOptions({ maxConcurrentReconciles: 2 }).complete(reconciler)`.
 * Everything `@Reconciler({...})` can say, this can say; the decorator is turned into these calls.
 */
export class ControllerBuilder {
  private primary: { resource: ResourceDescriptor; predicates: PredicateLike[] } | undefined;
  private readonly owned: { resource: ResourceDescriptor; predicates: PredicateLike[]; metadataOnly: boolean }[] = [];
  private readonly watched: WatchSpec[] = [];
  private readonly filters: PredicateLike[] = [];
  private readonly rawSources: Source[] = [];
  private controllerName: string | undefined;
  private maxConcurrent = 1;
  private rateLimiter: RateLimiter<string> | undefined;
  private reconcileTimeoutMs: number | undefined;
  private readonly indexes: FieldIndexSpec[] = [];

  constructor(private readonly registry: ControllerRegistry) {}

  /** The primary resource: each of its events enqueues the object's own key. Required, once. */
  for(resource: ResourceDescriptor, options: ForOptions = {}): this {
    if (this.primary) throw new KubeloopError('ERR_MANAGER_REGISTRATION', `for() was already called with ${this.primary.resource.kind}`);
    this.primary = { resource, predicates: options.predicates ?? [] };
    return this;
  }

  /**
   * A resource the controller creates and owns: events of objects it controls enqueue the owner.
   * `owns(Secret, { metadataOnly: true })` caches only the Secrets' metadata, enough for owner references.
   */
  owns(resource: ResourceDescriptor, options: WatchOptions = {}): this {
    this.owned.push({ resource, predicates: options.predicates ?? [], metadataOnly: options.metadataOnly ?? false });
    return this;
  }

  /** Any resource with a handler that maps its events to requests; `{ metadataOnly: true }` as for {@link owns}. */
  watches(resource: ResourceDescriptor, handler: EventHandler, options: WatchOptions = {}): this {
    this.watched.push({ resource, handler, predicates: options.predicates ?? [], metadataOnly: options.metadataOnly ?? false });
    return this;
  }

  /**
   * A source other than an informer: `channelSource()`, `pollingSource({ everyMs, list })` or your own (as
   * controller-runtime's `WatchesRawSource`). Its handler and predicates are its own; `withEventFilter` does not
   * apply to it.
   */
  watchesRawSource(source: Source): this {
    this.rawSources.push(source);
    return this;
  }

  /**
   * A field index the reconciler lists with, registered in the manager's cache:
   * `withIndex(Pod, 'spec.nodeName', (p) => [p.spec?.nodeName ?? ''])`, then `client.list(Pod, { matchingFields })`.
   */
  withIndex<T extends KubeObject>(resource: ResourceDescriptor<T>, field: string, extract: (obj: DeepReadonly<T>) => string[]): this {
    this.indexes.push({ resource, field, extract } as unknown as FieldIndexSpec);
    return this;
  }

  /** Predicates applied to every watched resource's events. */
  withEventFilter(predicate: PredicateLike): this {
    this.filters.push(predicate);
    return this;
  }

  /** The controller's name in metrics and logs. Default: the primary kind in lower case. */
  named(name: string): this {
    this.controllerName = name;
    return this;
  }

  /**
   * `maxConcurrentReconciles` (default 1), `rateLimiter` (default: client-go's controller rate limiter) and
   * `reconcileTimeoutMs` (default: none; aborts the reconcile's signal after that long).
   */
  withOptions(options: { maxConcurrentReconciles?: number; rateLimiter?: RateLimiter<string>; reconcileTimeoutMs?: number }): this {
    if (options.maxConcurrentReconciles !== undefined) {
      if (!Number.isInteger(options.maxConcurrentReconciles) || options.maxConcurrentReconciles < 1) {
        throw new ArgumentRangeError(`maxConcurrentReconciles must be a whole number ≥ 1, not ${options.maxConcurrentReconciles}`);
      }
      this.maxConcurrent = options.maxConcurrentReconciles;
    }
    if (options.rateLimiter) this.rateLimiter = options.rateLimiter;
    if (options.reconcileTimeoutMs !== undefined) this.reconcileTimeoutMs = options.reconcileTimeoutMs;
    return this;
  }

  /** Builds the controller and hands it to the manager, which starts it with the others. */
  complete(reconciler: Reconcile): void {
    if (!this.primary) throw new KubeloopError('ERR_MANAGER_REGISTRATION', 'a controller needs for(resource) before complete()');
    if (typeof reconciler?.reconcile !== 'function') throw new ArgumentError('complete() needs an object with a reconcile() method');
    const primary = this.primary.resource;
    const sources: ControllerSource[] = [
      { resource: primary, handler: enqueueRequestForObject(), predicates: [...this.filters, ...this.primary.predicates] },
      ...this.owned.map((o) => ({
        resource: o.resource,
        handler: enqueueRequestForOwner({ group: primary.group, kind: primary.kind }, { onlyController: true }),
        predicates: [...this.filters, ...o.predicates],
        metadataOnly: o.metadataOnly || isMetadataOnly(o.resource),
      })),
      ...this.watched.map((w) => ({
        resource: w.resource,
        handler: w.handler,
        predicates: [...this.filters, ...(w.predicates ?? [])],
        metadataOnly: Boolean(w.metadataOnly) || isMetadataOnly(w.resource),
      })),
    ];
    this.registry.addController(
      {
        name: this.controllerName ?? primary.kind.toLowerCase(),
        forResource: primary,
        sources,
        ...(this.rawSources.length > 0 && { rawSources: [...this.rawSources] }),
        maxConcurrentReconciles: this.maxConcurrent,
        ...(this.rateLimiter && { rateLimiter: this.rateLimiter }),
        ...(this.reconcileTimeoutMs !== undefined && { reconcileTimeoutMs: this.reconcileTimeoutMs }),
        ...(this.indexes.length > 0 && { indexes: [...this.indexes] }),
      },
      reconciler,
    );
  }
}

/** Starts building a controller for a manager. */
export function controllerFor(manager: ControllerRegistry): ControllerBuilder {
  return new ControllerBuilder(manager);
}
