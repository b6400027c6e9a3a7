import { afterEach, describe, expect, it } from 'vitest';
import { createClientset, type Lease, type RestConfig } from '../../sdk/client/index.js';
import { connectToControlPlane } from '../../sdk/envtest/index.js';
import {
  createLeaderElector,
  createLeaseLock,
  isMicroTime,
  type LeaderElectionLogger,
  type LeaderElector,
} from '../../sdk/leaderelection/index.js';
import { createTestNamespace, rawRequest, sharedCluster, uniqueName } from '../support/cluster.js';
import { eventually, type EventuallyOptions } from '../support/wait.js';

const poll: EventuallyOptions = { intervalMs: 5 };

// Leader election against the shared kube-apiserver, with short durations: lease 2000 / renew 1500 / retry 300 ms.
const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 } as const;
/** Request latency and event-loop lag on a shared 2-core machine: what a bound may add to the configured durations. */
const slackMs = 500;

/** Prints a measured figure on standard output and records it as an annotation of the test. */
async function figure(annotate: (message: string) => Promise<unknown>, message: string): Promise<void> {
  process.stdout.write(`[leaderelection] ${message}\n`);
  await annotate(message);
}

interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg: string;
}

interface Candidate {
  identity: string;
  elector: LeaderElector;
  stop: AbortController;
  done: Promise<void>;
  /** performance.now() when onStartedLeading ran, and when its signal aborted. */
  startedAt: number | undefined;
  abortedAt: number | undefined;
  /** Date.now() when onStartedLeading ran, to compare with the Lease's MicroTime stamps. */
  startedWallMs: number | undefined;
  leadingSignal: AbortSignal | undefined;
  stoppedLeading: number;
  newLeaders: string[];
  gauge: number[];
  logs: LogLine[];
}

const running: Candidate[] = [];

afterEach(async () => {
  for (const c of running.splice(0)) c.stop.abort();
});

