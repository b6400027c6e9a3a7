// #region imports
import { Job, ignoreNotFound, isAlreadyExists, type batchv1 } from 'kubeloop/client';
import {
  CLIENT,
  CLOCK,
  EVENT_RECORDER,
  Reconciler,
  TerminalError,
  defineFieldIndex,
  finalizer,
  inject,
  setControllerReference,
  setStatusCondition,
  type Client,
  type EventRecorder,
  type ReconcileContext,
  type ReconcileRequest,
  type ReconcileResult,
} from 'kubeloop/manager';
import type { WallClock } from 'kubeloop/workqueue';
import { CronJob, type CronJobStatus } from '../api/batch/v1/cron-job.js';
import { CRONJOB_METRICS, type CronJobMetrics } from '../metrics.js';
import { parseSchedule, type Schedule } from '../schedule.js';
// #endregion imports

// #region index
/** The annotation each Job carries: the scheduled time it runs for. */
export const scheduledTimeAnnotation = 'batch.tutorial.kubeloop.dev/scheduled-at';
/** The finalizer the operator puts on each CronJob, to stop its Jobs before the CronJob goes. */
export const cleanupFinalizer = 'batch.tutorial.kubeloop.dev/cleanup';
/** The field index of Jobs by the name of the CronJob that controls them. */
export const jobOwnerKey = '.metadata.controller';

export const jobsByOwner = defineFieldIndex(Job, jobOwnerKey, (job) => {
  const owner = job.metadata?.ownerReferences?.find((ref) => ref.controller);
  return owner?.apiVersion === `${CronJob.group}/${CronJob.version}` && owner.kind === 'CronJob' ? [owner.name] : [];
});
// #endregion index

// #region reconciler
/**
 * Runs each CronJob's Jobs on its schedule: lists the Jobs it owns (through the field index), reports the running
 * ones in its status, deletes finished ones beyond the history limits, starts the Job that is due, and asks to be
 * woken at the next scheduled time.
 */
@Reconciler({ for: CronJob, owns: [Job], indexes: [jobsByOwner] })
export class CronJobReconciler implements Reconciler {
  constructor(
    @inject(CLIENT) private readonly client: Client,
    @inject(CLOCK) private readonly clock: WallClock,
    @inject(EVENT_RECORDER) private readonly recorder: EventRecorder,
    @inject(CRONJOB_METRICS) private readonly metrics: CronJobMetrics,
  ) {}

  async reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult> {
    const cronJob = await ignoreNotFound(this.client.get(CronJob, req, { signal: ctx.signal }));
    if (!cronJob) return {}; // deleted, and its finalizer already ran
    // Adds the finalizer to a live CronJob, runs `cleanup` once it is being deleted, then removes the finalizer.
    return finalizer(
      this.client,
      cleanupFinalizer,
      cronJob,
      async (event) => (event.type === 'cleanup' ? this.cleanup(event.object, ctx) : this.run(event.object, ctx)),
      { signal: ctx.signal },
    );
  }
  // #endregion reconciler

  // #region run
  private async run(cronJob: CronJob, ctx: ReconcileContext): Promise<ReconcileResult> {
    const { namespace = '', name = '' } = cronJob.metadata ?? {};
    const jobs = await this.client.list(Job, {
      namespace,
      matchingFields: { [jobOwnerKey]: name },
      signal: ctx.signal,
    });
    const active = jobs.items.filter((job) => finishedAs(job) === undefined);
    await this.deleteOldJobs(cronJob, jobs.items, ctx);

    let schedule: Schedule;
    try {
      schedule = parseSchedule(cronJob.spec?.schedule ?? '');
    } catch (err) {
      // The webhook refuses such a schedule; an object written while it was down gets a condition, and no retries.
      await this.writeStatus(cronJob, active, 'False', 'InvalidSchedule', String((err as Error).message), ctx);
      throw new TerminalError(`spec.schedule: ${(err as Error).message}`);
    }
    if (cronJob.spec?.suspend) {
      await this.writeStatus(cronJob, active, 'False', 'Suspended', 'spec.suspend is true', ctx);
      return {};
    }

    const now = this.clock.wallTime();
    const { missed, next } = dueRun(cronJob, schedule, now);
    const requeue: ReconcileResult = next ? { requeueAfterMs: Math.max(1, next.getTime() - now.getTime()) } : {};
    const started = missed ? await this.startDueRun(cronJob, missed, now, active, ctx) : undefined;
    if (started) active.push(started);
    const message = next ? `next run at ${next.toISOString()}` : 'the schedule never fires again';
    await this.writeStatus(cronJob, active, 'True', 'Scheduled', message, ctx, started ? missed : undefined);
    return requeue;
  }
  // #endregion run

