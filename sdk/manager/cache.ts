import {
  ApiError,
  InvalidSelectorError,
  KubeloopError,
  fieldSelectorFromSet,
  formatGroupVersion,
  objectKey,
  parseFieldSelector,
  type KubeObject,
  type ResourceDescriptor,
  type RestConfig,
} from '../client/index.js';
import {
  createSharedInformerFactory,
  parseLabelSelector,
  type BackoffOptions,
  type CacheLogger,
  type DeepReadonly,
  type FactoryInformerHealth,
  type SharedIndexInformer,
  type SharedInformerFactory,
} from '../cache/index.js';
import type { InformerProvider } from './controller.js';
import { isMetadataOnly, plainDescriptor } from './metadata-only.js';
import type { CacheView } from './read-your-writes.js';

/**
 * How the manager's cache holds one resource, overriding the cache-wide defaults (controller-runtime's
 * `cache.Options.ByObject`): `{ resource: Secret, labelSelector: 'owner=me', metadataOnly: true }`.
 */
export interface ByObjectOptions {
  resource: ResourceDescriptor;
  /** Cache this resource in these namespaces instead of the cache's `namespaces`. Default: the cache's. Ignored for cluster-scoped resources. */
  namespaces?: string[];
  /** Objects outside it are invisible to cached reads and to controllers. Default: none. */
  labelSelector?: string;
  /** Sent to the API server with the list and watch (`metadata.name=x`, `type=kubernetes.io/tls`). Default: none. */
  fieldSelector?: string;
  /**
   * Changes each object before it is stored (drop fields to save memory). It replaces the default transform,
   * `stripManagedFields` from kubeloop/cache: call it in yours to keep both. It gets what the informer lists:
   * `PartialObjectMetadata` when `metadataOnly`. Default: `stripManagedFields`.
   */
  transform?: (obj: KubeObject) => KubeObject;
  /**
   * Cache only the metadata (`PartialObjectMetadata`, listed and watched with the API server's metadata encoding): every
   * informer of this resource, for controllers and for reads, holds metadata only. Cached reads of it must then ask for
   * metadata (`client.get(metadataOnly(Secret), key)`, which returns `PartialObjectMetadata`); a read of whole objects
   * throws `ERR_CACHE_METADATA_ONLY` instead of caching them after all. Default: false.
   */
  metadataOnly?: boolean;
  /**
   * Cached reads of this resource through the manager's Client hand out the cached object itself (frozen, shared)
   * instead of a copy, unless a read says otherwise with its own `unsafeDisableDeepCopy`. Default: false (copies).
   */
  unsafeDisableDeepCopy?: boolean;
}

/** Which objects the manager's cache holds. */
export interface CacheOptions {
  /** Cache only these namespaces (one informer per namespace and resource). Default: every namespace. */
  namespaces?: string[];
  /**
   * Per-resource overrides: namespaces, selectors, transform, metadata-only, deep copies. One entry per resource
   * (a second one throws `ERR_CACHE_OPTIONS`). Default: none.
   */
  byObject?: ByObjectOptions[];
  /**
   * Per-resource label and field selectors.
   * @deprecated Use `byObject`, which says the same (`{ resource, labelSelector, fieldSelector }`) and more; entries
   * here are read as `byObject` entries.
   */
  byResource?: { resource: ResourceDescriptor; labelSelector?: string; fieldSelector?: string }[];
  /** Resync period of informer handlers. Default: 0 (none; controllers requeue themselves). */
  resyncPeriodMs?: number;
  /**
   * The RestConfig the informers list and watch with, when it is not the manager's: another user or rate limit for
   * watches, or (in fault tests) a path through a proxy that slows them. Default: the manager's `config`.
   */
  config?: RestConfig;
  /**
   * A cached read of a resource no controller, index or earlier read asked the cache for throws
   * `ERR_CACHE_MISSING_INFORMER` instead of starting an informer for it (controller-runtime's ReaderFailOnMissingInformer):
   * it keeps the cache, and the RBAC it needs, to what was declared. Metadata-only informers count apart: a controller
   * that `owns` a resource with `metadataOnly` does not make whole-object reads of it allowed. Default: false.
   */
  readerFailOnMissingInformer?: boolean;
  /**
   * Delays between failed list or watch attempts of every informer, which are also the retries of an informer whose
   * resource is not served (a CRD not installed yet). Default: 800 ms doubling to 30 s, jitter 1.0 (client-go's).
   */
  backoff?: BackoffOptions;
}

