import {
  AlreadyStartedError,
  ApiError,
  hasErrorCode,
  isGone,
  isKubeloopError,
  isNotFound,
  type KubeList,
  type KubeObject,
  type ListOptions,
  type Watch,
  type WatchEvent,
} from '../client/index.js';
import { Backoff, sleep, type BackoffOptions } from './backoff.js';
import { metaNamespaceKey } from './store.js';
import type { CacheLogger, InformerError, InformerHealth, ListerWatcher, ListWatchHints } from './types.js';

/**
 * Where a reflector writes: a store, an informer that turns each write into notifications, or a DeltaFIFO. Each
 * call is made synchronously, in the order the API server sent the changes.
 */
export interface ReflectorStore<T> {
  /**
   * Optional: each object of an initial state (a WatchList's initial events, each LIST page) as it arrives, before the
   * `replace` that hands it over; returns what `replace` receives in its place, or undefined to leave it out. An
   * informer transforms here, so what it does not keep (managedFields) is garbage at once instead of being held until
   * the whole list is in: a WatchList's peak memory stays near the size of the cache it builds.
   */
  prepare?(obj: T): T | undefined;
  /** The whole content after a list (or a WatchList's initial events), at `resourceVersion`. */
  replace(items: T[], resourceVersion: string): void;
  add(obj: T): void;
  update(obj: T): void;
  delete(obj: T): void;
}

/** How the reflector gets the initial state. */
export type InitialListStrategy = 'auto' | 'watch-list' | 'list';

export interface ReflectorOptions<T extends KubeObject> {
  listerWatcher: ListerWatcher<T>;
  store: ReflectorStore<T>;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * `'watch-list'`: stream the initial state through a watch (`sendInitialEvents=true`), which keeps client memory flat;
   * `'list'`: paginated LIST; `'auto'`: WatchList, falling back to LIST for good when the server rejects it (400/422),
   * and for one attempt after any other WatchList failure. Default: `'auto'`.
   */
  initialList?: InitialListStrategy;
  /** Page size of LIST; 0 lists in one request. Default: 500. */
  pageSize?: number;
  /** Client-side timeout of each LIST request. Default: 60000. */
  listTimeoutMs?: number;
  /**
   * A watch that receives nothing (no event, no bookmark) for this long is presumed dead (a half-open connection)
   * and replaced. The API server sends a bookmark about once a minute on a quiet watch, so keep this well above 60 s.
   * 0 disables the watchdog. Default: 300000 (5 min).
   */
  inactivityTimeoutMs?: number;
  /** Each watch asks the server to end it after a random time in [this, 2 × this) seconds. Default: 300. */
  minWatchTimeoutSeconds?: number;
  /** Delays between failed attempts, a 410 Gone included. Default: 800 ms doubling to 30 s, jitter 1.0, reset after 2 min healthy (client-go's). */
  backoff?: BackoffOptions;
  /** Names the reflector in logs: e.g. `configmaps`. */
  name?: string;
  logger?: CacheLogger;
  /** Passed on to the ListerWatcher's calls: see {@link ListWatchHints}. The informers set it from their transform. */
  dropsManagedFields?: boolean;
}

const initialEventsEnd = 'k8s.io/initial-events-end';

/**
 * Gives the event loop back (a timer turn) before the next watch: every failure already waits through the backoff, and
 * this keeps a lister and watcher that answer at once (a fake, an in-memory source) from starving timers and I/O.
 */
const yieldToEventLoop = (signal: AbortSignal): Promise<void> => sleep(0, signal);

/** Thrown inside the reflector when a watch ends without events too soon: treated as a failure (backoff). */
class ShortWatchError extends Error {}

