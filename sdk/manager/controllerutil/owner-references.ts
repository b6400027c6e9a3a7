// Owner references: an object's owners (the garbage collector deletes it with them) and its controller (`owns()`
// watches reconcile it). Part of controllerutil (../controllerutil.ts).
import {
  KubeloopError,
  objectKey,
  parseGroupVersion,
  type KubeObject,
  type OwnerReference,
} from '../../client/index.js';

/** What an owner must have to be referenced: read from the API server, it has all of these. */
export interface OwnerObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly uid?: string };
}

/** An object already has a controller other than the one being set. `owner` is that existing controller. */
export class AlreadyOwnedError extends KubeloopError {
  /** The controller reference the object already has. */
  readonly owner: OwnerReference;
  /** The object, as `{ kind, namespace, name }`. */
  readonly object: { kind: string; namespace: string; name: string };

  constructor(owner: OwnerReference, object: { kind: string; namespace: string; name: string }) {
    const where = objectKey(object);
    super(
      'ERR_ALREADY_OWNED',
      `${object.kind || 'object'} ${where} is already controlled by ${owner.kind} ${owner.name} (uid ${owner.uid}); ` +
        'an object has at most one controller',
    );
    this.owner = owner;
    this.object = object;
  }
}

/** An owner reference that cannot be made: an incomplete owner, or namespaces that do not allow it. */
export class OwnerReferenceError extends KubeloopError {
  constructor(message: string) {
    super('ERR_INVALID_OWNER_REFERENCE', message);
  }
}

/** Options of {@link setControllerReference} and {@link setOwnerReference}. */
export interface OwnerReferenceOptions {
  /**
   * Sets `blockOwnerDeletion`: foreground deletion of the owner waits for this object. Default: true for
   * {@link setControllerReference}, unset for {@link setOwnerReference}. Setting it needs the `update` verb on the
   * owner's `finalizers` subresource.
   */
  blockOwnerDeletion?: boolean;
}

function describe(obj: OwnerObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return `${obj.kind ?? 'object'} ${ns ? `${ns}/${name}` : name}`;
}

function referenceTo(owner: OwnerObject, obj: OwnerObject): OwnerReference {
  const missing = (['apiVersion', 'kind'] as const).filter((f) => !owner[f]);
  if (!owner.metadata?.name) missing.push('metadata.name' as 'kind');
  if (!owner.metadata?.uid) missing.push('metadata.uid' as 'kind');
  if (missing.length > 0) {
    throw new OwnerReferenceError(
      `the owner ${describe(owner)} has no ${missing.join(', ')}: use the owner as read from the API server`,
    );
  }
  const ownerNs = owner.metadata?.namespace ?? '';
  const objNs = obj.metadata?.namespace ?? '';
  if (ownerNs !== '') {
    if (objNs === '') {
      throw new OwnerReferenceError(
        `${describe(owner)} is namespaced and cannot own ${describe(obj)}, which is cluster-scoped (or has no namespace yet)`,
      );
    }
    if (objNs !== ownerNs) {
      throw new OwnerReferenceError(
        `${describe(owner)} cannot own ${describe(obj)}: owner references never cross namespaces`,
      );
    }
  }
  return { apiVersion: owner.apiVersion!, kind: owner.kind!, name: owner.metadata!.name!, uid: owner.metadata!.uid! };
}

/** Same group (of the apiVersion), kind and name: references to one object, whatever the version. */
function sameObject(a: OwnerReference, b: OwnerReference): boolean {
  return (
    a.kind === b.kind &&
    a.name === b.name &&
    parseGroupVersion(a.apiVersion).group === parseGroupVersion(b.apiVersion).group
  );
}

function upsert(obj: KubeObject, ref: OwnerReference): void {
  obj.metadata ??= {};
  const refs = (obj.metadata.ownerReferences ??= []);
  const i = refs.findIndex((r) => sameObject(r, ref));
  if (i >= 0) refs[i] = ref;
  else refs.push(ref);
}

