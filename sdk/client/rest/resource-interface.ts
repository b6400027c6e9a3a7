import type { KubeList, KubeObject, Status, WatchEvent } from '../meta/types.js';
import type {
  ApplyConfiguration,
  ApplyOptions,
  CreateOptions,
  DeleteCollectionOptions,
  DeleteOptions,
  GetOptions,
  ListOptions,
  PatchBody,
  PatchOptions,
  PatchType,
  RequestOptions,
  UpdateOptions,
  WatchOptions,
} from './options.js';

/**
 * A watch: an async iterable of events that owns an HTTP stream. Leaving a `for await` loop (`break`, `return`,
 * an exception) closes the stream; so do `close()` and `await using`.
 *
 * Errors: an in-stream `ERROR` event is thrown as an ApiError (410 Gone: the resourceVersion is too old; relist);
 * a stream silent for longer than `inactivityTimeoutMs` throws `ERR_KUBE_WATCH_STALLED`; the server ending the watch
 * (its `timeoutSeconds`) ends the iteration normally.
 */
export interface Watch<T> extends AsyncIterable<WatchEvent<T>>, AsyncDisposable {
  close(): void;
  /**
   * The same stream, one array per chunk received (never empty): for consumers of many small events, such as a
   * reflector's initial sync, that would rather await once per chunk than once per event. A watch is iterated once,
   * either by event or by batch.
   */
  batches?(): AsyncIterable<readonly WatchEvent<T>[]>;
}

/**
 * Every verb on one resource in one namespace (or cluster-wide): what client-go's dynamic ResourceInterface and each
 * typed client share. Typed clients add named subresource methods (`getScale`, `evict`, `getLogs`, …) on top of the
 * generic `*Subresource` calls.
 */
export interface ResourceInterface<T extends KubeObject, L extends KubeList<T> = KubeList<T>> {
  get(name: string, options?: GetOptions): Promise<T>;
  /** One page, or everything when no `limit` is given. Items always carry apiVersion and kind. */
  list(options?: ListOptions): Promise<L>;
  /**
   * Every page of a paginated list, concatenated. A continue token that expired (410) restarts the list once from
   * the start, as a reflector would.
   */
  listAll(options?: Omit<ListOptions, 'continue'>): Promise<L>;
  create(obj: T, options?: CreateOptions): Promise<T>;
  update(obj: T, options?: UpdateOptions): Promise<T>;
  updateStatus(obj: T, options?: UpdateOptions): Promise<T>;
  patch<P extends PatchType>(
    name: string,
    body: PatchBody<T, P>,
    options: PatchOptions & { patchType: P; subresource?: string },
  ): Promise<T>;
  /** Server-side apply of a partial object that names itself; 409 conflicts name the fields and their managers. */
  apply(obj: ApplyConfiguration<T>, options: ApplyOptions): Promise<T>;
  applyStatus(obj: ApplyConfiguration<T>, options: ApplyOptions): Promise<T>;
  /** Resolves once the server accepted the deletion (the object may linger while finalizers run). */
  delete(name: string, options?: DeleteOptions): Promise<void>;
  deleteCollection(options?: DeleteCollectionOptions): Promise<void>;
  watch(options?: WatchOptions): Watch<T>;

  /** GET a subresource (`status`, `scale`, `ephemeralcontainers`, …). */
  getSubresource<R = unknown>(name: string, subresource: string, options?: SubresourceOptions): Promise<R>;
  /** PUT a subresource. */
  updateSubresource<R = unknown>(
    name: string,
    subresource: string,
    body: unknown,
    options?: UpdateOptions & SubresourceOptions,
  ): Promise<R>;
  /** POST to a subresource (`eviction`, `token`, `binding`). */
  createSubresource<R = unknown>(
    name: string,
    subresource: string,
    body: unknown,
    options?: CreateOptions & SubresourceOptions,
  ): Promise<R>;
  /**
   * GET a subresource as a stream of text lines (`log`, with `params: { follow: true, container }`). Leaving the
   * `for await` loop closes the stream.
   */
  streamSubresource(name: string, subresource: string, options?: SubresourceOptions): AsyncIterable<string>;
}

/** Query parameters of a subresource call (`container`, `follow`, `tailLines`, …); undefined ones are left out. */
export interface SubresourceOptions extends RequestOptions {
  params?: Record<string, string | number | boolean | undefined>;
}

/** A resource that can be addressed across namespaces or in one: `dyn.resource(gvr).namespace('ns')`. */
export interface NamespaceableResourceInterface<
  T extends KubeObject,
  L extends KubeList<T> = KubeList<T>,
> extends ResourceInterface<T, L> {
  namespace(namespace: string): ResourceInterface<T, L>;
}

export type { Status, RequestOptions };
