import {
  ArgumentError,
  type KubeObject,
  type PartialObjectMetadata,
  type ResourceDescriptor,
  type Unstructured,
} from '../client/index.js';
import { createLister, type Lister } from './lister.js';
import {
  configOf,
  factoryOf,
  listWatchFor,
  metadataListWatchFor,
  resolveResource,
  type GroupVersionResourceRef,
  type InformerSource,
  type ResolvedResource,
  type ResourceFactoryLike,
  type ResourceRef,
} from './list-watch.js';
import { SharedIndexInformer, type SharedIndexInformerOptions } from './shared-informer.js';
import type { InformerHealth, ListerWatcher } from './types.js';

/** Which objects an informer of the factory watches. */
export interface InformerScope {
  /** Watch one namespace; `''` or unset: all. Ignored for cluster-scoped resources. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Cache `PartialObjectMetadata` (metadata only) instead of whole objects. Needs a RestConfig behind the factory's
   * source (see {@link createSharedInformerFactory}). Default: false.
   */
  metadataOnly?: boolean;
}

export interface SharedInformerFactoryOptions extends InformerScope {
  /** Default resync period of every informer's handlers; 0: none. Default: 0. */
  resyncPeriodMs?: number;
  /**
   * Options for every informer the factory makes (initial-list strategy, page size, inactivity timeout, backoff,
   * transform, logger, freeze).
   */
  informerOptions?: Omit<
    SharedIndexInformerOptions<KubeObject>,
    'labelSelector' | 'fieldSelector' | 'resyncPeriodMs' | 'indexers'
  >;
}

/** An informer and a lister over its cache. */
export interface InformerAndLister<T extends KubeObject> {
  informer: SharedIndexInformer<T>;
  lister: Lister<T>;
}

/** One informer of a factory, for health reports. */
export interface FactoryInformerHealth extends InformerHealth {
  /** `group/version/plural` (`v1/configmaps` for the core group). */
  resource: string;
  namespace: string;
  labelSelector: string;
  fieldSelector: string;
  metadataOnly: boolean;
}

interface Entry {
  resource: ResolvedResource;
  scope: Required<InformerScope>;
  informer: SharedIndexInformer<KubeObject>;
  lister: Lister<KubeObject>;
  done: Promise<void> | undefined;
  /** Stops this informer alone (see {@link SharedInformerFactory.stopInformer}). */
  stop: AbortController;
}

/**
 * Hands out one shared informer per (resource, namespace, label selector, field selector, metadata-only) and starts
 * them together: client-go's SharedInformerFactory.
 *
 * Guarantees: asking twice for the same thing returns the same informer (and one watch). Informers asked for after
 * `start` are started at once with the signal of the first `start`. An informer stopped with `stopInformer` is
 * forgotten: asking for it again makes a fresh one (a new list and watch, handlers to add again).
 *
 * Recovery: an informer of a resource the API server does not serve (a CRD not installed yet, or deleted) waits for it
 * and relists when it is back; `health()` shows it as `waitingForResource` meanwhile, and `waitForCacheSync` waits for
 * it like any informer that has not synced.
 *
 * Errors: `forResource` with `metadataOnly` throws an `ArgumentError` (`ERR_KUBE_INVALID_ARGUMENT`, a `TypeError`) when
 * the factory was given no RestConfig (see {@link createSharedInformerFactory}).
 */
export interface SharedInformerFactory {
  /** The informer and lister of a resource, typed by its descriptor; a GVR gives `Unstructured` objects. */
  forResource<T extends KubeObject>(
    resource: ResourceDescriptor<T>,
    scope?: InformerScope & { metadataOnly?: false },
  ): InformerAndLister<T>;
  forResource(
    resource: ResourceRef,
    scope: InformerScope & { metadataOnly: true },
  ): InformerAndLister<PartialObjectMetadata>;
  forResource(resource: GroupVersionResourceRef, scope?: InformerScope): InformerAndLister<Unstructured>;
  /**
   * Starts every informer asked for so far, and any asked for later, in the background. Returns at once; the promise
   * resolves once `signal` has aborted and every informer has stopped. Never rejects.
   */
  start(signal: AbortSignal): Promise<void>;
  /** Resolves true once every informer asked for so far has synced; false when `signal` aborts first. */
  waitForCacheSync(signal?: AbortSignal): Promise<boolean>;
  /** Health of every informer, for `/readyz` and metrics. */
  health(): FactoryInformerHealth[];
  /**
   * Stops the informer of a resource and scope (the same arguments `forResource` took) and forgets it: its watch ends,
   * its handlers hear nothing more, and it leaves `health()`. A later `forResource` makes a fresh one. Resolves true
   * once it stopped (its handlers' calls in progress settled), false when the factory has no such informer.
   */
  stopInformer(resource: ResourceRef, scope?: InformerScope): Promise<boolean>;
}

/** The same factory when `metadataOnly: true` is its default: every informer holds `PartialObjectMetadata`. */
export interface MetadataInformerFactory extends Omit<SharedInformerFactory, 'forResource'> {
  forResource(resource: ResourceRef, scope?: InformerScope): InformerAndLister<PartialObjectMetadata>;
}

