import {
  ArgumentError,
  ApiError,
  listAllPages,
  type ApplyConfiguration,
  type ApplyOptions,
  type DeleteCollectionOptions,
  type DeleteOptions,
  type KubeList,
  type KubeObject,
  type ListOptions,
  type NamespaceableResourceInterface,
  type PatchType,
  type RequestInfo,
  type ResourceClientFactory,
  type ResourceDescriptor,
  type ResourceInterface,
  type ResourceLocation,
  type SubresourceOptions,
  type Watch,
  type WatchEvent,
  type WatchOptions,
  type WriteOptions,
} from '../client/index.js';
import type { FakeAction, FakeVerb, InterceptorChain } from './interceptors.js';
import { jsonCopy } from './internal/json.js';
import type { ResourceInfo } from './internal/resources.js';
import { resourceNotFound, statusError } from './internal/status.js';
import type { ObjectTracker } from './tracker.js';

const methods: Record<FakeVerb, string> = {
  get: 'GET',
  list: 'GET',
  watch: 'GET',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETE',
};

function requestInfo(call: FakeAction): RequestInfo {
  const base = call.group ? `/apis/${call.group}/${call.version}` : `/api/${call.version}`;
  const ns = call.namespace ? `/namespaces/${call.namespace}` : '';
  // A create posts to the collection: its name is in the body, not the URL.
  const named = call.name !== undefined && !(call.verb === 'create' && !call.subresource);
  const name = named ? `/${call.name}` : '';
  const sub = call.subresource ? `/${call.subresource}` : '';
  return { method: methods[call.verb], path: `${base}${ns}/${call.resource}${name}${sub}` };
}

/** Where a fake's calls go, and what they leave behind. */
export interface FakeBackend {
  tracker: ObjectTracker;
  interceptors: InterceptorChain;
  /** Every call, in order. */
  actions: FakeAction[];
}

/** A Watch whose stream comes from a promise: errors of opening it surface on iteration, as with the real client. */
function deferredWatch<T>(opening: Promise<Watch<T>>): Watch<T> {
  let inner: Watch<T> | undefined;
  let closed = false;
  opening.then(
    (w) => {
      inner = w;
      if (closed) w.close();
      return w;
    },
    () => undefined,
  );
  async function* events(): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const w = await opening;
    if (closed) return;
    yield* w;
  }
  let iterator: AsyncGenerator<WatchEvent<T>, void, undefined> | undefined;
  return {
    [Symbol.asyncIterator]: () => {
      iterator = events();
      return iterator;
    },
    close() {
      closed = true;
      inner?.close();
    },
    async [Symbol.asyncDispose]() {
      closed = true;
      inner?.close();
      await iterator?.return(undefined);
    },
  };
}

class FakeResourceClient<T extends KubeObject, L extends KubeList<T>> implements NamespaceableResourceInterface<T, L> {
  constructor(
    private readonly backend: FakeBackend,
    private readonly location: { group: string; version: string; plural: string; kind?: string },
    private readonly info: ResourceInfo | undefined,
    private readonly ns: string,
  ) {}

  namespace(namespace: string): ResourceInterface<T, L> {
    return new FakeResourceClient<T, L>(this.backend, this.location, this.info, namespace);
  }

  private nsFor(obj?: unknown): string {
    const own = (obj as KubeObject | undefined)?.metadata?.namespace;
    return !this.ns && own && this.info?.namespaced ? own : this.info?.namespaced ? this.ns : '';
  }

  private nameOf(obj: KubeObject): string {
    const name = obj.metadata?.name;
    if (!name) throw new ArgumentError(`the ${this.location.kind ?? this.location.plural} has no metadata.name`);
    return name;
  }

  /** Records the call, runs it through the interceptors, then the tracker; errors carry the request, as real ones do. */
  private async run<R>(
    call: Omit<FakeAction, 'group' | 'version' | 'resource'>,
    op: (info: ResourceInfo) => unknown,
    signal?: AbortSignal,
  ): Promise<R> {
    const action: FakeAction = {
      group: this.location.group,
      version: this.location.version,
      resource: this.location.plural,
      ...call,
    };
    for (const key of Object.keys(action) as (keyof FakeAction)[]) if (action[key] === undefined) delete action[key];
    this.backend.actions.push(action);
    signal?.throwIfAborted();
    try {
      return (await this.backend.interceptors.run(action, async () => {
        await Promise.resolve();
        signal?.throwIfAborted();
        if (!this.info) throw resourceNotFound();
        return op(this.info);
      })) as R;
    } catch (err) {
      if (err instanceof ApiError && !err.request)
        throw new ApiError(err.statusCode, err.status, requestInfo(action), { cause: err.cause });
      throw err;
    }
  }