/**
 * Keeps a store in step with one resource on the API server: lists, then watches from the list's resourceVersion.
 *
 * Guarantees: the store's content equals the server's at some resourceVersion, and follows it in order. A (re)list
 * replaces the content in one step. After a watch ends (its `timeoutSeconds`, a dropped connection, a restarted API
 * server) the reflector resumes from the last resourceVersion it saw (events and bookmarks), so nothing is missed or
 * repeated.
 *
 * Recovery: 410 Gone, as an HTTP answer or an in-stream ERROR event, means the resourceVersion is too old: the
 * reflector waits through its backoff, then relists (a consistent read, `resourceVersion=""`, so the relist cannot be
 * too old itself); like client-go, whose ListAndWatch returns on a 410 and whose BackoffUntil then waits, a server that
 * answers every watch with 410 gets at most one LIST per backoff step (800 ms doubling to 30 s). Any
 * other failure (network, 403, 5xx, a stalled watch) waits per the backoff and retries: a failed watch resumes from
 * the same resourceVersion, a failed list lists again. The reflector never gives up. A 404 on a list or watch means the
 * API server does not serve the resource (a CRD not installed yet, or deleted while watched): the reflector parks
 * (`waitingForResource` in its health), keeps the store as it is, retries per the backoff, and relists once the
 * resource is served again, so the store (and an informer's handlers) get every object of the new resource.
 *
 * Errors: none are thrown; each failure is recorded in {@link Reflector.health} (`lastError`, `consecutiveFailures`)
 * and logged at debug level. `start` resolves when the signal aborts.
 *
 * Caveats: a WatchList or a page-less LIST holds the whole initial state in memory once before it replaces the store;
 * with pagination only the pages received so far are held. The watchdog (`inactivityTimeoutMs`) closes a silent watch
 * and opens another; whether that one gets a fresh connection is the transport's business (kubeloop's gives each
 * watch a connection of its own; over one shared HTTP/2 connection, a dead connection would stall the new watch too
 * until the transport dropped it). Default timings are client-go's: LIST pages of 500, watches of 5–10 min, backoff 800 ms
 * to 30 s; the 5 min watchdog is kubeloop's own (client-go has none) and stays clear of the about-once-a-minute
 * bookmarks of a quiet watch.
 */
export class Reflector<T extends KubeObject> {
  private readonly lw: ListerWatcher<T>;
  private readonly store: ReflectorStore<T>;
  private readonly options: ReflectorOptions<T>;
  private readonly backoff: Backoff;
  private readonly logger: CacheLogger | undefined;
  private useWatchList: boolean;
  private resourceVersion = '';
  /** The next attempt lists (or WatchLists) instead of resuming the watch. */
  private needList = true;
  /** The message of the last list/watch failure, so a repeat is logged at debug level only. */
  private lastFailure: string | undefined;
  private started = false;
  private state = {
    synced: false,
    watching: false,
    lastEventAt: undefined as number | undefined,
    lists: 0,
    consecutiveFailures: 0,
    lastError: undefined as InformerError | undefined,
    waitingForResource: false,
  };

  constructor(options: ReflectorOptions<T>) {
    this.lw = options.listerWatcher;
    this.store = options.store;
    this.options = options;
    this.backoff = new Backoff(options.backoff);
    this.logger = options.logger;
    this.useWatchList = (options.initialList ?? 'auto') !== 'list';
  }

  /** The resourceVersion of the last list, event or bookmark applied. */
  lastSyncResourceVersion(): string {
    return this.resourceVersion;
  }

  health(): InformerHealth {
    const s = this.state;
    return {
      synced: s.synced,
      watching: s.watching,
      lastEventAgeMs: s.lastEventAt === undefined ? undefined : Date.now() - s.lastEventAt,
      relists: Math.max(0, s.lists - 1),
      consecutiveFailures: s.consecutiveFailures,
      lastError: s.lastError,
      resourceVersion: this.resourceVersion,
      waitingForResource: s.waitingForResource,
    };
  }

  /** Lists and watches until `signal` aborts; never rejects. Can run once. */
  async start(signal: AbortSignal): Promise<void> {
    if (this.started) throw new AlreadyStartedError('reflector', 'a Reflector can be started once');
    this.started = true;
    while (!signal.aborted) {
      try {
        if (this.needList) {
          // A WatchList that synced and then ended normally goes on as a plain watch from its resourceVersion.
          if (this.useWatchList && (await this.watchList(signal))) {
            await yieldToEventLoop(signal);
            continue;
          }
          if (this.needList) await this.list(signal);
        }
        await this.watch(signal);
        this.lastFailure = undefined;
        await yieldToEventLoop(signal);
      } catch (err) {
        if (signal.aborted) break;
        const delay = this.backoff.next();
        if (isGone(err)) {
          // The resourceVersion is too old (or a continue token expired): relist from a consistent read, after the
          // backoff, as client-go does (its ListAndWatch returns and BackoffUntil waits): a server that answers every
          // watch with 410 gets one LIST per backoff step, not a relist storm.
          this.logger?.debug(
            { reflector: this.options.name, err, delayMs: Math.round(delay) },
            'resourceVersion expired; relisting',
          );
          this.resourceVersion = '';
          this.needList = true;
          await sleep(delay, signal);
          continue;
        }
        if (isNotFound(err)) {
          // The resource is not served (its CRD is absent): wait, then list afresh once it is back. The resourceVersion
          // of a deleted resource's watch means nothing to a new one.
          if (!this.state.waitingForResource) {
            this.logger?.warn(
              { reflector: this.options.name, err },
              'the resource is not served (CRD not installed?); waiting for it',
            );
          }
          this.state.waitingForResource = true;
          this.lastFailure = undefined;
          this.resourceVersion = '';
          this.needList = true;
          await sleep(delay, signal);
          continue;
        }
        // A new kind of failure (a 403, an unreachable server) is a warning; the same one again is debug noise.
        const message = (err as Error | undefined)?.message ?? String(err);
        const log = message === this.lastFailure ? this.logger?.debug : this.logger?.warn;
        this.lastFailure = message;
        log?.call(
          this.logger,
          { reflector: this.options.name, err, delayMs: Math.round(delay) },
          'list/watch failed; retrying',
        );
        await sleep(delay, signal);
      }
    }
    this.state.watching = false;
  }

