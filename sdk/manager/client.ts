import {
  ArgumentError,
  builtinResources,
  createResourceClientFactory,
  parseGroupVersion,
  type ApplyConfiguration,
  type DeleteCollectionOptions,
  type DeleteOptions,
  type KubeList,
  type KubeObject,
  type NamespaceableResourceInterface,
  type RequestOptions,
  type ResourceClientFactory,
  type ResourceDescriptor,
  type RESTMapper,
  type RestConfig,
  type WriteOptions,
} from '../client/index.js';
import { cachedFieldMatches, uncachedFieldSelector, type ManagerCache } from './cache.js';
import type { ReadYourWrites } from './read-your-writes.js';
import type { Client, ClientGetOptions, ClientListOptions, ClientPatchOptions, StatusWriter } from './client-types.js';
import { isMetadataOnly, plainDescriptor, toPartialObjectMetadata, withResourceKind } from './metadata-only.js';
import { deepCopy } from './internal/deep-copy.js';

const gvkKey = (group: string, version: string, kind: string): string => `${group}/${version}/${kind}`;

/**
 * Finds the resource of an object from its apiVersion and kind: descriptors the manager knows (every built-in kind,
 * and every kind a controller registered), then discovery through the RESTMapper (for CRDs nobody declared).
 */
export class ResourceRegistry {
  private readonly byGvk = new Map<string, ResourceDescriptor>();

  constructor(private readonly mapper: RESTMapper) {
    for (const d of builtinResources) this.add(d);
  }

  add(d: ResourceDescriptor): void {
    const key = gvkKey(d.group, d.version, d.kind);
    if (!this.byGvk.has(key)) this.byGvk.set(key, d);
  }

  async forObject(obj: KubeObject, signal?: AbortSignal): Promise<ResourceDescriptor> {
    if (!obj.apiVersion || !obj.kind) {
      throw new ArgumentError(
        `the object ${obj.metadata?.name ?? ''} has no apiVersion and kind: set them (or use a typed client)`,
      );
    }
    const { group, version } = parseGroupVersion(obj.apiVersion);
    const known = this.byGvk.get(gvkKey(group, version, obj.kind));
    if (known) return known;
    const mapping = await this.mapper.restMapping({ group, kind: obj.kind, version }, signal ? { signal } : {});
    const d: ResourceDescriptor = {
      group,
      version,
      kind: obj.kind,
      plural: mapping.resource.resource,
      namespaced: mapping.scope === 'Namespaced',
    };
    this.add(d);
    return d;
  }
}

function copy<T>(value: unknown, unsafe: boolean | undefined): T {
  return (unsafe ? value : deepCopy(value)) as T;
}

/**
 * The manager's generic client: cached reads (copies by default), direct writes. See {@link Client}. With a
 * {@link ReadYourWrites}, cached reads wait for the cache to reach this client's own writes.
 */
export class CachedClient implements Client {
  private readonly factory: ResourceClientFactory;

  constructor(
    config: RestConfig,
    private readonly cache: ManagerCache,
    private readonly registry: ResourceRegistry,
    private readonly ownWrites?: ReadYourWrites,
  ) {
    this.factory = createResourceClientFactory(config);
  }

  /** Runs a write and remembers its answer for reads of one's own writes. */
  private async write<T extends KubeObject>(
    obj: KubeObject,
    signal: AbortSignal | undefined,
    call: (r: ReturnType<CachedClient['direct']>) => Promise<unknown>,
  ): Promise<T> {
    const resource = await this.registry.forObject(obj, signal);
    const written = (await call(this.direct(resource, obj.metadata?.namespace))) as T;
    this.ownWrites?.wrote(resource, written);
    return written;
  }

  private direct(
    resource: ResourceDescriptor,
    namespace?: string,
  ): NamespaceableResourceInterface<KubeObject> | ReturnType<NamespaceableResourceInterface<KubeObject>['namespace']> {
    const r = this.factory.resource(resource);
    return resource.namespaced && namespace ? r.namespace(namespace) : r;
  }

  async get<T extends KubeObject>(
    resource: ResourceDescriptor<T>,
    key: { namespace?: string; name: string },
    options: ClientGetOptions = {},
  ): Promise<T> {
    const metadata = isMetadataOnly(resource);
    const plain = plainDescriptor(resource);
    this.registry.add(plain);
    if (options.uncached) {
      const obj = await this.direct(plain, key.namespace).get(key.name, options);
      return (metadata ? toPartialObjectMetadata(plain, obj) : obj) as T;
    }
    const lookup = { metadataOnly: metadata };
    const namespace = key.namespace ?? '';
    // Checked before any await: a read of an object this client did not write has nothing to wait for.
    if (this.ownWrites?.mayWait(plain, namespace, key.name)) {
      await this.ownWrites.waitForKey(
        plain,
        namespace,
        key.name,
        async () => (await this.cache.views(plain, namespace, options.signal, lookup))[0]!,
        options.signal,
      );
    }
    const cached = await this.cache.get(plain, key.namespace ?? '', key.name, options.signal, lookup);
    const out = copy<KubeObject>(cached, this.unsafe(plain, options));
    return (metadata ? withResourceKind(plain, out) : out) as T;
  }

