import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigMap, Secret, createClientset, hasErrorCode } from '../../sdk/client/index.js';
import {
  CLIENT,
  CLOCK,
  Reconciler,
  createManager,
  createToken,
  defineFieldIndex,
  inject,
  type Client,
  type ReconcileRequest,
  type ReconcileResult,
} from '../../sdk/manager/index.js';
import { createFakeClock, type WallClock } from '../../sdk/workqueue/index.js';
import { createTestNamespace, sharedCluster } from '../support/cluster.js';
import { managerRunner } from '../support/managers.js';
import { eventually } from '../support/wait.js';

const silent = pino({ level: 'silent' });
/** Managers started by a test, stopped after it. */
const run = managerRunner();

const byColor = defineFieldIndex(ConfigMap, 'data.color', (cm) => [cm.data?.['color'] ?? '']);
const REPORT_PREFIX = createToken<string>('REPORT_PREFIX');

/** Counts ConfigMaps of its trigger's colour through a declared index, stamping the count with the CLOCK's time. */
@Reconciler({ for: ConfigMap, name: 'colors', indexes: [byColor] })
class ColorCounter {
  constructor(
    @inject(CLIENT) private readonly client: Client,
    @inject(CLOCK) private readonly clock: WallClock,
    @inject(REPORT_PREFIX) private readonly prefix: string,
  ) {}
  async reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
    if (!req.name.startsWith('trigger-')) return {};
    const color = req.name.slice('trigger-'.length);
    const same = await this.client.list(ConfigMap, {
      namespace: req.namespace,
      matchingFields: { 'data.color': color },
    });
    const name = `${this.prefix}-${color}`;
    const data = { count: String(same.items.length), at: this.clock.wallTime().toISOString() };
    await this.client.apply(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: req.namespace, name }, data },
      { fieldManager: 'colors', force: true },
    );
    return {};
  }
}

describe('@Reconciler indexes, provided tokens and CLOCK against the real API server', () => {
  const { config } = sharedCluster();

  it('registers the declared index in the cache, provides the token and the clock, and a list by an unindexed field throws', async () => {
    const ns = await createTestNamespace(config, 'indexes');
    const clock = createFakeClock({ startTime: Date.parse('2026-05-01T00:00:00Z') });
    const mgr = await createManager({
      config,
      cache: { namespaces: [ns] },
      clock,
      provide: [[REPORT_PREFIX, 'report']],
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: silent,
    });
    mgr.register(ColorCounter);
    expect(mgr.cache.fieldIndexOf(ConfigMap, 'data.color')).toBe(byColor.extract);
    run(mgr);
    const cms = createClientset(config).coreV1().configMaps(ns);
    for (const [name, color] of [
      ['a', 'red'],
      ['b', 'blue'],
      ['c', 'red'],
    ])
      await cms.create({ metadata: { name: name! }, data: { color: color! } });
    await cms.create({ metadata: { name: 'trigger-red' } });
    const report = await eventually('the red report', async () =>
      (await cms.list()).items.find((cm) => cm.metadata?.name === 'report-red'),
    );
    expect(report.data).toEqual({ count: '2', at: '2026-05-01T00:00:00.000Z' });
    const err = await mgr.client
      .list(ConfigMap, { namespace: ns, matchingFields: { 'data.size': 'big' } })
      .catch((e: unknown) => e);
    expect(hasErrorCode(err, 'ERR_CACHE_MISSING_INDEX')).toBe(true);
  });

  it('says which token is unregistered when a reconciler cannot be built', async () => {
    const mgr = await createManager({ config, metricsBindAddress: '0', healthProbeBindAddress: '0', logger: silent });
    expect(() => mgr.register(ColorCounter)).toThrow(/nothing is registered for the token REPORT_PREFIX/);
    mgr.provide(REPORT_PREFIX, 'r');
    expect(() => mgr.register(ColorCounter)).not.toThrow();
  });
});

describe('cache.readerFailOnMissingInformer against the real API server', () => {
  const { config } = sharedCluster();

  it('a cached read of a resource nobody watches throws ERR_CACHE_MISSING_INFORMER; a watched one is read', async () => {
    const ns = await createTestNamespace(config, 'strict');
    const mgr = await createManager({
      config,
      cache: { namespaces: [ns], readerFailOnMissingInformer: true },
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: silent,
    });
    mgr.cache.informers(ConfigMap);
    run(mgr);
    await createClientset(config)
      .coreV1()
      .configMaps(ns)
      .create({ metadata: { name: 'seen' } });
    await eventually(
      'the ConfigMap in the cache',
      async () => (await mgr.client.list(ConfigMap, { namespace: ns })).items.length === 1,
    );
    const err = await mgr.client.list(Secret, { namespace: ns }).catch((e: unknown) => e);
    expect(hasErrorCode(err, 'ERR_CACHE_MISSING_INFORMER')).toBe(true);
    expect(mgr.cache.health().map((h) => h.resource)).toEqual(['v1/configmaps']);
    expect((await mgr.client.list(Secret, { namespace: ns, uncached: true })).items).toEqual([]);

    // A removed informer makes reads throw again, until something asks for the resource.
    expect(await mgr.cache.removeInformer(ConfigMap)).toBe(true);
    const removed = await mgr.client.get(ConfigMap, { namespace: ns, name: 'seen' }).catch((e: unknown) => e);
    expect(hasErrorCode(removed, 'ERR_CACHE_MISSING_INFORMER')).toBe(true);
    mgr.cache.informers(ConfigMap);
    expect((await mgr.client.get(ConfigMap, { namespace: ns, name: 'seen' })).metadata?.name).toBe('seen');
  });
});
