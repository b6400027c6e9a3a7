import type { Registry } from 'prom-client';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry as PromRegistry } from './internal/prom-client.js';
import { observeRequests } from '../client/internal.js';
import type { MetricsProvider, QueueMetrics } from '../workqueue/index.js';

/** How a reconcile ended, as the `result` label of `controller_runtime_reconcile_total`. */
export type ReconcileOutcome = 'success' | 'error' | 'requeue' | 'requeue_after';

/** The controller-facing side of {@link Metrics}: what a controller reports about its reconciles and workers. */
export interface ControllerMetricsRecorder {
  /**
   * One reconcile ended: counts it under `result`, observes its duration, and for `error` counts
   * `controller_runtime_reconcile_errors_total` (and `controller_runtime_terminal_reconcile_errors_total` when
   * `terminal`).
   */
  reconciled(controller: string, result: ReconcileOutcome, seconds: number, terminal: boolean): void;
  /** Adds `delta` (+1 when a worker starts a reconcile, -1 when it ends) to `controller_runtime_active_workers`. */
  activeWorkers(controller: string, delta: number): void;
  /** Sets `controller_runtime_max_concurrent_reconciles`, and starts every series of the controller at zero. */
  maxConcurrentReconciles(controller: string, value: number): void;
}

/** A leader elector's series, as kubeloop/leaderelection asks for them. */
export interface LeaderElectionMetricsAdapter {
  newLeaderElectionMetrics(name: string): { masterStatus: { set(value: number): void } };
}

/**
 * A manager's metrics: controller-runtime's and client-go's series on one prom-client {@link Registry} of its own,
 * with Node's process and runtime metrics (`process_*`, `nodejs_*`).
 *
 * Series (the names of controller-runtime, so its dashboards and alerts work unchanged):
 * - `controller_runtime_reconcile_total{controller,result}`, `result` one of `success`, `error`, `requeue`,
 *   `requeue_after`; `controller_runtime_reconcile_errors_total{controller}`;
 *   `controller_runtime_terminal_reconcile_errors_total{controller}`;
 *   `controller_runtime_reconcile_time_seconds{controller}` (histogram);
 *   `controller_runtime_active_workers{controller}`; `controller_runtime_max_concurrent_reconciles{controller}`.
 * - `workqueue_depth`, `workqueue_adds_total`, `workqueue_queue_duration_seconds`, `workqueue_work_duration_seconds`,
 *   `workqueue_unfinished_work_seconds`, `workqueue_longest_running_processor_seconds`, `workqueue_retries_total`,
 *   each `{name,controller}`.
 * - `rest_client_requests_total{code,method,host}` (`code` is the HTTP status, or `<error>` when no answer came) and
 *   `rest_client_request_duration_seconds{verb,host}` (histogram), once {@link Metrics.observeRestClient} is called.
 * - `leader_election_master_status{name}`: 1 while leading, else 0.
 */
export interface Metrics {
  /** The registry to serve (`startMetricsServer({ registry })`) or to register more metrics on. */
  readonly registry: Registry;
  /** What controllers report to. */
  readonly controller: ControllerMetricsRecorder;
  /** A kubeloop/workqueue metrics provider for the queue of `controller` (labels `name` and `controller`). */
  workqueue(controller: string): MetricsProvider;
  /** A kubeloop/leaderelection metrics provider: `leader_election_master_status{name}`. */
  readonly leaderElection: LeaderElectionMetricsAdapter;
  /** Sets `leader_election_master_status{name}` to 1 (leading) or 0. */
  setLeaderElectionStatus(name: string, leading: boolean): void;
  /**
   * Starts counting every API request of the process (kubeloop/client's `observeRequests`) into the
   * `rest_client_*` series. Returns the unsubscribe; calling it twice is harmless.
   */
  observeRestClient(): () => void;
}

/** Options of {@link createMetrics}. */
export interface CreateMetricsOptions {
  /** Also collect prom-client's default process and Node.js metrics on the registry. Default: true. */
  defaultMetrics?: boolean;
}

// controller-runtime's buckets for reconcile durations: fine below a second, coarse up to a minute.
const reconcileBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75,
  2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
// Queue waits and work: ten decades from 10 ns to 1000 s.
const queueBuckets = Array.from({ length: 12 }, (_, i) => Number((1e-8 * 10 ** i).toPrecision(1)));
// client-go's request latency buckets.
const requestBuckets = [0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60];

type Registers = Registry[];

/** The controller_runtime_* family: reconciles, their results and durations, workers. */
function controllerMetrics(registers: Registers): ControllerMetricsRecorder {
  const reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Reconciles per controller, by result: success, error, requeue, requeue_after.',
    labelNames: ['controller', 'result'] as const,
    registers,
  });
  const reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Reconciles per controller that ended with an error.',
    labelNames: ['controller'] as const,
    registers,
  });
  const terminalErrors = new Counter({
    name: 'controller_runtime_terminal_reconcile_errors_total',
    help: 'Reconciles per controller that ended with a terminal error, not retried.',
    labelNames: ['controller'] as const,
    registers,
  });
  const reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'How long each reconcile took, per controller.',
    labelNames: ['controller'] as const,
    buckets: reconcileBuckets,
    registers,
  });
  const activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Workers of a controller that are reconciling right now.',
    labelNames: ['controller'] as const,
    registers,
  });
  const maxConcurrent = new Gauge({
    name: 'controller_runtime_max_concurrent_reconciles',
    help: 'The most reconciles a controller runs at once.',
    labelNames: ['controller'] as const,
    registers,
  });

  return {
    reconciled(name, result, seconds, terminal) {
      reconcileTotal.inc({ controller: name, result });
      reconcileTime.observe({ controller: name }, seconds);
      if (result === 'error') {
        reconcileErrors.inc({ controller: name });
        if (terminal) terminalErrors.inc({ controller: name });
      }
    },
    activeWorkers(name, delta) {
      activeWorkers.inc({ controller: name }, delta);
    },
    maxConcurrentReconciles(name, value) {
      maxConcurrent.set({ controller: name }, value);
      // Every series of a controller exists from its start, at zero, so rates and alerts see it before it acts.
      activeWorkers.inc({ controller: name }, 0);
      for (const result of ['success', 'error', 'requeue', 'requeue_after'] as const)
        reconcileTotal.inc({ controller: name, result }, 0);
      reconcileErrors.inc({ controller: name }, 0);
      terminalErrors.inc({ controller: name }, 0);
    },
  };
}

