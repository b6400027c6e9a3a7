/**
 * The I/O-free core of the Kubernetes object model (apimachinery's metav1), as plain JSON shapes. Every layer can use
 * these without pulling in the HTTP code. Times are RFC 3339 strings, as on the wire.
 */

export interface TypeMeta {
  apiVersion?: string;
  kind?: string;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  selfLink?: string;
}

export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
  selfLink?: string;
}

/** Any Kubernetes object: type meta, object meta, and whatever else its kind has. */
export interface KubeObject extends TypeMeta {
  metadata?: ObjectMeta;
}

/** A list of objects, as returned by LIST. kubeloop fills in each item's apiVersion and kind. */
export interface KubeList<T extends KubeObject = KubeObject> extends TypeMeta {
  metadata: ListMeta;
  items: T[];
}

/** An object in unknown shape: plain JSON, exactly what the server sent. */
export interface Unstructured extends KubeObject {
  [field: string]: unknown;
}

/** metav1.StatusCause */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** metav1.StatusDetails */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** metav1.Status: the answer of a failed call, and of some successful ones (DELETE). */
export interface Status extends TypeMeta {
  metadata?: ListMeta;
  status?: 'Success' | 'Failure' | string;
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code?: number;
}

/** metav1.PartialObjectMetadata: an object's type and metadata only (metadata-only lists and watches). */
export interface PartialObjectMetadata extends KubeObject {
  metadata: ObjectMeta;
}

export interface GroupVersion {
  group: string;
  version: string;
}

export interface GroupVersionKind extends GroupVersion {
  kind: string;
}

export interface GroupVersionResource extends GroupVersion {
  resource: string;
}

/** The events of a watch. `BOOKMARK` carries only a resourceVersion; `ERROR` is raised as an ApiError instead. */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface WatchEvent<T = KubeObject> {
  type: WatchEventType;
  object: T;
}
