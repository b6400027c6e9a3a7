import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createClientset, type RestConfig } from '../../sdk/client/index.js';
import { startControlPlane, type ControlPlane } from '../../sdk/envtest/index.js';
import {
  createLeaderElector,
  createLeaseLock,
  isLeadershipLost,
  type LeaderElector,
} from '../../sdk/leaderelection/index.js';
import { eventually, type EventuallyOptions } from '../support/wait.js';

const poll: EventuallyOptions = { intervalMs: 5 };

// The leader loses its API server: the signal handed to onStartedLeading must abort within the renew deadline, before
// any other candidate can take over. The leader reaches the API server through a loopback proxy that can refuse
// connections or swallow them (accept and never answer); the other candidate goes direct.

const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 } as const;
/** Request latency and event-loop lag on a shared 2-core machine. */
const slackMs = 500;

/** Prints a measured figure on standard output and records it as an annotation of the test. */
async function figure(annotate: (message: string) => Promise<unknown>, message: string): Promise<void> {
  process.stdout.write(`[leaderelection] ${message}\n`);
  await annotate(message);
}

type ProxyMode = 'pass' | 'refuse' | 'hang';

interface SwitchableProxy {
  readonly url: string;
  /** `refuse`: open connections are cut and new ones closed at once; `hang`: open connections and new ones go silent. */
  setMode(mode: ProxyMode): void;
  close(): Promise<void>;
}