/** Which informers a cached read or a controller's watch uses. */
export interface InformerLookup {
  /**
   * The metadata-only informers of the resource (`PartialObjectMetadata`), as a descriptor made by `metadataOnly()`
   * asks for. Default: false (whole objects).
   */
  metadataOnly?: boolean;
}

/** How many objects one informer of the cache holds: `kubeloop_informer_objects`. */
export interface InformerObjectCount {
  /** `group/version/plural` (`v1/configmaps` for the core group). */
  resource: string;
  namespace: string;
  metadataOnly: boolean;
  objects: number;
}

/** Where informers report list and watch failures (403, unreachable server): the manager's logger. */
export type CacheLog = CacheLogger;

const fieldIndexPrefix = 'field:';

/**
 * A cached list by a field nobody indexed (`matchingFields` other than `metadata.name` and `metadata.namespace`):
 * code `ERR_CACHE_MISSING_INDEX`. The fake client of kubeloop/testing throws the same.
 */
export function missingIndexError(resource: string, field: string): KubeloopError {
  return new KubeloopError(
    'ERR_CACHE_MISSING_INDEX',
    `no field index "${field}" for ${resource}: declare it with @Reconciler({ indexes }), the builder's withIndex(), ` +
      `or mgr.cache.indexField() (or list with { uncached: true } to send it as a field selector)`,
  );
}

/**
 * The exact field matches a cached list needs: `matchingFields` plus the terms of a `fieldSelector`, which the cache
 * answers as controller-runtime's does (each `field=value` term like a `matchingFields` entry; `!=` refused, as
 * "non-exact field matches are not supported by the cache"). Undefined when there are none.
 *
 * Errors: InvalidSelectorError for a selector that does not parse, holds a `!=` term, or requires one field to equal
 * two values.
 */
export function cachedFieldMatches(
  fieldSelector: string | undefined,
  matchingFields: Readonly<Record<string, string>> | undefined,
): Record<string, string> | undefined {
  const out: Record<string, string> = { ...matchingFields };
  for (const r of parseFieldSelector(fieldSelector ?? '').requirements()) {
    const fail = (problem: string): never => {
      throw new InvalidSelectorError(
        fieldSelector ?? '',
        `${problem} (list with { uncached: true } to send it to the API server)`,
        'field',
      );
    };
    if (r.operator !== '=') fail(`non-exact field matches (${r.field}!=…) are not supported by the cache`);
    if (Object.hasOwn(out, r.field) && out[r.field] !== r.value)
      fail(`${r.field} cannot equal both ${JSON.stringify(out[r.field])} and ${JSON.stringify(r.value)}`);
    out[r.field] = r.value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The field selector an uncached list sends: `fieldSelector` and `matchingFields` (values escaped), joined. */
export function uncachedFieldSelector(
  fieldSelector: string | undefined,
  matchingFields: Readonly<Record<string, string>> | undefined,
): string {
  return [fieldSelector, fieldSelectorFromSet(matchingFields ?? {}).toString()].filter(Boolean).join(',');
}

/** A list answered from the cache: the shared, read-only objects. */
export interface CachedList {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string };
  items: DeepReadonly<KubeObject>[];
}
type FieldExtractor = (obj: DeepReadonly<KubeObject>) => string[];

function resourceId(r: ResourceDescriptor): string {
  return `${formatGroupVersion(r)}/${r.plural}`;
}

function knownId(id: string, metadataOnly: boolean): string {
  return metadataOnly ? `${id}#metadata` : id;
}

function notFound(resource: ResourceDescriptor, name: string): ApiError {
  const group = resource.group ? `.${resource.group}` : '';
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason: 'NotFound',
    code: 404,
    message: `${resource.plural}${group} "${name}" not found`,
    details: { name, group: resource.group, kind: resource.plural },
  });
  return ApiError.fromResponse(404, body);
}