  private writeFields(options: WriteOptions | ApplyOptions | undefined) {
    return {
      ...(options?.fieldManager && { fieldManager: options.fieldManager }),
      ...(options?.dryRun?.length && { dryRun: true as const }),
    };
  }

  get(name: string, options: SubresourceOptions & { resourceVersion?: string } = {}): Promise<T> {
    const ns = this.nsFor();
    return this.run<T>(
      { verb: 'get', namespace: ns, name },
      (info) => this.backend.tracker.get(info, ns, name),
      options.signal,
    );
  }

  list(options: ListOptions = {}): Promise<L> {
    const ns = this.nsFor();
    return this.run<L>(
      {
        verb: 'list',
        namespace: ns,
        ...(options.labelSelector && { labelSelector: options.labelSelector }),
        ...(options.fieldSelector && { fieldSelector: options.fieldSelector }),
      },
      (info) => this.backend.tracker.list(info, ns, options),
      options.signal,
    );
  }

  listAll(options: Omit<ListOptions, 'continue'> = {}): Promise<L> {
    return listAllPages((o) => this.list(o), options);
  }

  create(obj: T, options: WriteOptions = {}): Promise<T> {
    const ns = this.nsFor(obj);
    return this.run<T>(
      { verb: 'create', namespace: ns, name: obj.metadata?.name, ...this.writeFields(options), body: jsonCopy(obj) },
      (info) =>
        this.backend.tracker.create(info, ns, obj, { dryRun: options.dryRun, fieldManager: options.fieldManager }),
      options.signal,
    );
  }

  update(obj: T, options: WriteOptions = {}): Promise<T> {
    return this.updateAt(obj, options, undefined);
  }

  updateStatus(obj: T, options: WriteOptions = {}): Promise<T> {
    return this.updateAt(obj, options, 'status');
  }

  private updateAt(obj: T, options: WriteOptions, subresource: string | undefined): Promise<T> {
    const ns = this.nsFor(obj);
    const name = this.nameOf(obj);
    return this.run<T>(
      { verb: 'update', namespace: ns, name, subresource, ...this.writeFields(options), body: jsonCopy(obj) },
      (info) =>
        this.backend.tracker.update(info, ns, obj, {
          dryRun: options.dryRun,
          fieldManager: options.fieldManager,
          subresource,
        }),
      options.signal,
    );
  }

  patch<P extends PatchType>(
    name: string,
    body: unknown,
    options: WriteOptions & { patchType: P; force?: boolean; subresource?: string },
  ): Promise<T> {
    if (options.patchType === 'apply' && !options.fieldManager) {
      throw new ArgumentError('a server-side apply patch needs options.fieldManager');
    }
    return this.patchIn(this.nsFor(), name, body, options);
  }

  private patchIn(
    ns: string,
    name: string,
    body: unknown,
    options: WriteOptions & { patchType: PatchType; force?: boolean; subresource?: string },
  ): Promise<T> {
    return this.run<T>(
      {
        verb: 'patch',
        namespace: ns,
        name,
        subresource: options.subresource,
        patchType: options.patchType,
        ...this.writeFields(options),
        body: jsonCopy(body),
      },
      (info) =>
        this.backend.tracker.patch(info, ns, name, body, {
          patchType: options.patchType,
          force: options.force,
          dryRun: options.dryRun,
          fieldManager: options.fieldManager,
          subresource: options.subresource,
        }),
      options.signal,
    );
  }

  apply(obj: ApplyConfiguration<T>, options: ApplyOptions): Promise<T> {
    return this.applyTo(obj, options, undefined);
  }

  applyStatus(obj: ApplyConfiguration<T>, options: ApplyOptions): Promise<T> {
    return this.applyTo(obj, options, 'status');
  }

  private async applyTo(
    obj: ApplyConfiguration<T>,
    options: ApplyOptions,
    subresource: string | undefined,
  ): Promise<T> {
    if (!options?.fieldManager) throw new ArgumentError('apply needs options.fieldManager');
    const o = obj as KubeObject;
    return this.patchIn(this.nsFor(o), this.nameOf(o), obj, {
      ...options,
      patchType: 'apply',
      ...(subresource && { subresource }),
    });
  }

