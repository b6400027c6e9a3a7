import * as promClient from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram } from './prom-client.js';

describe('prom-client, from its own modules', () => {
  it('has the very classes prom-client exports', () => {
    expect(Counter).toBe(promClient.Counter);
    expect(Gauge).toBe(promClient.Gauge);
    expect(Histogram).toBe(promClient.Histogram);
  });
});
