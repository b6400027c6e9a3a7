/**
 * controllerutil: the helpers a reconciler uses on the objects it manages. Owner references (so the API server's
 * garbage collector deletes children with their owner, and `owns()` watches find the owner), create-or-update and
 * create-or-patch of children, finalizers, and status conditions (metav1.Condition).
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
import * as kubeClient from '../client/index.js';
import {
  isNotFound,
  KubeloopError,
  parseGroupVersion,
  type KubeObject,
  type metav1,
  type OwnerReference,
  type ResourceDescriptor,
  type WriteOptions,
} from '../client/index.js';
import type { Client } from './client-types.js';

// ---------------------------------------------------------------------------------------------------------------------
// Owner references

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
    const where = object.namespace ? `${object.namespace}/${object.name}` : object.name;
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
  return a.kind === b.kind && a.name === b.name && parseGroupVersion(a.apiVersion).group === parseGroupVersion(b.apiVersion).group;
}

function upsert(obj: KubeObject, ref: OwnerReference): void {
  obj.metadata ??= {};
  const refs = (obj.metadata.ownerReferences ??= []);
  const i = refs.findIndex((r) => sameObject(r, ref));
  if (i >= 0) refs[i] = ref;
  else refs.push(ref);
}

/** The owner reference marked `controller: true`, if any. */
export function getControllerOf(obj: OwnerObject & { readonly metadata?: { readonly ownerReferences?: readonly Readonly<OwnerReference>[] } }): OwnerReference | undefined {
  const ref = obj.metadata?.ownerReferences?.find((r) => r.controller === true);
  return ref ? { ...ref } : undefined;
}

/** True when the object has an owner reference marked `controller: true`. */
export function hasControllerReference(obj: { readonly metadata?: { readonly ownerReferences?: readonly Readonly<OwnerReference>[] } }): boolean {
  return obj.metadata?.ownerReferences?.some((r) => r.controller === true) ?? false;
}

/** True when the object has an owner reference to `owner` (same group, kind and name). */
export function hasOwnerReference(
  owner: OwnerObject,
  obj: { readonly metadata?: { readonly ownerReferences?: readonly Readonly<OwnerReference>[] } },
): boolean {
  const target = { apiVersion: owner.apiVersion ?? '', kind: owner.kind ?? '', name: owner.metadata?.name ?? '', uid: '' };
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
  upsert(obj, options.blockOwnerDeletion === undefined ? ref : { ...ref, blockOwnerDeletion: options.blockOwnerDeletion });
}

/**
 * Removes every owner reference of `obj` to `owner` (same group, kind and name). Changes `obj` in place and returns
 * whether it removed anything. An emptied list is removed.
 */
export function removeOwnerReference(owner: OwnerObject, obj: KubeObject): boolean {
  const refs = obj.metadata?.ownerReferences;
  if (!refs) return false;
  const target = { apiVersion: owner.apiVersion ?? '', kind: owner.kind ?? '', name: owner.metadata?.name ?? '', uid: '' };
  const kept = refs.filter((r) => !sameObject(r, target));
  if (kept.length === refs.length) return false;
  if (kept.length === 0) delete obj.metadata!.ownerReferences;
  else obj.metadata!.ownerReferences = kept;
  return true;
}

// ---------------------------------------------------------------------------------------------------------------------
// Finalizers

/** Adds `finalizer` to the object unless it is there. Returns whether it changed the object. */
export function addFinalizer(obj: KubeObject, finalizer: string): boolean {
  obj.metadata ??= {};
  const finalizers = (obj.metadata.finalizers ??= []);
  if (finalizers.includes(finalizer)) return false;
  finalizers.push(finalizer);
  return true;
}

/** Removes every occurrence of `finalizer`. Returns whether it changed the object. An emptied list is removed. */
export function removeFinalizer(obj: KubeObject, finalizer: string): boolean {
  const finalizers = obj.metadata?.finalizers;
  if (!finalizers?.includes(finalizer)) return false;
  const kept = finalizers.filter((f) => f !== finalizer);
  if (kept.length === 0) delete obj.metadata!.finalizers;
  else obj.metadata!.finalizers = kept;
  return true;
}

/** True when the object has `finalizer`. Works on cached (read-only) objects. */
export function containsFinalizer(obj: { readonly metadata?: { readonly finalizers?: readonly string[] } }, finalizer: string): boolean {
  return obj.metadata?.finalizers?.includes(finalizer) ?? false;
}

// ---------------------------------------------------------------------------------------------------------------------
// Create or update / patch

/** What {@link createOrUpdate} did. */
export type OperationResult = 'created' | 'updated' | 'unchanged';

