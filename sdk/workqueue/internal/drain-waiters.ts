/** The callers of `shutDownWithDrain` waiting for every key handed out to be done; shared by the queues. */
export class DrainWaiters {
  #waiters: (() => void)[] = [];

  /** Resolves on {@link release}; rejects with `signal.reason` if the signal aborts first. */
  wait(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters = this.#waiters.filter((waiter) => waiter !== onDrained);
        reject(signal!.reason);
      };
      const onDrained = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(onDrained);
    });
  }

  /** Resolves every waiting caller. */
  release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }
}