/** An informer of the cache with what it was made for. */
interface CachedInformer {
  resource: string;
  namespace: string;
  metadataOnly: boolean;
  informer: SharedIndexInformer<KubeObject>;
}

/**
 * The manager's shared informer cache: one informer per resource (per namespace when scoped; a second, metadata-only
 * one when asked for), created on first use, shared by every controller and every cached read. Field indexes
 * (`indexField`) make `matchingFields` lookups cheap; `byObject` sets namespaces, selectors, a transform,
 * metadata-only caching and deep copies per resource.
 *
 * Informers can be asked for at any time, also after the manager started (`informers(resource)` starts them at once):
 * that is how a watch is added at run time. `removeInformer` stops one that nothing needs any more.
 *
 * Recovery: an informer of a custom resource whose CRD is not installed (or is deleted while watched) does not fail:
 * it waits for the resource (`waitingForResource` in `health()`, the `kubeloop_informer_waiting_for_resource` gauge),
 * retries per `backoff`, and relists once the CRD is served again, so handlers hear of every object it has then.
 * Cached reads of it wait for that first list, bounded by their signal. A waiting informer does not fail the manager's
 * `/readyz` (see the manager's `informers` check), and a controller of it waits without its cache-sync timeout.
 *
 * Errors: the constructor throws `ERR_CACHE_OPTIONS` for two `byObject` (or `byResource`) entries of one resource.
 */
export class ManagerCache implements InformerProvider {
  /** Factories by namespace, and by `byObject` entry for resources that have one. */
  private readonly factories = new Map<string, SharedInformerFactory>();
  private readonly fieldIndexes = new Map<string, Map<string, FieldExtractor>>();
  private readonly byObject = new Map<string, ByObjectOptions>();
  private readonly cached = new Map<string, CachedInformer>();
  private signal: AbortSignal | undefined;
  private readonly running: Promise<void>[] = [];
  /** Informers asked for, by resourceId (with `#metadata` for metadata-only ones). */
  private readonly known = new Set<string>();

  constructor(
    private readonly config: RestConfig,
    private readonly options: CacheOptions = {},
    private readonly log?: CacheLog,
  ) {
    for (const entry of [...(options.byResource ?? []), ...(options.byObject ?? [])]) {
      const id = resourceId(entry.resource);
      if (this.byObject.has(id)) {
        throw new KubeloopError(
          'ERR_CACHE_OPTIONS',
          `cache.byObject has two entries for ${id} (byResource counts too): merge them into one`,
        );
      }
      this.byObject.set(id, entry);
    }
    // The cache-wide factories exist from the start, so health() lists them before anything was asked for.
    for (const namespace of this.defaultNamespaces()) this.factoryFor(namespace, undefined);
  }

  private defaultNamespaces(): string[] {
    return this.options.namespaces?.length ? this.options.namespaces : [''];
  }

  /** The namespaces a resource is cached in: its `byObject` entry's, else the cache's; `['']` for cluster-scoped ones. */
  namespacesOf(resource: ResourceDescriptor): string[] {
    if (!resource.namespaced) return [''];
    const own = this.byObject.get(resourceId(resource))?.namespaces;
    return own?.length ? own : this.defaultNamespaces();
  }

  /** The `byObject` entry of a resource, if any. */
  byObjectOf(resource: ResourceDescriptor): Readonly<ByObjectOptions> | undefined {
    return this.byObject.get(resourceId(resource));
  }

  /** A factory per namespace for resources without a transform of their own; one per namespace and entry otherwise. */
  private factoryFor(namespace: string, entry: ByObjectOptions | undefined): SharedInformerFactory {
    const own = entry?.transform !== undefined;
    const key = own ? `${namespace}|${resourceId(entry.resource)}` : namespace;
    let factory = this.factories.get(key);
    if (!factory) {
      const informerOptions = {
        ...(this.log && { logger: this.log }),
        ...(this.options.backoff && { backoff: this.options.backoff }),
        ...(own && { transform: entry.transform }),
      };
      factory = createSharedInformerFactory(this.options.config ?? this.config, {
        namespace,
        ...(this.options.resyncPeriodMs !== undefined && { resyncPeriodMs: this.options.resyncPeriodMs }),
        ...(Object.keys(informerOptions).length > 0 && { informerOptions }),
      });
      this.factories.set(key, factory);
      if (this.signal) this.running.push(factory.start(this.signal));
    }
    return factory;
  }

