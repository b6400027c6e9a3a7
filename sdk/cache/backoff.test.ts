import { afterEach, describe, expect, it, vi } from 'vitest';
import { Backoff, sleep } from './backoff.js';

describe('Backoff', () => {
  it('doubles from 800 ms to a 30 s cap without jitter', () => {
    const b = new Backoff({ random: () => 0, now: () => 0 });
    const delays = Array.from({ length: 8 }, () => b.next());
    expect(delays).toEqual([800, 1600, 3200, 6400, 12800, 25600, 30000, 30000]);
  });

  it('adds up to 100% jitter by default, never above the cap', () => {
    const b = new Backoff({ random: () => 0.999, now: () => 0 });
    const first = b.next();
    expect(first).toBeGreaterThan(1590);
    expect(first).toBeLessThan(1600);
    for (let i = 0; i < 10; i++) expect(b.next()).toBeLessThanOrEqual(30000);
    const random = new Backoff({ now: () => 0 });
    for (let i = 0; i < 50; i++) {
      const d = random.next();
      const base = Math.min(30000, 800 * 2 ** i);
      expect(d).toBeGreaterThanOrEqual(base);
      expect(d).toBeLessThanOrEqual(Math.min(30000, base * 2));
    }
  });

  it('starts again at the initial delay after 2 minutes without failures', () => {
    let now = 0;
    const b = new Backoff({ random: () => 0, now: () => now });
    b.next();
    b.next();
    now += 60_000;
    expect(b.next()).toBe(3200);
    now += 120_001;
    expect(b.next()).toBe(800);
    b.reset();
    expect(b.next()).toBe(800);
  });
});

describe('sleep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('waits the asked time, and ends early without a timer left when aborted', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    let done = false;
    const p = (async () => {
      await sleep(1000, controller.signal);
      done = true;
    })();
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await p;
    expect(done).toBe(true);

    const q = sleep(60_000, controller.signal);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    await q;
    expect(vi.getTimerCount()).toBe(0);
    await sleep(10, controller.signal); // already aborted: at once
  });
});
