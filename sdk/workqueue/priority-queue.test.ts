import { describe, expect, it } from 'vitest';
import {
  createExponentialFailureRateLimiter,
  createFakeClock,
  createPriorityQueue,
  lowPriority,
  type MetricsProvider,
  type PriorityQueue,
} from './index.js';

/** Takes every key that is ready now, marking each done, in the order handed out. */
function drainNow<K>(q: PriorityQueue<K>): K[] {
  const out: K[] = [];
  for (let key = q.tryGet(); key !== undefined; key = q.tryGet()) {
    out.push(key);
    q.done(key);
  }
  return out;
}

describe('PriorityQueue', () => {
  it('hands out higher priorities first, and keys of one priority in the order they were added', () => {
    const q = createPriorityQueue<string>();
    q.addWithOptions('low-1', { priority: lowPriority });
    q.add('mid-1');
    q.addWithOptions('high', { priority: 10 });
    q.addWithOptions('low-2', { priority: lowPriority });
    q.add('mid-2');
    expect(q.len()).toBe(5);
    expect(drainNow(q)).toEqual(['high', 'mid-1', 'mid-2', 'low-1', 'low-2']);
    expect(q.len()).toBe(0);
  });

  it('is stingy: a waiting key added again with a higher priority moves up (to the back of it), never down', () => {
    const q = createPriorityQueue<string>();
    for (const key of ['a', 'b', 'c']) q.addWithOptions(key, { priority: lowPriority });
    q.add('x');
    q.add('b'); // raised from low to 0: behind x
    q.addWithOptions('x', { priority: lowPriority }); // lower: changes nothing
    expect(q.len()).toBe(4);
    expect(drainNow(q)).toEqual(['x', 'b', 'a', 'c']);
  });

  it('processes a key re-added while processing once more after done, with the highest priority it was added with', async () => {
    const q = createPriorityQueue<string>();
    q.addWithOptions('a', { priority: lowPriority });
    const got = await q.getWithPriority();
    expect(got).toEqual({ key: 'a', priority: lowPriority });
    q.addWithOptions('a', { priority: lowPriority });
    q.addWithOptions('a', { priority: 5 });
    q.add('a');
    expect(q.len()).toBe(0);
    expect(q.tryGet()).toBeUndefined();
    q.add('b');
    q.done('a');
    expect(q.len()).toBe(2);
    expect(await q.getWithPriority()).toEqual({ key: 'a', priority: 5 });
    expect(await q.getWithPriority()).toEqual({ key: 'b', priority: 0 });
  });

  it('hands a key to a get() already waiting, and waiters are served first come first served', async () => {
    const q = createPriorityQueue<string>();
    const first = q.getWithPriority();
    const second = q.get();
    q.addWithOptions('a', { priority: 3 });
    q.add('b');
    expect(await first).toEqual({ key: 'a', priority: 3 });
    expect(await second).toBe('b');
  });

  it('rejects a get() whose signal aborts, without losing the next key or piling up waiters', async () => {
    const q = createPriorityQueue<string>();
    for (let i = 0; i < 50; i++) {
      const controller = new AbortController();
      const p = q.get({ signal: controller.signal });
      controller.abort(new Error('stop'));
      await expect(p).rejects.toThrow('stop');
    }
    const waiting = q.get();
    q.add('a');
    expect(await waiting).toBe('a');
  });

  it('adds a delayed key when due with the highest priority it was delayed with, the earlier of two times', () => {
    const clock = createFakeClock();
    const q = createPriorityQueue<string>({ clock });
    q.addWithOptions('later', { afterMs: 100, priority: lowPriority });
    q.addWithOptions('later', { afterMs: 50, priority: 7 });
    q.addAfter('later', 500); // keeps 50 ms
    q.add('now');
    clock.advance(49);
    expect(q.len()).toBe(1);
    clock.advance(1);
    expect(q.len()).toBe(2);
    expect(drainNow(q)).toEqual(['later', 'now']);
  });

  it('retries with the rate limiter on addRateLimited and addWithOptions({ rateLimited }), and forget starts over', () => {
    const clock = createFakeClock();
    const q = createPriorityQueue<string>({
      clock,
      rateLimiter: createExponentialFailureRateLimiter({ baseDelayMs: 10 }),
    });
    q.addRateLimited('a');
    clock.advance(9);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(drainNow(q)).toEqual(['a']);
    q.addWithOptions('a', { rateLimited: true, priority: 2 });
    expect(q.numRequeues('a')).toBe(2);
    clock.advance(19);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
  });

  it('shuts down: waiting get() resolves undefined, queued and delayed keys are dropped, add is ignored', async () => {
    const clock = createFakeClock();
    const q = createPriorityQueue<string>({ clock });
    q.add('a');
    q.addAfter('b', 10);
    const held = q.tryGet()!;
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add('c');
    clock.advance(10);
    expect(q.len()).toBe(0);
    expect(await q.get()).toBeUndefined();
    expect(clock.pendingTimers()).toBe(0);
    // shutDownWithDrain waits for the key handed out.
    let drained = false;
    const drain = q.shutDownWithDrain().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    q.add(held); // re-added while processing during shutdown: not requeued
    q.done(held);
    await drain;
    expect(drained).toBe(true);
    expect(q.len()).toBe(0);
  });

  it("reports the plain queue's series under the same names", () => {
    const clock = createFakeClock();
    const calls: string[] = [];
    const series = (name: string) => ({
      inc: () => calls.push(`${name} inc`),
      dec: () => calls.push(`${name} dec`),
      set: () => undefined,
      observe: (v: number) => calls.push(`${name} observe ${v}`),
    });
    const provider: MetricsProvider = {
      newQueueMetrics: () => ({
        depth: series('depth'),
        adds: series('adds'),
        latency: series('latency'),
        workDuration: series('workDuration'),
        unfinishedWorkSeconds: series('unfinished'),
        longestRunningProcessorSeconds: series('longest'),
        retries: series('retries'),
      }),
    };
    const q = createPriorityQueue<string>({
      name: 'widgets',
      metricsProvider: provider,
      clock,
      unfinishedWorkUpdatePeriodMs: 10_000,
    });
    q.addWithOptions('a', { priority: lowPriority });
    q.add('a'); // raised, not a new add
    clock.advance(1000);
    q.tryGet();
    clock.advance(500);
    q.done('a');
    q.addAfter('b', 10);
    expect(calls).toEqual([
      'adds inc',
      'depth inc',
      'depth dec',
      'latency observe 1',
      'workDuration observe 0.5',
      'retries inc',
    ]);
    q.shutDown();
  });

  it('keeps its properties with many async workers and random priorities', async () => {
    const q = createPriorityQueue<number>();
    const inFlight = new Set<number>();
    const processed: number[] = [];
    let state = 7;
    const random = (n: number): number => {
      state = (state * 1103515245 + 12345) % 2147483648;
      return state % n;
    };
    const worker = async (): Promise<void> => {
      for (let key = await q.get(); key !== undefined; key = await q.get()) {
        expect(inFlight.has(key)).toBe(false);
        inFlight.add(key);
        await new Promise((resolve) => setImmediate(resolve));
        processed.push(key);
        inFlight.delete(key);
        q.done(key);
      }
    };
    const workers = Array.from({ length: 4 }, () => worker());
    for (let i = 0; i < 2000; i++) {
      q.addWithOptions((i * 7) % 50, { priority: random(3) - 1 });
      if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    while (q.len() > 0 || inFlight.size > 0) await new Promise((resolve) => setImmediate(resolve));
    await q.shutDownWithDrain();
    await Promise.all(workers);
    expect(new Set(processed).size).toBe(50);
  });
});
