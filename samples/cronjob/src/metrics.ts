// #region metrics
import { createToken } from 'kubeloop/manager';
import { Counter, type Registry } from 'prom-client';

/** The CronJob operator's own series, served on /metrics beside controller-runtime's. */
export interface CronJobMetrics {
  /** Jobs started on schedule: `cronjob_jobs_started_total{namespace,cronjob}`. */
  readonly jobsStarted: Counter<'namespace' | 'cronjob'>;
  /** Runs skipped (too late, or forbidden by the concurrency policy): `cronjob_runs_skipped_total{namespace,cronjob,reason}`. */
  readonly runsSkipped: Counter<'namespace' | 'cronjob' | 'reason'>;
}

/** The injection token reconcilers take the metrics with: `@inject(CRONJOB_METRICS)`. */
export const CRONJOB_METRICS = createToken<CronJobMetrics>('CronJobMetrics');

/** Registers the series on `registry`: the manager's (`mgr.metrics.registry`), or a fresh one in a unit test. */
export function createCronJobMetrics(registry: Registry): CronJobMetrics {
  return {
    jobsStarted: new Counter({
      name: 'cronjob_jobs_started_total',
      help: 'Jobs started on schedule, per CronJob.',
      labelNames: ['namespace', 'cronjob'] as const,
      registers: [registry],
    }),
    runsSkipped: new Counter({
      name: 'cronjob_runs_skipped_total',
      help: 'Scheduled runs not started, per CronJob and reason (TooLate, Forbidden).',
      labelNames: ['namespace', 'cronjob', 'reason'] as const,
      registers: [registry],
    }),
  };
}
// #endregion metrics