  private fail(err: unknown, during: 'list' | 'watch'): void {
    const info: InformerError = {
      message: err instanceof Error ? err.message : String(err),
      during,
      atMs: Date.now(),
      error: err,
    };
    if (isKubeloopError(err)) info.code = err.code;
    if (hasErrorCode(err, 'ERR_KUBE_API')) {
      const api = err as ApiError;
      info.statusCode = api.statusCode;
      if (api.reason) info.reason = api.reason;
    }
    this.state.lastError = info;
    this.state.consecutiveFailures++;
  }

  private succeeded(): void {
    this.state.lastError = undefined;
    this.state.consecutiveFailures = 0;
  }

  private watchTimeoutSeconds(): number {
    const min = this.options.minWatchTimeoutSeconds ?? 300;
    return Math.floor(min * (1 + Math.random()));
  }

  /** The selectors of every list and watch, and the hints for the ListerWatcher. */
  private selectors(): Pick<ListOptions, 'labelSelector' | 'fieldSelector'> & ListWatchHints {
    return {
      ...(this.options.labelSelector && { labelSelector: this.options.labelSelector }),
      ...(this.options.fieldSelector && { fieldSelector: this.options.fieldSelector }),
      ...(this.options.dropsManagedFields && { dropsManagedFields: true }),
    };
  }

  /** An object of an initial state, as the store wants it kept (see {@link ReflectorStore.prepare}). */
  private prepare(obj: T): T | undefined {
    return this.store.prepare ? this.store.prepare(obj) : obj;
  }

  private replaced(items: T[], resourceVersion: string): void {
    this.resourceVersion = resourceVersion;
    this.needList = false;
    this.state.lists++;
    this.state.lastEventAt = Date.now();
    this.store.replace(items, resourceVersion);
    this.state.synced = true;
    this.state.waitingForResource = false;
    this.succeeded();
  }

  /** A paginated LIST, then `replace`. On a 410 for a continue token, one LIST without pages. */
  private async list(signal: AbortSignal): Promise<void> {
    const pageSize = this.options.pageSize ?? 500;
    const timeoutMs = this.options.listTimeoutMs ?? 60_000;
    const base: ListOptions = { ...this.selectors(), signal, timeoutMs, resourceVersion: '' };
    let items: T[] = [];
    let list: KubeList<T>;
    const keep = (page: T[]): void => {
      for (const item of page) {
        const kept = this.prepare(item);
        if (kept !== undefined) items.push(kept);
      }
    };
    try {
      list = await this.lw.list({ ...base, ...(pageSize > 0 && { limit: pageSize }) });
      keep(list.items);
      while (list.metadata.continue) {
        try {
          list = await this.lw.list({
            ...base,
            limit: pageSize,
            continue: list.metadata.continue,
            resourceVersion: undefined,
          });
        } catch (err) {
          if (!isGone(err) || signal.aborted) throw err;
          // The continue token expired: the whole list in one request instead, as client-go does.
          list = await this.lw.list(base);
          items = [];
          keep(list.items);
          break;
        }
        keep(list.items);
      }
    } catch (err) {
      if (!signal.aborted) this.fail(err, 'list');
      throw err;
    }
    this.replaced(items, list.metadata.resourceVersion ?? '');
  }