/** The workqueue_* family: a metrics provider per controller's queue. */
function workqueueMetrics(registers: Registers): (controller: string) => MetricsProvider {
  const queueLabels = ['name', 'controller'] as const;
  const wqDepth = new Gauge({
    name: 'workqueue_depth',
    help: 'Keys waiting in the work queue.',
    labelNames: queueLabels,
    registers,
  });
  const wqAdds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Keys added to the work queue.',
    labelNames: queueLabels,
    registers,
  });
  const wqLatency = new Histogram({
    name: 'workqueue_queue_duration_seconds',
    help: 'How long a key waited in the work queue before a worker took it.',
    labelNames: queueLabels,
    buckets: queueBuckets,
    registers,
  });
  const wqWork = new Histogram({
    name: 'workqueue_work_duration_seconds',
    help: 'How long a worker held a key.',
    labelNames: queueLabels,
    buckets: queueBuckets,
    registers,
  });
  const wqUnfinished = new Gauge({
    name: 'workqueue_unfinished_work_seconds',
    help: 'Seconds of work in progress that has not finished: the sum of the ages of the keys being processed. A large, growing value points to stuck workers.',
    labelNames: queueLabels,
    registers,
  });
  const wqLongest = new Gauge({
    name: 'workqueue_longest_running_processor_seconds',
    help: 'Age in seconds of the longest-held key in the work queue.',
    labelNames: queueLabels,
    registers,
  });
  const wqRetries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Keys re-added with a delay (retries).',
    labelNames: queueLabels,
    registers,
  });

  return (controllerName: string): MetricsProvider => ({
    newQueueMetrics(name: string): QueueMetrics {
      const labels = { name, controller: controllerName };
      return {
        depth: { inc: () => wqDepth.inc(labels), dec: () => wqDepth.dec(labels) },
        adds: { inc: () => wqAdds.inc(labels) },
        latency: { observe: (v) => wqLatency.observe(labels, v) },
        workDuration: { observe: (v) => wqWork.observe(labels, v) },
        unfinishedWorkSeconds: { set: (v) => wqUnfinished.set(labels, v) },
        longestRunningProcessorSeconds: { set: (v) => wqLongest.set(labels, v) },
        retries: { inc: () => wqRetries.inc(labels) },
      };
    },
  });
}

/** The rest_client_* family, fed by kubeloop/client's request observers; returns the subscribe. */
function restClientMetrics(registers: Registers): () => () => void {
  const restRequests = new Counter({
    name: 'rest_client_requests_total',
    help: 'API requests, by HTTP status code, method and host.',
    labelNames: ['code', 'method', 'host'] as const,
    registers,
  });
  const restDuration = new Histogram({
    name: 'rest_client_request_duration_seconds',
    help: 'API request latency in seconds, by verb and host.',
    labelNames: ['verb', 'host'] as const,
    buckets: requestBuckets,
    registers,
  });

  return () =>
    observeRequests((e) => {
      restRequests.inc({
        code: e.statusCode === 'error' ? '<error>' : String(e.statusCode),
        method: e.method,
        host: e.host,
      });
      restDuration.observe({ verb: e.method, host: e.host }, e.durationMs / 1000);
    });
}

/** The leader_election_master_status series. */
function leaderElectionMetrics(registers: Registers): Pick<Metrics, 'leaderElection' | 'setLeaderElectionStatus'> {
  const leaderStatus = new Gauge({
    name: 'leader_election_master_status',
    help: 'Whether this process leads (1) or not (0), per lease name.',
    labelNames: ['name'] as const,
    registers,
  });

  return {
    leaderElection: {
      newLeaderElectionMetrics: (name) => ({ masterStatus: { set: (v) => leaderStatus.set({ name }, v) } }),
    },
    setLeaderElectionStatus(name, leading) {
      leaderStatus.set({ name }, leading ? 1 : 0);
    },
  };
}

/**
 * Makes the metrics of one manager on `registry` (default: a new Registry; never prom-client's global one).
 *
 * Errors: prom-client throws when a series of the same name is already on the registry: give each manager its own.
 */
export function createMetrics(registry: Registry = new PromRegistry(), options: CreateMetricsOptions = {}): Metrics {
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  // Created in this order, which is the order of the families on the registry's page.
  const controller = controllerMetrics(registers);
  const workqueue = workqueueMetrics(registers);
  const observeRestClient = restClientMetrics(registers);
  return { registry, controller, workqueue, ...leaderElectionMetrics(registers), observeRestClient };
}
