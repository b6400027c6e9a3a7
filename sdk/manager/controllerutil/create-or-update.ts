// createOrUpdate and createOrPatch: read a child, let `mutate` set its desired state, write only what changed. Part of
// controllerutil (../controllerutil.ts).
import {
  isNotFound,
  jsonEqual,
  KubeloopError,
  type KubeObject,
  type ResourceDescriptor,
  type WriteOptions,
} from '../../client/index.js';
import type { Client } from '../client-types.js';
import { mergePatch } from './json-merge.js';
import { resolveResource } from './resource.js';

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
    super(
      'ERR_MUTATE_CHANGED_KEY',
      `mutate changed the object's namespace/name from ${JSON.stringify(before)} to ${JSON.stringify(after)}; it must not`,
    );
  }
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
