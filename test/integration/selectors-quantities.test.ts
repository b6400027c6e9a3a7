import { describe, expect, it } from 'vitest';
import { parseLabelSelector } from '../../sdk/cache/index.js';
import {
  ConfigMap,
  canonicalQuantity,
  createClientset,
  hasErrorCode,
  parseFieldSelector,
  parseQuantity,
  type ApiError,
} from '../../sdk/client/index.js';
import { createManager } from '../../sdk/manager/index.js';
import { pino } from 'pino';
import { createTestNamespace, sharedCluster } from '../support/cluster.js';
import { eventually } from '../support/wait.js';

// kubeloop's selector parsers and quantity formatting, checked against what the real API server does with the same
// input: what it refuses (400), what it selects, and how it writes a quantity back.
describe('selectors and quantities against the real API server', () => {
  const { config } = sharedCluster();

  /** The names the server lists for a selector, or 'refused' for a 400. */
  async function serverList(
    ns: string,
    options: { labelSelector?: string; fieldSelector?: string },
  ): Promise<string[] | 'refused'> {
    try {
      const list = await createClientset(config).coreV1().configMaps(ns).list(options);
      return list.items
        .map((i) => i.metadata?.name ?? '')
        .filter((n) => n !== 'kube-root-ca.crt')
        .toSorted();
    } catch (err) {
      if ((err as ApiError).statusCode === 400) return 'refused';
      throw err;
    }
  }

  it('label selectors: > and < compare as int64, and the same selectors are refused', async () => {
    const ns = await createTestNamespace(config, 'int64');
    const cms = createClientset(config).coreV1().configMaps(ns);
    const values: Record<string, string> = {
      small: '3',
      zeros: '007',
      above53: '9007199254740993',
      at53: '9007199254740992',
      max: '9223372036854775807',
      over: '9223372036854775808',
      twenty: '12345678901234567890',
      word: 'x',
    };
    for (const [name, n] of Object.entries(values)) await cms.create({ metadata: { name, labels: { n } } });
    const selectors = [
      'n>2',
      'n<8',
      'n>9007199254740992',
      'n<9007199254740993',
      'n>9223372036854775806',
      'n>0',
      'n < 10',
      'n>-1',
      'n<+5',
      'n>9223372036854775808',
      'n>12345678901234567890',
      'n>1.5',
      'n>',
      'n>\f1',
      'n=\u00a0x',
      'n\v=x',
      ' \t\r\nn\r\n=\t3 ',
    ];
    for (const selector of selectors) {
      let local: string[] | 'refused';
      try {
        const parsed = parseLabelSelector(selector);
        local = Object.entries(values)
          .filter(([, n]) => parsed.matches({ n }))
          .map(([name]) => name)
          .toSorted();
      } catch (err) {
        local = hasErrorCode(err, 'ERR_KUBE_INVALID_SELECTOR') ? 'refused' : [`unexpected ${String(err)}`];
      }
      expect(local, JSON.stringify(selector)).toEqual(await serverList(ns, { labelSelector: selector }));
    }
  });

  it('field selectors: the grammar, escapes and matching of the API server', async () => {
    const ns = await createTestNamespace(config, 'fields');
    const cms = createClientset(config).coreV1().configMaps(ns);
    for (const name of ['a', 'b', 'c']) await cms.create({ metadata: { name } });
    const selectors = [
      '',
      'metadata.name=a',
      'metadata.name==b',
      'metadata.name!=a',
      `metadata.name!=a,metadata.namespace=${ns}`,
      `metadata.namespace=${ns},metadata.name!=c,`,
      'metadata.name=a,,',
      'metadata.name=',
      'metadata.name!=',
      'metadata.name=a\\,b',
      'metadata.name=a\\=b',
      'metadata.name=a\\\\b',
      'metadata.name=a\\b',
      'metadata.name=a\\',
      'metadata.name=a=b',
      'metadata.name',
      'metadata.name=a,metadata.name=b',
      '=',
      ',',
    ];
    for (const selector of selectors) {
      let local: string[] | 'refused';
      try {
        const parsed = parseFieldSelector(selector);
        local = ['a', 'b', 'c'].filter((name) => parsed.matches({ 'metadata.name': name, 'metadata.namespace': ns }));
      } catch (err) {
        local = hasErrorCode(err, 'ERR_KUBE_INVALID_SELECTOR') ? 'refused' : [`unexpected ${String(err)}`];
      }
      expect(local, JSON.stringify(selector)).toEqual(await serverList(ns, { fieldSelector: selector }));
    }
  });

  it('a cached list answers the = terms of a field selector, and refuses != as controller-runtime does', async () => {
    const ns = await createTestNamespace(config, 'cachedfs');
    const cms = createClientset(config).coreV1().configMaps(ns);
    await cms.create({ metadata: { name: 'a' }, data: { color: 'red' } });
    await cms.create({ metadata: { name: 'b' }, data: { color: 'blue' } });
    const mgr = await createManager({
      config,
      cache: { namespaces: [ns] },
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: pino({ level: 'silent' }),
    });
    mgr.cache.indexField(ConfigMap, 'data.color', (cm) => [cm.data?.['color'] ?? '']);
    const stop = new AbortController();
    const done = mgr.start(stop.signal);
    try {
      const names = async (fieldSelector: string): Promise<string[]> =>
        (await mgr.client.list(ConfigMap, { namespace: ns, fieldSelector })).items
          .map((i) => i.metadata?.name ?? '')
          .toSorted();
      // Cached reads work once the manager runs.
      await eventually('the cache serves reads', async () => ((await names('')).length > 0 ? true : undefined), {
        retryErrors: true,
      });
      expect(await names('data.color=red')).toEqual(['a']);
      expect(await names('metadata.name=b')).toEqual(['b']);
      expect(await names('data.color=red,metadata.name=b')).toEqual([]);
      const refused = await mgr.client
        .list(ConfigMap, { namespace: ns, fieldSelector: 'metadata.name!=a' })
        .catch((e: unknown) => e);
      expect(hasErrorCode(refused, 'ERR_KUBE_INVALID_SELECTOR')).toBe(true);
      expect((refused as Error).message).toMatch(/non-exact field matches/);
      // Uncached, the same selector goes to the API server.
      const direct = await mgr.client.list(ConfigMap, {
        namespace: ns,
        fieldSelector: 'metadata.name!=a',
        uncached: true,
      });
      expect(direct.items.map((i) => i.metadata?.name).filter((n) => n !== 'kube-root-ca.crt')).toEqual(['b']);
    } finally {
      stop.abort();
      await done.catch(() => undefined);
    }
  });

  it('quantities: the server writes back what canonicalQuantity gives', async () => {
    const ns = await createTestNamespace(config, 'quantity');
    const quotas = createClientset(config).coreV1().resourceQuotas(ns);
    const inputs = [
      '1.5',
      '1500m',
      '100m',
      '0.5',
      '1000m',
      '1000',
      '1k',
      '1.5k',
      '12e6',
      '1e3',
      '1e2',
      '1E3',
      '1e-3',
      '1.500',
      '+1',
      '01',
      '00',
      '.5',
      '1.',
      '0',
      '1Ki',
      '+1Ki',
      '1024Ki',
      '1025Ki',
      '0.5Ki',
      '1.5Gi',
      '1.5Mi',
      '8Ei',
      '16Ei',
      '4Ei',
      '0.5Ei',
      '2.5Ti',
      '0Ki',
      '1000000000m',
      '1500000000n',
      '3.142',
      '1.5e3',
      '1500e-3',
      '5e+00',
      '1E',
      '1024E',
      '123456789012345678',
      '99999999999999999999',
    ];
    // (A ResourceList's quantities are rounded up to the milli by the server's defaulting, so none here is finer.)
    const stored: Record<string, string> = {};
    // One quota per input (the server refuses some keys' fractions): requests.memory accepts any quantity.
    for (const [i, input] of inputs.entries()) {
      const created = await quotas.create({
        metadata: { name: `q${i}` },
        spec: { hard: { 'requests.memory': input } },
      });
      stored[input] = created.spec?.hard?.['requests.memory'] ?? '';
    }
    const mine = Object.fromEntries(inputs.map((input) => [input, canonicalQuantity(input)]));
    expect(mine).toEqual(stored);
    // And arithmetic on what the server returned stays exact.
    expect(parseQuantity(stored['1.5Gi']!).add(parseQuantity(stored['1Ki']!)).toString()).toBe('1572865Ki');
  });
});
