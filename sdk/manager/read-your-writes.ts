import { KubeloopError, objectKey, type KubeObject, type ResourceDescriptor } from '../client/index.js';
import type { DeepReadonly } from '../cache/index.js';

/** Options of the manager client's reads of its own writes (`createManager({ client: { readYourOwnWrites } })`). */
export interface ReadYourOwnWritesOptions {
  /**
   * How long a cached read waits for the cache to reach a write made through the same client before it fails with
   * `ERR_READ_YOUR_WRITES_TIMEOUT`. The read's own `signal` may end it sooner. Default: 10000.
   */
  timeoutMs?: number;
}

/**
 * Orders two resourceVersions: negative, zero or positive as `a` is older than, the same as or newer than `b`;
 * `undefined` when either is not a decimal integer.
 *
 * resourceVersions are opaque strings in Kubernetes' contract, but every API server backed by etcd (kube-apiserver,
 * and aggregated servers built on its storage) hands out etcd revisions: decimal integers that grow with every write.
 * kubeloop relies on that where it can tell, and falls back to equality where it cannot (see {@link ReadYourWrites}).
 */
export function compareResourceVersions(a: string, b: string): number | undefined {
  if (!/^\d+$/.test(a) || !/^\d+$/.test(b)) return undefined;
  // Compare as decimal strings: revisions outgrow 2^53 in theory, and this avoids BigInt on a hot path.
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** What the cache holds for one resource in one namespace scope, as the waits see it. */
export interface CacheView {
  /** The cached object of a key (`namespace/name`, or `name` when cluster-scoped). */
  get(key: string): DeepReadonly<KubeObject> | undefined;
  /** The resourceVersion of the last list or watch event the informer applied to its store. */
  resourceVersion(): string;
}

/** A write the cache has to reach before a read of its key may answer. */
interface Pending {
  /** The resourceVersion the write returned ('' when unknown). */
  resourceVersion: string;
  uid?: string | undefined;
  /** A delete that removed the object: the read waits for it to leave the cache. */
  deleted: boolean;
  /** performance.now() of the write, for pruning entries nobody read. */
  at: number;
}

const resourceKey = (r: ResourceDescriptor): string => `${r.group}/${r.version}/${r.plural}`;
/** The object's key in the informer of `r`: a cluster-scoped resource's objects have no namespace. */
const keyIn = (r: ResourceDescriptor, namespace: string, name: string): string =>
  objectKey({ ...(r.namespaced && { namespace }), name });

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Remembers the writes made through the manager's client, and makes cached reads of them wait until the informer
 * cache has caught up: controller-runtime's read-your-own-writes client.
 *
 * Guarantees: after a create, update, patch, apply or status write through the client resolves, a cached `get` of that
 * object returns that write or a newer state, and a cached `list` of the resource (in a scope that holds the object)
 * includes it, once the informer has applied an event at least as new as the write's resourceVersion. After a delete,
 * a `get` never returns the deleted object alive (the same uid, not terminating) and a `list` never
 * includes it alive: reads wait until the cache has it gone, or terminating when finalizers keep it.
 *
 * Errors: a read that waits longer than `timeoutMs` rejects with `ERR_READ_YOUR_WRITES_TIMEOUT` (a reconcile that gets
 * it is retried with backoff, by when the cache has usually caught up); a read whose signal aborts rejects with the
 * signal's reason.
 *
 * Caveats: the order of resourceVersions is assumed from etcd (decimal integers, see {@link compareResourceVersions}).
 * When the server hands out anything else, a read waits for the exact resourceVersion of the write, the object's
 * removal or a new uid; if another writer changed the object meanwhile, it cannot tell, and answers from the cache as
 * it is once `timeoutMs` has passed instead of failing. Writes made by other clients, or through `{ uncached: true }`
 * reads' APIs, are not tracked. Entries nobody reads are forgotten after twice `timeoutMs`.
 */
export class ReadYourWrites {
  private readonly pending = new Map<string, Map<string, Pending>>();
  private readonly timeoutMs: number;
  private prunedAt = -Infinity;

  constructor(options: ReadYourOwnWritesOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs < 0) {
      throw new KubeloopError(
        'ERR_MANAGER_OPTIONS',
        `client.readYourOwnWrites.timeoutMs must be a number ≥ 0, not ${String(options.timeoutMs)}`,
      );
    }
  }

  /** Records the server's answer to a create, update, patch or apply. */
  wrote(resource: ResourceDescriptor, written: KubeObject | undefined): void {
    const meta = written?.metadata;
    if (!meta?.name || !meta.resourceVersion) return;
    this.record(resource, meta.namespace ?? '', meta.name, {
      resourceVersion: meta.resourceVersion,
      uid: meta.uid,
      deleted: false,
    });
  }

  /**
   * Records a delete of `obj` (as the caller passed it: its uid, when set, says which object it meant). The read then
   * waits until the cache no longer holds that object alive: it is gone, replaced by another uid, or terminating (its
   * finalizers keep it). Without a uid, a cached object of that name may be a new one: the read waits for it to go
   * and, at `timeoutMs`, answers from the cache as it is.
   */
  deleted(resource: ResourceDescriptor, obj: KubeObject): void {
    const name = obj.metadata?.name;
    if (!name) return;
    this.record(resource, obj.metadata?.namespace ?? '', name, {
      resourceVersion: obj.metadata?.resourceVersion ?? '',
      uid: obj.metadata?.uid,
      deleted: true,
    });
  }

  private record(resource: ResourceDescriptor, namespace: string, name: string, entry: Omit<Pending, 'at'>): void {
    const id = resourceKey(resource);
    let byKey = this.pending.get(id);
    if (!byKey) {
      byKey = new Map();
      this.pending.set(id, byKey);
    }
    const now = performance.now();
    // Insertion order is write order: forget entries nobody read for a long time, oldest first (at most once a
    // second: a write is on a reconcile's hot path).
    if (now - this.prunedAt >= 1000) {
      this.prunedAt = now;
      const horizon = now - Math.max(2 * this.timeoutMs, 1000);
      for (const [key, old] of byKey) {
        if (old.at >= horizon) break;
        byKey.delete(key);
      }
    }
    const key = keyIn(resource, namespace, name);
    byKey.delete(key);
    byKey.set(key, { resourceVersion: entry.resourceVersion, uid: entry.uid, deleted: entry.deleted, at: now });
  }

  /** Whether reads of the resource may have to wait (cheap: no waits when nothing was written). */
  has(resource: ResourceDescriptor): boolean {
    return (this.pending.get(resourceKey(resource))?.size ?? 0) > 0;
  }

  /** Whether a read of one object may have to wait: the client wrote it and the cache was not seen to reach it. */
  mayWait(resource: ResourceDescriptor, namespace: string, name: string): boolean {
    const byKey = this.pending.get(resourceKey(resource));
    return byKey !== undefined && byKey.size > 0 && byKey.has(keyIn(resource, namespace, name));
  }

  /** Waits until `view` holds the client's last write of one object (see the class Guarantees). */
  async waitForKey(
    resource: ResourceDescriptor,
    namespace: string,
    name: string,
    view: () => Promise<CacheView>,
    signal?: AbortSignal,
  ): Promise<void> {
    const key = keyIn(resource, namespace, name);
    const entry = this.pending.get(resourceKey(resource))?.get(key);
    if (!entry) return;
    await this.waitFor(resource, [[key, entry]], () => view().then((v) => [v]), signal);
  }

  /** Waits until every write of the resource in `namespace` (`''`: all) is in the views. */
  async waitForList(
    resource: ResourceDescriptor,
    namespace: string,
    views: () => Promise<CacheView[]>,
    signal?: AbortSignal,
  ): Promise<void> {
    const byKey = this.pending.get(resourceKey(resource));
    if (!byKey?.size) return;
    const prefix = resource.namespaced && namespace ? `${namespace}/` : '';
    const entries = [...byKey].filter(([key]) => !prefix || key.startsWith(prefix));
    if (entries.length) await this.waitFor(resource, entries, views, signal);
  }

  private async waitFor(
    resource: ResourceDescriptor,
    entries: [string, Pending][],
    views: () => Promise<CacheView[]>,
    signal?: AbortSignal,
  ): Promise<void> {
    const deadline = performance.now() + this.timeoutMs;
    let remaining = entries;
    let delayMs = 1;
    for (;;) {
      const current = await views();
      remaining = remaining.filter(([key, entry]) => {
        const state = current.map((v) => reached(v, key, entry));
        if (state.includes(true)) {
          this.forget(resource, key, entry);
          return false;
        }
        return true;
      });
      if (!remaining.length) return;
      if (performance.now() >= deadline) {
        const orderable = remaining.filter(([key, entry]) => current.some((v) => reached(v, key, entry) === false));
        if (!orderable.length) return; // unorderable resourceVersions: answer from the cache as it is (Caveats)
        const [key, entry] = orderable[0]!;
        throw new KubeloopError(
          'ERR_READ_YOUR_WRITES_TIMEOUT',
          `the cache of ${resourceKey(resource)} did not reach this client's ${entry.deleted ? 'delete' : 'write'} of ${key}` +
            `${entry.resourceVersion ? ` (resourceVersion ${entry.resourceVersion})` : ''} within ${this.timeoutMs} ms; ` +
            `the informer is at resourceVersion ${current.map((v) => v.resourceVersion() || 'none').join(', ')}`,
        );
      }
      await sleep(Math.min(delayMs, Math.max(1, deadline - performance.now())), signal);
      delayMs = Math.min(delayMs * 2, 20);
    }
  }

  private forget(resource: ResourceDescriptor, key: string, entry: Pending): void {
    const byKey = this.pending.get(resourceKey(resource));
    if (byKey?.get(key) === entry) byKey.delete(key);
  }
}

/** true: the view holds the write; false: it does not yet; undefined: it cannot tell (unorderable resourceVersions). */
function reached(view: CacheView, key: string, entry: Pending): boolean | undefined {
  const cached = view.get(key);
  const cachedRv = cached?.metadata?.resourceVersion ?? '';
  if (entry.deleted) {
    if (!cached || cached.metadata?.deletionTimestamp) return true;
    if (!entry.uid) return undefined; // another object of that name may have been made since: it cannot tell
    return cached.metadata?.uid !== entry.uid;
  }
  const order = compareResourceVersions(view.resourceVersion(), entry.resourceVersion);
  if (order !== undefined) return order >= 0;
  if (cached && (cachedRv === entry.resourceVersion || (entry.uid && cached.metadata?.uid !== entry.uid))) return true;
  return undefined;
}
