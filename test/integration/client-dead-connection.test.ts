// Issue #16 finding 1: a connection that goes silent without FIN or RST (the fault proxy's stall) must not hold every
// request up until undici's default PINGs give up (about 120 s measured). Against the real API server, through the
// TCP fault proxy: HTTP/2 PINGs find the dead connection within two ping intervals, and a request that times out
// sends the next ones to a new connection at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClientset,
  defaultPingIntervalMs,
  hasErrorCode,
  type RestConfig,
  type corev1,
} from '../../sdk/client/index.js';
import { createLeaderElector, createLeaseLock } from '../../sdk/leaderelection/index.js';
import { startFaultProxy, type FaultProxy } from '../../sdk/testing/index.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';
import { eventually } from '../support/wait.js';

function cm(name: string): corev1.ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } };
}

describe('a half-open connection to the API server', () => {
  const { config } = sharedCluster();
  let proxy: FaultProxy;
  let ns: string;

  beforeAll(async () => {
    proxy = await startFaultProxy({ target: config });
    ns = await createTestNamespace(config, 'deadconn');
    await createClientset(config).coreV1().configMaps(ns).create(cm('a'));
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('is found by HTTP/2 PINGs within two ping intervals, and the requests on it go to a new connection', async () => {
    const pingIntervalMs = 500;
    const through: RestConfig = { ...proxy.config, pingIntervalMs };
    const cms = createClientset(through).coreV1().configMaps(ns);
    expect((await cms.get('a')).metadata?.name).toBe('a'); // the connection is up and shared
    expect(proxy.stall()).toBeGreaterThanOrEqual(1);
    const stalledAt = performance.now();
    // No request timeout: these wait on the dead connection until the PINGs close it, then are retried (GETs).
    const gets = await Promise.all(Array.from({ length: 5 }, () => cms.get('a')));
    const recoveredMs = performance.now() - stalledAt;
    expect(gets.map((c) => c.metadata?.name)).toEqual(['a', 'a', 'a', 'a', 'a']);
    // Two intervals (1 s) at most, plus a reconnect and the retry's backoff; undici's default took about 120 s.
    expect(recoveredMs).toBeLessThan(2 * pingIntervalMs + 4000);
    expect(defaultPingIntervalMs).toBe(15_000);
  });

  it('moves the next requests to a new connection after a request timed out, even with PINGs off', async () => {
    const through: RestConfig = { ...proxy.config, pingIntervalMs: 0, timeoutMs: 1000 };
    const cms = createClientset(through).coreV1().configMaps(ns);
    expect((await cms.get('a')).metadata?.name).toBe('a');
    expect(proxy.stall()).toBeGreaterThanOrEqual(1);
    const timedOut = await cms.get('a').catch((e: unknown) => e);
    expect(hasErrorCode(timedOut, 'ERR_KUBE_TRANSPORT')).toBe(true);
    expect((timedOut as Error).message).toMatch(/timed out after 1000 ms/);
    // The very next request succeeds: it went out on a new connection, not the silent one.
    expect((await cms.get('a')).metadata?.name).toBe('a');
    const name = uniqueName('after');
    expect((await cms.create(cm(name))).metadata?.name).toBe(name);
  });

  it('moves the next requests to a new connection after a caller’s AbortSignal.timeout() fired', async () => {
    const through: RestConfig = { ...proxy.config, pingIntervalMs: 0 };
    const cms = createClientset(through).coreV1().configMaps(ns);
    expect((await cms.get('a')).metadata?.name).toBe('a');
    expect(proxy.stall()).toBeGreaterThanOrEqual(1);
    const timedOut = await cms.get('a', { signal: AbortSignal.timeout(1000) }).catch((e: unknown) => e);
    expect((timedOut as Error).name).toBe('TimeoutError');
    expect((await cms.get('a', { signal: AbortSignal.timeout(5000) })).metadata?.name).toBe('a');
  });

  it('leaves the connection alone when a caller cancels a request', async () => {
    const through: RestConfig = { ...proxy.config, pingIntervalMs: 0 };
    const cms = createClientset(through).coreV1().configMaps(ns);
    expect((await cms.get('a')).metadata?.name).toBe('a');
    const before = proxy.connections;
    const cancel = new AbortController();
    const cancelled = cms.get('a', { signal: cancel.signal }).catch((e: unknown) => e);
    cancel.abort(new Error('reconcile cancelled'));
    expect(((await cancelled) as Error).message).toBe('reconcile cancelled');
    expect((await cms.get('a')).metadata?.name).toBe('a');
    expect(proxy.connections).toBe(before);
  });

  it('keeps a leader’s lease through a stalled connection: the renewal that timed out moves the next one', async () => {
    // PINGs off, so only the timed-out renewal can save the lease: renewDeadline 4 s, each renewal given 1 s.
    const through: RestConfig = { ...proxy.config, pingIntervalMs: 0 };
    const name = uniqueName('lease');
    let stoppedLeading = 0;
    const stop = new AbortController();
    const elector = createLeaderElector({
      lock: createLeaseLock({ client: createClientset(through), namespace: ns, name, identity: 'leader' }),
      leaseDurationMs: 6000,
      renewDeadlineMs: 4000,
      retryPeriodMs: 500,
      requestTimeoutMs: 1000,
      releaseOnCancel: false,
      callbacks: { onStartedLeading: () => undefined, onStoppedLeading: () => void stoppedLeading++ },
    });
    const done = elector.start(stop.signal);
    try {
      await eventually('leadership', () => elector.isLeader(), 30_000);
      const leases = createClientset(config).coordinationV1().leases(ns);
      const renewedBefore = (await leases.get(name)).spec?.renewTime;
      expect(proxy.stall()).toBeGreaterThanOrEqual(1);
      const stalledAt = Date.now();
      // Renewed past the renew deadline and the lease duration after the stall: a leader stuck on the dead
      // connection would have given the lease up after 4 s.
      const renewedAfter = async (): Promise<boolean> => {
        const renewTime = (await leases.get(name)).spec?.renewTime;
        return renewTime !== renewedBefore && Date.parse(String(renewTime)) > stalledAt + 6000;
      };
      await eventually('renewals for a lease duration after the stall', renewedAfter, 15_000);
      expect(elector.isLeader()).toBe(true);
      expect(stoppedLeading).toBe(0);
      expect((await leases.get(name)).spec?.holderIdentity).toBe('leader');
    } finally {
      stop.abort();
      await done.catch(() => undefined);
    }
  });
});
