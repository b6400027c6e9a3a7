import { pino, type Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  ConfigMap,
  createClientset,
  type Clientset,
  type DiscoveryClient,
  type DynamicClient,
} from '../../sdk/client/index.js';
import { connectToControlPlane } from '../../sdk/envtest/index.js';
import {
  CLIENT,
  CLIENTSET,
  DISCOVERY_CLIENT,
  DYNAMIC_CLIENT,
  LOGGER,
  Reconciler,
  controllerFor,
  createManager,
  inject,
  type Client,
  type ReconcileRequest,
  type ReconcileResult,
} from '../../sdk/manager/index.js';
import type { InjectedReport } from '../fixtures/operator-process.js';
import { eventually, freePort, httpGet } from '../support/wait.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';
import { managerRunner } from '../support/managers.js';

// The manager's "done when" list, against the real API server: dependency injection of every client in code that
// vitest compiled (test/fault/manager-leader-election.test.ts does the same for a program compiled by tsc), one
// reconcile per key at a time with several keys at once, retries with growing delays, and /readyz and /metrics
// around the informers' first sync.

const silent = pino({ level: 'silent' });

/** Prints a measured figure on standard output and records it as an annotation of the test. */
async function figure(annotate: (message: string) => Promise<unknown>, message: string): Promise<void> {
  process.stdout.write(`[manager-acceptance] ${message}\n`);
  await annotate(message);
}

/** Managers started by a test, stopped after it. */
const run = managerRunner();

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