function abortPromise(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

class Factory implements SharedInformerFactory {
  private readonly entries = new Map<string, Entry>();
  /** Informers stopped alone and still stopping: `start` waits for them too. */
  private readonly stopping = new Set<Promise<void>>();
  private readonly factory: ResourceFactoryLike;
  private signal: AbortSignal | undefined;

  constructor(
    private readonly source: InformerSource,
    private readonly options: SharedInformerFactoryOptions,
  ) {
    this.factory = factoryOf(source);
  }

  private keyOf(
    resource: ResourceRef,
    scope: InformerScope,
  ): { res: ResolvedResource; full: Required<InformerScope>; key: string } {
    const res = resolveResource(resource);
    const full: Required<InformerScope> = {
      namespace: res.namespaced ? (scope.namespace ?? this.options.namespace ?? '') : '',
      labelSelector: scope.labelSelector ?? this.options.labelSelector ?? '',
      fieldSelector: scope.fieldSelector ?? this.options.fieldSelector ?? '',
      metadataOnly: scope.metadataOnly ?? this.options.metadataOnly ?? false,
    };
    const key = JSON.stringify([
      res.group,
      res.version,
      res.plural,
      full.namespace,
      full.labelSelector,
      full.fieldSelector,
      full.metadataOnly,
    ]);
    return { res, full, key };
  }

  forResource<T extends KubeObject>(resource: ResourceRef<T>, scope: InformerScope = {}): InformerAndLister<T> {
    const { res, full, key } = this.keyOf(resource as ResourceRef, scope);
    let entry = this.entries.get(key);
    if (!entry) {
      let lw: ListerWatcher<KubeObject>;
      if (full.metadataOnly) {
        const config = configOf(this.source);
        if (!config) {
          throw new ArgumentError(
            'a metadata-only informer needs a RestConfig: pass createSharedInformerFactory a RestConfig, or a Clientset, DynamicClient or factory made from one',
          );
        }
        lw = metadataListWatchFor(config, res, full.namespace);
      } else {
        lw = listWatchFor(this.factory, res, full.namespace);
      }
      const informer = new SharedIndexInformer<KubeObject>(lw, {
        ...this.options.informerOptions,
        name: this.options.informerOptions?.name ?? formatResource(res),
        ...(full.labelSelector && { labelSelector: full.labelSelector }),
        ...(full.fieldSelector && { fieldSelector: full.fieldSelector }),
        ...(this.options.resyncPeriodMs !== undefined && { resyncPeriodMs: this.options.resyncPeriodMs }),
      });
      entry = {
        resource: res,
        scope: full,
        informer,
        lister: createLister<KubeObject>(informer.getIndexer()),
        done: undefined,
        stop: new AbortController(),
      };
      this.entries.set(key, entry);
      if (this.signal && !this.signal.aborted) this.run(entry, this.signal);
    }
    return { informer: entry.informer, lister: entry.lister } as unknown as InformerAndLister<T>;
  }

  private run(entry: Entry, signal: AbortSignal): void {
    if (entry.informer.isStarted) return;
    entry.done = entry.informer.start(AbortSignal.any([signal, entry.stop.signal]));
  }

  async stopInformer(resource: ResourceRef, scope: InformerScope = {}): Promise<boolean> {
    const { key } = this.keyOf(resource, scope);
    const entry = this.entries.get(key);
    if (!entry) return false;
    this.entries.delete(key);
    entry.stop.abort();
    if (entry.done) {
      const done = entry.done;
      this.stopping.add(done);
      try {
        await done;
      } finally {
        this.stopping.delete(done);
      }
    }
    return true;
  }

  async start(signal: AbortSignal): Promise<void> {
    this.signal ??= signal;
    for (const entry of this.entries.values()) this.run(entry, signal);
    await abortPromise(signal);
    await Promise.all([...[...this.entries.values()].map((e) => e.done), ...this.stopping]);
  }

  async waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    const results = await Promise.all([...this.entries.values()].map((e) => e.informer.waitForSync(signal)));
    return results.every(Boolean);
  }

  health(): FactoryInformerHealth[] {
    return [...this.entries.values()].map((e) => ({
      ...e.informer.health(),
      resource: formatResource(e.resource),
      namespace: e.scope.namespace,
      labelSelector: e.scope.labelSelector,
      fieldSelector: e.scope.fieldSelector,
      metadataOnly: e.scope.metadataOnly,
    }));
  }
}

function formatResource(r: ResolvedResource): string {
  return `${r.group ? `${r.group}/` : ''}${r.version}/${r.plural}`;
}

/**
 * Makes a {@link SharedInformerFactory}: client-go's `NewSharedInformerFactory(clientset, resync)` (or
 * `NewSharedInformerFactoryWithOptions` with `namespace`).
 *
 * `source` is a Clientset (`createClientset(config)`, or a fake client's `clientset`), a RestConfig, a resource-client
 * factory (`createResourceClientFactory(config)`, a fake client's `factory`, or anything with a `resource(descriptor)`
 * method that returns a namespaceable resource client), or a DynamicClient. Every informer lists and watches through
 * it, so a fake client's views give informers over the fake's objects. Metadata-only informers need a RestConfig: one
 * passed directly, the one behind a Clientset, DynamicClient or factory made from a config, or a factory object's
 * `config` property.
 *
 * Errors: throws {@link InformerSourceError} (`ERR_KUBE_INFORMER_SOURCE`) at once when `source` is none of these.
 *
 * ```ts
 * const factory = createSharedInformerFactory(createClientset(config), { namespace: 'ns' });
 * const { informer, lister } = factory.forResource(ConfigMap);
 * informer.addEventHandler({ onAdd: (cm) => queue.add(objectKey(cm)) });
 * void factory.start(signal);
 * await factory.waitForCacheSync(signal);
 * ```
 */
export function createSharedInformerFactory(
  source: InformerSource,
  options: SharedInformerFactoryOptions & { metadataOnly: true },
): MetadataInformerFactory;
export function createSharedInformerFactory(
  source: InformerSource,
  options?: SharedInformerFactoryOptions,
): SharedInformerFactory;
export function createSharedInformerFactory(
  source: InformerSource,
  options: SharedInformerFactoryOptions = {},
): SharedInformerFactory | MetadataInformerFactory {
  return new Factory(source, options);
}
