// #region unit
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { Job, type batchv1 } from 'kubeloop/client';
import { createFakeClock, describeAction, reconcileOnce } from 'kubeloop/testing';
import { CronJob } from '../src/api/batch/v1/cron-job.js';
import { CRONJOB_METRICS, createCronJobMetrics } from '../src/metrics.js';
import { CronJobReconciler, cleanupFinalizer, jobFor } from '../src/reconcilers/cron-job-reconciler.js';

const created = new Date('2026-03-01T10:00:00Z');
const request = { namespace: 'default', name: 'report' };

function cronJob(spec: Partial<CronJob['spec']> = {}, metadata: CronJob['metadata'] = {}): CronJob {
  return {
    apiVersion: 'batch.tutorial.kubeloop.dev/v1',
    kind: 'CronJob',
    metadata: { ...request, uid: 'c0ffee00-0000-4000-8000-000000000001', generation: 1, ...metadata },
    spec: {
      schedule: '*/5 * * * *',
      jobTemplate: {
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'r', image: 'report:1' }] } } },
      },
      ...spec,
    },
  };
}

/** Runs one reconcile at `now`, with the operator's metrics on a registry of the test's own. */
async function reconcileAt(now: string, objects: (CronJob | batchv1.Job)[]) {
  const registry = new Registry();
  const run = await reconcileOnce(CronJobReconciler, {
    objects,
    request,
    clock: createFakeClock({ startTime: new Date(now) }),
    services: [[CRONJOB_METRICS, createCronJobMetrics(registry)]],
  });
  return { ...run, metrics: await registry.getMetricsAsJSON() };
}

describe('CronJobReconciler', () => {
  it('starts the run that is due, reports it, and wakes up for the next one', async () => {
    const job = cronJob({}, { creationTimestamp: created.toISOString(), finalizers: [cleanupFinalizer] });
    const run = await reconcileAt('2026-03-01T10:06:30Z', [job]);
    expect(run.error).toBeUndefined();
    expect(run.writes.map(describeAction)).toEqual([
      'create jobs.batch default/report-1772359500',
      'patch cronjobs.batch.tutorial.kubeloop.dev/status default/report (merge)',
    ]);
    expect(run.result).toEqual({ requeueAfterMs: 210_000 }); // 10:10:00
    const status = (await run.client.get(CronJob, request)).status;
    expect(status?.lastScheduleTime).toBe('2026-03-01T10:05:00.000Z');
    expect(status?.active?.map((a) => a.name)).toEqual(['report-1772359500']);
    expect(status?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True', reason: 'Scheduled' });
    const started = run.metrics.find((m) => m.name === 'cronjob_jobs_started_total');
    expect(started?.values).toEqual([{ value: 1, labels: { namespace: 'default', cronjob: 'report' } }]);
  });

  it('skips a run while the last one runs, when the policy is Forbid', async () => {
    const job = cronJob(
      { concurrencyPolicy: 'Forbid' },
      { creationTimestamp: created.toISOString(), finalizers: [cleanupFinalizer] },
    );
    const running = jobFor(job, new Date('2026-03-01T10:05:00Z'));
    const run = await reconcileAt('2026-03-01T10:11:00Z', [job, running]);
    expect(run.writes.filter((w) => w.verb === 'create')).toEqual([]);
    const skipped = run.metrics.find((m) => m.name === 'cronjob_runs_skipped_total');
    expect(skipped?.values[0]).toMatchObject({ value: 1, labels: { reason: 'Forbidden' } });
  });

  it('deletes its Jobs, then lets the CronJob go, when it is deleted', async () => {
    const job = cronJob({}, { deletionTimestamp: '2026-03-01T11:00:00Z', finalizers: [cleanupFinalizer] });
    const run = await reconcileAt('2026-03-01T11:00:00Z', [job, jobFor(job, created)]);
    expect(run.error).toBeUndefined();
    expect(run.writes.map(describeAction)).toEqual([
      'delete jobs.batch default/report-1772359200',
      'patch cronjobs.batch.tutorial.kubeloop.dev default/report (json)',
    ]);
    expect((await run.client.list(Job, { namespace: 'default' })).items).toEqual([]);
  });
});
// #endregion unit