/** What {@link createOrPatch} did: `updatedStatus` patched both the object and its status, `updatedStatusOnly` just the status. */
export type PatchOperationResult = OperationResult | 'updatedStatus' | 'updatedStatusOnly';

/** Sets the desired state on the object, in place. It must not change the name or namespace. */
export type MutateFn<T> = (obj: T) => void | Promise<void>;

/** Options of {@link createOrUpdate} and {@link createOrPatch}: write options for the create/update/patch calls. */
export interface CreateOrUpdateOptions<T extends KubeObject> extends WriteOptions {
  /**
   * The object's resource. Default: found from the object's apiVersion and kind among the built-in kinds; required
   * for custom resources (`{ resource: Widget }`). Fills in a missing apiVersion and kind of the object.
   */
  resource?: ResourceDescriptor<T>;
}

/** `mutate` changed the name or namespace of the object it was to fill in. */
export class MutateKeyError extends KubeloopError {
  constructor(before: string, after: string) {
    super('ERR_MUTATE_CHANGED_KEY', `mutate changed the object's namespace/name from ${JSON.stringify(before)} to ${JSON.stringify(after)}; it must not`);
  }
}

/** The resource of an object cannot be told from its apiVersion and kind alone. */
export class UnknownResourceError extends KubeloopError {
  constructor(message: string) {
    super('ERR_UNKNOWN_RESOURCE', message);
  }
}

let builtins: Map<string, ResourceDescriptor> | undefined;

function isDescriptor(value: unknown): value is ResourceDescriptor {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof ResourceDescriptor, unknown>>;
  return (
    typeof v.group === 'string' &&
    typeof v.version === 'string' &&
    typeof v.kind === 'string' &&
    typeof v.plural === 'string' &&
    typeof v.namespaced === 'boolean'
  );
}

/** The descriptor of a built-in kind, by apiVersion and kind. */
function builtinDescriptor(apiVersion: string, kind: string): ResourceDescriptor | undefined {
  if (!builtins) {
    builtins = new Map();
    for (const value of Object.values(kubeClient)) {
      if (typeof value !== 'object' || value === null) continue;
      for (const d of isDescriptor(value) ? [value] : Object.values(value as Record<string, unknown>)) {
        if (isDescriptor(d)) builtins.set(`${d.group}/${d.version}/${d.kind}`, d);
      }
    }
  }
  const gv = parseGroupVersion(apiVersion);
  return builtins.get(`${gv.group}/${gv.version}/${kind}`);
}

function resolveResource<T extends KubeObject>(obj: T, resource: ResourceDescriptor<T> | undefined, caller: string): ResourceDescriptor<T> {
  if (resource) {
    obj.apiVersion ??= resource.group ? `${resource.group}/${resource.version}` : resource.version;
    obj.kind ??= resource.kind;
    return resource;
  }
  if (!obj.apiVersion || !obj.kind) {
    throw new UnknownResourceError(`${caller}: the object has no apiVersion or kind; set them, or pass { resource }`);
  }
  const found = builtinDescriptor(obj.apiVersion, obj.kind);
  if (!found) {
    throw new UnknownResourceError(
      `${caller}: ${obj.apiVersion} ${obj.kind} is not a built-in kind; pass its descriptor: ${caller}(client, obj, mutate, { resource: ${obj.kind} })`,
    );
  }
  return found as ResourceDescriptor<T>;
}

