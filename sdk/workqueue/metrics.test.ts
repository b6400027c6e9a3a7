import { describe, expect, it } from 'vitest';
import {
  createDelayingQueue,
  createFakeClock,
  createQueue,
  createRateLimitingQueue,
  noopMetricsProvider,
  type MetricsProvider,
  type QueueMetrics,
} from './index.js';

/** A provider that records every call, per queue name, as `series op value`. */
function recordingProvider(): { provider: MetricsProvider; calls: Map<string, string[]>; names: string[] } {
  const calls = new Map<string, string[]>();
  const names: string[] = [];
  const provider: MetricsProvider = {
    newQueueMetrics(name) {
      names.push(name);
      const log: string[] = [];
      calls.set(name, log);
      const series = (id: string) => ({
        inc: () => log.push(`${id} inc`),
        dec: () => log.push(`${id} dec`),
        set: (value: number) => log.push(`${id} set ${value}`),
        observe: (value: number) => log.push(`${id} observe ${value}`),
      });
      const metrics: QueueMetrics = {
        depth: series('depth'),
        adds: series('adds'),
        latency: series('latency'),
        workDuration: series('workDuration'),
        unfinishedWorkSeconds: series('unfinishedWorkSeconds'),
        longestRunningProcessorSeconds: series('longestRunningProcessorSeconds'),
        retries: series('retries'),
      };
      return metrics;
    },
  };
  return { provider, calls, names };
}

/** Returns the calls recorded since the last take. */
function taker(log: string[] | undefined): () => string[] {
  let seen = 0;
  return () => {
    const next = (log ?? []).slice(seen);
    seen = log?.length ?? 0;
    return next;
  };
}

const activeTimeouts = (): number => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;

describe('queue metrics', () => {
  it("records client-go's series for adds, gets and dones, with durations in seconds", () => {
    const clock = createFakeClock();
    const { provider, calls } = recordingProvider();
    const q = createQueue<string>({
      name: 'widgets',
      metricsProvider: provider,
      clock,
      unfinishedWorkUpdatePeriodMs: 10_000,
    });
    const take = taker(calls.get('widgets'));

    q.add('a');
    expect(take()).toEqual(['adds inc', 'depth inc']);
    q.add('a'); // de-duplicated: not an add
    expect(take()).toEqual([]);

    clock.advance(2000);
    expect(q.tryGet()).toBe('a');
    expect(take()).toEqual(['depth dec', 'latency observe 2']);

    clock.advance(500);
    q.add('a'); // re-added while processing: waits again
    expect(take()).toEqual(['adds inc', 'depth inc']);
    clock.advance(250);
    q.done('a');
    expect(take()).toEqual(['workDuration observe 0.75']);

    clock.advance(1000);
    expect(q.tryGet()).toBe('a');
    expect(take()).toEqual(['depth dec', 'latency observe 1.25']); // from the re-add, not the first add
  });

  it('sets the unfinished-work gauges every period while keys are processed, and stops at shutdown', () => {
    const clock = createFakeClock();
    const { provider, calls } = recordingProvider();
    const q = createQueue<string>({ name: 'w', metricsProvider: provider, clock });
    const take = taker(calls.get('w'));
    q.add('a');
    q.add('b');
    take();
    q.tryGet(); // 'a' starts at 0
    clock.advance(200);
    q.tryGet(); // 'b' starts at 200
    take();
    clock.advance(300); // the 500 ms period: a is 0.5 s old, b 0.3 s
    expect(take()).toEqual(['unfinishedWorkSeconds set 0.8', 'longestRunningProcessorSeconds set 0.5']);
    q.done('a');
    take();
    clock.advance(500);
    expect(take()).toEqual(['unfinishedWorkSeconds set 0.8', 'longestRunningProcessorSeconds set 0.8']);
    q.done('b');
    take();
    clock.advance(500);
    expect(take()).toEqual(['unfinishedWorkSeconds set 0', 'longestRunningProcessorSeconds set 0']);

    q.shutDown();
    expect(clock.pendingTimers()).toBe(0);
    clock.advance(5000);
    expect(take()).toEqual([]);
  });

  it('counts addAfter and addRateLimited as retries, and takes dropped keys out of the depth at shutdown', () => {
    const clock = createFakeClock();
    const { provider, calls } = recordingProvider();
    const q = createRateLimitingQueue<string>({ name: 'r', metricsProvider: provider, clock });
    const take = taker(calls.get('r'));
    q.addAfter('a', 10);
    q.addRateLimited('b');
    q.addAfter('c', 0);
    expect(take()).toEqual(['retries inc', 'retries inc', 'retries inc', 'adds inc', 'depth inc']);
    clock.advance(10);
    expect(take()).toEqual(['adds inc', 'depth inc', 'adds inc', 'depth inc']); // b (5 ms), then a (10 ms)
    q.shutDown();
    expect(take()).toEqual(['depth dec', 'depth dec', 'depth dec']);
    q.addAfter('d', 1);
    expect(take()).toEqual([]);
  });

  it('records nothing and starts no timer without a name, or with the noop provider', () => {
    const clock = createFakeClock();
    const { provider, names } = recordingProvider();
    const unnamed = createDelayingQueue<string>({ metricsProvider: provider, clock });
    unnamed.add('a');
    unnamed.tryGet();
    expect(names).toEqual([]);
    const noop = createQueue<string>({ name: 'n', metricsProvider: noopMetricsProvider, clock });
    noop.add('a');
    expect(clock.pendingTimers()).toBe(0);
    createQueue<string>({ name: 'named', metricsProvider: provider, clock });
    expect(names).toEqual(['named']);
    expect(clock.pendingTimers()).toBe(1);
  });

  it('does not keep the process alive with its update timer (real clock)', () => {
    const before = activeTimeouts();
    const { provider } = recordingProvider();
    const q = createQueue<string>({ name: 'real', metricsProvider: provider });
    expect(activeTimeouts()).toBe(before);
    q.shutDown();
  });

  it('rejects a period that is not positive', () => {
    const { provider } = recordingProvider();
    expect(() => createQueue({ name: 'x', metricsProvider: provider, unfinishedWorkUpdatePeriodMs: 0 })).toThrow(
      RangeError,
    );
  });
});
