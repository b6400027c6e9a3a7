/**
 * The hand-written half of the typed clients: the client types that generated code composes, and the one generic
 * runtime that turns a table of resources (generated from the Kubernetes OpenAPI spec into `generated/clientset.ts`)
 * into a Clientset. Generated code imports this module as a namespace (`kubeloop.ResourceClient<…>`), so its names
 * never clash with the names of API types.
 */
import type { ResourceDescriptor } from './meta/descriptor.js';
import type { KubeList, KubeObject, Status } from './meta/types.js';
import type {
  ApplyConfiguration,
  ApplyOptions,
  CreateOptions,
  GetLogsOptions,
  RequestOptions,
  UpdateOptions,
} from './rest/options.js';
import type { NamespaceableResourceInterface, ResourceInterface } from './rest/resource-interface.js';
import { linkResourceClientFactory } from './rest/links.js';
import type { ResourceClientFactory } from './rest/resource.js';
import type { CopyFromPodOptions, CopyFromPodResult, CopyToPodOptions } from './streaming/copy.js';
import type {
  PortForward,
  PortForwardOptions,
  PortForwardStream,
  PortForwardStreamOptions,
} from './streaming/port-forward.js';
import type {
  AttachStreamOptions,
  ExecOptions,
  ExecResult,
  ExecStream,
  ExecStreamOptions,
} from './streaming/remote-command.js';
import * as pods from './streaming/pods.js';
import type { AttachOptions, StreamLogsOptions } from './streaming/pods.js';

export type {
  ApplyConfiguration,
  ApplyOptions,
  AttachOptions,
  AttachStreamOptions,
  CopyFromPodOptions,
  CopyFromPodResult,
  CopyToPodOptions,
  CreateOptions,
  ExecOptions,
  ExecResult,
  ExecStream,
  ExecStreamOptions,
  GetLogsOptions,
  PortForward,
  PortForwardOptions,
  PortForwardStream,
  PortForwardStreamOptions,
  StreamLogsOptions,
  KubeList,
  KubeObject,
  RequestOptions,
  ResourceClientFactory,
  ResourceDescriptor,
  Status,
  UpdateOptions,
};

/** The verbs a resource can declare, as in RBAC and discovery. */
export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/** The ResourceInterface methods each verb brings. */
interface MethodsOfVerb {
  get: 'get';
  list: 'list' | 'listAll';
  watch: 'watch';
  create: 'create';
  update: 'update';
  patch: 'patch' | 'apply';
  delete: 'delete';
  deletecollection: 'deleteCollection';
}

/**
 * The methods of {@link ResourceInterface} that the verbs `V` of a resource allow (default: all eight). A resource
 * that cannot be listed has no `list`; one that can only be created (`tokenreviews`) has only `create`.
 */
export type ResourceClient<T extends KubeObject, L extends KubeList<T> = KubeList<T>, V extends Verb = Verb> = Pick<
  ResourceInterface<T, L>,
  MethodsOfVerb[V]
>;

/** `updateStatus` and `applyStatus`: for resources with a `status` subresource. */
export type StatusMethods<T extends KubeObject, L extends KubeList<T> = KubeList<T>> = Pick<
  ResourceInterface<T, L>,
  'updateStatus' | 'applyStatus'
>;

/**
 * How a named subresource method calls its {@link ResourceInterface}: `get`, `update` (PUT) and `create` (POST) map to
 * the `*Subresource` calls, `apply` to a server-side apply patch of the subresource, `stream` to a line stream whose
 * options other than `signal` and `timeoutMs` become query parameters.
 */
export type SubresourceCallKind = 'get' | 'update' | 'create' | 'apply' | 'stream' | StreamingCallKind;

/**
 * The hand-written streaming methods of pods (see `streaming/pods.ts`), each named as its kind: WebSocket calls of the
 * `exec`, `attach` and `portforward` subresources, the followed log, and cp through tar over exec.
 */
export type StreamingCallKind =
  | 'exec'
  | 'execStream'
  | 'attach'
  | 'attachStream'
  | 'portForward'
  | 'portForwardStream'
  | 'streamLogs'
  | 'copyToPod'
  | 'copyFromPod';

/** One named subresource method of a typed client: `['getScale', 'get', 'scale']`. */
export type SubresourceCall = readonly [method: string, kind: SubresourceCallKind, subresource: string];

/** One resource of a group-version in the generated table: its descriptor and its named subresource methods. */
export type ResourceEntry = readonly [descriptor: ResourceDescriptor, calls: readonly SubresourceCall[]];

