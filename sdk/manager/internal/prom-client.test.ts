import { createRequire } from 'node:module';
import * as promClient from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from './prom-client.js';

describe('prom-client, from its own modules', () => {
  it('has the very classes prom-client exports', () => {
    expect(Registry).toBe(promClient.Registry);
    expect(Counter).toBe(promClient.Counter);
    expect(Gauge).toBe(promClient.Gauge);
    expect(Histogram).toBe(promClient.Histogram);
    expect(createRequire(import.meta.url)('prom-client/lib/defaultMetrics.js')).toBe(promClient.collectDefaultMetrics);
  });

  it('collects the default metrics on the registry given', async () => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    expect(await registry.getSingleMetricAsString('process_cpu_seconds_total')).toContain('process_cpu_seconds_total');
  });
});
