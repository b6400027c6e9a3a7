import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigMap } from '../../sdk/client/index.js';
import { startControlPlane, type ControlPlane } from '../../sdk/envtest/index.js';
import { controllerFor, createManager, type Manager } from '../../sdk/manager/index.js';
import { startFaultProxy, type FaultProxy } from '../../sdk/testing/index.js';
import { createTestNamespace } from '../support/cluster.js';
import { eventually, freePort, httpGet } from '../support/wait.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

// The manager's `apiserver` liveness check against the real API server, reached through the fault proxy so that the
// test can cut this process off from it: a short outage must not fail /healthz, a long one must, and the check must
// pass again once the server is back.
describe('the manager /healthz apiserver check (own control plane, fault proxy)', () => {
  const unreachableMs = 3000;
  const probeIntervalMs = 500;
  let env: ControlPlane;
  let proxy: FaultProxy;
  let mgr: Manager;
  let probePort: number;
  const stop = new AbortController();
  let running: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    env = await startControlPlane({ kubernetesVersion: '1.37.2' });
    proxy = await startFaultProxy({ target: env.config });
    const ns = await createTestNamespace(env.config, 'liveness');
    probePort = await freePort();
    mgr = await createManager({
      config: proxy.config,
      cache: { namespaces: [ns] },
      metricsBindAddress: '0',
      healthProbeBindAddress: `127.0.0.1:${probePort}`,
      liveness: { apiServerUnreachableMs: unreachableMs, probeIntervalMs },
      logger: pino({ level: 'silent' }),
    });
    controllerFor(mgr)
      .for(ConfigMap)
      .named('liveness')
      .complete({ reconcile: async () => ({}) });
    running = mgr.start(stop.signal);
    await eventually(
      'the manager to be ready',
      async () => (await httpGet(`http://127.0.0.1:${probePort}/readyz`)).status === 200,
      { timeoutMs: 30_000 },
    );
  });

  afterAll(async () => {
    stop.abort();
    await running.catch(() => undefined);
    await proxy?.close();
    await env?.stop();
  });

  const healthz = (): Promise<{ status: number; text: string }> =>
    httpGet(`http://127.0.0.1:${probePort}/healthz?verbose`);

  it('stays healthy through an outage shorter than the bound', async () => {
    proxy.setMode('drop');
    const statuses: number[] = [];
    const until = Date.now() + unreachableMs / 3;
    while (Date.now() < until) {
      statuses.push((await healthz()).status);
      await sleep(100);
    }
    proxy.setMode('pass');
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('fails once the API server has been unreachable for longer than the bound, and recovers when it is back', async () => {
    // The outage above is over: the manager heard from the server again before this one starts.
    await eventually('a healthy check', async () => (await healthz()).status === 200, { timeoutMs: 10_000 });
    await sleep(probeIntervalMs * 2);
    const cutAt = Date.now();
    proxy.setMode('drop');
    const failed = await eventually(
      '/healthz to fail',
      async () => {
        const r = await healthz();
        return r.status !== 200 ? r : undefined;
      },
      { timeoutMs: unreachableMs + 10_000, intervalMs: 100 },
    );
    const failedAfterMs = Date.now() - cutAt;
    process.stdout.write(
      `[manager-liveness] /healthz failed ${failedAfterMs} ms after the cut (bound ${unreachableMs} ms)\n`,
    );
    expect(failed.status).toBe(503);
    expect(failed.text).toMatch(/apiserver/);
    expect(failed.text).toMatch(/nothing from the API server/);
    // The bound counts from the last answer, which came at most about two probe intervals before the cut (a probe is
    // sent once the silence reaches one interval, checked every half interval); the check fails within the bound
    // after that, give or take the probe's timeout and slack.
    expect(failedAfterMs).toBeGreaterThanOrEqual(unreachableMs - 2 * probeIntervalMs);
    expect(failedAfterMs).toBeLessThanOrEqual(unreachableMs + probeIntervalMs + 2000);

    const backAt = Date.now();
    proxy.setMode('pass');
    await eventually('/healthz to pass again', async () => (await healthz()).status === 200, {
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    process.stdout.write(
      `[manager-liveness] /healthz passed again ${Date.now() - backAt} ms after the server was back\n`,
    );
  });
});
