import type { RestConfig } from '../config/types.js';
import { ArgumentError, ResponseDecodeError, isGone, type RequestInfo } from '../errors.js';
import type { ResourceDescriptor } from '../meta/descriptor.js';
import type { GroupVersion, KubeList, KubeObject } from '../meta/types.js';
import type {
  ApplyConfiguration,
  ApplyOptions,
  DeleteCollectionOptions,
  DeleteOptions,
  ListOptions,
  PatchType,
  WatchOptions,
  WriteOptions,
} from './options.js';
import type {
  NamespaceableResourceInterface,
  ResourceInterface,
  SubresourceOptions,
  Watch,
} from './resource-interface.js';
import { linkRestConfig } from './links.js';
import { RestClient, type Request } from './rest-client.js';
import type { Transport } from '../transport/transport.js';

/** Where a resource lives: enough to build its URLs. `kind` is known for typed clients, not always for dynamic ones. */
export interface ResourceLocation extends GroupVersion {
  plural: string;
  kind?: string;
}

const patchContentTypes: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

function writeParams(req: Request, options: WriteOptions | ApplyOptions | undefined): Request {
  return req.params({
    dryRun: options?.dryRun,
    fieldManager: options?.fieldManager,
    fieldValidation: options?.fieldValidation,
  });
}

function listParams(req: Request, options: ListOptions | WatchOptions | DeleteCollectionOptions | undefined): Request {
  const o = (options ?? {}) as ListOptions & WatchOptions;
  return req.params({
    labelSelector: o.labelSelector,
    fieldSelector: o.fieldSelector,
    limit: o.limit,
    continue: o.continue,
    resourceVersion: o.resourceVersion,
    resourceVersionMatch: o.resourceVersionMatch,
    timeoutSeconds: o.timeoutSeconds,
    allowWatchBookmarks: o.allowWatchBookmarks,
    sendInitialEvents: o.sendInitialEvents,
  });
}

function deleteBody(options: DeleteOptions | undefined): Record<string, unknown> | undefined {
  if (!options) return undefined;
  const body: Record<string, unknown> = { apiVersion: 'v1', kind: 'DeleteOptions' };
  if (options.gracePeriodSeconds !== undefined) body['gracePeriodSeconds'] = options.gracePeriodSeconds;
  if (options.propagationPolicy) body['propagationPolicy'] = options.propagationPolicy;
  if (options.preconditions) body['preconditions'] = options.preconditions;
  if (options.dryRun) body['dryRun'] = options.dryRun;
  return Object.keys(body).length > 2 ? body : undefined;
}

/**
 * A list answer's `items`, checked: absent or null is an empty list (as client-go decodes it); anything but a list of
 * objects is a ResponseDecodeError naming the request, not a TypeError further on.
 */
function checkListItems<L extends { items?: unknown }>(list: L, request: RequestInfo): L {
  const items: unknown = list.items;
  if (items === undefined || items === null) return { ...list, items: [] };
  if (!Array.isArray(items))
    throw new ResponseDecodeError(`the list's items is a JSON ${typeof items}, not an array`, request, 200);
  const bad = items.findIndex((item) => item === null || typeof item !== 'object' || Array.isArray(item));
  if (bad >= 0) throw new ResponseDecodeError(`the list's item ${bad} is not an object`, request, 200);
  return list;
}

/** Fills in each item's apiVersion and kind, which the server leaves out of list items. */
export function fillListItemKinds<L extends { apiVersion?: string; kind?: string; items?: KubeObject[] }>(list: L): L {
  const kind = list.kind?.endsWith('List') ? list.kind.slice(0, -4) : undefined;
  if (!kind || !list.items) return list;
  for (const item of list.items) {
    item.apiVersion ??= list.apiVersion;
    item.kind ??= kind;
  }
  return list;
}

/**
 * Every page of a paginated list, concatenated: what `listAll` does over any `list` function (the real client's or
 * a fake's). A continue token that expired (410) restarts the list once from the start, as a reflector would.
 */
export async function listAllPages<T extends KubeObject, L extends KubeList<T>>(
  list: (options: ListOptions) => Promise<L>,
  options: Omit<ListOptions, 'continue'> = {},
): Promise<L> {
  for (let restarts = 0; ; restarts++) {
    try {
      const first = await list(options);
      const items = [...first.items];
      let token = first.metadata.continue;
      let last = first;
      while (token) {
        last = await list({ ...options, continue: token });
        items.push(...last.items);
        token = last.metadata.continue;
      }
      return { ...first, metadata: { ...last.metadata, continue: undefined }, items } as L;
    } catch (err) {
      if (isGone(err) && restarts === 0) continue;
      throw err;
    }
  }
}

