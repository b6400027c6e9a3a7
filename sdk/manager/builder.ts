import { ArgumentError, KubeloopError, type KubeObject, type ResourceDescriptor } from '../client/index.js';
import type { DeepReadonly } from '../cache/index.js';
import type { ControllerSource } from './controller.js';
import { pickControllerOptions, type ControllerOptions } from './controller-options.js';
import type { FieldIndexSpec, WatchSpec } from './decorator.js';
import { enqueueRequestForObject, enqueueRequestForOwner, type EventHandler } from './handlers.js';
import type { PredicateLike } from './predicates.js';
import type { Reconcile } from './reconcile.js';
import type { Source } from './source.js';
import { isMetadataOnly } from './metadata-only.js';

/** What a controller is made of, before the manager builds it: its watches and its {@link ControllerOptions}. */
export interface ControllerSpec extends ControllerOptions {
  name: string;
  forResource: ResourceDescriptor;
  sources: ControllerSource[];
  /** Sources besides informers (`watchesRawSource`). */
  rawSources?: Source[];
  /** Field indexes to register in the cache (`withIndex`). Default: none. */
  indexes?: FieldIndexSpec[];
}

/** The manager side of the builder: where a completed controller goes. */
export interface ControllerRegistry {
  /** Used by `controllerFor(mgr)…complete()`; throws `ERR_MANAGER_REGISTRATION` after start or on a duplicate name. */
  addController(spec: ControllerSpec, reconciler: Reconcile): void;
  /** A registered controller by name, for `build()`; a registry without it cannot hand controllers out. */
  getController?(name: string): ControllerHandle | undefined;
}

/**
 * A registered controller (controller-runtime's `controller.Controller`, from `Build`): what can be done with it
 * after registration. See `Controller.watch`.
 */
export interface ControllerHandle {
  readonly name: string;
  /**
   * Adds a source: before the manager starts, it starts with the controller's others (the workers wait for its sync);
   * on a running controller it starts at once, and the promise resolves once it synced (within `cacheSyncTimeoutMs`,
   * else `ERR_CACHE_NOT_SYNCED`). A resource to watch from then on:
   * `ctrl.watch(informerSource({ informers: mgr.cache.informers(Kind), handler: enqueueRequestForObject() }))`.
   */
  watch(source: Source): Promise<void>;
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
  private options: ControllerOptions = {};
  private readonly indexes: FieldIndexSpec[] = [];

  constructor(private readonly registry: ControllerRegistry) {}

  /** The primary resource: each of its events enqueues the object's own key. Required, once. */
  for(resource: ResourceDescriptor, options: ForOptions = {}): this {
    if (this.primary)
      throw new KubeloopError(
        'ERR_MANAGER_REGISTRATION',
        `for() was already called with ${this.primary.resource.kind}`,
      );
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
    this.watched.push({
      resource,
      handler,
      predicates: options.predicates ?? [],
      metadataOnly: options.metadataOnly ?? false,
    });
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
  withIndex<T extends KubeObject>(
    resource: ResourceDescriptor<T>,
    field: string,
    extract: (obj: DeepReadonly<T>) => string[],
  ): this {
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
   * How the controller runs ({@link ControllerOptions}; each field's default is in its doc). Fields left undefined
   * keep what an earlier call set.
   */
  withOptions(options: ControllerOptions): this {
    this.options = { ...this.options, ...pickControllerOptions(options) };
    return this;
  }

  /** Builds the controller and hands it to the manager, which starts it with the others. */
  complete(reconciler: Reconcile): void {
    this.register(reconciler);
  }

  /**
   * As {@link complete}, and returns the controller (controller-runtime's `Build`), to add sources to it later, even
   * while it runs: `(await …).watch(source)`.
   */
  build(reconciler: Reconcile): ControllerHandle {
    const name = this.register(reconciler);
    const handle = this.registry.getController?.(name);
    if (!handle)
      throw new KubeloopError(
        'ERR_MANAGER_REGISTRATION',
        `controller ${name} was registered, but this registry does not hand controllers out (no getController)`,
      );
    return handle;
  }

  private register(reconciler: Reconcile): string {
    if (!this.primary)
      throw new KubeloopError('ERR_MANAGER_REGISTRATION', 'a controller needs for(resource) before complete()');
    if (typeof reconciler?.reconcile !== 'function')
      throw new ArgumentError('complete() needs an object with a reconcile() method');
    const primary = this.primary.resource;
    const sources: ControllerSource[] = [
      {
        resource: primary,
        handler: enqueueRequestForObject(),
        predicates: [...this.filters, ...this.primary.predicates],
      },
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
    const name = this.controllerName ?? primary.kind.toLowerCase();
    this.registry.addController(
      {
        name,
        forResource: primary,
        sources,
        ...(this.rawSources.length > 0 && { rawSources: [...this.rawSources] }),
        maxConcurrentReconciles: 1,
        ...this.options,
        ...(this.indexes.length > 0 && { indexes: [...this.indexes] }),
      },
      reconciler,
    );
    return name;
  }
}

/** Starts building a controller for a manager. */
export function controllerFor(manager: ControllerRegistry): ControllerBuilder {
  return new ControllerBuilder(manager);
}
