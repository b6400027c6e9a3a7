/**
 * The parts of prom-client the manager uses, each from its own module rather than from prom-client's index. The index
 * also loads the default process metrics and, with them, @opentelemetry/api: about 7 MB of a process's resident memory
 * at start (S8 of the benchmarks), which a manager needs only when it serves its metrics (createMetrics'
 * `defaultMetrics`). prom-client has no `exports` map, so these paths resolve for any user; prom-client.test.ts checks
 * that they are the very classes and function prom-client's index exports (webhook/internal/prom-client.ts does the
 * same for the webhook server).
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';

const require = createRequire(import.meta.url);

export const Registry = require('prom-client/lib/registry.js') as typeof PromClient.Registry;
export const Counter = require('prom-client/lib/counter.js') as typeof PromClient.Counter;
export const Gauge = require('prom-client/lib/gauge.js') as typeof PromClient.Gauge;
export const Histogram = require('prom-client/lib/histogram.js') as typeof PromClient.Histogram;

/** prom-client's `collectDefaultMetrics`, loaded on its first call. */
export function collectDefaultMetrics(config: { register: PromClient.Registry }): void {
  (require('prom-client/lib/defaultMetrics.js') as typeof PromClient.collectDefaultMetrics)(config);
}
export type Counter<T extends string = string> = PromClient.Counter<T>;
export type Gauge<T extends string = string> = PromClient.Gauge<T>;
export type Histogram<T extends string = string> = PromClient.Histogram<T>;
