import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SharedFetches, untilAborted } from './shared-fetch.js';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SharedFetches', () => {
  it('runs one fetch for concurrent callers of the same key, and a new one afterwards', async () => {
    const shared = new SharedFetches();
    let calls = 0;
    const gate = deferred<string>();
    const fetch = async (): Promise<string> => {
      calls++;
      return gate.promise;
    };
    const a = shared.run('k', fetch);
    const b = shared.run('k', fetch);
    gate.resolve('answer');
    expect(await Promise.all([a, b])).toEqual(['answer', 'answer']);
    expect(calls).toBe(1);
    await shared.run('k', fetch);
    expect(calls).toBe(2);
  });

  it("ends one caller's wait on its signal while the fetch goes on for the others", async () => {
    const shared = new SharedFetches();
    const gate = deferred<string>();
    let fetchSignal: AbortSignal | undefined;
    const fetch = async (signal: AbortSignal): Promise<string> => {
      fetchSignal = signal;
      return gate.promise;
    };
    const leaving = new AbortController();
    const a = shared.run('k', fetch, leaving.signal);
    const b = shared.run('k', fetch);
    leaving.abort(new Error('caller left'));
    await expect(a).rejects.toThrow('caller left');
    expect(fetchSignal?.aborted).toBe(false);
    gate.resolve('answer');
    expect(await b).toBe('answer');
  });

  it('aborts the fetch once every caller has left, and starts afresh for the next caller', async () => {
    const shared = new SharedFetches();
    const signals: AbortSignal[] = [];
    const fetch = (signal: AbortSignal): Promise<string> => {
      signals.push(signal);
      return new Promise((resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason as Error));
        if (signals.length > 1) resolve('second');
      });
    };
    const c1 = new AbortController();
    const c2 = new AbortController();
    const a = shared.run('k', fetch, c1.signal);
    const b = shared.run('k', fetch, c2.signal);
    c1.abort(new Error('one'));
    await expect(a).rejects.toThrow('one');
    expect(signals[0]?.aborted).toBe(false);
    c2.abort(new Error('two'));
    await expect(b).rejects.toThrow('two');
    expect(signals[0]?.aborted).toBe(true);
    expect(await shared.run('k', fetch)).toBe('second');
    expect(signals).toHaveLength(2);
  });

  it('passes a failure to every caller and forgets it', async () => {
    const shared = new SharedFetches();
    let calls = 0;
    const failing = async (): Promise<string> => {
      calls++;
      throw new Error('boom');
    };
    await expect(Promise.all([shared.run('k', failing), shared.run('k', failing)])).rejects.toThrow('boom');
    await expect(shared.run('k', failing)).rejects.toThrow('boom');
    expect(calls).toBe(2);
  });

  it('rejects at once for an already aborted signal without fetching', async () => {
    const shared = new SharedFetches();
    let calls = 0;
    await expect(
      shared.run(
        'k',
        async () => {
          calls++;
          return 1;
        },
        AbortSignal.abort(new Error('early')),
      ),
    ).rejects.toThrow('early');
    expect(calls).toBe(0);
  });
});

describe('untilAborted', () => {
  it('resolves with the promise and removes its listener', async () => {
    const controller = new AbortController();
    expect(await untilAborted(Promise.resolve(7), controller.signal)).toBe(7);
    await expect(untilAborted(Promise.reject(new Error('no')), controller.signal)).rejects.toThrow('no');
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
