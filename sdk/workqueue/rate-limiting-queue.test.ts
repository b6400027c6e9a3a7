import { describe, expect, it } from 'vitest';
import {
  createExponentialFailureRateLimiter,
  createFakeClock,
  createRateLimitingQueue,
  defaultControllerRateLimiter,
  type RateLimiter,
} from './index.js';

describe('RateLimitingQueue', () => {
  it('compiles and runs the example of API.md', async () => {
    const q = createRateLimitingQueue<string>({ name: 'widgets', rateLimiter: defaultControllerRateLimiter() });
    const key = 'ns/a';
    q.add(key);
    q.addAfter(key, 1);
    q.forget(key);
    expect(q.numRequeues(key)).toBe(0);
    const got = await q.get();
    expect(got).toBe(key);
    q.done(key);
    expect(q.len()).toBe(0);
    q.shutDown();
    await q.shutDownWithDrain();
    expect(await q.get()).toBeUndefined();
  });

  it('retries a failing key with the backoff of its rate limiter, and forget starts it over', () => {
    const clock = createFakeClock();
    const q = createRateLimitingQueue<string>({
      clock,
      rateLimiter: createExponentialFailureRateLimiter({ baseDelayMs: 10 }),
    });
    const fail = (): void => {
      const key = q.tryGet();
      expect(key).toBe('a');
      q.addRateLimited(key!);
      q.done(key!);
    };
    q.add('a');
    fail(); // first failure: back in 10 ms
    clock.advance(9);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    fail(); // second: 20 ms
    clock.advance(19);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    expect(q.numRequeues('a')).toBe(2);

    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    fail(); // forgotten: 10 ms again
    clock.advance(10);
    expect(q.len()).toBe(1);
  });

  it('defaults to defaultControllerRateLimiter on the queue clock', () => {
    const clock = createFakeClock();
    const q = createRateLimitingQueue<string>({ clock });
    q.addRateLimited('a');
    expect(clock.pendingTimers()).toBe(1);
    clock.advance(4);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.tryGet()).toBe('a');
    // The bucket (10/s, burst 100) is shared by all keys: 'a' and 99 more keys pass at their 5 ms backoff; at t=5 ms
    // the bucket has refilled 0.05 of a token, so the 101st key waits for the rest of its token: 95 ms.
    for (let i = 0; i < 99; i++) q.addRateLimited(`k${i}`);
    q.addRateLimited('slow');
    clock.advance(5);
    expect(q.len()).toBe(99);
    clock.advance(89); // t = 99 ms
    expect(q.len()).toBe(99);
    clock.advance(2); // t = 101 ms (token arithmetic is floating point: not asserted to the exact millisecond)
    expect(q.len()).toBe(100);
  });

  it('does not ask the rate limiter once shutting down', () => {
    const asked: string[] = [];
    const limiter: RateLimiter<string> = {
      when: (key) => {
        asked.push(key);
        return 1;
      },
      forget() {},
      numRequeues: () => asked.length,
    };
    const clock = createFakeClock();
    const q = createRateLimitingQueue<string>({ clock, rateLimiter: limiter });
    q.addRateLimited('a');
    q.shutDown();
    q.addRateLimited('b');
    expect(asked).toEqual(['a']);
    expect(clock.pendingTimers()).toBe(0);
  });
});
