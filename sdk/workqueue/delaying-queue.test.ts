import { describe, expect, it } from 'vitest';
import { createDelayingQueue, createFakeClock, type Queue } from './index.js';

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

function drainNow<K>(q: Queue<K>): K[] {
  const out: K[] = [];
  for (let key = q.tryGet(); key !== undefined; key = q.tryGet()) {
    out.push(key);
    q.done(key);
  }
  return out;
}

const activeTimeouts = (): number => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;

describe('DelayingQueue', () => {
  it('adds a key once its delay has passed, not before', () => {
    const clock = createFakeClock();
    const q = createDelayingQueue<string>({ clock });
    q.addAfter('a', 100);
    expect(q.len()).toBe(0);
    clock.advance(99);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    expect(q.tryGet()).toBe('a');
  });

  it('hands a delayed key to a waiting get()', async () => {
    const clock = createFakeClock();
    const q = createDelayingQueue<string>({ clock });
    const waiting = q.get();
    q.addAfter('a', 10);
    clock.advance(10);
    expect(await waiting).toBe('a');
  });

  it('adds keys in the order of their ready times, ties in the order they were delayed', () => {
    const clock = createFakeClock();
    const q = createDelayingQueue<string>({ clock });
    q.addAfter('late', 30);
    q.addAfter('early', 10);
    q.addAfter('mid-1', 20);
    q.addAfter('mid-2', 20);
    clock.advance(15);
    expect(drainNow(q)).toEqual(['early']);
    clock.advance(100);
    expect(drainNow(q)).toEqual(['mid-1', 'mid-2', 'late']);
  });

  it('keeps one entry per waiting key: an earlier time moves it forward, a later one is ignored', () => {
    const clock = createFakeClock();
    const q = createDelayingQueue<string>({ clock });
    q.addAfter('a', 50);
    q.addAfter('b', 40);
    q.addAfter('a', 10); // moves 'a' to 10
    q.addAfter('b', 90); // 'b' stays at 40
    clock.advance(10);
    expect(drainNow(q)).toEqual(['a']);
    clock.advance(30);
    expect(drainNow(q)).toEqual(['b']);
    clock.advance(1000);
    expect(q.len()).toBe(0); // neither comes back at its other time
  });

  it('adds at once for a delay of zero or less', () => {
    const clock = createFakeClock();
    const q = createDelayingQueue<string>({ clock });
    q.addAfter('zero', 0);
    q.addAfter('negative', -5);
    expect(drainNow(q)).toEqual(['zero', 'negative']);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('de-duplicates a delayed key against the same key already queued', () => {
    const clock = createFakeClock();
    const q = createDelayingQueue<string>({ clock });
    q.add('a');
    q.addAfter('a', 5);
    clock.advance(5);
    expect(drainNow(q)).toEqual(['a']);
  });

  it('uses one timer for all delayed keys, and none once they are added', () => {
    const clock = createFakeClock();
    const q = createDelayingQueue<number>({ clock });
    expect(clock.pendingTimers()).toBe(0);
    for (let i = 0; i < 1000; i++) q.addAfter(i, 1 + ((i * 7919) % 1000));
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(500);
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(500);
    expect(clock.pendingTimers()).toBe(0);
    expect(q.len()).toBe(1000);
  });

  it('adds every key exactly at its earliest requested time, under random delays and re-delays', () => {
    const clock = createFakeClock();
    const q = createDelayingQueue<number>({ clock });
    const due = new Map<number, number>(); // the model: key -> earliest ready time
    const random = seededRandom(7);
    const mismatches: string[] = [];
    let handedOut = 0;
    const takeReady = (): void => {
      for (const key of drainNow(q)) {
        handedOut++;
        if (due.get(key) !== clock.now()) mismatches.push(`${key} at ${clock.now()}, due ${due.get(key)}`);
        due.delete(key);
      }
    };
    for (let ms = 0; ms < 3000; ms++) {
      for (let i = random(4); i > 0; i--) {
        const key = random(300);
        const delay = 1 + random(500);
        q.addAfter(key, delay);
        due.set(key, Math.min(due.get(key) ?? Infinity, clock.now() + delay));
      }
      clock.advance(1);
      takeReady();
    }
    clock.advance(1000);
    expect(q.len()).toBe(due.size); // everything left became due during the last advance
    due.clear();
    expect(mismatches).toEqual([]);
    expect(handedOut).toBeGreaterThan(1000);
    expect(clock.pendingTimers()).toBe(0);
  });

  describe('shutdown', () => {
    it('drops delayed keys and cancels the timer', async () => {
      const clock = createFakeClock();
      const q = createDelayingQueue<string>({ clock });
      q.addAfter('a', 10);
      q.shutDown();
      expect(clock.pendingTimers()).toBe(0);
      clock.advance(100);
      expect(q.len()).toBe(0);
      expect(await q.get()).toBeUndefined();
      q.addAfter('b', 10);
      expect(clock.pendingTimers()).toBe(0);
    });

    it('leaves no timer keeping the process alive (real clock), also after shutDownWithDrain', async () => {
      const before = activeTimeouts();
      const q = createDelayingQueue<string>();
      q.addAfter('a', 60_000);
      q.addAfter('b', 30_000);
      expect(activeTimeouts()).toBe(before + 1);
      const drained = q.shutDownWithDrain();
      expect(activeTimeouts()).toBe(before);
      await drained;
    });
  });

  it('waits for real time with the real clock', async () => {
    const q = createDelayingQueue<string>();
    const start = performance.now();
    q.addAfter('a', 30);
    expect(await q.get()).toBe('a');
    expect(performance.now() - start).toBeGreaterThanOrEqual(30);
    q.shutDown();
  });
});
