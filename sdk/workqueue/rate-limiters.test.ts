import { describe, expect, it } from 'vitest';
import {
  createExponentialFailureRateLimiter,
  createFakeClock,
  createFastSlowRateLimiter,
  createMaxOfRateLimiter,
  createTokenBucketRateLimiter,
  defaultControllerRateLimiter,
  type RateLimiter,
} from './index.js';

describe('exponential failure rate limiter', () => {
  it('doubles the delay per failure of a key from 5 ms, counting requeues', () => {
    const limiter = createExponentialFailureRateLimiter<string>();
    expect([1, 2, 3, 4, 5].map(() => limiter.when('a'))).toEqual([5, 10, 20, 40, 80]);
    expect(limiter.numRequeues('a')).toBe(5);
  });

  it('keeps keys apart, and forget starts a key over', () => {
    const limiter = createExponentialFailureRateLimiter<string>({ baseDelayMs: 1 });
    limiter.when('a');
    limiter.when('a');
    expect(limiter.when('b')).toBe(1);
    expect(limiter.numRequeues('a')).toBe(2);
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(1);
    expect(limiter.numRequeues('b')).toBe(1);
    limiter.forget('never-seen');
  });

  it('caps the delay at maxDelayMs (default 1000 s), even after very many failures', () => {
    const limiter = createExponentialFailureRateLimiter<string>();
    let last = 0;
    for (let i = 0; i < 2000; i++) last = limiter.when('a');
    expect(last).toBe(1_000_000);
    const small = createExponentialFailureRateLimiter<string>({ baseDelayMs: 10, maxDelayMs: 35 });
    expect([1, 2, 3, 4].map(() => small.when('x'))).toEqual([10, 20, 35, 35]);
  });

  it('rejects negative delays', () => {
    expect(() => createExponentialFailureRateLimiter({ baseDelayMs: -1 })).toThrow(RangeError);
    expect(() => createExponentialFailureRateLimiter({ maxDelayMs: Number.NaN })).toThrow(RangeError);
  });
});

describe('token bucket rate limiter', () => {
  it('lets a burst of 100 through, then spaces calls 100 ms apart (10/s), across all keys', () => {
    const clock = createFakeClock();
    const limiter = createTokenBucketRateLimiter<string>({ clock });
    for (let i = 0; i < 100; i++) expect(limiter.when(`k${i}`)).toBe(0);
    expect(limiter.when('x')).toBeCloseTo(100);
    expect(limiter.when('y')).toBeCloseTo(200);
    expect(limiter.when('x')).toBeCloseTo(300);
    expect(limiter.numRequeues('x')).toBe(0);
  });

  it('refills with time, up to the burst size', () => {
    const clock = createFakeClock();
    const limiter = createTokenBucketRateLimiter<string>({ ratePerSecond: 2, burst: 3, clock });
    expect([1, 2, 3].map(() => limiter.when('a'))).toEqual([0, 0, 0]);
    expect(limiter.when('a')).toBeCloseTo(500); // reserves the token due in 0.5 s
    clock.advance(1500); // pays the reservation back, then refills 2 tokens
    expect(limiter.when('a')).toBe(0);
    expect(limiter.when('a')).toBe(0);
    expect(limiter.when('a')).toBeCloseTo(500);
    clock.advance(60_000); // refills to the burst of 3, no more
    expect([1, 2, 3].map(() => limiter.when('a'))).toEqual([0, 0, 0]);
    expect(limiter.when('a')).toBeCloseTo(500);
  });

  it('reserves: the delay returned for a call made during a wait accounts for earlier reservations', () => {
    const clock = createFakeClock();
    const limiter = createTokenBucketRateLimiter<string>({ ratePerSecond: 10, burst: 1, clock });
    expect(limiter.when('a')).toBe(0);
    expect(limiter.when('a')).toBeCloseTo(100);
    clock.advance(50);
    expect(limiter.when('a')).toBeCloseTo(150); // the token at 100 ms is taken; this one is due at 200 ms
  });

  it('never delays at an infinite rate, and rejects a bad rate or burst', () => {
    const limiter = createTokenBucketRateLimiter<string>({ ratePerSecond: Infinity, burst: 1 });
    for (let i = 0; i < 10; i++) expect(limiter.when('a')).toBe(0);
    expect(() => createTokenBucketRateLimiter({ ratePerSecond: 0 })).toThrow(RangeError);
    expect(() => createTokenBucketRateLimiter({ burst: 0 })).toThrow(RangeError);
    expect(() => createTokenBucketRateLimiter({ burst: 1.5 })).toThrow(RangeError);
  });
});

describe('fast-slow rate limiter', () => {
  it('gives the fast delay for the first attempts of a key, then the slow one, until forgotten', () => {
    const limiter = createFastSlowRateLimiter<string>({ fastDelayMs: 5, slowDelayMs: 10_000, maxFastAttempts: 3 });
    expect([1, 2, 3, 4, 5].map(() => limiter.when('a'))).toEqual([5, 5, 5, 10_000, 10_000]);
    expect(limiter.when('b')).toBe(5);
    expect(limiter.numRequeues('a')).toBe(5);
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
  });
});

describe('max-of rate limiter', () => {
  it('asks every limiter, returns the longest delay and the largest count, and forgets in all', () => {
    const calls: string[] = [];
    const fixed = (name: string, delayMs: number, count: number): RateLimiter<string> => ({
      when: (key) => {
        calls.push(`${name}.when(${key})`);
        return delayMs;
      },
      forget: (key) => calls.push(`${name}.forget(${key})`),
      numRequeues: () => count,
    });
    const limiter = createMaxOfRateLimiter([fixed('a', 10, 1), fixed('b', 30, 4), fixed('c', 20, 2)]);
    expect(limiter.when('k')).toBe(30);
    expect(limiter.numRequeues('k')).toBe(4);
    limiter.forget('k');
    expect(calls).toEqual(['a.when(k)', 'b.when(k)', 'c.when(k)', 'a.forget(k)', 'b.forget(k)', 'c.forget(k)']);
  });
});

describe('defaultControllerRateLimiter', () => {
  it('is per-key exponential from 5 ms while the bucket has tokens', () => {
    const clock = createFakeClock();
    const limiter = defaultControllerRateLimiter<string>({ clock });
    expect([1, 2, 3].map(() => limiter.when('a'))).toEqual([5, 10, 20]);
    expect(limiter.when('b')).toBe(5);
    expect(limiter.numRequeues('a')).toBe(3);
    limiter.forget('a');
    expect(limiter.when('a')).toBe(5);
  });

  it('is held to 10 per second with a burst of 100 over all keys', () => {
    const clock = createFakeClock();
    const limiter = defaultControllerRateLimiter<string>({ clock });
    for (let i = 0; i < 100; i++) expect(limiter.when(`k${i}`)).toBe(5);
    expect(limiter.when('k100')).toBeCloseTo(100);
    expect(limiter.when('k101')).toBeCloseTo(200);
  });

  it('caps the per-key backoff at 1000 s', () => {
    const clock = createFakeClock();
    const limiter = defaultControllerRateLimiter<string>({ clock });
    let last = 0;
    for (let i = 0; i < 40; i++) {
      last = limiter.when('a');
      clock.advance(1000); // keep the bucket full, so only the backoff speaks
    }
    expect(last).toBe(1_000_000);
  });
});