  /** A read's deep-copy choice: its own, else its resource's `byObject` entry's, else copies. */
  private unsafe(resource: ResourceDescriptor, options: { unsafeDisableDeepCopy?: boolean }): boolean {
    return options.unsafeDisableDeepCopy ?? this.cache.byObjectOf(resource)?.unsafeDisableDeepCopy ?? false;
  }

  async list<T extends KubeObject>(
    resource: ResourceDescriptor<T>,
    options: ClientListOptions = {},
  ): Promise<KubeList<T>> {
    const metadata = isMetadataOnly(resource);
    const plain = plainDescriptor(resource);
    this.registry.add(plain);
    if (options.uncached) {
      const fieldSelector = uncachedFieldSelector(options.fieldSelector, options.matchingFields);
      const list = await this.direct(plain, options.namespace).listAll({
        ...(options.labelSelector && { labelSelector: options.labelSelector }),
        ...(fieldSelector && { fieldSelector }),
        ...(options.signal && { signal: options.signal }),
      });
      if (!metadata) return list as KubeList<T>;
      const items = list.items.map((item) => toPartialObjectMetadata(plain, item));
      return { ...list, apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadataList', items } as KubeList<T>;
    }
    const lookup = { metadataOnly: metadata };
    if (this.ownWrites?.has(plain)) {
      const namespace = options.namespace ?? '';
      await this.ownWrites.waitForList(
        plain,
        namespace,
        () => this.cache.views(plain, namespace, options.signal, lookup),
        options.signal,
      );
    }
    const matchingFields = cachedFieldMatches(options.fieldSelector, options.matchingFields);
    const list = await this.cache.list(plain, {
      ...lookup,
      ...(options.namespace && { namespace: options.namespace }),
      ...(options.labelSelector && { labelSelector: options.labelSelector }),
      ...(matchingFields && { matchingFields }),
      ...(options.signal && { signal: options.signal }),
    });
    const items = copy<KubeObject[]>(list.items, this.unsafe(plain, options));
    return { ...list, items: (metadata ? items.map((item) => withResourceKind(plain, item)) : items) as T[] };
  }

  async create<T extends KubeObject>(obj: T, options: WriteOptions = {}): Promise<T> {
    return this.write<T>(obj, options.signal, (r) => r.create(obj, options));
  }

  async update<T extends KubeObject>(obj: T, options: WriteOptions = {}): Promise<T> {
    return this.write<T>(obj, options.signal, (r) => r.update(obj, options));
  }

  async patch<T extends KubeObject>(obj: T, patch: unknown, options: ClientPatchOptions): Promise<T> {
    const name = obj.metadata?.name;
    if (!name) throw new ArgumentError('patch needs an object with metadata.name');
    return this.write<T>(obj, options.signal, (r) => r.patch(name, patch as never, options));
  }

  async apply<T extends KubeObject>(
    obj: ApplyConfiguration<T>,
    options: { fieldManager: string; force?: boolean } & RequestOptions,
  ): Promise<T> {
    return this.write<T>(obj as KubeObject, options.signal, (r) => r.apply(obj as never, options));
  }

  async delete(obj: KubeObject, options: DeleteOptions = {}): Promise<void> {
    const name = obj.metadata?.name;
    if (!name) throw new ArgumentError('delete needs an object with metadata.name');
    const resource = await this.registry.forObject(obj, options.signal);
    await this.direct(resource, obj.metadata?.namespace).delete(name, options);
    this.ownWrites?.deleted(resource, obj);
  }

  async deleteAllOf(
    resource: ResourceDescriptor,
    options: DeleteCollectionOptions & { namespace?: string } = {},
  ): Promise<void> {
    const { namespace, ...rest } = options;
    await this.direct(resource, namespace).deleteCollection(rest);
  }

  status(): StatusWriter {
    return {
      update: <T extends KubeObject>(obj: T, options: WriteOptions = {}): Promise<T> =>
        this.write<T>(obj, options.signal, (r) => r.updateStatus(obj, options)),
      patch: <T extends KubeObject>(obj: T, patch: unknown, options: ClientPatchOptions): Promise<T> => {
        const name = obj.metadata?.name;
        if (!name) return Promise.reject(new ArgumentError('status().patch needs an object with metadata.name'));
        return this.write<T>(obj, options.signal, (r) =>
          r.patch(name, patch as never, { ...options, subresource: 'status' }),
        );
      },
      apply: <T extends KubeObject>(
        obj: ApplyConfiguration<T>,
        options: { fieldManager: string; force?: boolean } & RequestOptions,
      ): Promise<T> => this.write<T>(obj as KubeObject, options.signal, (r) => r.applyStatus(obj as never, options)),
    };
  }
}
