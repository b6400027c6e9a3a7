/**
 * controllerutil: the helpers a reconciler uses on the objects it manages. Owner references (so the API server's
 * garbage collector deletes children with their owner, and `owns()` watches find the owner), create-or-update and
 * create-or-patch of children, finalizers, and status conditions (metav1.Condition). One file per topic, in
 * ./controllerutil/; this module lists them.
 *
 * Error codes:
 * - `ERR_ALREADY_OWNED`: {@link AlreadyOwnedError}, the object already has another controller.
 * - `ERR_INVALID_OWNER_REFERENCE`: {@link OwnerReferenceError}, the owner lacks apiVersion, kind, name or uid, or its
 *   namespace does not allow owning the object.
 * - `ERR_MUTATE_CHANGED_KEY`: {@link MutateKeyError}, a `mutate` of createOrUpdate/createOrPatch changed the
 *   object's name or namespace.
 * - `ERR_UNKNOWN_RESOURCE`: {@link UnknownResourceError}, createOrUpdate/createOrPatch cannot tell the resource of an
 *   object of a custom kind without its descriptor.
 */
export {
  AlreadyOwnedError,
  getControllerOf,
  hasControllerReference,
  hasOwnerReference,
  OwnerReferenceError,
  removeOwnerReference,
  setControllerReference,
  setOwnerReference,
  type OwnerObject,
  type OwnerReferenceOptions,
} from './controllerutil/owner-references.js';
export { addFinalizer, containsFinalizer, removeFinalizer } from './controllerutil/finalizers.js';
export {
  createOrPatch,
  createOrUpdate,
  MutateKeyError,
  type CreateOrUpdateOptions,
  type MutateFn,
  type OperationResult,
  type PatchOperationResult,
} from './controllerutil/create-or-update.js';
export { UnknownResourceError } from './controllerutil/resource.js';
export { mergePatch } from './controllerutil/json-merge.js';
export { jsonEqual } from '../client/index.js';
export {
  findStatusCondition,
  isStatusConditionFalse,
  isStatusConditionPresentAndEqual,
  isStatusConditionTrue,
  removeStatusCondition,
  setStatusCondition,
  type ConditionInput,
} from './controllerutil/conditions.js';