describe('Manager acceptance against the real API server', () => {
  const { config, workDir } = sharedCluster();
  const noServers = { metricsBindAddress: '0', healthProbeBindAddress: '0' } as const;

  it('injects CLIENT, CLIENTSET, DYNAMIC_CLIENT, DISCOVERY_CLIENT and LOGGER by @inject(TOKEN), each usable', async () => {
    const ns = await createTestNamespace(config, 'inject');
    const reports: InjectedReport[] = [];

    @Reconciler({ for: ConfigMap, name: 'injected' })
    class AllTokens {
      constructor(
        @inject(CLIENT) private readonly client: Client,
        @inject(CLIENTSET) private readonly clientset: Clientset,
        @inject(DYNAMIC_CLIENT) private readonly dynamic: DynamicClient,
        @inject(DISCOVERY_CLIENT) private readonly discovery: DiscoveryClient,
        @inject(LOGGER) private readonly logger: Logger,
      ) {}

      async reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
        // The same checks as test/fixtures/operator-process.ts.
        const attempt = async (probe: () => Promise<boolean>): Promise<boolean | string> =>
          probe().catch(describeError);
        const paramtypes: unknown = Reflect.getMetadata('design:paramtypes', AllTokens);
        reports.push({
          client: await attempt(
            async () =>
              typeof this.client.get === 'function' &&
              (await this.client.get(ConfigMap, req)).metadata?.name === req.name,
          ),
          clientset: await attempt(
            async () =>
              (
                await this.clientset
                  .coreV1()
                  .configMaps(req.namespace ?? '')
                  .get(req.name)
              ).metadata?.name === req.name,
          ),
          dynamic: await attempt(
            async () =>
              (
                await this.dynamic
                  .resource({ group: '', version: 'v1', resource: 'configmaps' })
                  .namespace(req.namespace ?? '')
                  .get(req.name)
              ).metadata?.name === req.name,
          ),
          discoveryGitVersion: await this.discovery.serverVersion().then((v) => v.gitVersion, describeError),
          logger: typeof this.logger.info === 'function' && this.logger === silent,
          paramtypes: Array.isArray(paramtypes) ? paramtypes.length : -1,
        });
        return {};
      }
    }

    const mgr = await createManager({ config, cache: { namespaces: [ns] }, ...noServers, logger: silent });
    mgr.register(AllTokens);
    run(mgr);
    await createClientset(config)
      .coreV1()
      .configMaps(ns)
      .create({ metadata: { name: 'probe' } });
    const [report] = await eventually('a reconcile', () => (reports.length > 0 ? reports : undefined));
    expect(report).toEqual({
      client: true,
      clientset: true,
      dynamic: true,
      discoveryGitVersion: 'v1.37.2',
      logger: true,
      paramtypes: 5,
    } satisfies InjectedReport);
  });

  it('never reconciles one key in two workers at once under 50 rapid updates, while other keys run concurrently', async ({
    annotate,
  }) => {
    const ns = await createTestNamespace(config, 'concurrency');
    const workers = 4;
    const coldKeys = Array.from({ length: 8 }, (_, i) => `cold-${i}`);
    const inFlight = new Map<string, number>();
    const overlaps: string[] = [];
    let inFlightTotal = 0;
    let maxInFlight = 0;
    const hotSeen: string[] = [];
    const reconciled = new Set<string>();

    @Reconciler({ for: ConfigMap, name: 'concurrent', maxConcurrentReconciles: workers })
    class Concurrent {
      constructor(@inject(CLIENT) private readonly client: Client) {}
      async reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
        const mine = (inFlight.get(req.name) ?? 0) + 1;
        inFlight.set(req.name, mine);
        if (mine > 1) overlaps.push(req.name);
        maxInFlight = Math.max(maxInFlight, ++inFlightTotal);
        try {
          const cm = await this.client.get(ConfigMap, req);
          if (req.name === 'hot') hotSeen.push(cm.data?.['n'] ?? '');
          // Work that yields to the event loop: a second worker on the same key would show here.
          await new Promise((r) => setTimeout(r, req.name === 'hot' ? 20 : 100));
          reconciled.add(req.name);
        } finally {
          inFlight.set(req.name, (inFlight.get(req.name) ?? 1) - 1);
          inFlightTotal--;
        }
        return {};
      }
    }

    const mgr = await createManager({ config, cache: { namespaces: [ns] }, ...noServers, logger: silent });
    mgr.register(Concurrent);
    run(mgr);
    const cms = createClientset(config).coreV1().configMaps(ns);
    await cms.create({ metadata: { name: 'hot' }, data: { n: '0' } });
    await eventually('the first reconcile of hot', () => hotSeen.length > 0);

    // 50 updates while the other three workers are idle: if the queue handed a key that is being reconciled to a
    // second worker, one of them would take it.
    const updates = 50;
    let updatesWhileReconciling = 0;
    for (let n = 1; n <= updates; n++) {
      await cms.patch('hot', { data: { n: String(n) } }, { patchType: 'merge' });
      if ((inFlight.get('hot') ?? 0) > 0) updatesWhileReconciling++;
    }
    await eventually('a reconcile of the last update', () => hotSeen.includes(String(updates)));
    await eventually('no reconcile in flight', () => inFlightTotal === 0);
    expect(updatesWhileReconciling).toBeGreaterThan(0); // the case the guarantee is about did happen
    expect(overlaps).toEqual([]);
    expect(maxInFlight).toBe(1);
    // Updates that arrive while hot waits or runs fold into one reconcile: never more than one per event.
    expect(hotSeen.length).toBeLessThanOrEqual(updates + 1);
    expect(hotSeen.at(-1)).toBe(String(updates));

    // Then several keys at once: they share the workers.
    await Promise.all(coldKeys.map((name) => cms.create({ metadata: { name } })));
    await eventually('a reconcile of every cold key', () => coldKeys.every((k) => reconciled.has(k)));
    await eventually('no reconcile in flight', () => inFlightTotal === 0);
    await figure(
      annotate,
      `${updates} updates of one key (${updatesWhileReconciling} while it was being reconciled): ${hotSeen.length} reconciles; ` +
        `${coldKeys.length} keys at once: at most ${maxInFlight} reconciles in flight`,
    );
    expect(overlaps).toEqual([]);
    expect(maxInFlight).toBeGreaterThan(1);
    expect(maxInFlight).toBeLessThanOrEqual(workers);
  });

  it('retries a reconcile that keeps failing with delays that double from 5 ms (the default rate limiter)', async ({
    annotate,
  }) => {
    const ns = await createTestNamespace(config, 'backoff');
    const attempts: number[] = [];
    const mgr = await createManager({ config, cache: { namespaces: [ns] }, ...noServers, logger: silent });
    controllerFor(mgr)
      .for(ConfigMap)
      .named('backoff')
      .complete({
        reconcile: async () => {
          attempts.push(performance.now());
          throw new Error('always fails');
        },
      });
    run(mgr);
    await createClientset(config)
      .coreV1()
      .configMaps(ns)
      .create({ metadata: { name: 'failing' } });

    // defaultControllerRateLimiter: the longer of per-key backoff (5 ms × 2^(n-1) for the n-th failure) and a token
    // bucket shared by the controller's keys (10 per second after a burst of 100).
    const expectedDelayMs = (n: number): number => Math.max(5 * 2 ** (n - 1), (Math.max(0, n - 100) / 10) * 1000);
    const retries = 9;
    /** A retry comes no sooner than its delay, and later only by the event loop's lag on a shared 2-core machine. */
    const lagMs = 250;
    let totalMs = 0;
    for (let n = 1; n <= retries; n++) totalMs += expectedDelayMs(n);
    await eventually(`${retries} retries`, () => attempts.length >= retries + 1, totalMs + retries * lagMs);

    const gaps = attempts.slice(1, retries + 1).map((t, i) => t - attempts[i]!);
    await figure(annotate, `gaps between attempts (ms): ${gaps.map((g) => g.toFixed(1)).join(', ')}`);
    gaps.forEach((gap, i) => {
      const delay = expectedDelayMs(i + 1);
      expect(gap, `retry ${i + 1}`).toBeGreaterThanOrEqual(delay);
      expect(gap, `retry ${i + 1}`).toBeLessThanOrEqual(delay + lagMs);
    });
    // Growing: each gap after the first three is longer than the one before.
    for (let i = 3; i < gaps.length; i++) expect(gaps[i], `retry ${i + 1}`).toBeGreaterThan(gaps[i - 1]!);
  });

  it('answers /readyz with 503 until the informers synced (here: until RBAC lets it list), then 200; /metrics throughout', async ({
    annotate,
  }) => {
    const ns = await createTestNamespace(config, 'readyz');
    const cluster = await connectToControlPlane(workDir);
    const user = uniqueName('readyz-operator');
    const userConfig = await cluster.addUser({ name: user });
    const [metricsPort, probePort] = [await freePort(), await freePort()];
    const probe = (path: string) => httpGet(`http://127.0.0.1:${probePort}${path}`);
    const metrics = () => httpGet(`http://127.0.0.1:${metricsPort}/metrics`);
    const mgr = await createManager({
      config: userConfig,
      cache: { namespaces: [ns] },
      metricsBindAddress: `127.0.0.1:${metricsPort}`,
      healthProbeBindAddress: `127.0.0.1:${probePort}`,
      logger: silent,
    });
    const reconciled: string[] = [];
    controllerFor(mgr)
      .for(ConfigMap)
      .named('readyz')
      .complete({ reconcile: async (req) => (reconciled.push(req.name), {}) });
    run(mgr);
    const admin = createClientset(config);
    await admin
      .coreV1()
      .configMaps(ns)
      .create({ metadata: { name: 'waiting' } });

    // The user may not list ConfigMaps yet: the informer's requests are forbidden and it cannot sync.
    const forbidden = await eventually('a forbidden request in /metrics', async () => {
      const m = await metrics();
      return /^rest_client_requests_total\{code="403",method="GET",host="[^"]+"\} [1-9]/m.test(m.text) ? m : undefined;
    });
    expect(forbidden.status).toBe(200);
    const notReady = await probe('/readyz?verbose');
    await figure(
      annotate,
      `/readyz before the informers synced: HTTP ${notReady.status}: ${notReady.text.trim().replaceAll('\n', ' | ')}`,
    );
    expect(notReady.status).toBe(503);
    expect(notReady.text).toContain(`[-]informers failed: v1/configmaps in ${ns} (not synced)`);
    expect((await probe('/healthz')).status).toBe(200); // alive, only not ready
    expect(reconciled).toEqual([]);

    const granted = Date.now();
    await admin
      .rbacAuthorizationV1()
      .roles(ns)
      .create({
        metadata: { name: 'configmap-reader' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
      });
    await admin
      .rbacAuthorizationV1()
      .roleBindings(ns)
      .create({
        metadata: { name: 'configmap-reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'configmap-reader' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: user }],
      });
    // The reflector retries with backoff (800 ms doubling, jitter): a few seconds at most after a short denial.
    const ready = await eventually(
      '/readyz 200',
      async () => {
        const r = await probe('/readyz');
        return r.status === 200 ? r : undefined;
      },
      30_000,
    );
    await figure(annotate, `/readyz 200 ${Date.now() - granted} ms after the RBAC grant`);
    expect(ready.text).toBe('ok');
    await eventually('a reconcile of the object created while not ready', () => reconciled.includes('waiting'));
    const after = await metrics();
    expect(after.text).toMatch(/controller_runtime_reconcile_total\{controller="readyz",result="success"\} [1-9]/);
    expect(after.text).toMatch(/^rest_client_requests_total\{code="200",method="GET",host="[^"]+"\} [1-9]/m);
  });
});
