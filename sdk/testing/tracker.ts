import { randomUUID } from 'node:crypto';
import {
  ArgumentError,
  jsonEqual,
  type DeleteCollectionOptions,
  type DeleteOptions,
  type KubeList,
  type KubeObject,
  type ListOptions,
  type PatchType,
  type ResourceDescriptor,
  type Watch,
  type WatchEvent,
  type WatchOptions,
  validateObject,
} from '../client/index.js';
import { applyConfig, recordUpdate, withoutManagedFieldTimes, type WriteContext } from './internal/fields.js';
import { isObject, jsonCopy, type JsonObject } from './internal/json.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './internal/patch.js';
import { ResourceRegistry, type ResourceInfo } from './internal/resources.js';
import { parseFieldSelector, parseLabels } from './internal/selectors.js';
import {
  alreadyExists,
  applyConflict,
  badRequest,
  conflict,
  expired,
  internalError,
  invalid,
  invalidFields,
  methodNotAllowed,
  notFound,
  statusError,
  unsupportedMediaType,
  type Subject,
} from './internal/status.js';

export type { ResourceInfo };

/** Options of {@link ObjectTracker}. */
export interface ObjectTrackerOptions {
  /** Custom resources to serve besides the built-in ones (`defineResource(…)` descriptors). Default: none. */
  resources?: readonly ResourceDescriptor[];
  /** Wall-clock time for creationTimestamp, deletionTimestamp and managedFields. Default: `() => new Date()`. */
  now?: () => Date;
  /** The field manager of writes that name none (the real server derives it from the User-Agent). Default: `kubeloop`. */
  defaultFieldManager?: string;
}

/** Options of a write as the tracker sees them. */
export interface TrackerWriteOptions {
  dryRun?: readonly string[] | undefined;
  fieldManager?: string | undefined;
  /** `status` for the status subresource; undefined for the object itself. */
  subresource?: string | undefined;
}

export interface TrackerPatchOptions extends TrackerWriteOptions {
  patchType: PatchType;
  force?: boolean | undefined;
}

interface Change {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: JsonObject;
  previous: JsonObject | undefined;
}

interface Bucket {
  objects: Map<string, JsonObject>;
  log: Change[];
  wakers: Set<(err?: unknown) => void>;
}

const initialEventsEnd = 'k8s.io/initial-events-end';
/** Ends a watch normally (as opposed to with an error). */
const endMarker = Symbol('end');
const timestamp = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');
const generateSuffix = (): string => {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  for (let i = 0; i < 5; i++) out += alphabet[Math.floor(Math.random() * alphabet.length)];
  return out;
};

const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Kinds whose names are path segments rather than DNS names. */
const pathSegmentNameKinds = new Set([
  'rbac.authorization.k8s.io/Role',
  'rbac.authorization.k8s.io/ClusterRole',
  'rbac.authorization.k8s.io/RoleBinding',
  'rbac.authorization.k8s.io/ClusterRoleBinding',
]);

function metaOf(obj: JsonObject): JsonObject {
  let m = obj['metadata'];
  if (!isObject(m)) {
    m = {};
    obj['metadata'] = m;
  }
  return m as JsonObject;
}