async function startSwitchableProxy(targetPort: number): Promise<SwitchableProxy> {
  let mode: ProxyMode = 'pass';
  const pairs = new Set<{ client: Socket; upstream: Socket | undefined; silent: boolean }>();
  const server: Server = createServer((client) => {
    client.on('error', () => {});
    if (mode === 'refuse') {
      client.destroy();
      return;
    }
    const pair = { client, upstream: undefined as Socket | undefined, silent: mode === 'hang' };
    pairs.add(pair);
    client.on('close', () => {
      pairs.delete(pair);
      pair.upstream?.destroy();
    });
    if (pair.silent) return; // accepted, never answered: the TLS handshake hangs
    const upstream = connect({ host: '127.0.0.1', port: targetPort });
    pair.upstream = upstream;
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.on('data', (chunk) => {
      if (!pair.silent) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!pair.silent) client.write(chunk);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the proxy has no TCP address');
  const destroyAll = (): void => {
    for (const p of pairs) {
      p.client.destroy();
      p.upstream?.destroy();
    }
    pairs.clear();
  };
  return {
    url: `https://127.0.0.1:${address.port}`,
    setMode(next) {
      mode = next;
      if (next === 'refuse') destroyAll();
      if (next === 'hang') for (const p of pairs) p.silent = true;
    },
    async close() {
      destroyAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

interface Candidate {
  identity: string;
  elector: LeaderElector;
  stop: AbortController;
  done: Promise<void>;
  startedAt: number | undefined;
  abortedAt: number | undefined;
  leadingSignal: AbortSignal | undefined;
  stoppedLeading: number;
  gauge: number[];
}

const running: Candidate[] = [];

function startCandidate(config: RestConfig, name: string, identity: string): Candidate {
  const c: Candidate = {
    identity,
    elector: undefined as unknown as LeaderElector,
    stop: new AbortController(),
    done: Promise.resolve(),
    startedAt: undefined,
    abortedAt: undefined,
    leadingSignal: undefined,
    stoppedLeading: 0,
    gauge: [],
  };
  c.elector = createLeaderElector({
    lock: createLeaseLock({ client: config, namespace: 'default', name, identity }),
    ...timing,
    metricsProvider: { newLeaderElectionMetrics: () => ({ masterStatus: { set: (v) => void c.gauge.push(v) } }) },
    callbacks: {
      onStartedLeading(signal) {
        c.startedAt = performance.now();
        c.leadingSignal = signal;
        signal.addEventListener('abort', () => (c.abortedAt = performance.now()), { once: true });
      },
      onStoppedLeading: () => void c.stoppedLeading++,
    },
  });
  c.done = c.elector.start(c.stop.signal);
  running.push(c);
  return c;
}

function sampleExclusion(candidates: Candidate[]): { stop(): void; violations(): number } {
  let violations = 0;
  const timer = setInterval(() => {
    if (candidates.filter((c) => c.elector.isLeader()).length > 1) violations++;
  }, 2);
  return { stop: () => clearInterval(timer), violations: () => violations };
}

describe('leader election when the API server goes away (own control plane)', () => {
  let env: ControlPlane;
  let proxy: SwitchableProxy | undefined;
  let leaseNumber = 0;

  beforeAll(async () => {
    env = await startControlPlane({ kubernetesVersion: '1.37.2' });
  });
  afterEach(async () => {
    for (const c of running.splice(0)) c.stop.abort();
    await proxy?.close();
    proxy = undefined;
  });
  afterAll(async () => {
    await env?.stop();
  });

  /** a leads through the proxy, b waits going direct; resolves both once b has seen a's lease. */
  async function leaderBehindProxy(): Promise<{ a: Candidate; b: Candidate; proxy: SwitchableProxy; name: string }> {
    proxy = await startSwitchableProxy(Number(new URL(env.host).port));
    const name = `fault-lease-${++leaseNumber}`;
    const a = startCandidate({ ...env.config, host: proxy.url }, name, 'candidate-a');
    await eventually('a to lead', () => a.elector.isLeader(), { ...poll, timeoutMs: 10_000 });
    const b = startCandidate(env.config, name, 'candidate-b');
    await eventually('b to see a', () => b.elector.getLeader() === 'candidate-a', { ...poll, timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, timing.leaseDurationMs));
    expect(b.elector.isLeader()).toBe(false);
    return { a, b, proxy, name };
  }

  it.for([
    ['refuse', 'its connections are refused'],
    ['hang', 'its requests hang unanswered'],
  ] as const)(
    "aborts the leader's signal within the renew deadline, before anyone takes over (%s: %s)",
    async ([mode], { annotate }) => {
      const { a, b, proxy: leaderProxy, name } = await leaderBehindProxy();
      const sampler = sampleExclusion([a, b]);
      const cutAt = performance.now();
      leaderProxy.setMode(mode);
      await eventually('a to step down', () => !a.elector.isLeader(), {
        ...poll,
        timeoutMs: timing.renewDeadlineMs + 5000,
      });
      await a.done;
      await eventually('b to take over', () => b.elector.isLeader(), { ...poll, timeoutMs: 15_000 });
      sampler.stop();
      const lostAfterMs = a.abortedAt! - cutAt;
      const takeoverAfterMs = b.startedAt! - cutAt;
      await figure(
        annotate,
        `API server ${mode === 'refuse' ? 'unreachable' : 'silent'}: the leader stepped down ${lostAfterMs.toFixed(0)} ms ` +
          `after the cut, the successor led ${takeoverAfterMs.toFixed(0)} ms after the cut`,
      );

      // a renewed last at most retryPeriodMs (plus a request) before the cut, and gives up renewDeadlineMs after that.
      expect(lostAfterMs).toBeLessThanOrEqual(timing.renewDeadlineMs + slackMs);
      expect(lostAfterMs).toBeGreaterThanOrEqual(timing.renewDeadlineMs - timing.retryPeriodMs - 100);
      expect(isLeadershipLost(a.leadingSignal?.reason)).toBe(true);
      expect(String(a.leadingSignal?.reason)).toContain('it was not renewed within renewDeadlineMs (1500 ms)');
      expect(a.stoppedLeading).toBe(1);
      expect(a.gauge).toEqual([0, 1, 0]);
      // The safety property: the successor starts only after the old leader stopped.
      expect(b.startedAt!).toBeGreaterThan(a.abortedAt!);
      expect(sampler.violations()).toBe(0);
      expect(takeoverAfterMs).toBeLessThanOrEqual(timing.leaseDurationMs + 2 * timing.retryPeriodMs * 1.2 + slackMs);
      const lease = await createClientset(env.config).coordinationV1().leases('default').get(name);
      expect(lease.spec).toMatchObject({ holderIdentity: 'candidate-b', leaseTransitions: 1 });
    },
  );

  it('steps down during an API server restart longer than the renew deadline; one candidate leads afterwards', async ({
    annotate,
  }) => {
    const name = `fault-lease-${++leaseNumber}`;
    const a = startCandidate(env.config, name, 'candidate-a');
    await eventually('a to lead', () => a.elector.isLeader(), { ...poll, timeoutMs: 10_000 });
    const b = startCandidate(env.config, name, 'candidate-b');
    await eventually('b to see a', () => b.elector.getLeader() === 'candidate-a', { ...poll, timeoutMs: 5000 });
    const sampler = sampleExclusion([a, b]);
    const restartAt = performance.now();
    await env.restartApiServer();
    const restartMs = performance.now() - restartAt;
    await figure(annotate, `API server restart took ${restartMs.toFixed(0)} ms`);
    // The restart must outlast the renew deadline for this test to mean anything.
    expect(restartMs).toBeGreaterThan(timing.renewDeadlineMs);
    await eventually('a to step down', () => !a.elector.isLeader(), { ...poll, timeoutMs: 5000 });
    await eventually('b to take over', () => b.elector.isLeader(), { ...poll, timeoutMs: 15_000 });
    sampler.stop();
    expect(a.abortedAt! - restartAt).toBeLessThanOrEqual(timing.renewDeadlineMs + slackMs);
    expect(isLeadershipLost(a.leadingSignal?.reason)).toBe(true);
    expect(b.startedAt!).toBeGreaterThan(a.abortedAt!);
    expect(sampler.violations()).toBe(0);
    await a.done;
    expect(a.stoppedLeading).toBe(1);
  });
});
