/** A value that goes up and down (prom-client's Gauge fits). */
export interface Gauge {
  inc(): void;
  dec(): void;
}

/** A value that is set outright (prom-client's Gauge fits). */
export interface SettableGauge {
  set(value: number): void;
}

/** A value that only goes up (prom-client's Counter fits). */
export interface Counter {
  inc(): void;
}

/** A distribution of observations (prom-client's Histogram or Summary fits). */
export interface Histogram {
  observe(value: number): void;
}

/**
 * The series of one named queue, client-go's workqueue metrics. Durations are in seconds, as Prometheus expects.
 *
 * - `depth`: keys waiting to be handed out, counting a key re-added while it is processed (+1 when a key is added and
 *   was not already waiting, -1 when it is handed out or dropped at shutdown).
 * - `adds`: adds that were not de-duplicated away.
 * - `latency`: seconds a key waited between being added and being handed out.
 * - `workDuration`: seconds between handing a key out and its `done`.
 * - `unfinishedWorkSeconds`: the sum of the ages of the keys being processed, set periodically.
 * - `longestRunningProcessorSeconds`: the age of the oldest key being processed, set periodically.
 * - `retries`: calls to `addAfter` (so also `addRateLimited`) on a running queue.
 */
export interface QueueMetrics {
  depth: Gauge;
  adds: Counter;
  latency: Histogram;
  workDuration: Histogram;
  unfinishedWorkSeconds: SettableGauge;
  longestRunningProcessorSeconds: SettableGauge;
  retries: Counter;
}

/**
 * Makes the series for each named queue. kubeloop/workqueue never imports a metrics library: the manager adapts
 * prom-client to this interface, and tests can pass a recording provider.
 *
 * Caveats: `newQueueMetrics` is called once per queue that has both a `name` and a provider; names are not checked for
 * uniqueness here (a registry behind the provider may reject duplicates).
 */
export interface MetricsProvider {
  newQueueMetrics(name: string): QueueMetrics;
}

const noop = { inc() {}, dec() {}, set() {}, observe() {} };

/** The default provider: records nothing, and a queue given it starts no metrics timer. */
export const noopMetricsProvider: MetricsProvider = {
  newQueueMetrics: () => ({
    depth: noop,
    adds: noop,
    latency: noop,
    workDuration: noop,
    unfinishedWorkSeconds: noop,
    longestRunningProcessorSeconds: noop,
    retries: noop,
  }),
};