  // #region start
  /** Starts the Job of the run due at `scheduledAt`, unless it is too late or the concurrency policy forbids it. */
  private async startDueRun(
    cronJob: CronJob,
    scheduledAt: Date,
    now: Date,
    active: batchv1.Job[],
    ctx: ReconcileContext,
  ): Promise<batchv1.Job | undefined> {
    const labels = { namespace: cronJob.metadata?.namespace ?? '', cronjob: cronJob.metadata?.name ?? '' };
    const deadline = cronJob.spec?.startingDeadlineSeconds;
    if (deadline !== undefined && scheduledAt.getTime() + deadline * 1000 < now.getTime()) {
      this.metrics.runsSkipped.inc({ ...labels, reason: 'TooLate' });
      this.recorder.event(cronJob, 'Warning', 'TooLate', `missed the run at ${scheduledAt.toISOString()}`, 'Schedule');
      return undefined;
    }
    const policy = cronJob.spec?.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && active.length > 0) {
      this.metrics.runsSkipped.inc({ ...labels, reason: 'Forbidden' });
      return undefined;
    }
    if (policy === 'Replace') {
      for (const job of active.splice(0)) {
        await ignoreNotFound(this.client.delete(job, { propagationPolicy: 'Background', signal: ctx.signal }));
      }
    }
    const job = jobFor(cronJob, scheduledAt);
    try {
      const created = await this.client.create(job, { signal: ctx.signal });
      this.metrics.jobsStarted.inc(labels);
      this.recorder.event(cronJob, 'Normal', 'SuccessfulCreate', `created Job ${job.metadata?.name ?? ''}`, 'Run');
      ctx.log.info({ job: job.metadata?.name, scheduledAt }, 'started a scheduled run');
      return created;
    } catch (err) {
      if (isAlreadyExists(err)) return undefined; // this run was started already: its name is its scheduled time
      throw err;
    }
  }
  // #endregion start

  // #region history
  /** Deletes the oldest finished Jobs beyond `successfulJobsHistoryLimit` (3) and `failedJobsHistoryLimit` (1). */
  private async deleteOldJobs(cronJob: CronJob, jobs: batchv1.Job[], ctx: ReconcileContext): Promise<void> {
    const limits = {
      Complete: cronJob.spec?.successfulJobsHistoryLimit ?? 3,
      Failed: cronJob.spec?.failedJobsHistoryLimit ?? 1,
    };
    for (const outcome of ['Complete', 'Failed'] as const) {
      const finished = jobs
        .filter((job) => finishedAs(job) === outcome)
        .toSorted((a, b) => scheduledTimeOf(a) - scheduledTimeOf(b));
      for (const job of finished.slice(0, Math.max(0, finished.length - limits[outcome]))) {
        await ignoreNotFound(this.client.delete(job, { propagationPolicy: 'Background', signal: ctx.signal }));
      }
    }
  }
  // #endregion history

  // #region status
  private async writeStatus(
    cronJob: CronJob,
    active: batchv1.Job[],
    ready: 'True' | 'False',
    reason: string,
    message: string,
    ctx: ReconcileContext,
    scheduledAt?: Date,
  ): Promise<void> {
    const generation = cronJob.metadata?.generation ?? 0;
    const conditions = [...(cronJob.status?.conditions ?? [])];
    setStatusCondition(conditions, { type: 'Ready', status: ready, reason, message, observedGeneration: generation });
    const status: CronJobStatus = {
      active: active.map((job) => ({
        name: job.metadata?.name ?? '',
        namespace: job.metadata?.namespace ?? '',
        ...(job.metadata?.uid !== undefined && { uid: job.metadata.uid }),
      })),
      observedGeneration: generation,
      conditions,
      ...(scheduledAt && { lastScheduleTime: scheduledAt.toISOString() }),
    };
    // A merge patch of the status carries no resourceVersion: it cannot conflict with writes that raced it.
    await this.client.status().patch(cronJob, { status }, { patchType: 'merge', signal: ctx.signal });
  }
  // #endregion status

  // #region cleanup
  /** The CronJob is being deleted: stop its Jobs now (their Pods go with them), then the finalizer goes. */
  private async cleanup(cronJob: CronJob, ctx: ReconcileContext): Promise<ReconcileResult> {
    const { namespace = '', name = '' } = cronJob.metadata ?? {};
    const jobs = await this.client.list(Job, {
      namespace,
      matchingFields: { [jobOwnerKey]: name },
      signal: ctx.signal,
    });
    for (const job of jobs.items) {
      await ignoreNotFound(this.client.delete(job, { propagationPolicy: 'Background', signal: ctx.signal }));
    }
    this.recorder.event(cronJob, 'Normal', 'Cleanup', `deleted ${jobs.items.length} Jobs`, 'Cleanup');
    return {};
  }
  // #endregion cleanup
}