class ResourceClient<T extends KubeObject, L extends KubeList<T>> implements NamespaceableResourceInterface<T, L> {
  constructor(
    private readonly rc: RestClient,
    private readonly location: ResourceLocation,
    private readonly ns: string,
  ) {}

  namespace(namespace: string): ResourceInterface<T, L> {
    return new ResourceClient<T, L>(this.rc, this.location, namespace);
  }

  private req(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', name?: string, ...sub: string[]): Request {
    const r = this.rc.verb(method).namespace(this.ns).resource(this.location.plural);
    if (name !== undefined) r.name(name);
    if (sub.length) r.subResource(...sub);
    return r;
  }

  private nameOf(obj: KubeObject): string {
    const name = obj.metadata?.name;
    if (!name) throw new ArgumentError(`the ${this.location.kind ?? this.location.plural} has no metadata.name`);
    return name;
  }

  /** The object with apiVersion and kind filled in from the descriptor where missing (custom resources need them). */
  private typed(obj: T): T {
    if ((obj.apiVersion && obj.kind) || !this.location.kind) return obj;
    const apiVersion = this.location.group ? `${this.location.group}/${this.location.version}` : this.location.version;
    return { ...obj, apiVersion: obj.apiVersion ?? apiVersion, kind: obj.kind ?? this.location.kind };
  }

  private withNamespace(obj: KubeObject): ResourceClient<T, L> {
    const ns = obj.metadata?.namespace;
    return !this.ns && ns ? new ResourceClient<T, L>(this.rc, this.location, ns) : this;
  }

  get(name: string, options: SubresourceOptions & { resourceVersion?: string } = {}): Promise<T> {
    return this.req('GET', name).param('resourceVersion', options.resourceVersion).do(options).into<T>();
  }

  async list(options: ListOptions = {}): Promise<L> {
    const req = listParams(this.req('GET'), options);
    const list = await req.do(options).into<L>();
    return fillListItemKinds(checkListItems(list, { method: 'GET', path: req.url() }));
  }

  listAll(options: Omit<ListOptions, 'continue'> = {}): Promise<L> {
    return listAllPages((o) => this.list(o), options);
  }

  async create(obj: T, options: WriteOptions = {}): Promise<T> {
    return writeParams(this.withNamespace(obj).req('POST'), options).body(this.typed(obj)).do(options).into<T>();
  }

  async update(obj: T, options: WriteOptions = {}): Promise<T> {
    const req = this.withNamespace(obj).req('PUT', this.nameOf(obj));
    return writeParams(req, options).body(this.typed(obj)).do(options).into<T>();
  }

  async updateStatus(obj: T, options: WriteOptions = {}): Promise<T> {
    const req = this.withNamespace(obj).req('PUT', this.nameOf(obj), 'status');
    return writeParams(req, options).body(this.typed(obj)).do(options).into<T>();
  }

  async patch<P extends PatchType>(
    name: string,
    body: unknown,
    options: WriteOptions & { patchType: P; force?: boolean; subresource?: string },
  ): Promise<T> {
    const sub = options.subresource ? [options.subresource] : [];
    if (options.patchType === 'apply' && !options.fieldManager) {
      throw new ArgumentError('a server-side apply patch needs options.fieldManager');
    }
    const req = writeParams(this.req('PATCH', name, ...sub), options)
      .setHeader('content-type', patchContentTypes[options.patchType])
      .param('force', options.force);
    return req.body(body).do(options).into<T>();
  }

  apply(obj: ApplyConfiguration<T>, options: ApplyOptions): Promise<T> {
    return this.applyTo(obj, options);
  }

  applyStatus(obj: ApplyConfiguration<T>, options: ApplyOptions): Promise<T> {
    return this.applyTo(obj, options, 'status');
  }

  private async applyTo(obj: ApplyConfiguration<T>, options: ApplyOptions, subresource?: string): Promise<T> {
    if (!options?.fieldManager) throw new ArgumentError('apply needs options.fieldManager');
    return this.withNamespace(obj as KubeObject).patch(this.nameOf(obj as KubeObject), obj, {
      ...options,
      patchType: 'apply',
      ...(subresource && { subresource }),
    });
  }

