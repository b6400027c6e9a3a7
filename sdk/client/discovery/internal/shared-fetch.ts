/** Waits for `promise`, or rejects with the signal's reason as soon as it aborts; the listener is always removed. */
export async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
  });
  signal.addEventListener('abort', onAbort!, { once: true });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort!);
  }
}

interface Entry<T> {
  promise: Promise<T>;
  controller: AbortController;
  waiters: number;
  settled: boolean;
}

/**
 * De-duplicates concurrent fetches of the same key: callers that ask while a fetch runs wait for that fetch. Each
 * caller's signal only ends its own wait; the fetch itself is aborted when every caller waiting for it has gone.
 */
export class SharedFetches {
  readonly #entries = new Map<string, Entry<unknown>>();

  async run<T>(key: string, fetch: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    let entry = this.#entries.get(key) as Entry<T> | undefined;
    if (!entry) {
      const controller = new AbortController();
      const created: Entry<T> = { promise: Promise.resolve(undefined as T), controller, waiters: 0, settled: false };
      created.promise = fetch(controller.signal).finally(() => {
        created.settled = true;
        if (this.#entries.get(key) === created) this.#entries.delete(key);
      });
      // A fetch whose callers all left may still reject; nobody is there to hear it.
      created.promise.catch(() => undefined);
      this.#entries.set(key, created as Entry<unknown>);
      entry = created;
    }
    const joined = entry;
    joined.waiters++;
    try {
      return await untilAborted(joined.promise, signal);
    } finally {
      joined.waiters--;
      if (joined.waiters === 0 && !joined.settled) {
        if (this.#entries.get(key) === joined) this.#entries.delete(key);
        joined.controller.abort(signal?.reason);
      }
    }
  }
}