/** The owner reference marked `controller: true`, if any. */
export function getControllerOf(
  obj: OwnerObject & { readonly metadata?: { readonly ownerReferences?: readonly Readonly<OwnerReference>[] } },
): OwnerReference | undefined {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.controller === true);
  return ref ? { ...ref } : undefined;
}

/** True when the object has an owner reference marked `controller: true`. */
export function hasControllerReference(obj: {
  readonly metadata?: { readonly ownerReferences?: readonly Readonly<OwnerReference>[] };
}): boolean {
  return obj.metadata?.ownerReferences?.some((r) => r.controller === true) ?? false;
}

/** True when the object has an owner reference to `owner` (same group, kind and name). */
export function hasOwnerReference(
  owner: OwnerObject,
  obj: { readonly metadata?: { readonly ownerReferences?: readonly Readonly<OwnerReference>[] } },
): boolean {
  const target = {
    apiVersion: owner.apiVersion ?? '',
    kind: owner.kind ?? '',
    name: owner.metadata?.name ?? '',
    uid: '',
  };
  return obj.metadata?.ownerReferences?.some((r) => sameObject(r, target)) ?? false;
}

/**
 * Makes `owner` the controller of `obj`: an owner reference with `controller: true` and `blockOwnerDeletion: true`,
 * so the garbage collector deletes `obj` with its owner and `owns()` watches reconcile the owner when `obj`
 * changes. Changes `obj` in place; write it to the API server afterwards (or call it inside a createOrUpdate
 * `mutate`).
 *
 * Guarantees: an existing reference to the same owner (same group, kind and name, any version) is replaced, never
 * duplicated; other references are kept. Calling it again with the same owner changes nothing.
 *
 * Errors:
 * - {@link OwnerReferenceError} when the owner lacks apiVersion, kind, name or uid (an owner not yet created has no
 *   uid), or when the owner is namespaced and `obj` is cluster-scoped or in another namespace. A cluster-scoped
 *   owner may own objects in any namespace.
 * - {@link AlreadyOwnedError} when `obj` already has a different controller.
 */
export function setControllerReference(owner: OwnerObject, obj: KubeObject, options: OwnerReferenceOptions = {}): void {
  const ref = referenceTo(owner, obj);
  const existing = getControllerOf(obj);
  if (existing && !sameObject(existing, ref)) {
    throw new AlreadyOwnedError(existing, {
      kind: obj.kind ?? '',
      namespace: obj.metadata?.namespace ?? '',
      name: obj.metadata?.name ?? '',
    });
  }
  upsert(obj, { ...ref, blockOwnerDeletion: options.blockOwnerDeletion ?? true, controller: true });
}

/**
 * Adds `owner` to `obj`'s owner references without making it the controller: the garbage collector deletes `obj`
 * once all its owners are gone. Changes `obj` in place.
 *
 * Guarantees: an existing reference to the same owner (same group, kind and name) is replaced, so a controller
 * reference to it becomes a plain one.
 *
 * Errors: {@link OwnerReferenceError}, as for {@link setControllerReference}.
 */
export function setOwnerReference(owner: OwnerObject, obj: KubeObject, options: OwnerReferenceOptions = {}): void {
  const ref = referenceTo(owner, obj);
  upsert(
    obj,
    options.blockOwnerDeletion === undefined ? ref : { ...ref, blockOwnerDeletion: options.blockOwnerDeletion },
  );
}

/**
 * Removes every owner reference of `obj` to `owner` (same group, kind and name). Changes `obj` in place and returns
 * whether it removed anything. An emptied list is removed.
 */
export function removeOwnerReference(owner: OwnerObject, obj: KubeObject): boolean {
  const refs = obj.metadata?.ownerReferences;
  if (!refs) return false;
  const target = {
    apiVersion: owner.apiVersion ?? '',
    kind: owner.kind ?? '',
    name: owner.metadata?.name ?? '',
    uid: '',
  };
  const kept = refs.filter((r) => !sameObject(r, target));
  if (kept.length === refs.length) return false;
  if (kept.length === 0) delete obj.metadata!.ownerReferences;
  else obj.metadata!.ownerReferences = kept;
  return true;
}
