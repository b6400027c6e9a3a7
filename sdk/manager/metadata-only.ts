import {
  formatGroupVersion,
  type KubeObject,
  type PartialObjectMetadata,
  type ResourceDescriptor,
} from '../client/index.js';

/** Holds the plain descriptor a metadata-only one was made from; `Symbol.for` so two copies of kubeloop agree. */
const plainOf = Symbol.for('kubeloop.manager.metadataOnly');
type Marked = ResourceDescriptor<PartialObjectMetadata> & { readonly [plainOf]: ResourceDescriptor };
const made = new WeakMap<ResourceDescriptor, Marked>();

/**
 * The metadata of a resource as a resource of its own, typed `PartialObjectMetadata` (what controller-runtime says
 * with `metav1.PartialObjectMetadata`): `client.get(metadataOnly(Secret), key)` reads a metadata-only informer (started
 * on first use) and `@Reconciler({ owns: [metadataOnly(Secret)] })` watches through one, so whole Secrets are never
 * cached. Objects read this way carry the resource's apiVersion and kind (`v1`, `Secret`), so they can be passed to
 * `patch` or `delete`; with `{ uncached: true }` the whole object is read and cut down to its metadata.
 *
 * Guarantees: the same descriptor gives the same (frozen) answer; `metadataOnly(metadataOnly(x))` is `metadataOnly(x)`.
 */
export function metadataOnly(resource: ResourceDescriptor): ResourceDescriptor<PartialObjectMetadata> {
  const plain = plainDescriptor(resource);
  let marked = made.get(plain);
  if (!marked) {
    marked = Object.freeze({ ...(plain as ResourceDescriptor<PartialObjectMetadata>), [plainOf]: plain });
    made.set(plain, marked);
  }
  return marked;
}

/** Whether a descriptor was made by {@link metadataOnly}. */
export function isMetadataOnly(resource: ResourceDescriptor): boolean {
  return Object.hasOwn(resource, plainOf);
}

/** The descriptor {@link metadataOnly} was given (the descriptor itself when it is not metadata-only). */
export function plainDescriptor(resource: ResourceDescriptor): ResourceDescriptor {
  return isMetadataOnly(resource) ? (resource as Marked)[plainOf] : resource;
}

/**
 * An object cut down to what a metadata-only read returns: its metadata, with the resource's apiVersion and kind
 * (apimachinery's `AsPartialObjectMetadata`).
 */
export function toPartialObjectMetadata(resource: ResourceDescriptor, obj: KubeObject): PartialObjectMetadata {
  return { apiVersion: formatGroupVersion(resource), kind: resource.kind, metadata: obj.metadata ?? {} };
}

/**
 * A metadata-only informer's object with its resource's apiVersion and kind instead of `meta.k8s.io/v1`
 * `PartialObjectMetadata`, as controller-runtime sets the GVK on what it reads. A frozen (shared, uncopied) object gets
 * a shallow copy: its metadata stays the cached one.
 */
export function withResourceKind(resource: ResourceDescriptor, obj: KubeObject): PartialObjectMetadata {
  const apiVersion = formatGroupVersion(resource);
  if (Object.isFrozen(obj)) return { ...obj, apiVersion, kind: resource.kind } as PartialObjectMetadata;
  obj.apiVersion = apiVersion;
  obj.kind = resource.kind;
  return obj as PartialObjectMetadata;
}
