import {
  ApiError,
  TransportError,
  type KubeList,
  type KubeObject,
  type ListOptions,
  type Status,
  type Watch,
  type WatchEvent,
  type WatchOptions,
} from '../client/index.js';
import { metaNamespaceKey } from './store.js';
import type { ListerWatcher } from './types.js';

interface Logged<T> {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  obj: T;
}

interface OpenWatch {
  wake: () => void;
  end: (err?: unknown) => void;
}

export interface FakeListerWatcherOptions {
  /** Answer WatchList requests (`sendInitialEvents`) instead of rejecting them with 422. Default: true. */
  watchList?: boolean;
}

const noop = (): void => undefined;

function status(code: number, reason: string, message: string): Status {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message };
}

/**
 * An in-memory API server for one resource, for unit tests of code built on reflectors and informers (client-go's
 * FakeControllerSource). Changes get increasing resourceVersions; `list` answers pages with continue tokens; `watch`
 * replays changes after the asked resourceVersion and then streams new ones; `compact` makes older resourceVersions
 * answer 410; `breakWatches` and `failNext` inject failures. Objects are copied in and out.
 */
export class FakeListerWatcher<T extends KubeObject> implements ListerWatcher<T> {
  private readonly items = new Map<string, T>();
  private readonly log: Logged<T>[] = [];
  private rv = 1;
  private compactedRv = 0;
  private readonly open = new Set<OpenWatch>();
  private readonly failures: { verb: 'list' | 'watch'; err: unknown }[] = [];
  private readonly watchList: boolean;
  private tokenGeneration = 0;
  /** Every list and watch call's options, in order. */
  readonly calls: { verb: 'list' | 'watch'; options: ListOptions | WatchOptions }[] = [];

  constructor(options: FakeListerWatcherOptions = {}) {
    this.watchList = options.watchList ?? true;
  }

  /** The current resourceVersion. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Watches currently open. */
  get openWatches(): number {
    return this.open.size;
  }

  private record(type: Logged<T>['type'], obj: T): T {
    this.rv++;
    const copy = structuredClone(obj);
    copy.metadata = { ...copy.metadata, resourceVersion: String(this.rv) };
    const key = metaNamespaceKey(copy);
    if (type === 'DELETED') this.items.delete(key);
    else this.items.set(key, copy);
    this.log.push({ rv: this.rv, type, obj: copy });
    for (const w of this.open) w.wake();
    return structuredClone(copy);
  }

  add(obj: T): T {
    return this.record('ADDED', obj);
  }

  modify(obj: T): T {
    return this.record('MODIFIED', obj);
  }

  delete(obj: T): T {
    const key = metaNamespaceKey(obj);
    const last = this.items.get(key);
    return this.record('DELETED', last ?? obj);
  }

  /** Forgets every change up to now: watches from an older resourceVersion get 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.log.length = 0;
  }

  /** Makes outstanding continue tokens expire (410). */
  expireContinueTokens(): void {
    this.tokenGeneration++;
  }

  /** The next `list` or `watch` call fails with `err`. */
  failNext(verb: 'list' | 'watch', err: unknown): void {
    this.failures.push({ verb, err });
  }

  /** Ends every open watch: with `err`, or normally (as the server's timeoutSeconds does). */
  breakWatches(err?: unknown): void {
    for (const w of this.open) w.end(err ?? new TransportError('connection reset by the fake'));
  }

  endWatches(): void {
    for (const w of this.open) w.end();
  }

  private takeFailure(verb: 'list' | 'watch'): unknown {
    const i = this.failures.findIndex((f) => f.verb === verb);
    if (i < 0) return undefined;
    return this.failures.splice(i, 1)[0]!.err;
  }

  async list(options: ListOptions): Promise<KubeList<T>> {
    this.calls.push({ verb: 'list', options });
    await Promise.resolve();
    options.signal?.throwIfAborted();
    const failure = this.takeFailure('list');
    if (failure !== undefined) throw failure;
    const all = [...this.items.values()];
    let start = 0;
    let listRv = this.rv;
    if (options.continue) {
      const [gen, offset, rv] = options.continue.split(':').map(Number);
      if (gen !== this.tokenGeneration) throw ApiError.fromStatus(status(410, 'Expired', 'continue token expired'));
      start = offset ?? 0;
      listRv = rv ?? this.rv;
    }
    const end = options.limit ? Math.min(all.length, start + options.limit) : all.length;
    const more = end < all.length;
    return {
      apiVersion: 'v1',
      kind: 'List',
      metadata: {
        resourceVersion: String(listRv),
        ...(more && { continue: `${this.tokenGeneration}:${end}:${listRv}` }),
      },
      items: structuredClone(all.slice(start, end)),
    };
  }

  /**
   * The start of a watch: fails as asked, or with 410 for a compacted resourceVersion; with sendInitialEvents, yields
   * every object and the initial-events-end bookmark. Returns the resourceVersion the watch goes on from.
   */
  private async *watchStart(options: WatchOptions, failure: unknown): AsyncGenerator<WatchEvent<T>, number, undefined> {
    await Promise.resolve();
    if (failure !== undefined) throw failure;
    if (options.sendInitialEvents && !this.watchList) {
      throw ApiError.fromStatus(status(422, 'Invalid', 'sendInitialEvents is not supported'));
    }
    if (options.sendInitialEvents) {
      const from = this.rv;
      for (const obj of this.items.values()) yield { type: 'ADDED', object: structuredClone(obj) };
      yield {
        type: 'BOOKMARK',
        object: {
          metadata: { resourceVersion: String(from), annotations: { 'k8s.io/initial-events-end': 'true' } },
        } as unknown as T,
      };
      return from;
    }
    const from = Number(options.resourceVersion || this.rv);
    if (from < this.compactedRv) {
      throw ApiError.fromStatus(status(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`));
    }
    return from;
  }

  watch(options: WatchOptions): Watch<T> {
    this.calls.push({ verb: 'watch', options });
    const failure = this.takeFailure('watch');
    const closer = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, closer.signal]) : closer.signal;
    let wake: () => void = noop;
    let ended: { err: unknown } | undefined;
    const onAbort = (): void => {
      wake();
    };
    const handle: OpenWatch = {
      wake: () => wake(),
      end: (err?: unknown) => {
        ended = { err };
        wake();
      },
    };
    const events = async function* (this: FakeListerWatcher<T>): AsyncGenerator<WatchEvent<T>, void, undefined> {
      let from = yield* this.watchStart(options, failure);
      this.open.add(handle);
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        for (;;) {
          if (signal.aborted) {
            if (options.signal?.aborted) throw options.signal.reason;
            return;
          }
          if (ended) {
            if (ended.err !== undefined) throw ended.err;
            return;
          }
          const next = this.log.find((e) => e.rv > from);
          if (next) {
            from = next.rv;
            yield { type: next.type, object: structuredClone(next.obj) };
            continue;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
      } finally {
        this.open.delete(handle);
        signal.removeEventListener('abort', onAbort);
      }
    };

    let iterator: AsyncGenerator<WatchEvent<T>, void, undefined> | undefined;
    return {
      [Symbol.asyncIterator]: () => {
        iterator = events.call(this);
        return iterator;
      },
      close() {
        closer.abort();
        wake();
      },
      async [Symbol.asyncDispose]() {
        closer.abort();
        wake();
        await iterator?.return(undefined);
      },
    };
  }
}
