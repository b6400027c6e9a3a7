import {
  createResourceClientFactory,
  KubeloopError,
  restClientFor,
  type Clientset,
  type DynamicClient,
  type GroupVersionResource,
  type KubeList,
  type KubeObject,
  type ListOptions,
  type NamespaceableResourceInterface,
  type PartialObjectMetadata,
  type Request,
  type ResourceDescriptor,
  type RestConfig,
  type WatchOptions,
} from '../client/index.js';
import { resourceClientFactoryOf, restConfigOf } from '../client/internal.js';
import type { ListerWatcher } from './types.js';

/** A resource an informer can watch: a descriptor (`ConfigMap`, a `defineResource(…)`) or a GVR. */
export type ResourceRef<T extends KubeObject = KubeObject> = ResourceDescriptor<T> | GroupVersionResourceRef;

/** A GroupVersionResource; `namespaced` (default true) says whether a namespace applies to it. */
export interface GroupVersionResourceRef extends GroupVersionResource {
  namespaced?: boolean;
}

/**
 * Where informers get their list and watch calls: a Clientset (`createClientset(config)`, client-go's
 * `NewSharedInformerFactory(clientset, …)`), a RestConfig, a resource-client factory (`createResourceClientFactory`,
 * a fake client's `factory`, or any object with a `resource(descriptor)` method), or a DynamicClient.
 */
export type InformerSource = Clientset | RestConfig | ResourceFactoryLike | DynamicClient;

/**
 * Anything that makes resource clients from a descriptor, like `createResourceClientFactory(config)`. With a
 * `config`, it can serve metadata-only informers too.
 */
export interface ResourceFactoryLike {
  resource<T extends KubeObject>(descriptor: {
    group: string;
    version: string;
    plural: string;
    kind?: string;
  }): NamespaceableResourceInterface<T>;
  config?: RestConfig;
}

/**
 * `createSharedInformerFactory` was given something it cannot list and watch with. `ERR_KUBE_INFORMER_SOURCE`; the
 * message says what it takes and what it got (the type and, for an object, its keys: never a value).
 */
export class InformerSourceError extends KubeloopError {
  constructor(got: string) {
    super(
      'ERR_KUBE_INFORMER_SOURCE',
      'createSharedInformerFactory takes a Clientset (createClientset(config)), a RestConfig (an object with a host), ' +
        'a resource-client factory (an object with a resource(descriptor) method, such as createResourceClientFactory(config)) ' +
        `or a DynamicClient; got ${got}`,
    );
  }
}

/** What a wrong source is, for the error: its type, and for an object its first keys. */
function describeSource(source: unknown): string {
  if (source === null) return 'null';
  if (typeof source !== 'object') return typeof source;
  const keys = Object.keys(source);
  if (typeof (source as Record<string, unknown>)['coreV1'] === 'function') {
    return 'a Clientset that createClientset or createClientsetFromFactory did not make';
  }
  if (keys.length === 0) return 'an object without properties';
  const shown = keys.slice(0, 8).join(', ');
  return `an object with ${shown}${keys.length > 8 ? ', …' : ''}`;
}

/** Normalized resource identity. */
export interface ResolvedResource {
  group: string;
  version: string;
  plural: string;
  kind: string | undefined;
  namespaced: boolean;
}

export function resolveResource(ref: ResourceRef): ResolvedResource {
  if ('plural' in ref) {
    return { group: ref.group, version: ref.version, plural: ref.plural, kind: ref.kind, namespaced: ref.namespaced };
  }
  return {
    group: ref.group,
    version: ref.version,
    plural: ref.resource,
    kind: undefined,
    namespaced: ref.namespaced ?? true,
  };
}

function hasResource(source: unknown): source is ResourceFactoryLike {
  return (
    typeof source === 'object' && source !== null && typeof (source as ResourceFactoryLike).resource === 'function'
  );
}

function isRestConfig(source: unknown): source is RestConfig {
  return (
    typeof source === 'object' &&
    source !== null &&
    !hasResource(source) &&
    typeof (source as RestConfig).host === 'string'
  );
}

/** The RestConfig behind a source, if it has one. */
export function configOf(source: InformerSource): RestConfig | undefined {
  if (isRestConfig(source)) return source;
  return restConfigOf(source) ?? (source as ResourceFactoryLike).config;
}

/**
 * A source as a resource-client factory: the factory a Clientset or DynamicClient was built on, the source itself if
 * it has a `resource` method, or one made from a RestConfig.
 *
 * Errors: throws {@link InformerSourceError} for anything else.
 */
export function factoryOf(source: InformerSource): ResourceFactoryLike {
  const linked = resourceClientFactoryOf(source);
  if (linked) return linked;
  if (hasResource(source)) return source;
  if (isRestConfig(source)) return createResourceClientFactory(source);
  throw new InformerSourceError(describeSource(source));
}

/** List and watch of full objects through a resource-client factory. */
export function listWatchFor<T extends KubeObject>(
  factory: ResourceFactoryLike,
  resource: ResolvedResource,
  namespace: string,
): ListerWatcher<T> {
  const all = factory.resource<T>({
    group: resource.group,
    version: resource.version,
    plural: resource.plural,
    ...(resource.kind && { kind: resource.kind }),
    // A DynamicClient (or one shaped like it) names the plural `resource`.
    resource: resource.plural,
  } as Parameters<ResourceFactoryLike['resource']>[0]);
  return namespace ? all.namespace(namespace) : all;
}

/**
 * What the API server is asked for, to answer with metav1.PartialObjectMetadataList and PartialObjectMetadata. A
 * watch asks for protobuf first, as client-go's metadata client does: the stream's events are decoded from it, and
 * managedFields passed over without being decoded when the informer drops them. A server that cannot answer protobuf
 * (an aggregated API may not) answers JSON, which the watch decodes as well. A LIST asks for JSON: it is read whole,
 * and an informer lists only when WatchList is off or refused.
 */
export const metadataListAccept = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
export const metadataWatchAccept =
  'application/vnd.kubernetes.protobuf;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,' +
  'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

function queryOf(req: Request, o: ListOptions & WatchOptions): Request {
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

/**
 * List and watch of object metadata only (`PartialObjectMetadata`), through the `Accept` header: what
 * controller-runtime's metadata informers use to cache many or large objects cheaply.
 */
export function metadataListWatchFor(
  config: RestConfig,
  resource: ResolvedResource,
  namespace: string,
): ListerWatcher<PartialObjectMetadata> {
  const rc = restClientFor(config, { groupVersion: { group: resource.group, version: resource.version } });
  const req = (): Request => rc.get().namespace(namespace).resource(resource.plural);
  return {
    async list(options) {
      const list = await queryOf(req(), options)
        .setHeader('accept', metadataListAccept)
        .do({
          ...(options.signal && { signal: options.signal }),
          ...(options.timeoutMs !== undefined && { timeoutMs: options.timeoutMs }),
        })
        .into<KubeList<PartialObjectMetadata>>();
      for (const item of list.items) {
        item.apiVersion ??= 'meta.k8s.io/v1';
        item.kind ??= 'PartialObjectMetadata';
      }
      return list;
    },
    watch(options) {
      return queryOf(req(), options)
        .setHeader('accept', metadataWatchAccept)
        .watch<PartialObjectMetadata>({
          ...(options.signal && { signal: options.signal }),
          ...(options.inactivityTimeoutMs !== undefined && { inactivityTimeoutMs: options.inactivityTimeoutMs }),
          ...(options.dropsManagedFields && { dropsManagedFields: true }),
        });
    },
  };
}