function keyOf(obj: KubeObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

/** Replaces the contents of `target` with those of `source`, keeping `target`'s apiVersion and kind if `source` has none. */
function replaceContents(target: KubeObject, source: KubeObject): void {
  const { apiVersion, kind } = target;
  for (const key of Object.keys(target)) delete (target as Record<string, unknown>)[key];
  Object.assign(target, source);
  target.apiVersion ??= apiVersion;
  target.kind ??= kind;
}

async function mutateChecked<T extends KubeObject>(obj: T, mutate: MutateFn<T>): Promise<void> {
  const before = keyOf(obj);
  await mutate(obj);
  const after = keyOf(obj);
  if (after !== before) throw new MutateKeyError(before, after);
}

function writeOptionsOf<T extends KubeObject>(options: CreateOrUpdateOptions<T>): WriteOptions {
  const { resource: _resource, ...write } = options;
  return write;
}

/**
 * Reads the object named by `obj`, lets `mutate` set the desired state on it, and writes it back only if that
 * changed anything: controller-runtime's CreateOrUpdate. When the object does not exist, `mutate` runs on `obj`
 * as given and it is created.
 *
 * ```ts
 * const dep: Deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: ns } };
 * const result = await createOrUpdate(client, dep, (d) => {
 *   d.spec = { ...desiredSpec };
 *   setControllerReference(widget, d);
 * });
 * ```
 *
 * Guarantees: `obj` is changed in place: after the call it holds what the API server answered (or, when
 * `unchanged`, what was read). No write is sent when `mutate` leaves the object deep-equal to what was read.
 *
 * Errors: those of the client (a 409 conflict when the object changed since it was read, typically because the
 * cache was behind: let the reconcile fail and retry); {@link MutateKeyError} when `mutate` changes the name or
 * namespace; {@link UnknownResourceError} for a custom kind without `options.resource`; whatever `mutate` throws.
 *
 * Caveats: reads go through the client, so with the manager's client they come from the cache. The comparison is
 * of JSON values: a quantity written as `1000m` where the server stores `1` differs every time, and so causes an
 * update every time; write values in the server's canonical form. Defaulted fields the server fills in must not be
 * cleared by `mutate` (set fields one by one rather than replacing `spec` wholesale) or every call updates.
 */
export async function createOrUpdate<T extends KubeObject>(
  client: Client,
  obj: T,
  mutate: MutateFn<T>,
  options: CreateOrUpdateOptions<T> = {},
): Promise<OperationResult> {
  const write = writeOptionsOf(options);
  if (await createIfAbsent(client, obj, mutate, options, write, 'createOrUpdate')) return 'created';
  const before = structuredClone(obj);
  await mutateChecked(obj, mutate);
  if (jsonEqual(before, obj)) return 'unchanged';
  replaceContents(obj, await client.update(obj, write));
  return 'updated';
}

/**
 * The shared start of createOrUpdate and createOrPatch: reads the live object into `obj` and returns false, or, when
 * there is none, mutates `obj`, creates it (the answer replaces `obj`'s contents) and returns true.
 */
async function createIfAbsent<T extends KubeObject>(
  client: Client,
  obj: T,
  mutate: MutateFn<T>,
  options: CreateOrUpdateOptions<T>,
  write: ReturnType<typeof writeOptionsOf>,
  caller: string,
): Promise<boolean> {
  const resource = resolveResource(obj, options.resource, caller);
  const key = { namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' };
  try {
    replaceContents(obj, await client.get(resource, key, { ...(write.signal && { signal: write.signal }) }));
    return false;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  await mutateChecked(obj, mutate);
  replaceContents(obj, await client.create(obj, write));
  return true;
}

/**
 * Like {@link createOrUpdate}, but writes changes as JSON merge patches of what `mutate` changed: one for the object
 * without its status, and one of the status subresource if the status changed. controller-runtime's CreateOrPatch.
 * A patch sends only the difference, so it does not fail with 409 on an object that changed since it was read
 * (the trade-off: it may overwrite a concurrent change of the same field).
 *
 * Guarantees: `obj` holds the API server's answer after the call; nothing is sent for parts that did not change.
 * Returns `created`, `updated` (object only), `updatedStatus` (object and status), `updatedStatusOnly` or
 * `unchanged`.
 *
 * Errors: as {@link createOrUpdate}. When the object patch succeeds and the status patch fails, the error is thrown
 * and the object change stays.
 *
 * Caveats: as {@link createOrUpdate}; a merge patch replaces lists whole. On create, the status is sent with the
 * object, and the API server drops it for kinds with a status subresource.
 */
export async function createOrPatch<T extends KubeObject>(
  client: Client,
  obj: T,
  mutate: MutateFn<T>,
  options: CreateOrUpdateOptions<T> = {},
): Promise<PatchOperationResult> {
  const write = writeOptionsOf(options);
  if (await createIfAbsent(client, obj, mutate, options, write, 'createOrPatch')) return 'created';
  const { status: beforeStatus, ...before } = structuredClone(obj) as KubeObject & { status?: unknown };
  await mutateChecked(obj, mutate);
  const { status: afterStatus, ...after } = structuredClone(obj) as KubeObject & { status?: unknown };

  let result: PatchOperationResult = 'unchanged';
  if (!jsonEqual(before, after)) {
    const patched = await client.patch(obj, mergePatch(before, after), { ...write, patchType: 'merge' });
    replaceContents(obj, patched);
    // The answer carries the stored status; put back the desired one for the status patch below.
    if (afterStatus === undefined) delete (obj as { status?: unknown }).status;
    else (obj as { status?: unknown }).status = afterStatus;
    result = 'updated';
  }
  if (!jsonEqual(beforeStatus, afterStatus)) {
    const body = { status: afterStatus === undefined ? null : mergePatch(beforeStatus, afterStatus) };
    replaceContents(obj, await client.status().patch(obj, body, { ...write, patchType: 'merge' }));
    result = result === 'updated' ? 'updatedStatus' : 'updatedStatusOnly';
  }
  return result;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Deep equality of JSON values: object keys in any order, `undefined` properties the same as absent ones. What
 * createOrUpdate compares before and after `mutate`.
 */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isPlainObject(a)) {
    if (!isPlainObject(b)) return false;
    const ak = Object.keys(a).filter((k) => a[k] !== undefined);
    const bk = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ak.length !== bk.length) return false;
    return ak.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * The JSON merge patch (RFC 7386) that turns `from` into `to`: changed fields set, removed ones `null`, lists
 * replaced whole. For two objects; anything else yields `to` itself.
 */
export function mergePatch(from: unknown, to: unknown): unknown {
  if (!isPlainObject(from) || !isPlainObject(to)) return to === undefined ? null : to;
  const patch: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(from)) {
    if (v !== undefined && to[k] === undefined) patch[k] = null;
  }
  for (const [k, v] of Object.entries(to)) {
    if (v === undefined || jsonEqual(from[k], v)) continue;
    patch[k] = isPlainObject(v) && isPlainObject(from[k]) ? mergePatch(from[k], v) : v;
  }
  return patch;
}

// ---------------------------------------------------------------------------------------------------------------------
// Status conditions (metav1.Condition)

/** A condition to set: metav1.Condition with `message` optional (`''`) and `lastTransitionTime` optional (now). */
export interface ConditionInput {
  /** CamelCase type: `Ready`, `Available`, `Degraded`. */
  type: string;
  status: 'True' | 'False' | 'Unknown';
  /** CamelCase, programmatic: `MinimumReplicasAvailable`. Must not be empty for the API server. */
  reason: string;
  /** Human-readable detail. Default: `''`. */
  message?: string;
  /** The `metadata.generation` the condition was computed from. */
  observedGeneration?: number;
  /** Default: now, when the condition is new or its status changes. */
  lastTransitionTime?: string;
}

/** A metav1.Time for now: RFC 3339 in UTC, to the second. */
function nowTime(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Sets a condition in a list of metav1.Conditions, in place (apimachinery's meta.SetStatusCondition): adds it when
 * no condition has its type, else updates status, reason, message and observedGeneration. Returns whether the list
 * changed.
 *
 * Guarantees: `lastTransitionTime` changes only when the condition is added or its status changes (to the given
 * time, or now); a condition whose status stays keeps its time even when its reason or message change. The list
 * keeps its order; a new condition goes last.
 */
export function setStatusCondition(conditions: metav1.Condition[], condition: ConditionInput): boolean {
  const existing = conditions.find((c) => c.type === condition.type);
  if (!existing) {
    conditions.push({
      type: condition.type,
      status: condition.status,
      reason: condition.reason,
      message: condition.message ?? '',
      lastTransitionTime: condition.lastTransitionTime || nowTime(),
      ...(condition.observedGeneration !== undefined && { observedGeneration: condition.observedGeneration }),
    });
    return true;
  }
  let changed = false;
  if (existing.status !== condition.status) {
    existing.status = condition.status;
    existing.lastTransitionTime = condition.lastTransitionTime || nowTime();
    changed = true;
  }
  if (existing.reason !== condition.reason) {
    existing.reason = condition.reason;
    changed = true;
  }
  const message = condition.message ?? '';
  if (existing.message !== message) {
    existing.message = message;
    changed = true;
  }
  if ((existing.observedGeneration ?? 0) !== (condition.observedGeneration ?? 0)) {
    if (condition.observedGeneration === undefined) delete existing.observedGeneration;
    else existing.observedGeneration = condition.observedGeneration;
    changed = true;
  }
  return changed;
}

/** The condition of that type, or undefined. Works on cached (read-only) lists and on an absent list. */
export function findStatusCondition<C extends { readonly type: string }>(conditions: readonly C[] | undefined, type: string): C | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Removes the condition of that type, in place. Returns whether the list changed. */
export function removeStatusCondition(conditions: metav1.Condition[], type: string): boolean {
  const i = conditions.findIndex((c) => c.type === type);
  if (i < 0) return false;
  conditions.splice(i, 1);
  return true;
}

type ConditionList = readonly { readonly type: string; readonly status: string }[] | undefined;

/** True when the condition of that type is present with that status. */
export function isStatusConditionPresentAndEqual(conditions: ConditionList, type: string, status: 'True' | 'False' | 'Unknown'): boolean {
  return findStatusCondition(conditions, type)?.status === status;
}

/** True when the condition of that type is present and `True`. */
export function isStatusConditionTrue(conditions: ConditionList, type: string): boolean {
  return isStatusConditionPresentAndEqual(conditions, type, 'True');
}

/** True when the condition of that type is present and `False` (absent or `Unknown` is neither true nor false). */
export function isStatusConditionFalse(conditions: ConditionList, type: string): boolean {
  return isStatusConditionPresentAndEqual(conditions, type, 'False');
}
