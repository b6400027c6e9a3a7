import type {
  ApplyConfiguration,
  DeleteCollectionOptions,
  DeleteOptions,
  GetOptions,
  KubeList,
  KubeObject,
  PatchType,
  RequestOptions,
  ResourceDescriptor,
  WriteOptions,
} from '../client/index.js';

/** Options of a generic client read. */
export interface ClientGetOptions extends GetOptions {
  /** Read from the API server instead of the informer cache. Default: false (cached). */
  uncached?: boolean;
  /** Hand out the cached object itself (frozen, shared) instead of a copy. Faster; never change it. Default: false. */
  unsafeDisableDeepCopy?: boolean;
}

export interface ClientListOptions extends RequestOptions {
  /** `''` or unset: every namespace the cache watches. */
  namespace?: string;
  labelSelector?: string;
  /** Exact matches on fields indexed with `mgr.cache.indexField` (or `metadata.name`/`metadata.namespace`). */
  matchingFields?: Record<string, string>;
  /**
   * A field selector (apimachinery's grammar: `spec.nodeName=node-1,metadata.name!=x`). With `uncached` it goes to the
   * API server. A cached list answers it as controller-runtime's cache does: each `field=value` term like a
   * `matchingFields` entry (an index, or `metadata.name`/`metadata.namespace`); a `!=` term throws an
   * InvalidSelectorError (`ERR_KUBE_INVALID_SELECTOR`).
   */
  fieldSelector?: string;
  uncached?: boolean;
  unsafeDisableDeepCopy?: boolean;
}

export interface ClientPatchOptions extends WriteOptions {
  patchType: PatchType;
  force?: boolean;
}

/** Writes of the status subresource. */
export interface StatusWriter {
  update<T extends KubeObject>(obj: T, options?: WriteOptions): Promise<T>;
  patch<T extends KubeObject>(obj: T, patch: unknown, options: ClientPatchOptions): Promise<T>;
  apply<T extends KubeObject>(
    obj: ApplyConfiguration<T>,
    options: { fieldManager: string; force?: boolean } & RequestOptions,
  ): Promise<T>;
}

/**
 * controller-runtime's client.Client: one client for every resource. Reads come from the manager's shared informer
 * cache (an informer starts on first use, and the read waits for its sync) and return copies; writes go to the API
 * server. Each call resolves the resource from the descriptor, or from the object's apiVersion and kind (built-in
 * kinds, kinds registered with the manager, then discovery).
 *
 * Guarantees (the manager's `CLIENT`, `readYourOwnWrites` on by default): after a write through this client resolves,
 * a cached read of that object returns that write or a newer state, and after a delete it never returns the deleted
 * object alive: the read waits, bounded by `client.readYourOwnWrites.timeoutMs` (default 10000), for the informer to
 * catch up, then fails with `ERR_READ_YOUR_WRITES_TIMEOUT`. Writes by anyone else may still be seen late.
 */
export interface Client {
  get<T extends KubeObject>(
    resource: ResourceDescriptor<T>,
    key: { namespace?: string; name: string },
    options?: ClientGetOptions,
  ): Promise<T>;
  list<T extends KubeObject>(resource: ResourceDescriptor<T>, options?: ClientListOptions): Promise<KubeList<T>>;
  create<T extends KubeObject>(obj: T, options?: WriteOptions): Promise<T>;
  update<T extends KubeObject>(obj: T, options?: WriteOptions): Promise<T>;
  /** Patches the named object: `client.patch(obj, { spec: { replicas: 2 } }, { patchType: 'merge' })`. */
  patch<T extends KubeObject>(obj: T, patch: unknown, options: ClientPatchOptions): Promise<T>;
  /** Server-side apply of a partial object that names itself. */
  apply<T extends KubeObject>(
    obj: ApplyConfiguration<T>,
    options: { fieldManager: string; force?: boolean } & RequestOptions,
  ): Promise<T>;
  delete(obj: KubeObject, options?: DeleteOptions): Promise<void>;
  deleteAllOf(resource: ResourceDescriptor, options?: DeleteCollectionOptions & { namespace?: string }): Promise<void>;
  status(): StatusWriter;
}