  async delete(name: string, options: DeleteOptions = {}): Promise<void> {
    const req = this.req('DELETE', name).param('dryRun', options.dryRun);
    const body = deleteBody(options);
    if (body) req.body(body);
    await req.do(options).raw();
  }

  async deleteCollection(options: DeleteCollectionOptions = {}): Promise<void> {
    const req = listParams(this.req('DELETE'), options).param('dryRun', options.dryRun);
    const body = deleteBody(options);
    if (body) req.body(body);
    await req.do(options).raw();
  }

  watch(options: WatchOptions = {}): Watch<T> {
    return listParams(this.req('GET'), options).watch<T>({
      ...(options.signal && { signal: options.signal }),
      ...(options.inactivityTimeoutMs !== undefined && { inactivityTimeoutMs: options.inactivityTimeoutMs }),
    });
  }

  getSubresource<R = unknown>(name: string, subresource: string, options: SubresourceOptions = {}): Promise<R> {
    return this.req('GET', name, subresource)
      .params(options.params ?? {})
      .do(options)
      .into<R>();
  }

  updateSubresource<R = unknown>(
    name: string,
    subresource: string,
    body: unknown,
    options: WriteOptions & SubresourceOptions = {},
  ): Promise<R> {
    const req = writeParams(this.req('PUT', name, subresource), options).params(options.params ?? {});
    return req.body(body).do(options).into<R>();
  }

  createSubresource<R = unknown>(
    name: string,
    subresource: string,
    body: unknown,
    options: WriteOptions & SubresourceOptions = {},
  ): Promise<R> {
    const req = writeParams(this.req('POST', name, subresource), options).params(options.params ?? {});
    return req.body(body).do(options).into<R>();
  }

  /** The transport and path (without query) of a subresource of one object: for WebSocket calls. */
  connectTarget(name: string, subresource: string): ConnectTarget {
    const path = this.req('GET', name, subresource).url();
    return { transport: this.rc.transport, path };
  }

  streamSubresource(name: string, subresource: string, options: SubresourceOptions = {}): AsyncIterable<string> {
    return this.req('GET', name, subresource)
      .params(options.params ?? {})
      .stream(options.signal ? { signal: options.signal } : {});
  }
}

/** Where a connect subresource (exec, attach, portforward) of one object is: see {@link connectTargetOf}. */
export interface ConnectTarget {
  transport: Transport;
  /** Path without query, relative to the host. */
  path: string;
}

/**
 * The transport and path of a subresource of `name`, when `ri` talks to an API server (a client of
 * {@link createResourceClientFactory}); undefined for other implementations, such as fake clients.
 */
export function connectTargetOf(ri: unknown, name: string, subresource: string): ConnectTarget | undefined {
  return ri instanceof ResourceClient ? ri.connectTarget(name, subresource) : undefined;
}

/** Makes ResourceInterfaces for one RestConfig: typed clients and the DynamicClient are built on it. */
export interface ResourceClientFactory {
  resource<T extends KubeObject, L extends KubeList<T> = KubeList<T>>(
    descriptor: ResourceDescriptor<T> | ResourceLocation,
  ): NamespaceableResourceInterface<T, L>;
}

/** A factory of resource clients for one RestConfig; clients of one group-version share one RESTClient. */
export function createResourceClientFactory(config: RestConfig): ResourceClientFactory {
  const restClients = new Map<string, RestClient>();
  const factory: ResourceClientFactory = {
    resource<T extends KubeObject, L extends KubeList<T> = KubeList<T>>(
      descriptor: ResourceDescriptor<T> | ResourceLocation,
    ): NamespaceableResourceInterface<T, L> {
      const key = `${descriptor.group}/${descriptor.version}`;
      let rc = restClients.get(key);
      if (!rc) {
        rc = new RestClient(config, { groupVersion: { group: descriptor.group, version: descriptor.version } });
        restClients.set(key, rc);
      }
      return new ResourceClient<T, L>(rc, descriptor, '');
    },
  };
  linkRestConfig(factory, config);
  return factory;
}

/** A client for one resource, typed by its descriptor: `typedClient(config, Widget).namespace('a').get('x')`. */
export function typedClient<T extends KubeObject>(
  config: RestConfig,
  descriptor: ResourceDescriptor<T>,
): NamespaceableResourceInterface<T> {
  return createResourceClientFactory(config).resource(descriptor);
}
