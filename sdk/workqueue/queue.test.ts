import { describe, expect, it } from 'vitest';
import { createQueue, type Queue } from './index.js';

/** A deterministic pseudo-random integer in [0, n) (mulberry32), so a failure reproduces. */
function seededRandom(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4_294_967_296) * n);
  };
}

/** Lets pending promise callbacks and I/O callbacks run. */
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Takes every key that is ready now, marking each done, in the order handed out. */
function drainNow<K>(q: Queue<K>): K[] {
  const out: K[] = [];
  for (let key = q.tryGet(); key !== undefined; key = q.tryGet()) {
    out.push(key);
    q.done(key);
  }
  return out;
}

describe('Queue', () => {
  it('is fair: keys come out in the order they were added', async () => {
    const q = createQueue<string>();
    for (const key of ['c', 'a', 'b']) q.add(key);
    expect(q.len()).toBe(3);
    expect(await q.get()).toBe('c');
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('is stingy: a key waits once however often it is added', () => {
    const q = createQueue<string>();
    for (const key of ['a', 'b', 'a', 'a', 'b', 'c']) q.add(key);
    expect(q.len()).toBe(3);
    expect(drainNow(q)).toEqual(['a', 'b', 'c']);
    expect(q.tryGet()).toBeUndefined();
  });

  it('never hands out a key that is being processed, and processes it once more after done', async () => {
    const q = createQueue<string>();
    q.add('a');
    const a = await q.get();
    expect(a).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0);
    expect(q.tryGet()).toBeUndefined();
    q.add('b');
    q.done('a');
    // 'a' goes behind 'b', which was added before a's done; and it is there once.
    expect(q.len()).toBe(2);
    expect(drainNow(q)).toEqual(['b', 'a']);
    expect(q.len()).toBe(0);
  });

  it('does not requeue a key that was not re-added, and ignores done of a key not being processed', () => {
    const q = createQueue<string>();
    q.add('a');
    expect(q.tryGet()).toBe('a');
    q.done('a');
    q.done('a');
    q.done('never-added');
    expect(q.len()).toBe(0);
    q.add('b');
    q.done('b'); // queued, not handed out: done must not duplicate it
    expect(drainNow(q)).toEqual(['b']);
  });

  it('get() waits for a key; concurrent waiters each get a distinct key, first come first served', async () => {
    const q = createQueue<string>();
    const waiting = [q.get(), q.get(), q.get()];
    let settled = 0;
    for (const p of waiting) void p.then(() => settled++);
    await tick();
    expect(settled).toBe(0);
    q.add('x');
    q.add('y');
    q.add('x'); // being processed by the first waiter: not handed to another
    q.add('z');
    expect(await Promise.all(waiting)).toEqual(['x', 'y', 'z']);
    expect(q.len()).toBe(0);
    q.done('x');
    expect(q.tryGet()).toBe('x');
  });

  it('hands a key re-added while processing to a get() already waiting, once it is done', async () => {
    const q = createQueue<string>();
    q.add('a');
    const a = q.tryGet()!;
    const waiting = q.get();
    q.add('a');
    q.done(a);
    expect(await waiting).toBe('a');
  });

  it('with many async workers: no key is held by two workers, and every add is followed by a processing', async () => {
    const q = createQueue<string>();
    const keys = Array.from({ length: 50 }, (_, i) => `ns/k${i}`);
    const holding = new Set<string>();
    let clock = 0;
    const lastAdd = new Map<string, number>();
    const lastStart = new Map<string, number>();
    let overlaps = 0;
    let processed = 0;
    const random = seededRandom(42);
    const add = (key: string): void => {
      lastAdd.set(key, ++clock);
      q.add(key);
    };

    const worker = async (): Promise<void> => {
      for (let key = await q.get(); key !== undefined; key = await q.get()) {
        if (holding.has(key)) overlaps++;
        holding.add(key);
        lastStart.set(key, ++clock);
        processed++;
        for (let i = random(4); i > 0; i--) await tick();
        if (random(5) === 0) add(key); // a key re-added by its own reconcile
        holding.delete(key);
        q.done(key);
      }
    };
    const workers = Array.from({ length: 8 }, () => worker());

    for (let round = 0; round < 300; round++) {
      for (let i = random(10); i > 0; i--) add(keys[random(keys.length)]!);
      if (random(3) === 0) await tick();
    }
    // Wait until the queue is idle: nothing queued, nothing held.
    const deadline = Date.now() + 10_000;
    while ((q.len() > 0 || holding.size > 0) && Date.now() < deadline) await tick();
    expect(q.len()).toBe(0);
    expect(holding.size).toBe(0);
    q.shutDown();
    await Promise.all(workers);

    expect(overlaps).toBe(0);
    expect(processed).toBeGreaterThan(200);
    for (const [key, addedAt] of lastAdd) {
      expect(lastStart.get(key) ?? 0, key).toBeGreaterThan(addedAt);
    }
  });

  it('uses Map identity for keys: one object is one key, two equal-looking objects are two', () => {
    const q = createQueue<{ name: string }>();
    const a = { name: 'a' };
    q.add(a);
    q.add(a);
    q.add({ name: 'a' });
    expect(q.len()).toBe(2);
  });

  it('rejects undefined as a key', () => {
    const q = createQueue<string | undefined>();
    expect(() => q.add(undefined)).toThrow(TypeError);
  });

  describe('get({ signal })', () => {
    it('rejects with the signal reason when aborted while waiting, and the next key is not lost', async () => {
      const q = createQueue<string>();
      const controller = new AbortController();
      const waiting = q.get({ signal: controller.signal });
      const later = q.get();
      controller.abort(new Error('stop waiting'));
      await expect(waiting).rejects.toThrow('stop waiting');
      q.add('a');
      expect(await later).toBe('a');
      q.add('b');
      expect(q.tryGet()).toBe('b');
    });

    it('rejects at once when the signal is already aborted, leaving queued keys in place', async () => {
      const q = createQueue<string>();
      q.add('a');
      const reason = new Error('already aborted');
      await expect(q.get({ signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
      expect(q.len()).toBe(1);
      expect(await q.get()).toBe('a');
    });

    it('keeps a key already handed out when the signal aborts afterwards', async () => {
      const q = createQueue<string>();
      const controller = new AbortController();
      const waiting = q.get({ signal: controller.signal });
      q.add('a');
      controller.abort();
      expect(await waiting).toBe('a');
      q.add('a');
      expect(q.tryGet()).toBeUndefined(); // still being processed by the caller
    });

    it('does not pile up aborted waiters in an idle queue', async () => {
      const q = createQueue<number>();
      for (let i = 0; i < 100; i++) {
        const controller = new AbortController();
        const p = q.get({ signal: controller.signal });
        controller.abort();
        await expect(p).rejects.toBeDefined();
      }
      const waiting = q.get();
      q.add(1);
      expect(await waiting).toBe(1);
    });
  });

  describe('shutDown', () => {
    it('resolves waiting and later get() calls with undefined, and ignores add', async () => {
      const q = createQueue<string>();
      const waiting = [q.get(), q.get()];
      expect(q.shuttingDown()).toBe(false);
      q.shutDown();
      expect(q.shuttingDown()).toBe(true);
      expect(await Promise.all(waiting)).toEqual([undefined, undefined]);
      q.add('a');
      expect(q.len()).toBe(0);
      expect(await q.get()).toBeUndefined();
      expect(q.tryGet()).toBeUndefined();
      q.shutDown(); // twice is fine
    });

    it('hands out no queued key after shutdown', async () => {
      const q = createQueue<string>();
      q.add('a');
      q.add('b');
      q.shutDown();
      expect(q.len()).toBe(0);
      expect(await q.get()).toBeUndefined();
    });

    it('does not requeue a key re-added while it was processed', () => {
      const q = createQueue<string>();
      q.add('a');
      expect(q.tryGet()).toBe('a');
      q.add('a');
      q.shutDown();
      q.done('a');
      expect(q.len()).toBe(0);
      expect(q.tryGet()).toBeUndefined();
    });
  });

  describe('shutDownWithDrain', () => {
    it('resolves only once every key handed out is done', async () => {
      const q = createQueue<string>();
      for (const key of ['a', 'b', 'c']) q.add(key);
      const a = await q.get();
      const b = await q.get();
      let drained = false;
      const drain = q.shutDownWithDrain().then(() => {
        drained = true;
        return drained;
      });
      expect(q.shuttingDown()).toBe(true);
      expect(await q.get()).toBeUndefined(); // 'c' is not handed out any more
      q.done(a!);
      await tick();
      expect(drained).toBe(false);
      q.add(b!); // ignored: shutting down
      q.done(b!);
      await drain;
      expect(drained).toBe(true);
    });

    it('resolves at once when nothing is being processed', async () => {
      const q = createQueue<string>();
      q.add('queued');
      await expect(q.shutDownWithDrain()).resolves.toBeUndefined();
    });

    it('lets several callers wait, and rejects one whose signal aborts', async () => {
      const q = createQueue<string>();
      q.add('a');
      const a = q.tryGet()!;
      const controller = new AbortController();
      const first = q.shutDownWithDrain();
      const impatient = q.shutDownWithDrain({ signal: controller.signal });
      controller.abort(new Error('gave up'));
      await expect(impatient).rejects.toThrow('gave up');
      q.done(a);
      await expect(first).resolves.toBeUndefined();
    });
  });
});