const resourceMethods = [
  'get',
  'list',
  'listAll',
  'create',
  'update',
  'updateStatus',
  'patch',
  'apply',
  'applyStatus',
  'delete',
  'deleteCollection',
  'watch',
] as const;

type AnyResourceInterface = ResourceInterface<KubeObject>;

function subresourceMethod(ri: AnyResourceInterface, kind: SubresourceCallKind, subresource: string): unknown {
  switch (kind) {
    case 'get':
      return (name: string, options?: RequestOptions) => ri.getSubresource(name, subresource, options);
    case 'update':
      return (name: string, body: unknown, options?: UpdateOptions) =>
        ri.updateSubresource(name, subresource, body, options);
    case 'create':
      return (name: string, body: unknown, options?: CreateOptions) =>
        ri.createSubresource(name, subresource, body, options);
    case 'apply':
      return (name: string, body: ApplyConfiguration<KubeObject>, options: ApplyOptions) =>
        ri.patch(name, body, { ...options, patchType: 'apply', subresource });
    case 'stream':
      return (name: string, options: RequestOptions & Record<string, unknown> = {}) => {
        const { signal, timeoutMs, ...rest } = options;
        const params: Record<string, string | number | boolean | undefined> = {};
        for (const [key, value] of Object.entries(rest)) {
          if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') params[key] = value;
        }
        return ri.streamSubresource(name, subresource, { signal, timeoutMs, params });
      };
    case 'exec':
      return (name: string, options: ExecOptions) => pods.exec(ri, name, options);
    case 'execStream':
      return (name: string, options: ExecStreamOptions) => pods.execStream(ri, name, options);
    case 'attach':
      return (name: string, options?: AttachOptions) => pods.attach(ri, name, options);
    case 'attachStream':
      return (name: string, options?: AttachStreamOptions) => pods.attachStream(ri, name, options);
    case 'portForward':
      return (name: string, options: PortForwardOptions) => pods.portForward(ri, name, options);
    case 'portForwardStream':
      return (name: string, options: PortForwardStreamOptions) => pods.portForwardStream(ri, name, options);
    case 'streamLogs':
      return (name: string, options?: StreamLogsOptions) => pods.streamLogs(ri, name, options);
    case 'copyToPod':
      return (name: string, options: CopyToPodOptions) => pods.copyToPodOf(ri, name, options);
    case 'copyFromPod':
      return (name: string, options: CopyFromPodOptions) => pods.copyFromPodOf(ri, name, options);
  }
}

/**
 * A typed client over a ResourceInterface: its verb methods, bound, plus the named subresource methods of `calls`.
 * Which of them a caller may use is the business of the generated type; this object has all of them.
 */
export function typedResourceClient(ri: AnyResourceInterface, calls: readonly SubresourceCall[]): object {
  const client: Record<string, unknown> = {};
  for (const method of resourceMethods) client[method] = ri[method].bind(ri);
  for (const [method, kind, subresource] of calls) client[method] = subresourceMethod(ri, kind, subresource);
  return client;
}

/**
 * The accessors of one group-version: `pods(namespace)` for namespaced resources (`''`: all namespaces, for list and
 * watch), `nodes()` for cluster-scoped ones. Each resource's ResourceInterface is made once, on first use.
 */
function groupClient(factory: ResourceClientFactory, resources: Readonly<Record<string, ResourceEntry>>): object {
  const group: Record<string, unknown> = {};
  for (const [accessor, [descriptor, calls]] of Object.entries(resources)) {
    let base: NamespaceableResourceInterface<KubeObject> | undefined;
    const resource = (): NamespaceableResourceInterface<KubeObject> => (base ??= factory.resource(descriptor));
    group[accessor] = descriptor.namespaced
      ? (namespace: string) => typedResourceClient(namespace ? resource().namespace(namespace) : resource(), calls)
      : () => typedResourceClient(resource(), calls);
  }
  return group;
}

/**
 * Builds a Clientset from the generated table of group-versions: `{ coreV1: { pods: [Pod, calls], … }, … }`. Each
 * group accessor makes its client once. `C` is the generated Clientset interface, which the table was generated with.
 */
export function buildClientset<C>(
  factory: ResourceClientFactory,
  groups: Readonly<Record<string, Readonly<Record<string, ResourceEntry>>>>,
): C {
  const clientset: Record<string, () => object> = {};
  for (const [accessor, resources] of Object.entries(groups)) {
    let group: object | undefined;
    clientset[accessor] = () => (group ??= groupClient(factory, resources));
  }
  // So that what takes a Clientset (an informer factory) can make clients of any resource the same way.
  linkResourceClientFactory(clientset, factory);
  return clientset as C;
}
