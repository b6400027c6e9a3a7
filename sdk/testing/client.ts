import {
  ArgumentError,
  NoMatchError,
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
  type ResourceInterface,
  type WriteOptions,
} from '../client/index.js';
import { missingIndexError, toPartialObjectMetadata, uncachedFieldSelector } from '../manager/internal.js';
import {
  isMetadataOnly,
  type Client,
  type ClientGetOptions,
  type ClientListOptions,
  type ClientPatchOptions,
  type StatusWriter,
} from '../manager/index.js';
import type { ResourceRegistry } from './internal/resources.js';

/** A field index of the fake client: what `mgr.cache.indexField` declares for the real one. */
export interface FakeFieldIndex<T extends KubeObject = KubeObject> {
  resource: ResourceDescriptor<T>;
  /** The index's name, as used in `matchingFields`: `spec.nodeName`. */
  field: string;
  /** The values an object is indexed under. */
  extract(obj: T): readonly string[];
}

/** A typed {@link FakeFieldIndex}: `fieldIndex(Pod, 'spec.nodeName', (p) => [p.spec?.nodeName ?? ''])`. */
export function fieldIndex<T extends KubeObject>(
  resource: ResourceDescriptor<T>,
  field: string,
  extract: (obj: T) => readonly string[],
): FakeFieldIndex<T> {
  return { resource, field, extract };
}

type Target = NamespaceableResourceInterface<KubeObject> | ResourceInterface<KubeObject>;

/**
 * The generic {@link Client} over any {@link ResourceClientFactory}, reading straight from it (no cache). Resources
 * are resolved from a descriptor, or from an object's apiVersion and kind through the registry.
 *
 * `matchingFields` uses the indexes given (evaluated on the listed objects); `metadata.name` and `metadata.namespace`
 * need none. Another field without an index throws `ERR_CACHE_MISSING_INDEX`, as the manager's cached list does;
 * with `uncached: true` it goes to the server as a field selector, as an uncached list does. A `fieldSelector` always
 * goes to the server (the fake API server reads any field path and `!=`), where the manager's cached list answers
 * only `=` terms on indexed fields and controller-runtime's fake client requires an index for every field.
 */
export class FactoryClient implements Client {
  constructor(
    private readonly source: ResourceClientFactory,
    private readonly registry: ResourceRegistry,
    private readonly indexes: readonly FakeFieldIndex[] = [],
  ) {}

  private at(resource: ResourceDescriptor, namespace: string | undefined): Target {
    const r = this.source.resource(resource);
    return resource.namespaced && namespace ? r.namespace(namespace) : r;
  }

  private resourceOf(obj: KubeObject): ResourceDescriptor {
    if (!obj.apiVersion || !obj.kind) {
      throw new ArgumentError(
        `the object ${obj.metadata?.name ?? ''} has no apiVersion and kind: set them (or use a typed client)`,
      );
    }
    const info = this.registry.forKind(obj.apiVersion, obj.kind);
    if (!info) {
      const { group, version } = parseGroupVersion(obj.apiVersion);
      throw new NoMatchError({ group, version, kind: obj.kind });
    }
    return info.descriptor;
  }

  private target(obj: KubeObject): Target {
    return this.at(this.resourceOf(obj), obj.metadata?.namespace);
  }

  private static nameOf(obj: KubeObject, call: string): string {
    const name = obj.metadata?.name;
    if (!name) throw new ArgumentError(`${call} needs an object with metadata.name`);
    return name;
  }

  async get<T extends KubeObject>(
    resource: ResourceDescriptor<T>,
    key: { namespace?: string; name: string },
    options: ClientGetOptions = {},
  ): Promise<T> {
    const obj = await this.at(resource, key.namespace).get(key.name, options.signal ? { signal: options.signal } : {});
    // A metadataOnly(…) descriptor reads metadata, as the manager's client does.
    return (isMetadataOnly(resource) ? toPartialObjectMetadata(resource, obj) : obj) as T;
  }

  async list<T extends KubeObject>(
    resource: ResourceDescriptor<T>,
    options: ClientListOptions = {},
  ): Promise<KubeList<T>> {
    const indexed: [FakeFieldIndex, string][] = [];
    const server: Record<string, string> = {};
    for (const [field, value] of Object.entries(options.matchingFields ?? {})) {
      const index = this.indexes.find(
        (i) => i.field === field && i.resource.plural === resource.plural && i.resource.group === resource.group,
      );
      if (index) indexed.push([index, value]);
      else if (options.uncached || field === 'metadata.name' || field === 'metadata.namespace') server[field] = value;
      else
        throw missingIndexError(
          `${resource.group ? `${resource.group}/` : ''}${resource.version}/${resource.plural}`,
          field,
        );
    }
    const fieldSelector = uncachedFieldSelector(options.fieldSelector, server);
    const list = await this.at(resource, options.namespace).listAll({
      ...(options.labelSelector && { labelSelector: options.labelSelector }),
      ...(fieldSelector && { fieldSelector }),
      ...(options.signal && { signal: options.signal }),
    });
    const items = list.items.filter((item) => indexed.every(([index, value]) => index.extract(item).includes(value)));
    if (!isMetadataOnly(resource)) return { ...list, items } as KubeList<T>;
    const metadata = items.map((item) => toPartialObjectMetadata(resource, item));
    return {
      ...list,
      apiVersion: 'meta.k8s.io/v1',
      kind: 'PartialObjectMetadataList',
      items: metadata,
    } as unknown as KubeList<T>;
  }

  async create<T extends KubeObject>(obj: T, options: WriteOptions = {}): Promise<T> {
    return (await this.target(obj).create(obj, options)) as T;
  }

  async update<T extends KubeObject>(obj: T, options: WriteOptions = {}): Promise<T> {
    return (await this.target(obj).update(obj, options)) as T;
  }

  async patch<T extends KubeObject>(obj: T, patch: unknown, options: ClientPatchOptions): Promise<T> {
    return (await this.target(obj).patch(FactoryClient.nameOf(obj, 'patch'), patch as never, options)) as T;
  }

  async apply<T extends KubeObject>(
    obj: ApplyConfiguration<T>,
    options: { fieldManager: string; force?: boolean } & RequestOptions,
  ): Promise<T> {
    return (await this.target(obj as KubeObject).apply(obj as never, options)) as T;
  }

  async delete(obj: KubeObject, options: DeleteOptions = {}): Promise<void> {
    await this.target(obj).delete(FactoryClient.nameOf(obj, 'delete'), options);
  }

  async deleteAllOf(
    resource: ResourceDescriptor,
    options: DeleteCollectionOptions & { namespace?: string } = {},
  ): Promise<void> {
    const { namespace, ...rest } = options;
    await this.at(resource, namespace).deleteCollection(rest);
  }

  status(): StatusWriter {
    return {
      update: async <T extends KubeObject>(obj: T, options: WriteOptions = {}): Promise<T> =>
        (await this.target(obj).updateStatus(obj, options)) as T,
      patch: async <T extends KubeObject>(obj: T, patch: unknown, options: ClientPatchOptions): Promise<T> =>
        (await this.target(obj).patch(FactoryClient.nameOf(obj, 'status().patch'), patch as never, {
          ...options,
          subresource: 'status',
        })) as T,
      apply: async <T extends KubeObject>(
        obj: ApplyConfiguration<T>,
        options: { fieldManager: string; force?: boolean } & RequestOptions,
      ): Promise<T> => (await this.target(obj as KubeObject).applyStatus(obj as never, options)) as T,
    };
  }
}