/** apiVersion, kind and metadata first, as the server writes them. */
function ordered(obj: JsonObject): JsonObject {
  const { apiVersion, kind, metadata, ...rest } = obj;
  return {
    ...(apiVersion !== undefined && { apiVersion }),
    ...(kind !== undefined && { kind }),
    ...(metadata !== undefined && { metadata }),
    ...rest,
  };
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function finalizersOf(obj: JsonObject): string[] {
  const f = metaOf(obj)['finalizers'];
  return Array.isArray(f) ? (f.filter((x) => typeof x === 'string') as string[]) : [];
}

/**
 * An in-memory API server's storage: objects by resource, namespace and name, with the server's write rules. What the
 * fake client, its Clientset and DynamicClient views, and informers built on them all read and write.
 *
 * Guarantees (as kube-apiserver does):
 * - One resourceVersion counter for every resource; each stored change increments it. A write that changes nothing
 *   stores nothing, keeps the resourceVersion and sends no watch event.
 * - create fills `uid`, `creationTimestamp`, `resourceVersion`, `generation` (for kinds that have one), a name from
 *   `generateName`; answers 409 AlreadyExists, 422 for a missing or malformed name, 400 for a namespace that differs
 *   from the request's; drops `status` of kinds with a status subresource.
 * - update and patch answer 404 for a missing object and 409 Conflict for a stale `metadata.resourceVersion`; custom
 *   resources require one on update (422), built-in kinds do not. `generation` grows with each change outside
 *   metadata and status (Deployments: annotations too). Status is a subresource where the kind has one: writes of
 *   the object leave it alone, status writes change nothing else.
 * - delete of an object with finalizers sets `deletionTimestamp` (and grows `generation`) instead of removing it;
 *   removing the last finalizer removes it. No finalizer may be added once deletion started (422).
 * - A custom resource made by `defineCustomResource` is checked against its schema on create, update and patch
 *   (`validateObject`: types, formats, bounds, enums, required fields, CEL rules including transition rules) and
 *   refused with the server's 422 and field causes.
 *   `propagationPolicy: 'Foreground'` and `'Orphan'` add the `foregroundDeletion` and `orphan` finalizers.
 * - `managedFields` record each field manager's fields; server-side apply conflicts (409, naming field and manager),
 *   forces, and removes fields a manager stops applying.
 * - Watches replay history from a resourceVersion (410 Expired before a {@link compact}), filter by namespace and
 *   selectors (an object leaving a selector is DELETED, entering it ADDED), and serve WatchList (`sendInitialEvents`).
 *
 * Caveats: no admission, no defaulting (schema defaults included), no pruning of unknown fields, and no validation
 * beyond names and custom resources' schemas, so objects come back as they were sent (the server would fill defaults such as a Deployment's `strategy`); no garbage collector (owner references are kept,
 * dependents are never deleted), no namespace lifecycle (objects can be created in namespaces that do not exist),
 * no version conversion (each group-version of a kind is stored apart), field selectors accept any field path, lists
 * ignore `resourceVersion` and pages are not a snapshot, and watches send no periodic bookmarks.
 */
export class ObjectTracker {
  readonly registry: ResourceRegistry;
  private readonly buckets = new Map<string, Bucket>();
  private rv = 1;
  private compactedRv = 0;
  private readonly now: () => Date;
  private readonly defaultFieldManager: string;

  constructor(options: ObjectTrackerOptions = {}) {
    this.registry = new ResourceRegistry(options.resources ?? []);
    this.now = options.now ?? (() => new Date());
    this.defaultFieldManager = options.defaultFieldManager ?? 'kubeloop';
  }

  /** The latest resourceVersion: that of the last stored change. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  private bucket(info: ResourceInfo): Bucket {
    let b = this.buckets.get(info.key);
    if (!b) {
      b = { objects: new Map(), log: [], wakers: new Set() };
      this.buckets.set(info.key, b);
    }
    return b;
  }

  private subject(info: ResourceInfo, name?: string): Subject {
    return { group: info.group, plural: info.plural, kind: info.kind, ...(name !== undefined && { name }) };
  }

  private keyOf(info: ResourceInfo, namespace: string, name: string): string {
    return info.namespaced ? `${namespace}/${name}` : name;
  }

  private stamp(): string {
    return timestamp(this.now());
  }

  private apiVersionOf(info: ResourceInfo): string {
    return info.group ? `${info.group}/${info.version}` : info.version;
  }

  /** Records a change: bumps the resourceVersion, stores, and wakes watches. Returns a copy of what was stored. */
  private store(
    info: ResourceInfo,
    type: Change['type'],
    obj: JsonObject,
    previous: JsonObject | undefined,
  ): JsonObject {
    const b = this.bucket(info);
    this.rv++;
    const stored = ordered(jsonCopy(obj));
    metaOf(stored)['resourceVersion'] = String(this.rv);
    const key = this.keyOf(info, str(metaOf(stored)['namespace']) ?? '', str(metaOf(stored)['name']) ?? '');
    if (type === 'DELETED') b.objects.delete(key);
    else b.objects.set(key, stored);
    b.log.push({ rv: this.rv, type, object: stored, previous });
    for (const wake of b.wakers) wake();
    return jsonCopy(stored);
  }

  private writeContext(info: ResourceInfo, options: TrackerWriteOptions): WriteContext {
    return {
      manager: options.fieldManager || this.defaultFieldManager,
      subresource: options.subresource,
      builtin: info.builtin,
      apiVersion: this.apiVersionOf(info),
      now: this.stamp(),
    };
  }

  private checkVerb(info: ResourceInfo, verb: string): void {
    const verbs = info.descriptor.verbs;
    if (verbs && !verbs.includes(verb)) throw methodNotAllowed();
  }

  private checkSubresource(info: ResourceInfo, subresource: string | undefined): void {
    if (subresource === undefined) return;
    if (
      subresource !== 'status' ||
      !(info.descriptor.subresources ?? (info.builtin ? [] : ['status'])).includes('status')
    ) {
      throw statusError(404, 'the server could not find the requested resource', { details: {} });
    }
  }

  private checkNamespace(info: ResourceInfo, namespace: string, obj?: JsonObject): void {
    if (info.namespaced && !namespace) throw methodNotAllowed();
    if (obj && info.namespaced) {
      const own = str(metaOf(obj)['namespace']);
      if (own && own !== namespace)
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
  }

  private checkType(info: ResourceInfo, obj: JsonObject): void {
    const apiVersion = str(obj['apiVersion']);
    const kind = str(obj['kind']);
    if ((apiVersion && apiVersion !== this.apiVersionOf(info)) || (kind && kind !== info.kind)) {
      throw badRequest(
        `the API version in the data (${apiVersion ?? ''}) and kind (${kind ?? ''}) do not match the resource ${this.apiVersionOf(info)}, ${info.kind}`,
      );
    }
  }

  /** A custom resource whose descriptor carries a schema (`defineCustomResource`) is checked as the server checks it (422). */
  private checkSchema(info: ResourceInfo, obj: JsonObject, old: JsonObject | undefined): void {
    if (info.builtin) return;
    const errors = validateObject(
      info.descriptor,
      obj as unknown as KubeObject,
      old as unknown as KubeObject | undefined,
    );
    if (errors.length) throw invalidFields(this.subject(info, str(metaOf(obj)['name']) ?? ''), errors);
  }

  private validateName(info: ResourceInfo, name: string): void {
    const subject = this.subject(info, name);
    let problem: string | undefined;
    if (name === '.' || name === '..' || name.includes('/') || name.includes('%')) {
      problem = `may not be '.' or '..' and may not contain '/' or '%'`;
    } else if (pathSegmentNameKinds.has(`${info.group}/${info.kind}`)) {
      problem = undefined;
    } else if (info.builtin && info.kind === 'Namespace') {
      if (name.length > 63 || !dns1123Label.test(name))
        problem =
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
    } else if (info.builtin && info.kind === 'Service' && info.group === '') {
      if (name.length > 63 || !dns1035Label.test(name))
        problem =
          "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
    } else if (name.length > 253 || !dns1123Subdomain.test(name)) {
      problem =
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
    }
    if (problem)
      throw invalid(
        subject,
        'metadata.name',
        'FieldValueInvalid',
        `Invalid value: ${JSON.stringify(name)}: ${problem}`,
      );
  }

  private existing(info: ResourceInfo, namespace: string, name: string): JsonObject {
    const found = this.bucket(info).objects.get(this.keyOf(info, namespace, name));
    if (!found) throw notFound(this.subject(info, name));
    return found;
  }

  // ---- reads ----------------------------------------------------------------------------------------------------

  get(info: ResourceInfo, namespace: string, name: string, subresource?: string): JsonObject {
    this.checkVerb(info, 'get');
    this.checkSubresource(info, subresource);
    if (info.namespaced && !namespace) throw notFound(this.subject(info, name));
    return jsonCopy(this.existing(info, namespace, name));
  }

  private matching(
    info: ResourceInfo,
    namespace: string,
    options: { labelSelector?: string | undefined; fieldSelector?: string | undefined },
  ) {
    const labels = parseLabels(options.labelSelector);
    const fields = parseFieldSelector(options.fieldSelector);
    return (obj: JsonObject): boolean => {
      const meta = metaOf(obj);
      if (info.namespaced && namespace && meta['namespace'] !== namespace) return false;
      return labels.matches(meta['labels'] as Record<string, string> | undefined) && fields.matches(obj);
    };
  }

  private withType(info: ResourceInfo, obj: JsonObject): JsonObject {
    return { apiVersion: this.apiVersionOf(info), kind: info.kind, ...obj };
  }

  list(info: ResourceInfo, namespace: string, options: ListOptions = {}): KubeList<KubeObject> {
    this.checkVerb(info, 'list');
    const matches = this.matching(info, namespace, options);
    const keys = [...this.bucket(info).objects.keys()].toSorted();
    let start = 0;
    if (options.continue) {
      let token: { rv?: number; after?: string } = {};
      try {
        token = JSON.parse(Buffer.from(options.continue, 'base64url').toString('utf8')) as typeof token;
      } catch {
        throw badRequest('invalid continue token');
      }
      if ((token.rv ?? 0) < this.compactedRv) {
        throw expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      start = keys.findIndex((k) => k > (token.after ?? ''));
      if (start < 0) start = keys.length;
    }
    const items: JsonObject[] = [];
    let last: string | undefined;
    let remaining = 0;
    for (let i = start; i < keys.length; i++) {
      const obj = this.bucket(info).objects.get(keys[i]!)!;
      if (!matches(obj)) continue;
      if (options.limit && items.length >= options.limit) {
        remaining++;
        continue;
      }
      items.push(this.withType(info, jsonCopy(obj)));
      last = keys[i];
    }
    const more = remaining > 0;
    const selectors = !!(options.labelSelector || options.fieldSelector);
    return {
      apiVersion: this.apiVersionOf(info),
      kind: `${info.kind}List`,
      metadata: {
        resourceVersion: String(this.rv),
        ...(more && { continue: Buffer.from(JSON.stringify({ rv: this.rv, after: last })).toString('base64url') }),
        ...(more && !selectors && { remainingItemCount: remaining }),
      },
      items: items as KubeObject[],
    };
  }

  // ---- writes ---------------------------------------------------------------------------------------------------

  /**
   * Puts an object in as a test's starting state: like create, but keeps the `uid`, `creationTimestamp`,
   * `generation`, `deletionTimestamp` and `status` it has. Throws an `ArgumentError` (`ERR_KUBE_INVALID_ARGUMENT`, a
   * TypeError) for an object without apiVersion, kind
   * or name, of a resource the tracker does not know, or with a `deletionTimestamp` and no finalizers (the server
   * would have removed it). Returns the stored object (a copy), typed as given.
   */
  add<T extends KubeObject>(object: T): T & KubeObject {
    const obj = jsonCopy(object) as JsonObject;
    const apiVersion = str(obj['apiVersion']);
    const kind = str(obj['kind']);
    if (!apiVersion || !kind)
      throw new ArgumentError(`a starting object needs apiVersion and kind: ${JSON.stringify(object.metadata ?? {})}`);
    const info = this.registry.forKind(apiVersion, kind);
    if (!info)
      throw new ArgumentError(
        `the fake serves no resource of kind ${kind} (${apiVersion}): pass its descriptor in \`resources\``,
      );
    const meta = metaOf(obj);
    const name = str(meta['name']);
    if (!name) throw new ArgumentError(`a starting ${kind} needs metadata.name`);
    const namespace = info.namespaced ? (str(meta['namespace']) ?? '') : '';
    if (info.namespaced && !namespace)
      throw new ArgumentError(`the starting ${kind} ${name} needs metadata.namespace (${kind} is namespaced)`);
    if (!info.namespaced) delete meta['namespace'];
    if (meta['deletionTimestamp'] && finalizersOf(obj).length === 0) {
      throw new ArgumentError(
        `the starting ${kind} ${name} has a deletionTimestamp but no finalizers: the API server would have removed it`,
      );
    }
    const key = this.keyOf(info, namespace, name);
    const previous = this.bucket(info).objects.get(key);
    meta['uid'] ??= randomUUID();
    meta['creationTimestamp'] ??= this.stamp();
    if (info.generation) meta['generation'] ??= 1;
    delete meta['resourceVersion'];
    return this.store(info, previous ? 'MODIFIED' : 'ADDED', obj, previous) as unknown as T & KubeObject;
  }

  create(info: ResourceInfo, namespace: string, object: unknown, options: TrackerWriteOptions = {}): JsonObject {
    this.checkVerb(info, 'create');
    if (!isObject(object)) throw badRequest('the body of a create must be an object');
    const obj = jsonCopy(object);
    this.checkNamespace(info, namespace, obj);
    this.checkType(info, obj);
    const meta = metaOf(obj);
    if (meta['resourceVersion']) throw internalError('resourceVersion should not be set on objects to be created');
    let name = str(meta['name']);
    if (!name) {
      const prefix = str(meta['generateName']);
      if (!prefix) {
        throw invalid(
          this.subject(info, ''),
          'metadata.name',
          'FieldValueRequired',
          'Required value: name or generateName is required',
        );
      }
      name = `${prefix}${generateSuffix()}`;
    }
    this.validateName(info, name);
    if (this.bucket(info).objects.has(this.keyOf(info, namespace, name))) throw alreadyExists(this.subject(info, name));
    obj['apiVersion'] = this.apiVersionOf(info);
    obj['kind'] = info.kind;
    meta['name'] = name;
    if (info.namespaced) meta['namespace'] = namespace;
    else delete meta['namespace'];
    meta['uid'] = randomUUID();
    meta['creationTimestamp'] = this.stamp();
    delete meta['deletionTimestamp'];
    delete meta['deletionGracePeriodSeconds'];
    delete meta['managedFields'];
    if (info.generation) meta['generation'] = 1;
    else delete meta['generation'];
    if (info.statusSubresource) delete obj['status'];
    this.checkSchema(info, obj, undefined);
    recordUpdate(undefined, obj, this.writeContext(info, options), info.statusSubresource);
    if (options.dryRun?.length) return obj;
    return this.store(info, 'ADDED', obj, undefined);
  }

  update(info: ResourceInfo, namespace: string, object: unknown, options: TrackerWriteOptions = {}): JsonObject {
    this.checkVerb(info, 'update');
    this.checkSubresource(info, options.subresource);
    if (!isObject(object)) throw badRequest('the body of an update must be an object');
    const obj = jsonCopy(object);
    this.checkNamespace(info, namespace, obj);
    this.checkType(info, obj);
    const name = str(metaOf(obj)['name']) ?? '';
    const current = this.existing(info, namespace, name);
    const rv = str(metaOf(obj)['resourceVersion']);
    if (!rv && !info.builtin) {
      throw invalid(
        this.subject(info, name),
        'metadata.resourceVersion',
        'FieldValueInvalid',
        'Invalid value: 0: must be specified for an update',
      );
    }
    if (rv && rv !== metaOf(current)['resourceVersion']) throw conflict(this.subject(info, name));
    const uid = str(metaOf(obj)['uid']);
    if (uid && uid !== metaOf(current)['uid']) {
      throw conflict(
        this.subject(info, name),
        `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${str(metaOf(current)['uid']) ?? ''}`,
      );
    }
    return this.commit(info, current, obj, options, false);
  }

  /**
   * The rest of every write of an existing object: what the object may not change, status as a subresource,
   * finalizer rules, generation, managed fields, then store (or nothing, when nothing changed).
   */
  private commit(
    info: ResourceInfo,
    current: JsonObject,
    proposed: JsonObject,
    options: TrackerWriteOptions,
    managedAlready: boolean,
  ): JsonObject {
    const status = options.subresource === 'status';
    const name = str(metaOf(current)['name']) ?? '';
    let next: JsonObject;
    if (status) {
      next = jsonCopy(current);
      if (proposed['status'] === undefined) delete next['status'];
      else next['status'] = jsonCopy(proposed['status']);
      if (managedAlready) metaOf(next)['managedFields'] = metaOf(proposed)['managedFields'];
    } else {
      next = jsonCopy(proposed);
      if (info.statusSubresource) {
        if (current['status'] === undefined) delete next['status'];
        else next['status'] = jsonCopy(current['status']);
      }
      const meta = metaOf(next);
      const was = metaOf(current);
      for (const field of [
        'name',
        'namespace',
        'uid',
        'creationTimestamp',
        'deletionTimestamp',
        'deletionGracePeriodSeconds',
        'generation',
      ]) {
        if (was[field] === undefined) delete meta[field];
        else meta[field] = was[field];
      }
      if (!managedAlready) meta['managedFields'] = was['managedFields'];
    }
    next['apiVersion'] = this.apiVersionOf(info);
    next['kind'] = info.kind;
    const meta = metaOf(next);
    meta['resourceVersion'] = metaOf(current)['resourceVersion'];

    if (metaOf(current)['deletionTimestamp']) {
      const before = new Set(finalizersOf(current));
      const added = finalizersOf(next).filter((f) => !before.has(f));
      if (added.length > 0) {
        throw invalid(
          this.subject(info, name),
          'metadata.finalizers',
          'FieldValueForbidden',
          `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
        );
      }
    }
    if (info.generation && typeof metaOf(current)['generation'] === 'number' && this.specChanged(info, current, next)) {
      meta['generation'] = (metaOf(current)['generation'] as number) + 1;
    }
    this.checkSchema(info, next, current);
    if (!managedAlready) recordUpdate(current, next, this.writeContext(info, options), info.statusSubresource);
    if (jsonEqual(withoutManagedFieldTimes(next), withoutManagedFieldTimes(current))) return jsonCopy(current);
    if (options.dryRun?.length) return next;
    if (metaOf(current)['deletionTimestamp'] && finalizersOf(next).length === 0) {
      // The last finalizer went: the server deletes the stored object instead of writing this state. Watches see one
      // DELETED event (of the last stored state); the caller gets the state it asked for.
      this.store(info, 'DELETED', current, current);
      return next;
    }
    return this.store(info, 'MODIFIED', next, current);
  }

  private specChanged(info: ResourceInfo, before: JsonObject, after: JsonObject): boolean {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const key of keys) {
      if (key === 'apiVersion' || key === 'kind' || key === 'metadata') continue;
      if (key === 'status' && info.statusSubresource) continue;
      if (!jsonEqual(before[key], after[key])) return true;
    }
    if (info.builtin && info.group === 'apps' && info.kind === 'Deployment') {
      return !jsonEqual(metaOf(before)['annotations'], metaOf(after)['annotations']);
    }
    return false;
  }

  patch(info: ResourceInfo, namespace: string, name: string, body: unknown, options: TrackerPatchOptions): JsonObject {
    this.checkVerb(info, 'patch');
    this.checkSubresource(info, options.subresource);
    if (info.namespaced && !namespace) throw notFound(this.subject(info, name));
    if (options.patchType === 'apply') return this.apply(info, namespace, name, body, options);
    if (options.patchType === 'strategic' && !info.builtin) {
      throw unsupportedMediaType([
        'application/json-patch+json',
        'application/merge-patch+json',
        'application/apply-patch+yaml',
      ]);
    }
    const current = this.existing(info, namespace, name);
    let patched: unknown;
    switch (options.patchType) {
      case 'json':
        patched = applyJsonPatch(current, body);
        break;
      case 'merge':
        if (!isObject(body)) throw badRequest('a merge patch must be a JSON object');
        patched = applyMergePatch(current, body);
        break;
      case 'strategic':
        patched = applyStrategicMergePatch(current, body, true);
        break;
    }
    if (!isObject(patched)) throw statusError(422, 'the patch did not produce an object');
    const rv = str(metaOf(patched)['resourceVersion']);
    if (rv && rv !== metaOf(current)['resourceVersion']) throw conflict(this.subject(info, name));
    return this.commit(info, current, patched, options, false);
  }

  private apply(
    info: ResourceInfo,
    namespace: string,
    name: string,
    body: unknown,
    options: TrackerPatchOptions,
  ): JsonObject {
    if (!isObject(body)) throw badRequest('an apply patch must be an object');
    const apiVersion = str(body['apiVersion']);
    const kind = str(body['kind']);
    if (!apiVersion || !kind) throw badRequest(`invalid object type: ${apiVersion ?? ''}, Kind=${kind ?? ''}`);
    this.checkType(info, body);
    const meta = isObject(body['metadata']) ? body['metadata'] : {};
    if (str(meta['name']) !== name)
      throw badRequest(
        `the name of the object (${str(meta['name']) ?? ''}) does not match the name on the URL (${name})`,
      );
    this.checkNamespace(info, namespace, body);
    if (!options.fieldManager) throw badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be set');
    const ctx = this.writeContext(info, options);
    const current = this.bucket(info).objects.get(this.keyOf(info, namespace, name));
    if (!current) {
      if (options.subresource === 'status') throw notFound(this.subject(info, name));
      const result = applyConfig(undefined, body, ctx, {
        force: !!options.force,
        statusIsSubresource: info.statusSubresource,
      });
      if ('conflicts' in result) throw applyConflict(result.conflicts);
      const created = result.object;
      const cmeta = metaOf(created);
      cmeta['name'] = name;
      if (info.namespaced) cmeta['namespace'] = namespace;
      for (const field of ['generateName', 'uid', 'resourceVersion'])
        if (meta[field] !== undefined) cmeta[field] = meta[field];
      return this.createApplied(info, namespace, created, options);
    }
    const rv = str(meta['resourceVersion']);
    if (rv && rv !== metaOf(current)['resourceVersion']) throw conflict(this.subject(info, name));
    const result = applyConfig(current, body, ctx, {
      force: !!options.force,
      statusIsSubresource: info.statusSubresource,
    });
    if ('conflicts' in result) throw applyConflict(result.conflicts);
    return this.commit(info, current, result.object, options, true);
  }

  private createApplied(
    info: ResourceInfo,
    namespace: string,
    obj: JsonObject,
    options: TrackerWriteOptions,
  ): JsonObject {
    const meta = metaOf(obj);
    const name = str(meta['name']) ?? '';
    this.validateName(info, name);
    if (meta['resourceVersion']) throw internalError('resourceVersion should not be set on objects to be created');
    obj['apiVersion'] = this.apiVersionOf(info);
    obj['kind'] = info.kind;
    if (info.namespaced) meta['namespace'] = namespace;
    meta['uid'] = randomUUID();
    meta['creationTimestamp'] = this.stamp();
    if (info.generation) meta['generation'] = 1;
    if (info.statusSubresource) delete obj['status'];
    this.checkSchema(info, obj, undefined);
    if (options.dryRun?.length) return obj;
    return this.store(info, 'ADDED', obj, undefined);
  }

  delete(info: ResourceInfo, namespace: string, name: string, options: DeleteOptions = {}): JsonObject | undefined {
    this.checkVerb(info, 'delete');
    if (info.namespaced && !namespace) throw notFound(this.subject(info, name));
    const current = this.existing(info, namespace, name);
    const meta = metaOf(current);
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== meta['uid']) {
      throw conflict(
        { ...this.subject(info, name), plural: info.kind, group: '' },
        `the UID in the precondition (${pre.uid}) does not match the UID in record (${str(meta['uid']) ?? ''}). The object might have been deleted and then recreated`,
      );
    }
    if (pre?.resourceVersion && pre.resourceVersion !== meta['resourceVersion']) {
      throw conflict(
        { ...this.subject(info, name), plural: info.kind, group: '' },
        `the ResourceVersion in the precondition (${pre.resourceVersion}) does not match the ResourceVersion in record (${str(meta['resourceVersion']) ?? ''}). The object might have been modified`,
      );
    }
    const dryRun = !!options.dryRun?.length;
    const finalizers = finalizersOf(current);
    if (!meta['deletionTimestamp']) {
      const extra =
        options.propagationPolicy === 'Foreground'
          ? 'foregroundDeletion'
          : options.propagationPolicy === 'Orphan'
            ? 'orphan'
            : undefined;
      const wanted = extra && !finalizers.includes(extra) ? [...finalizers, extra] : finalizers;
      if (wanted.length > 0) {
        const next = jsonCopy(current);
        const nmeta = metaOf(next);
        nmeta['finalizers'] = wanted;
        nmeta['deletionTimestamp'] = this.stamp();
        nmeta['deletionGracePeriodSeconds'] = 0;
        if (typeof nmeta['generation'] === 'number' && nmeta['generation'] > 0) nmeta['generation'] += 1;
        return dryRun ? next : this.store(info, 'MODIFIED', next, current);
      }
    } else if (finalizers.length > 0) {
      return jsonCopy(current);
    }
    if (dryRun) return jsonCopy(current);
    this.store(info, 'DELETED', current, current);
    return undefined;
  }

  deleteCollection(info: ResourceInfo, namespace: string, options: DeleteCollectionOptions = {}): void {
    this.checkVerb(info, 'deletecollection');
    const matches = this.matching(info, namespace, options);
    const { labelSelector: _l, fieldSelector: _f, ...deleteOptions } = options;
    for (const obj of this.bucket(info).objects.values()) {
      if (!matches(obj)) continue;
      const meta = metaOf(obj);
      this.delete(info, str(meta['namespace']) ?? '', str(meta['name']) ?? '', deleteOptions);
    }
  }

  /** Forgets the history up to now: watches from an older resourceVersion, and older continue tokens, get 410. */
  compact(): void {
    this.compactedRv = this.rv;
    for (const b of this.buckets.values()) b.log.length = 0;
  }

  /** Ends every open watch (normally, as the server's `timeoutSeconds` does, or with `err`). */
  endWatches(err?: unknown): void {
    for (const b of this.buckets.values()) for (const wake of b.wakers) wake(err ?? endMarker);
  }

  // ---- watch ----------------------------------------------------------------------------------------------------

  watch(info: ResourceInfo, namespace: string, options: WatchOptions = {}): Watch<KubeObject> {
    this.checkVerb(info, 'watch');
    const matches = this.matching(info, namespace, options);
    if (
      options.sendInitialEvents &&
      (!options.allowWatchBookmarks || options.resourceVersionMatch !== 'NotOlderThan')
    ) {
      throw invalid(
        { group: 'meta.k8s.io', plural: 'ListOptions', kind: 'ListOptions', name: '' },
        'sendInitialEvents',
        'FieldValueForbidden',
        'Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true and resourceVersionMatch to NotOlderThan',
      );
    }
    const closer = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, closer.signal]) : closer.signal;
    const events = (): AsyncGenerator<WatchEvent<KubeObject>, void, undefined> =>
      this.watchEvents(info, options, matches, signal);

    let iterator: AsyncGenerator<WatchEvent<KubeObject>, void, undefined> | undefined;
    return {
      [Symbol.asyncIterator]: () => {
        iterator = events();
        return iterator;
      },
      close() {
        closer.abort();
      },
      async [Symbol.asyncDispose]() {
        closer.abort();
        await iterator?.return(undefined);
      },
    };
  }

  private async *watchEvents(
    info: ResourceInfo,
    options: WatchOptions,
    matches: (o: JsonObject) => boolean,
    signal: AbortSignal,
  ): AsyncGenerator<WatchEvent<KubeObject>, void, undefined> {
    await Promise.resolve();
    const bucket = this.bucket(info);
    let ended: { err: unknown } | undefined;
    let wake: (() => void) | undefined;
    const waker = (err?: unknown): void => {
      if (err !== undefined) ended = { err: err === endMarker ? undefined : err };
      wake?.();
    };
    const onAbort = (): void => wake?.();
    const timer =
      options.timeoutSeconds !== undefined && options.timeoutSeconds > 0
        ? setTimeout(() => waker(endMarker), options.timeoutSeconds * 1000).unref()
        : undefined;
    bucket.wakers.add(waker);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      let from: number;
      const rvText = options.resourceVersion ?? '';
      if (options.sendInitialEvents || rvText === '' || rvText === '0') {
        from = this.rv;
        for (const key of [...bucket.objects.keys()].toSorted()) {
          const obj = bucket.objects.get(key);
          if (obj && matches(obj)) yield { type: 'ADDED', object: this.withType(info, jsonCopy(obj)) as KubeObject };
        }
        if (options.sendInitialEvents) {
          yield {
            type: 'BOOKMARK',
            object: {
              apiVersion: this.apiVersionOf(info),
              kind: info.kind,
              metadata: { resourceVersion: String(from), annotations: { [initialEventsEnd]: 'true' } },
            },
          };
        }
      } else {
        from = Number(rvText);
        if (!Number.isFinite(from)) throw badRequest(`invalid resource version: ${rvText}`);
        if (from < this.compactedRv) throw expired(`too old resource version: ${from} (${this.compactedRv})`);
      }
      for (;;) {
        if (signal.aborted) {
          if (options.signal?.aborted) throw options.signal.reason;
          return;
        }
        if (ended) {
          if (ended.err !== undefined) throw ended.err;
          return;
        }
        const next = bucket.log.find((c) => c.rv > from);
        if (!next) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
          wake = undefined;
          continue;
        }
        from = next.rv;
        const event = this.filtered(info, next, matches);
        if (event) yield event;
      }
    } finally {
      if (timer) clearTimeout(timer);
      bucket.wakers.delete(waker);
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** A change as a watch with these filters sees it (the watch cache's rules). */
  private filtered(
    info: ResourceInfo,
    change: Change,
    matches: (o: JsonObject) => boolean,
  ): WatchEvent<KubeObject> | undefined {
    const now = change.type !== 'DELETED' && matches(change.object);
    const before = change.previous !== undefined && matches(change.previous);
    const typed = (o: JsonObject): KubeObject => this.withType(info, jsonCopy(o)) as KubeObject;
    if (change.type === 'ADDED') return now ? { type: 'ADDED', object: typed(change.object) } : undefined;
    if (change.type === 'DELETED') return before ? { type: 'DELETED', object: typed(change.object) } : undefined;
    if (now && before) return { type: 'MODIFIED', object: typed(change.object) };
    if (now) return { type: 'ADDED', object: typed(change.object) };
    if (before) {
      const gone = typed(change.previous!);
      gone.metadata = { ...gone.metadata, resourceVersion: String(change.rv) };
      return { type: 'DELETED', object: gone };
    }
    return undefined;
  }

  /** Every stored object, or those of one resource: copies, for assertions. */
  objects(resource?: ResourceInfo): KubeObject[] {
    const infos = resource
      ? [resource]
      : [...this.buckets.keys()].map((k) => this.registryByKey(k)).filter((i): i is ResourceInfo => !!i);
    return infos.flatMap((info) =>
      [...this.bucket(info).objects.entries()]
        .toSorted(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([, o]) => this.withType(info, jsonCopy(o)) as KubeObject),
    );
  }

  private registryByKey(key: string): ResourceInfo | undefined {
    const [group, version, plural] = key.split('/');
    return this.registry.resolve({ group: group ?? '', version: version ?? '', plural: plural ?? '' });
  }
}
