import { register as globalRegistry, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createFakeClock, createRateLimitingQueue, createExponentialFailureRateLimiter } from '../workqueue/index.js';
import { createMetrics } from './metrics.js';

/** The value of one series, by name and labels, from the registry's JSON. */
async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const sample = metric?.values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l));
  return sample?.value;
}

describe('createMetrics', () => {
  it('registers on its own registry with the default process and Node.js metrics, never the global one', async () => {
    const a = createMetrics();
    const b = createMetrics();
    expect(a.registry).not.toBe(b.registry);
    const names = (await a.registry.getMetricsAsJSON()).map((m) => m.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'controller_runtime_reconcile_total',
        'controller_runtime_reconcile_errors_total',
        'controller_runtime_terminal_reconcile_errors_total',
        'controller_runtime_reconcile_time_seconds',
        'controller_runtime_active_workers',
        'controller_runtime_max_concurrent_reconciles',
        'workqueue_depth',
        'workqueue_adds_total',
        'workqueue_queue_duration_seconds',
        'workqueue_work_duration_seconds',
        'workqueue_unfinished_work_seconds',
        'workqueue_longest_running_processor_seconds',
        'workqueue_retries_total',
        'rest_client_requests_total',
        'rest_client_request_duration_seconds',
        'leader_election_master_status',
        'process_cpu_user_seconds_total',
        'nodejs_heap_size_total_bytes',
      ]),
    );
    expect(globalRegistry.getSingleMetric('controller_runtime_reconcile_total')).toBeUndefined();
    expect(
      (await createMetrics(new Registry(), { defaultMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name),
    ).not.toContain('process_cpu_user_seconds_total');
  });

  it('counts reconciles by result, errors and terminal errors, and observes their durations', async () => {
    const { registry, controller } = createMetrics(new Registry(), { defaultMetrics: false });
    controller.reconciled('widgets', 'success', 0.02, false);
    controller.reconciled('widgets', 'success', 0.03, false);
    controller.reconciled('widgets', 'requeue_after', 0.01, false);
    controller.reconciled('widgets', 'error', 1.5, false);
    controller.reconciled('widgets', 'error', 0.2, true);
    const total = (result: string) =>
      value(registry, 'controller_runtime_reconcile_total', { controller: 'widgets', result });
    expect(await total('success')).toBe(2);
    expect(await total('requeue_after')).toBe(1);
    expect(await total('error')).toBe(2);
    expect(await value(registry, 'controller_runtime_reconcile_errors_total', { controller: 'widgets' })).toBe(2);
    expect(await value(registry, 'controller_runtime_terminal_reconcile_errors_total', { controller: 'widgets' })).toBe(
      1,
    );
    const text = await registry.getSingleMetricAsString('controller_runtime_reconcile_time_seconds');
    expect(text).toContain('controller_runtime_reconcile_time_seconds_count{controller="widgets"} 5');
    expect(text).toContain('controller_runtime_reconcile_time_seconds_bucket{le="0.025",controller="widgets"} 2');
    expect(text).toContain('controller_runtime_reconcile_time_seconds_bucket{le="60",controller="widgets"} 5');
  });

  it('tracks active workers, and starts every series of a controller at zero with its max concurrency', async () => {
    const { registry, controller } = createMetrics(new Registry(), { defaultMetrics: false });
    controller.maxConcurrentReconciles('deploys', 4);
    expect(await value(registry, 'controller_runtime_max_concurrent_reconciles', { controller: 'deploys' })).toBe(4);
    for (const result of ['success', 'error', 'requeue', 'requeue_after']) {
      expect(await value(registry, 'controller_runtime_reconcile_total', { controller: 'deploys', result })).toBe(0);
    }
    expect(await value(registry, 'controller_runtime_terminal_reconcile_errors_total', { controller: 'deploys' })).toBe(
      0,
    );
    controller.activeWorkers('deploys', 1);
    controller.activeWorkers('deploys', 1);
    controller.activeWorkers('deploys', -1);
    expect(await value(registry, 'controller_runtime_active_workers', { controller: 'deploys' })).toBe(1);
  });

  it('feeds workqueue_* {name,controller} from a real kubeloop/workqueue queue', async () => {
    const metrics = createMetrics(new Registry(), { defaultMetrics: false });
    const clock = createFakeClock();
    const queue = createRateLimitingQueue<string>({
      name: 'widgets',
      clock,
      rateLimiter: createExponentialFailureRateLimiter({ baseDelayMs: 10, maxDelayMs: 1000 }),
      metricsProvider: metrics.workqueue('widgets'),
    });
    const labels = { name: 'widgets', controller: 'widgets' };
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(await value(metrics.registry, 'workqueue_adds_total', labels)).toBe(2);
    expect(await value(metrics.registry, 'workqueue_depth', labels)).toBe(2);
    clock.advance(500);
    const key = await queue.get();
    expect(key).toBe('ns/a');
    expect(await value(metrics.registry, 'workqueue_depth', labels)).toBe(1);
    clock.advance(250);
    queue.addRateLimited(key!);
    queue.done(key!);
    expect(await value(metrics.registry, 'workqueue_retries_total', labels)).toBe(1);
    const latency = await metrics.registry.getSingleMetricAsString('workqueue_queue_duration_seconds');
    expect(latency).toContain('workqueue_queue_duration_seconds_sum{name="widgets",controller="widgets"} 0.5');
    const work = await metrics.registry.getSingleMetricAsString('workqueue_work_duration_seconds');
    expect(work).toContain('workqueue_work_duration_seconds_sum{name="widgets",controller="widgets"} 0.25');
    queue.shutDown();
  });

  it('leader_election_master_status through the elector provider and the setter', async () => {
    const metrics = createMetrics(new Registry(), { defaultMetrics: false });
    const m = metrics.leaderElection.newLeaderElectionMetrics('widget-operator');
    m.masterStatus.set(0);
    expect(await value(metrics.registry, 'leader_election_master_status', { name: 'widget-operator' })).toBe(0);
    m.masterStatus.set(1);
    expect(await value(metrics.registry, 'leader_election_master_status', { name: 'widget-operator' })).toBe(1);
    metrics.setLeaderElectionStatus('widget-operator', false);
    expect(await value(metrics.registry, 'leader_election_master_status', { name: 'widget-operator' })).toBe(0);
  });

  it('refuses to register twice on one registry', () => {
    const registry = new Registry();
    createMetrics(registry, { defaultMetrics: false });
    expect(() => createMetrics(registry, { defaultMetrics: false })).toThrow(/already been registered/);
  });
});