  /**
   * The informers of a resource (one per cached namespace; one for cluster-scoped resources), made on first use.
   * With `metadataOnly` (or a `byObject` entry that says so), the metadata-only ones, holding `PartialObjectMetadata`.
   */
  informers(resource: ResourceDescriptor, lookup: InformerLookup = {}): SharedIndexInformer<KubeObject>[] {
    return this.scoped(resource, lookup).map((c) => c.informer);
  }

  /** What the informers of a resource are made for: its `byObject` entry, metadata-only or not, the factory scope. */
  private informerSpec(resource: ResourceDescriptor, lookup: InformerLookup) {
    const id = resourceId(resource);
    const entry = this.byObject.get(id);
    const metadataOnly = Boolean(lookup.metadataOnly || isMetadataOnly(resource) || entry?.metadataOnly);
    const scope = {
      ...(entry?.labelSelector && { labelSelector: entry.labelSelector }),
      ...(entry?.fieldSelector && { fieldSelector: entry.fieldSelector }),
      metadataOnly,
    };
    return { id, entry, metadataOnly, plain: plainDescriptor(resource), scope };
  }

  private scoped(resource: ResourceDescriptor, lookup: InformerLookup): CachedInformer[] {
    const { id, entry, metadataOnly, plain, scope } = this.informerSpec(resource, lookup);
    this.known.add(knownId(id, metadataOnly));
    return this.namespacesOf(resource).map((namespace) => {
      const key = `${id}|${namespace}|${metadataOnly}`;
      let cached = this.cached.get(key);
      if (!cached) {
        const { informer } = this.factoryFor(namespace, entry).forResource(
          plain as ResourceDescriptor<KubeObject>,
          scope as { metadataOnly?: false },
        );
        cached = { resource: id, namespace, metadataOnly, informer };
        this.cached.set(key, cached);
      }
      // Index functions are written for whole objects: metadata-only informers get them only when the resource is
      // cached as metadata alone.
      const indexes = this.fieldIndexes.get(id);
      if (indexes && (!metadataOnly || entry?.metadataOnly)) this.applyIndexes(cached.informer, indexes);
      return cached;
    });
  }

  /**
   * Stops the informers of a resource (one per cached namespace) and forgets them, as controller-runtime's
   * `cache.RemoveInformer`: their watches end, they leave `health()` and the informer metrics, and the next cached read,
   * `informers()` call or index of the resource makes fresh ones (a new list). With `readerFailOnMissingInformer`, reads
   * of it throw again until something asks for it. `lookup.metadataOnly` picks the metadata-only informers.
   *
   * Caveats: a controller that watches the resource stops hearing of it: remove only what no controller needs. Resolves
   * true once they stopped (handler calls in progress settled), false when the cache had none.
   */
  async removeInformer(resource: ResourceDescriptor, lookup: InformerLookup = {}): Promise<boolean> {
    const { id, entry, metadataOnly, plain, scope } = this.informerSpec(resource, lookup);
    this.known.delete(knownId(id, metadataOnly));
    const stopped = await Promise.all(
      this.namespacesOf(resource).map(async (namespace) => {
        const key = `${id}|${namespace}|${metadataOnly}`;
        if (!this.cached.delete(key)) return false;
        return this.factoryFor(namespace, entry).stopInformer(plain, { ...scope, namespace });
      }),
    );
    return stopped.some(Boolean);
  }

  /**
   * Indexes a resource by a field for `client.list(res, { matchingFields: { [field]: value } })`:
   * `mgr.cache.indexField(Pod, 'spec.nodeName', (p) => [p.spec?.nodeName ?? ''])`. Register before the manager
   * starts, or at least before lists that use it.
   */
  indexField<T extends KubeObject>(
    resource: ResourceDescriptor<T>,
    field: string,
    extract: (obj: DeepReadonly<T>) => string[],
  ): void {
    const id = resourceId(resource);
    let indexes = this.fieldIndexes.get(id);
    if (!indexes) {
      indexes = new Map();
      this.fieldIndexes.set(id, indexes);
    }
    if (indexes.has(field))
      throw new KubeloopError('ERR_CACHE_INDEX_CONFLICT', `field index ${field} of ${id} is already registered`);
    indexes.set(field, extract as FieldExtractor);
    for (const informer of this.informers(resource))
      this.applyIndexes(informer, new Map([[field, extract as FieldExtractor]]));
  }