  /**
   * A WatchList: the initial state as ADDED events, a bookmark marking its end, then changes on the same stream.
   * Returns false when LIST should be used instead (the server does not support WatchList, or this attempt failed
   * before the initial state was complete); returns true when the stream ended normally after its initial phase;
   * throws when it failed after its initial phase.
   */
  private async watchList(signal: AbortSignal): Promise<boolean> {
    // The initial state in arrival order, handed to the store as it is (the store keys each object once). The server
    // sends only ADDED events before the bookmark; should a change come too, the objects are keyed here from then on.
    let initial: T[] = [];
    let keyed: Map<string, T> | undefined;
    let done = false;
    const w = this.lw.watch({
      ...this.selectors(),
      signal,
      resourceVersion: '',
      resourceVersionMatch: 'NotOlderThan',
      sendInitialEvents: true,
      allowWatchBookmarks: true,
      timeoutSeconds: this.watchTimeoutSeconds(),
      inactivityTimeoutMs: this.options.inactivityTimeoutMs ?? 300_000,
    });
    this.state.watching = true;
    try {
      await this.consume(w, signal, (event) => {
        if (done) return false;
        const obj = event.object;
        if (event.type === 'BOOKMARK') {
          if (obj.metadata?.annotations?.[initialEventsEnd] === 'true') {
            done = true;
            const items = keyed ? [...keyed.values()] : initial;
            initial = [];
            keyed = undefined;
            this.replaced(items, obj.metadata.resourceVersion ?? '');
          }
          return true;
        }
        if (event.type === 'ADDED' && !keyed) {
          const kept = this.prepare(obj);
          if (kept !== undefined) initial.push(kept);
          return true;
        }
        keyed ??= new Map(initial.map((o): [string, T] => [metaNamespaceKey(o), o]));
        if (event.type === 'DELETED') {
          keyed.delete(metaNamespaceKey(obj));
        } else {
          const kept = this.prepare(obj);
          if (kept === undefined) keyed.delete(metaNamespaceKey(obj));
          else keyed.set(metaNamespaceKey(obj), kept);
        }
        return true;
      });
    } catch (err) {
      this.state.watching = false;
      if (signal.aborted) throw err;
      if (done) {
        this.fail(err, 'watch');
        throw err;
      }
      if (isNotFound(err)) {
        // The resource is not served: a LIST would get the same 404, so the reflector parks at once.
        this.fail(err, 'list');
        throw err;
      }
      if (err instanceof ApiError && (err.statusCode === 400 || err.statusCode === 422 || err.statusCode === 406)) {
        this.logger?.debug({ reflector: this.options.name, err }, 'the server does not support WatchList; using LIST');
        this.useWatchList = false;
      }
      return false;
    }
    this.state.watching = false;
    if (signal.aborted) return false;
    if (!done) {
      // The stream ended before the initial state was complete: a server that ignores sendInitialEvents.
      this.useWatchList = false;
      return false;
    }
    return true;
  }

  /** Watches from the current resourceVersion until the stream ends (normally: resolves; otherwise throws). */
  private async watch(signal: AbortSignal): Promise<void> {
    const opened = Date.now();
    const w = this.lw.watch({
      ...this.selectors(),
      signal,
      resourceVersion: this.resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: this.watchTimeoutSeconds(),
      inactivityTimeoutMs: this.options.inactivityTimeoutMs ?? 300_000,
    });
    this.state.watching = true;
    let events = 0;
    try {
      events = await this.consume(w, signal, () => false);
    } catch (err) {
      this.state.watching = false;
      if (!signal.aborted) this.fail(err, 'watch');
      throw err;
    }
    this.state.watching = false;
    if (signal.aborted) return;
    // A watch the server ended at once, with nothing in it, is a failure in disguise: do not spin.
    if (events === 0 && Date.now() - opened < 1000) {
      const err = new ShortWatchError('the watch ended at once without events');
      this.fail(err, 'watch');
      throw err;
    }
    this.succeeded();
  }

  /**
   * Applies a watch's events to the store; `intercept` sees each first and returns false to let the reflector apply
   * it. Returns the number of events (bookmarks included).
   */
  private async consume(
    w: Watch<T>,
    signal: AbortSignal,
    intercept: (event: WatchEvent<T>) => boolean,
  ): Promise<number> {
    let count = 0;
    /** Applies one event; false once the signal aborted. */
    const apply = (event: WatchEvent<T>): boolean => {
      if (signal.aborted) return false;
      count++;
      if (count === 1) this.succeeded();
      const rv = event.object?.metadata?.resourceVersion;
      if (intercept(event)) return true;
      switch (event.type) {
        case 'ADDED':
          this.store.add(event.object);
          break;
        case 'MODIFIED':
          this.store.update(event.object);
          break;
        case 'DELETED':
          this.store.delete(event.object);
          break;
        case 'BOOKMARK':
          break;
        default:
          this.logger?.warn({ reflector: this.options.name, type: String(event.type) }, 'unknown watch event type');
          return true;
      }
      if (rv) this.resourceVersion = rv;
      return true;
    };
    try {
      // One await per chunk where the watch offers batches (kubeloop's client does), else one per event.
      if (w.batches) {
        outer: for await (const batch of w.batches()) {
          this.state.lastEventAt = Date.now();
          for (const event of batch) if (!apply(event)) break outer;
        }
      } else {
        for await (const event of w) {
          this.state.lastEventAt = Date.now();
          if (!apply(event)) break;
        }
      }
    } finally {
      w.close();
    }
    return count;
  }
}
