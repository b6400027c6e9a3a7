import type { GroupVersionKind, GroupVersionResource, KubeObject } from './types.js';

/**
 * Names a resource: what the API calls it and how to reach it. Generated for every built-in kind (a value with the
 * same name as the type: `Pod`, `Deployment`) and made by {@link defineResource} for custom resources. The type
 * parameter only carries the object's TypeScript type, so clients made from a descriptor are typed by it.
 */
export interface ResourceDescriptor<T extends KubeObject = KubeObject> extends GroupVersionKind {
  /** Lower-case plural, the URL segment: `deployments`. */
  plural: string;
  /** Lower-case singular: `deployment`. */
  singular?: string;
  namespaced: boolean;
  /** The verbs the API declares: `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`. */
  verbs?: readonly string[];
  /** Subresources the API declares: `status`, `scale`, `log`, `eviction`, … */
  subresources?: readonly string[];
  shortNames?: readonly string[];
  /** Never set at run time: carries `T` for inference. */
  readonly __type?: T;
}

/** The object type a descriptor stands for. */
export type ObjectOf<D> = D extends ResourceDescriptor<infer T> ? T : never;

/** A custom resource's object: spec and status typed, the rest as every Kubernetes object. */
export interface CustomObject<Spec = unknown, Status = unknown> extends KubeObject {
  spec?: Spec;
  status?: Status;
}

export interface DefineResourceOptions {
  group: string;
  version: string;
  kind: string;
  /** Default: the kind in lower case with an `s`; set it when English disagrees (`policies`). */
  plural?: string;
  singular?: string;
  namespaced: boolean;
  subresources?: readonly string[];
  shortNames?: readonly string[];
}

/**
 * Describes a custom resource for typed clients, informers and the manager:
 * `const Widget = defineResource<WidgetSpec, WidgetStatus>({ group: 'example.com', version: 'v1', kind: 'Widget', namespaced: true })`.
 */
export function defineResource<Spec = unknown, Status = unknown>(
  options: DefineResourceOptions,
): ResourceDescriptor<CustomObject<Spec, Status>> {
  return {
    group: options.group,
    version: options.version,
    kind: options.kind,
    plural: options.plural ?? `${options.kind.toLowerCase()}s`,
    singular: options.singular ?? options.kind.toLowerCase(),
    namespaced: options.namespaced,
    verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'],
    subresources: options.subresources ?? ['status'],
    ...(options.shortNames && { shortNames: options.shortNames }),
  };
}

/** The GroupVersionResource of a descriptor. */
export function gvrOf(d: ResourceDescriptor): GroupVersionResource {
  return { group: d.group, version: d.version, resource: d.plural };
}