// #region helpers
/** 'Complete' or 'Failed' once the Job has finished, else undefined. */
function finishedAs(job: batchv1.Job): 'Complete' | 'Failed' | undefined {
  const done = job.status?.conditions?.find(
    (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
  );
  return done?.type as 'Complete' | 'Failed' | undefined;
}

function scheduledTimeOf(job: batchv1.Job): number {
  return Date.parse(job.metadata?.annotations?.[scheduledTimeAnnotation] ?? '') || 0;
}

/**
 * The latest scheduled time missed since the last run (or since the CronJob was made), and the next one. With more
 * than 100 missed times the clock or the schedule is wrong: a TerminalError, until the CronJob changes.
 */
export function dueRun(cronJob: CronJob, schedule: Schedule, now: Date): { missed?: Date; next?: Date } {
  const last = cronJob.status?.lastScheduleTime ?? cronJob.metadata?.creationTimestamp;
  let earliest = last ? new Date(last) : now;
  const deadline = cronJob.spec?.startingDeadlineSeconds;
  if (deadline !== undefined && earliest.getTime() < now.getTime() - deadline * 1000) {
    earliest = new Date(now.getTime() - deadline * 1000);
  }
  let missed: Date | undefined;
  let t = schedule.next(earliest);
  for (let count = 0; t && t.getTime() <= now.getTime(); t = schedule.next(t)) {
    if (++count > 100) {
      throw new TerminalError('more than 100 missed start times: set or lower spec.startingDeadlineSeconds');
    }
    missed = t;
  }
  return { ...(missed && { missed }), ...(t && { next: t }) };
}

/** The Job of one run: named after the CronJob and the scheduled time, owned by the CronJob. */
export function jobFor(cronJob: CronJob, scheduledAt: Date): batchv1.Job {
  const template = cronJob.spec?.jobTemplate;
  const job: batchv1.Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: `${cronJob.metadata?.name ?? ''}-${Math.floor(scheduledAt.getTime() / 1000)}`,
      namespace: cronJob.metadata?.namespace ?? '',
      labels: { ...template?.metadata?.labels },
      annotations: { ...template?.metadata?.annotations, [scheduledTimeAnnotation]: scheduledAt.toISOString() },
    },
    spec: structuredClone(template?.spec ?? { template: {} }),
  };
  setControllerReference(cronJob, job);
  return job;
}
// #endregion helpers