  /** The extract function of a registered field index, or undefined. */
  fieldIndexOf(resource: ResourceDescriptor, field: string): FieldExtractor | undefined {
    return this.fieldIndexes.get(resourceId(resource))?.get(field);
  }

  private applyIndexes(informer: SharedIndexInformer<KubeObject>, indexes: Map<string, FieldExtractor>): void {
    const toAdd: Record<string, (obj: DeepReadonly<KubeObject>) => string[]> = {};
    for (const [field, extract] of indexes) {
      const name = fieldIndexPrefix + field;
      if (this.hasIndex(informer, name)) continue;
      toAdd[name] = extract;
    }
    if (Object.keys(toAdd).length) informer.addIndexers(toAdd);
  }

  private hasIndex(informer: SharedIndexInformer<KubeObject>, name: string): boolean {
    return Object.hasOwn(informer.getIndexer().getIndexers(), name);
  }

  get started(): boolean {
    return this.signal !== undefined;
  }

  /** Starts every informer, and any asked for later; resolves once `signal` aborted and they all stopped. */
  async start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    for (const factory of this.factories.values()) this.running.push(factory.start(signal));
    await new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.all(this.running);
  }

  async waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    const results = await Promise.all([...this.factories.values()].map((factory) => factory.waitForCacheSync(signal)));
    return results.every(Boolean);
  }

  health(): FactoryInformerHealth[] {
    return [...this.factories.values()].flatMap((factory) => factory.health());
  }

  /** How many objects each informer holds, for the `kubeloop_informer_objects` gauge. */
  objectCounts(): InformerObjectCount[] {
    return [...this.cached.values()].map((c) => ({
      resource: c.resource,
      namespace: c.namespace,
      metadataOnly: c.metadataOnly,
      objects: c.informer.getIndexer().listKeys().length,
    }));
  }

  private async synced(
    resource: ResourceDescriptor,
    lookup: InformerLookup,
    signal?: AbortSignal,
  ): Promise<CachedInformer[]> {
    const id = resourceId(resource);
    if (!this.signal) {
      throw new KubeloopError(
        'ERR_KUBE_NOT_STARTED',
        `the cache is not started: cached reads of ${id} work once the manager runs (or read with { uncached: true })`,
      );
    }
    const entry = this.byObject.get(id);
    const metadataOnly = Boolean(lookup.metadataOnly || isMetadataOnly(resource) || entry?.metadataOnly);
    if (entry?.metadataOnly && !(lookup.metadataOnly || isMetadataOnly(resource))) {
      throw new KubeloopError(
        'ERR_CACHE_METADATA_ONLY',
        `${id} is cached as metadata only (cache.byObject): read metadataOnly(${resource.kind}) (PartialObjectMetadata), ` +
          `or with { uncached: true } for whole objects`,
      );
    }
    if (this.options.readerFailOnMissingInformer && !this.known.has(knownId(id, metadataOnly))) {
      throw new KubeloopError(
        'ERR_CACHE_MISSING_INFORMER',
        `no ${metadataOnly ? 'metadata-only ' : ''}informer caches ${id} and readerFailOnMissingInformer is set: watch it with a controller ` +
          `(for, owns, watches${metadataOnly ? ' with metadataOnly' : ''}), call mgr.cache.informers() before start, or read with { uncached: true }`,
      );
    }
    const informers = this.scoped(resource, lookup);
    // The common case, every read after start-up: no promises, no combined signal.
    if (informers.every((c) => c.informer.hasSynced())) return informers;
    const combined = signal ? AbortSignal.any([signal, this.signal]) : this.signal;
    const ok = await Promise.all(informers.map((c) => c.informer.waitForSync(combined)));
    if (!ok.every(Boolean))
      throw combined.reason ?? new KubeloopError('ERR_CACHE_NOT_SYNCED', `the cache of ${id} did not sync`);
    return informers;
  }

  /**
   * What the informers of a resource hold, once synced, for reads of one's own writes: the informer that holds
   * `namespace` (every informer of the resource for `''`).
   */
  async views(
    resource: ResourceDescriptor,
    namespace: string,
    signal?: AbortSignal,
    lookup: InformerLookup = {},
  ): Promise<CacheView[]> {
    // A stopping manager ends the waits of reads in flight.
    if (this.signal?.aborted) throw this.signal.reason;
    const informers = await this.synced(resource, lookup, signal);
    const scoped =
      resource.namespaced && namespace
        ? informers.filter((c) => c.namespace === '' || c.namespace === namespace)
        : informers;
    return scoped.map(({ informer }) => ({
      get: (key: string) => informer.getIndexer().getByKey(key),
      resourceVersion: () => informer.lastSyncResourceVersion(),
    }));
  }

  /** A cached object by key: the frozen, shared object itself. Throws a NotFound ApiError when absent. */
  async get(
    resource: ResourceDescriptor,
    namespace: string,
    name: string,
    signal?: AbortSignal,
    lookup: InformerLookup = {},
  ): Promise<DeepReadonly<KubeObject>> {
    const informers = await this.synced(resource, lookup, signal);
    const key = objectKey({ ...(resource.namespaced && { namespace }), name });
    for (const { informer } of informers) {
      const obj = informer.getIndexer().getByKey(key);
      if (obj) return obj;
    }
    throw notFound(resource, name);
  }

  /** Cached objects that match: the frozen, shared objects themselves. */
  async list(
    resource: ResourceDescriptor,
    options: InformerLookup & {
      namespace?: string;
      labelSelector?: string;
      matchingFields?: Record<string, string>;
      signal?: AbortSignal;
    },
  ): Promise<CachedList> {
    const informers = await this.synced(resource, { metadataOnly: options.metadataOnly ?? false }, options.signal);
    // synced() let the read through: it is a metadata one whenever the resource is cached as metadata only.
    const metadataOnly = Boolean(
      options.metadataOnly || isMetadataOnly(resource) || this.byObject.get(resourceId(resource))?.metadataOnly,
    );
    const selector = options.labelSelector ? parseLabelSelector(options.labelSelector) : undefined;
    const fields = Object.entries(options.matchingFields ?? {});
    const items: DeepReadonly<KubeObject>[] = [];
    let resourceVersion = '';
    for (const { informer } of informers) {
      const indexer = informer.getIndexer();
      resourceVersion = informer.lastSyncResourceVersion();
      let candidates: DeepReadonly<KubeObject>[];
      const indexed = fields.find(([field]) => this.hasIndex(informer, fieldIndexPrefix + field));
      if (indexed) candidates = indexer.byIndex(fieldIndexPrefix + indexed[0], indexed[1]);
      else if (options.namespace && resource.namespaced) candidates = indexer.byIndex('namespace', options.namespace);
      else candidates = indexer.list();
      for (const obj of candidates) {
        if (options.namespace && resource.namespaced && obj.metadata?.namespace !== options.namespace) continue;
        if (selector && !selector.matches(obj.metadata?.labels ?? {})) continue;
        if (!fields.every(([field, value]) => this.fieldMatches(resource, obj, field, value))) continue;
        items.push(obj);
      }
    }
    return {
      apiVersion: metadataOnly ? 'meta.k8s.io/v1' : formatGroupVersion(resource),
      kind: metadataOnly ? 'PartialObjectMetadataList' : `${resource.kind}List`,
      metadata: { resourceVersion },
      items,
    };
  }

  private fieldMatches(
    resource: ResourceDescriptor,
    obj: DeepReadonly<KubeObject>,
    field: string,
    value: string,
  ): boolean {
    if (field === 'metadata.name') return obj.metadata?.name === value;
    if (field === 'metadata.namespace') return (obj.metadata?.namespace ?? '') === value;
    const extract = this.fieldIndexes.get(resourceId(resource))?.get(field);
    if (!extract) {
      throw missingIndexError(resourceId(resource), field);
    }
    return extract(obj).includes(value);
  }
}