function recordingLogger(logs: LogLine[]): LeaderElectionLogger {
  const at =
    (level: string) =>
    (obj: object, msg: string): void =>
      void logs.push({ level, obj: obj as Record<string, unknown>, msg });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function startCandidate(
  config: RestConfig,
  namespace: string,
  name: string,
  identity: string,
  options: { releaseOnCancel?: boolean } = {},
): Candidate {
  const c: Candidate = {
    identity,
    elector: undefined as unknown as LeaderElector,
    stop: new AbortController(),
    done: Promise.resolve(),
    startedAt: undefined,
    abortedAt: undefined,
    startedWallMs: undefined,
    leadingSignal: undefined,
    stoppedLeading: 0,
    newLeaders: [],
    gauge: [],
    logs: [],
  };
  c.elector = createLeaderElector({
    lock: createLeaseLock({ client: createClientset({ ...config }), namespace, name, identity }),
    ...timing,
    releaseOnCancel: options.releaseOnCancel ?? false,
    logger: recordingLogger(c.logs),
    metricsProvider: { newLeaderElectionMetrics: () => ({ masterStatus: { set: (v) => void c.gauge.push(v) } }) },
    callbacks: {
      onStartedLeading(signal) {
        c.startedAt = performance.now();
        c.startedWallMs = Date.now();
        c.leadingSignal = signal;
        signal.addEventListener('abort', () => (c.abortedAt = performance.now()), { once: true });
      },
      onStoppedLeading: () => void c.stoppedLeading++,
      onNewLeader: (id) => void c.newLeaders.push(id),
    },
  });
  c.done = c.elector.start(c.stop.signal);
  running.push(c);
  return c;
}

/** Samples every few milliseconds that no two candidates lead at once; `stop()` resolves how many samples it took. */
function sampleExclusion(candidates: Candidate[]): { stop(): number; violations: () => number } {
  let samples = 0;
  let violations = 0;
  const timer = setInterval(() => {
    samples++;
    if (candidates.filter((c) => c.elector.isLeader()).length > 1) violations++;
  }, 2);
  return {
    stop() {
      clearInterval(timer);
      return samples;
    },
    violations: () => violations,
  };
}

async function readLease(config: RestConfig, namespace: string, name: string): Promise<Lease> {
  return createClientset(config).coordinationV1().leases(namespace).get(name);
}

describe('leader election over a real Lease', () => {
  const cluster = sharedCluster();

  it('elects exactly one of two candidates, writes a well-formed Lease, and hands over fast on a graceful release', async ({
    annotate,
  }) => {
    const ns = await createTestNamespace(cluster.config, 'le');
    const name = uniqueName('lease');
    const a = startCandidate(cluster.config, ns, name, 'candidate-a', { releaseOnCancel: true });
    await eventually('a to lead', () => a.elector.isLeader(), { ...poll, timeoutMs: 10_000 });
    const b = startCandidate(cluster.config, ns, name, 'candidate-b', { releaseOnCancel: true });
    const sampler = sampleExclusion([a, b]);

    // b sees a's lease and waits; a keeps renewing.
    await eventually('b to see a', () => b.elector.getLeader() === 'candidate-a', { ...poll, timeoutMs: 5000 });
    const first = await readLease(cluster.config, ns, name);
    await new Promise((resolve) => setTimeout(resolve, timing.leaseDurationMs * 2));
    expect(b.elector.isLeader()).toBe(false);
    const renewed = await readLease(cluster.config, ns, name);
    expect(renewed.spec).toMatchObject({
      holderIdentity: 'candidate-a',
      leaseDurationSeconds: 2,
      leaseTransitions: 0,
      acquireTime: first.spec?.acquireTime,
    });
    expect(isMicroTime(renewed.spec?.acquireTime)).toBe(true);
    expect(isMicroTime(renewed.spec?.renewTime)).toBe(true);
    expect(Date.parse(renewed.spec!.renewTime!)).toBeGreaterThan(Date.parse(first.spec!.renewTime!));
    expect(a.gauge).toEqual([0, 1]);
    expect(b.gauge).toEqual([0]);

    const stoppedAt = performance.now();
    a.stop.abort();
    await eventually('b to take over', () => b.elector.isLeader(), { ...poll, timeoutMs: 10_000 });
    const failoverMs = b.startedAt! - stoppedAt;
    await a.done;
    const samples = sampler.stop();
    await figure(
      annotate,
      `graceful release failover: ${failoverMs.toFixed(0)} ms (bound ${timing.retryPeriodMs * 1.2 + slackMs} ms)`,
    );

    expect(failoverMs).toBeLessThanOrEqual(timing.retryPeriodMs * 1.2 + slackMs);
    expect(b.startedAt!).toBeGreaterThan(a.abortedAt!);
    expect(sampler.violations()).toBe(0);
    expect(samples).toBeGreaterThan(100);
    expect(a.stoppedLeading).toBe(1);
    expect(a.leadingSignal?.aborted).toBe(true);
    expect(b.newLeaders).toEqual(['candidate-a', 'candidate-b']);

    const taken = await readLease(cluster.config, ns, name);
    expect(taken.spec).toMatchObject({ holderIdentity: 'candidate-b', leaseDurationSeconds: 2, leaseTransitions: 1 });
    expect(taken.spec?.acquireTime).not.toBe(first.spec?.acquireTime);
    expect(isMicroTime(taken.spec?.acquireTime)).toBe(true);

    // b releases too: an empty holder, one second, the transition count kept.
    b.stop.abort();
    await b.done;
    const released = await readLease(cluster.config, ns, name);
    expect(released.spec).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 1 });
    expect(isMicroTime(released.spec?.renewTime)).toBe(true);
  });

  it('takes over after the leader stops renewing without releasing (a kill), once the lease expired', async ({
    annotate,
  }) => {
    const ns = await createTestNamespace(cluster.config, 'le');
    const name = uniqueName('lease');
    const a = startCandidate(cluster.config, ns, name, 'candidate-a');
    await eventually('a to lead', () => a.elector.isLeader(), { ...poll, timeoutMs: 10_000 });
    const b = startCandidate(cluster.config, ns, name, 'candidate-b');
    await eventually('b to see a', () => b.elector.getLeader() === 'candidate-a', { ...poll, timeoutMs: 5000 });
    const sampler = sampleExclusion([a, b]);
    await new Promise((resolve) => setTimeout(resolve, timing.leaseDurationMs));

    const killedAt = performance.now();
    a.stop.abort();
    await a.done;
    const lastRenewal = Date.parse((await readLease(cluster.config, ns, name)).spec!.renewTime!);
    await eventually('b to take over', () => b.elector.isLeader(), { ...poll, timeoutMs: 15_000 });
    const failoverMs = b.startedAt! - killedAt;
    sampler.stop();
    const bound = timing.leaseDurationMs + 2 * timing.retryPeriodMs * 1.2 + slackMs;
    await figure(annotate, `failover after a kill (no release): ${failoverMs.toFixed(0)} ms (bound ${bound} ms)`);

    expect(failoverMs).toBeLessThanOrEqual(bound);
    // Not before the lease expired: b waits leaseDurationMs from when it saw a's last renewal.
    expect(b.startedWallMs!).toBeGreaterThanOrEqual(lastRenewal + timing.leaseDurationMs);
    expect(sampler.violations()).toBe(0);
    expect(b.startedAt!).toBeGreaterThan(a.abortedAt!);
    const lease = await readLease(cluster.config, ns, name);
    expect(lease.spec).toMatchObject({ holderIdentity: 'candidate-b', leaseTransitions: 1 });
  });

  it("judges expiry by its own observation, not by the holder's renewTime (clock skew)", async () => {
    const ns = await createTestNamespace(cluster.config, 'le');
    const name = uniqueName('lease');
    // A holder whose clock runs a day ahead, and another's a day behind: neither time decides anything.
    const cs = createClientset(cluster.config);
    const day = 86_400_000;
    for (const [lease, skew] of [
      [name, day],
      [`${name}-behind`, -day],
    ] as const) {
      await cs
        .coordinationV1()
        .leases(ns)
        .create({
          metadata: { name: lease },
          spec: {
            holderIdentity: 'ghost',
            leaseDurationSeconds: 2,
            acquireTime: new Date(Date.now() + skew).toISOString().replace('Z', '000Z'),
            renewTime: new Date(Date.now() + skew).toISOString().replace('Z', '000Z'),
            leaseTransitions: 3,
          },
        });
    }
    const startedAt = performance.now();
    const ahead = startCandidate(cluster.config, ns, name, 'candidate-a');
    const behind = startCandidate(cluster.config, ns, `${name}-behind`, 'candidate-b');
    await eventually('both to lead', () => ahead.elector.isLeader() && behind.elector.isLeader(), {
      ...poll,
      timeoutMs: 10_000,
    });
    for (const c of [ahead, behind]) {
      const tookMs = c.startedAt! - startedAt;
      expect(tookMs).toBeGreaterThanOrEqual(timing.leaseDurationMs);
      expect(tookMs).toBeLessThanOrEqual(timing.leaseDurationMs + timing.retryPeriodMs * 1.2 + slackMs);
      expect(c.newLeaders).toEqual(['ghost', c.identity]);
    }
    expect((await readLease(cluster.config, ns, name)).spec).toMatchObject({
      holderIdentity: 'candidate-a',
      leaseTransitions: 4,
    });
  });

  it('reports missing RBAC clearly, keeps retrying without crashing, and leads once access is granted', async () => {
    const ns = await createTestNamespace(cluster.config, 'le');
    const name = uniqueName('lease');
    const env = await connectToControlPlane(cluster.workDir);
    const user = uniqueName('op');
    const config = await env.addUser({ name: user });
    const c = startCandidate(config, ns, name, 'candidate-a');

    await eventually('a warning', () => c.logs.some((l) => l.level === 'warn'), { ...poll, timeoutMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, timing.retryPeriodMs * 1.2 * 4));
    const warnings = c.logs.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain(`cannot get the lease ${ns}/${name} as "candidate-a"`);
    expect(warnings[0]!.msg).toContain('403 Forbidden');
    expect(warnings[0]!.msg).toContain(
      `User "${user}" cannot get resource "leases" in API group "coordination.k8s.io"`,
    );
    expect(warnings[0]!.msg).toContain('grant get, create and update on this lease');
    expect(warnings[0]!.obj['err']).toMatchObject({ code: 'ERR_LEADER_ELECTION_LOCK', cause: { statusCode: 403 } });
    // Still trying: the same failure, repeated at debug level.
    expect(c.logs.filter((l) => l.msg === 'lease call failed again').length).toBeGreaterThanOrEqual(3);
    expect(c.elector.isLeader()).toBe(false);

    const grant = async (kind: 'roles' | 'rolebindings', body: object): Promise<void> => {
      const res = await rawRequest(
        cluster.config,
        'POST',
        `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/${kind}`,
        body,
      );
      expect(res.status).toBe(201);
    };
    await grant('roles', {
      metadata: { name: 'leader-election' },
      rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }],
    });
    await grant('rolebindings', {
      metadata: { name: 'leader-election' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'leader-election' },
      subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: user }],
    });
    await eventually('a to lead once allowed', () => c.elector.isLeader(), { ...poll, timeoutMs: 15_000 });
    expect((await readLease(cluster.config, ns, name)).spec?.holderIdentity).toBe('candidate-a');
    c.stop.abort();
    await expect(c.done).resolves.toBeUndefined();
  });
});
