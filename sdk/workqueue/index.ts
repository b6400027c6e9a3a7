/**
 * kubeloop/workqueue: the work queues that sit between informers and reconcilers, with client-go's semantics. It
 * imports nothing from Kubernetes (nor from the rest of kubeloop) and works for any string keys.
 *
 * - {@link Queue} is **fair** (FIFO), **stingy** (a key waits once however often it is added), hands a key to **one
 *   worker at a time** (a key re-added while it is processed is processed again after `done`), and **shuts down**
 *   with or without draining the keys handed out.
 * - {@link DelayingQueue} adds `addAfter(key, ms)`, with one timer and one heap for every delayed key.
 * - {@link RateLimitingQueue} adds `addRateLimited`, `forget` and `numRequeues` over a {@link RateLimiter}:
 *   per-key exponential backoff, a token bucket, fast-slow, max-of, and {@link defaultControllerRateLimiter}.
 * - {@link PriorityQueue} is a rate-limiting queue that hands out higher priorities first (FIFO within one), as
 *   controller-runtime's priority queue: what a controller uses; {@link lowPriority} is for initial lists and resyncs.
 * - Named queues report client-go's series through a {@link MetricsProvider}; nothing is recorded by default.
 * - Every wait reads a {@link Clock}; {@link createFakeClock} moves time by hand in tests.
 *
 * ```ts
 * const q = createRateLimitingQueue<string>({ name: 'widgets', rateLimiter: defaultControllerRateLimiter() });
 * q.add('ns/a');
 * for (let key = await q.get(); key !== undefined; key = await q.get()) {
 *   try { await reconcile(key); q.forget(key); } catch { q.addRateLimited(key); } finally { q.done(key); }
 * }
 * ```
 */
export { createQueue, type Queue, type QueueOptions, type QueueGetOptions } from './queue.js';
export { createDelayingQueue, type DelayingQueue, type DelayingQueueOptions } from './delaying-queue.js';
export {
  createRateLimitingQueue,
  type RateLimitingQueue,
  type RateLimitingQueueOptions,
} from './rate-limiting-queue.js';
export {
  createPriorityQueue,
  lowPriority,
  type PriorityQueue,
  type PriorityAddOptions,
  type PrioritizedKey,
} from './priority-queue.js';
export {
  createExponentialFailureRateLimiter,
  createTokenBucketRateLimiter,
  createMaxOfRateLimiter,
  createFastSlowRateLimiter,
  defaultControllerRateLimiter,
  type RateLimiter,
  type ExponentialFailureRateLimiterOptions,
  type TokenBucketRateLimiterOptions,
  type FastSlowRateLimiterOptions,
  type DefaultControllerRateLimiterOptions,
} from './rate-limiters.js';
export {
  noopMetricsProvider,
  type MetricsProvider,
  type QueueMetrics,
  type Gauge,
  type SettableGauge,
  type Counter,
  type Histogram,
} from './metrics.js';
export {
  realClock,
  createFakeClock,
  type Clock,
  type ClockTimer,
  type WallClock,
  type FakeClock,
  type FakeClockOptions,
} from './clock.js';
