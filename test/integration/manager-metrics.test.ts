import { describe, expect, it } from 'vitest';
import { createClientset, isNotFound } from '../../sdk/client/index.js';
import { createMetrics } from '../../sdk/manager/metrics.js';
import { startMetricsServer } from '../../sdk/manager/servers.js';
import { createTestNamespace, sharedCluster } from '../support/cluster.js';

describe('rest_client_* metrics of real API requests, served at /metrics', () => {
  const { config } = sharedCluster();
  const host = new URL(config.host).host;

  it('counts requests by code, method and host, observes latency, and stops when unsubscribed', async () => {
    const metrics = createMetrics();
    const server = await startMetricsServer({ bindAddress: '127.0.0.1:0', registry: metrics.registry });
    const unobserve = metrics.observeRestClient();
    try {
      const cs = createClientset(config);
      const ns = await createTestNamespace(config, 'metrics');
      await cs
        .coreV1()
        .configMaps(ns)
        .create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } });
      await cs.coreV1().configMaps(ns).get('a');
      await cs.coreV1().configMaps(ns).get('a');
      await expect(cs.coreV1().configMaps(ns).get('missing')).rejects.toSatisfy(isNotFound);

      const scrape = async (): Promise<string> => (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      const count = (text: string, code: string, method: string): number => {
        const line = text
          .split('\n')
          .find((l) => l.startsWith(`rest_client_requests_total{code="${code}",method="${method}",host="${host}"}`));
        return line ? Number(line.split(' ').at(-1)) : 0;
      };
      let text = await scrape();
      // Other tests in this worker may make requests too: at least ours are counted.
      expect(count(text, '201', 'POST')).toBeGreaterThanOrEqual(1);
      expect(count(text, '200', 'GET')).toBeGreaterThanOrEqual(2);
      expect(count(text, '404', 'GET')).toBeGreaterThanOrEqual(1);
      expect(text).toMatch(
        new RegExp(
          `rest_client_request_duration_seconds_count\\{verb="GET",host="${host.replace(/\./g, '\\.')}"\\} [1-9]`,
        ),
      );
      expect(text).toContain('process_cpu_user_seconds_total');

      unobserve();
      const before = count(text, '200', 'GET');
      await cs.coreV1().configMaps(ns).get('a');
      text = await scrape();
      expect(count(text, '200', 'GET')).toBe(before);
    } finally {
      unobserve();
      await server.close();
    }
  });

  it('counts a request that got no answer as code <error>', async () => {
    const metrics = createMetrics();
    const unobserve = metrics.observeRestClient();
    try {
      // A port nothing listens on: the connection is refused (before anything was sent, so the transport tries again;
      // each attempt is counted, as client-go counts them).
      const dead = createClientset({ ...config, host: 'https://127.0.0.1:1' });
      await expect(
        dead
          .coreV1()
          .namespaces()
          .create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'never' } }),
      ).rejects.toMatchObject({
        code: 'ERR_KUBE_TRANSPORT',
      });
      const text = await metrics.registry.getSingleMetricAsString('rest_client_requests_total');
      expect(text).toMatch(
        /rest_client_requests_total\{code="<error>",method="POST",host="127\.0\.0\.1:1"\} [1-9]\d*$/m,
      );
    } finally {
      unobserve();
    }
  });
});
