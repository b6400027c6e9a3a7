import {
  ApiError,
  KubeloopError,
  formatGroupVersion,
  type KubeObject,
  type ResourceDescriptor,
  type RestConfig,
} from '../client/index.js';
import {
  createSharedInformerFactory,
  parseLabelSelector,
  type DeepReadonly,
  type FactoryInformerHealth,
  type SharedIndexInformer,
  type SharedInformerFactory,
} from '../cache/index.js';
import type { InformerSource } from './controller.js';
import type { CacheView } from './read-your-writes.js';

/** Which objects the manager's cache holds. */
export interface CacheOptions {
  /** Cache only these namespaces (one informer per namespace and resource). Default: every namespace. */
  namespaces?: string[];
  /** Per-resource label and field selectors: objects outside them are invisible to cached reads and to controllers. */
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
   * it keeps the cache, and the RBAC it needs, to what was declared. Default: false.
   */
  readerFailOnMissingInformer?: boolean;
}

/** Where informers report list and watch failures (403, unreachable server): the manager's logger. */
export interface CacheLog {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

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

/**
 * The manager's shared informer cache: one informer per resource (per namespace when scoped), created on first use,
 * shared by every controller and every cached read. Field indexes (`indexField`) make `matchingFields` lookups cheap.
 */
export class ManagerCache implements InformerSource {
  private readonly factories: { namespace: string; factory: SharedInformerFactory }[];
  private readonly fieldIndexes = new Map<string, Map<string, FieldExtractor>>();
  private readonly selectors = new Map<string, { labelSelector?: string; fieldSelector?: string }>();
  private signal: AbortSignal | undefined;
  /** Resources with informers, by resourceId. */
  private readonly known = new Set<string>();

  constructor(config: RestConfig, private readonly options: CacheOptions = {}, log?: CacheLog) {
    const namespaces = options.namespaces?.length ? options.namespaces : [''];
    this.factories = namespaces.map((namespace) => ({
      namespace,
      factory: createSharedInformerFactory(options.config ?? config, {
        namespace,
        ...(options.resyncPeriodMs !== undefined && { resyncPeriodMs: options.resyncPeriodMs }),
        ...(log && { informerOptions: { logger: log } }),
      }),
    }));
    for (const entry of options.byResource ?? []) {
      this.selectors.set(resourceId(entry.resource), {
        ...(entry.labelSelector && { labelSelector: entry.labelSelector }),
        ...(entry.fieldSelector && { fieldSelector: entry.fieldSelector }),
      });
    }
  }

  /** The informers of a resource (one per cached namespace; one for cluster-scoped resources), made on first use. */
  informers(resource: ResourceDescriptor): SharedIndexInformer<KubeObject>[] {
    const factories = resource.namespaced ? this.factories : this.factories.slice(0, 1);
    const scope = this.selectors.get(resourceId(resource)) ?? {};
    this.known.add(resourceId(resource));
    return factories.map(({ factory }) => {
      const { informer } = factory.forResource(resource, scope);
      const indexes = this.fieldIndexes.get(resourceId(resource));
      if (indexes) this.applyIndexes(informer, indexes);
      return informer;
    });
  }

  /**
   * Indexes a resource by a field for `client.list(res, { matchingFields: { [field]: value } })`:
   * `mgr.cache.indexField(Pod, 'spec.nodeName', (p) => [p.spec?.nodeName ?? ''])`. Register before the manager
   * starts, or at least before lists that use it.
   */
  indexField<T extends KubeObject>(resource: ResourceDescriptor<T>, field: string, extract: (obj: DeepReadonly<T>) => string[]): void {
    const id = resourceId(resource);
    let indexes = this.fieldIndexes.get(id);
    if (!indexes) {
      indexes = new Map();
      this.fieldIndexes.set(id, indexes);
    }
    if (indexes.has(field)) throw new Error(`field index ${field} of ${id} is already registered`);
    indexes.set(field, extract as FieldExtractor);
    for (const informer of this.informers(resource)) this.applyIndexes(informer, new Map([[field, extract as FieldExtractor]]));
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

  start(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    return Promise.all(this.factories.map(({ factory }) => factory.start(signal))).then(() => undefined);
  }

  async waitForCacheSync(signal?: AbortSignal): Promise<boolean> {
    const results = await Promise.all(this.factories.map(({ factory }) => factory.waitForCacheSync(signal)));
    return results.every(Boolean);
  }

  health(): FactoryInformerHealth[] {
    return this.factories.flatMap(({ factory }) => factory.health());
  }

  private async synced(resource: ResourceDescriptor, signal?: AbortSignal): Promise<SharedIndexInformer<KubeObject>[]> {
    if (!this.signal) {
      throw new Error(
        `the cache is not started: cached reads of ${resourceId(resource)} work once the manager runs (or read with { uncached: true })`,
      );
    }
    if (this.options.readerFailOnMissingInformer && !this.known.has(resourceId(resource))) {
      throw new KubeloopError(
        'ERR_CACHE_MISSING_INFORMER',
        `no informer caches ${resourceId(resource)} and readerFailOnMissingInformer is set: watch it with a controller ` +
          `(for, owns, watches), call mgr.cache.informers() before start, or read with { uncached: true }`,
      );
    }
    const informers = this.informers(resource);
    const combined = signal ? AbortSignal.any([signal, this.signal]) : this.signal;
    const ok = await Promise.all(informers.map((i) => i.waitForSync(combined)));
    if (!ok.every(Boolean)) throw combined.reason ?? new Error(`the cache of ${resourceId(resource)} did not sync`);
    return informers;
  }

  /**
   * What the informers of a resource hold, once synced, for reads of one's own writes: the informer that holds
   * `namespace` (every informer of the resource for `''`).
   */
  async views(resource: ResourceDescriptor, namespace: string, signal?: AbortSignal): Promise<CacheView[]> {
    // A stopping manager ends the waits of reads in flight.
    if (this.signal?.aborted) throw this.signal.reason;
    const informers = await this.synced(resource, signal);
    const scoped = resource.namespaced && namespace
      ? informers.filter((_, i) => this.factories[i]!.namespace === '' || this.factories[i]!.namespace === namespace)
      : informers;
    return scoped.map((informer) => ({
      get: (key: string) => informer.getIndexer().getByKey(key),
      resourceVersion: () => informer.lastSyncResourceVersion(),
    }));
  }

  /** A cached object by key: the frozen, shared object itself. Throws a NotFound ApiError when absent. */
  async get(resource: ResourceDescriptor, namespace: string, name: string, signal?: AbortSignal): Promise<DeepReadonly<KubeObject>> {
    const informers = await this.synced(resource, signal);
    const key = resource.namespaced && namespace ? `${namespace}/${name}` : name;
    for (const informer of informers) {
      const obj = informer.getIndexer().getByKey(key);
      if (obj) return obj;
    }
    throw notFound(resource, name);
  }

  /** Cached objects that match: the frozen, shared objects themselves. */
  async list(
    resource: ResourceDescriptor,
    options: { namespace?: string; labelSelector?: string; matchingFields?: Record<string, string>; signal?: AbortSignal },
  ): Promise<CachedList> {
    const informers = await this.synced(resource, options.signal);
    const selector = options.labelSelector ? parseLabelSelector(options.labelSelector) : undefined;
    const fields = Object.entries(options.matchingFields ?? {});
    const items: DeepReadonly<KubeObject>[] = [];
    let resourceVersion = '';
    for (const informer of informers) {
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
      apiVersion: formatGroupVersion(resource),
      kind: `${resource.kind}List`,
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