  async delete(name: string, options: DeleteOptions = {}): Promise<void> {
    const ns = this.nsFor();
    await this.run<unknown>(
      { verb: 'delete', namespace: ns, name, ...(options.dryRun?.length && { dryRun: true as const }) },
      (info) => this.backend.tracker.delete(info, ns, name, options),
      options.signal,
    );
  }

  async deleteCollection(options: DeleteCollectionOptions = {}): Promise<void> {
    const ns = this.nsFor();
    await this.run<unknown>(
      {
        verb: 'deletecollection',
        namespace: ns,
        ...(options.labelSelector && { labelSelector: options.labelSelector }),
        ...(options.fieldSelector && { fieldSelector: options.fieldSelector }),
        ...(options.dryRun?.length && { dryRun: true as const }),
      },
      (info) => this.backend.tracker.deleteCollection(info, ns, options),
      options.signal,
    );
  }

  watch(options: WatchOptions = {}): Watch<T> {
    const ns = this.nsFor();
    return deferredWatch(
      this.run<Watch<T>>(
        {
          verb: 'watch',
          namespace: ns,
          ...(options.labelSelector && { labelSelector: options.labelSelector }),
          ...(options.fieldSelector && { fieldSelector: options.fieldSelector }),
        },
        (info) => this.backend.tracker.watch(info, ns, options),
        options.signal,
      ),
    );
  }

  getSubresource<R = unknown>(name: string, subresource: string, options: SubresourceOptions = {}): Promise<R> {
    const ns = this.nsFor();
    return this.run<R>(
      { verb: 'get', namespace: ns, name, subresource },
      (info) => this.backend.tracker.get(info, ns, name, subresource),
      options.signal,
    );
  }

  updateSubresource<R = unknown>(
    name: string,
    subresource: string,
    body: unknown,
    options: WriteOptions & SubresourceOptions = {},
  ): Promise<R> {
    const ns = this.nsFor();
    return this.run<R>(
      { verb: 'update', namespace: ns, name, subresource, ...this.writeFields(options), body: jsonCopy(body) },
      (info) => {
        const named = { ...(body as KubeObject), metadata: { ...(body as KubeObject).metadata, name } };
        return this.backend.tracker.update(info, ns, named, {
          dryRun: options.dryRun,
          fieldManager: options.fieldManager,
          subresource,
        });
      },
      options.signal,
    );
  }

  createSubresource<R = unknown>(
    name: string,
    subresource: string,
    body: unknown,
    options: WriteOptions & SubresourceOptions = {},
  ): Promise<R> {
    const ns = this.nsFor();
    return this.run<R>(
      { verb: 'create', namespace: ns, name, subresource, body: jsonCopy(body) },
      () => {
        throw statusError(404, `the fake API server does not serve the ${subresource} subresource`, { details: {} });
      },
      options.signal,
    );
  }

  streamSubresource(name: string, subresource: string, options: SubresourceOptions = {}): AsyncIterable<string> {
    const run = (): Promise<unknown> =>
      this.run<unknown>(
        { verb: 'get', namespace: this.nsFor(), name, subresource },
        () => {
          throw statusError(404, `the fake API server does not serve the ${subresource} subresource`, { details: {} });
        },
        options.signal,
      );
    return {
      async *[Symbol.asyncIterator]() {
        const lines: string[] = [];
        await run();
        yield* lines;
      },
    };
  }
}

/**
 * A {@link ResourceClientFactory} over an {@link ObjectTracker}: what the fake Client, `createClientsetFromFactory`
 * and the fake DynamicClient are built on, and what informers accept as their source. Every call is recorded in
 * `backend.actions` and runs through `backend.interceptors`.
 */
export function createFakeResourceClientFactory(backend: FakeBackend): ResourceClientFactory {
  return {
    resource<T extends KubeObject, L extends KubeList<T> = KubeList<T>>(
      descriptor: ResourceDescriptor<T> | ResourceLocation,
    ): NamespaceableResourceInterface<T, L> {
      const info = backend.tracker.registry.resolve(descriptor);
      const location = {
        group: descriptor.group,
        version: descriptor.version,
        plural: descriptor.plural,
        ...((descriptor.kind ?? info?.kind) && { kind: descriptor.kind ?? info?.kind }),
      };
      return new FakeResourceClient<T, L>(backend, location, info, '');
    },
  };
}
