// #region webhook-unit
import { describe, expect, it } from 'vitest';
import { isValidationError, type AdmissionContext } from 'kubeloop/webhook';
import type { CronJob } from '../src/api/batch/v1/cron-job.js';
import { parseSchedule } from '../src/schedule.js';
import { CronJobWebhook } from '../src/webhooks/cron-job-webhook.js';

const ctx = {} as AdmissionContext<CronJob>; // the methods here do not read the request
const cronJob = (schedule: string): CronJob => ({
  apiVersion: 'batch.tutorial.kubeloop.dev/v1',
  kind: 'CronJob',
  metadata: { name: 'report', namespace: 'default' },
  spec: { schedule, startingDeadlineSeconds: 60, jobTemplate: { spec: { template: {} } } },
});

describe('CronJobWebhook', () => {
  it('fills in the defaults', () => {
    const obj = cronJob('@hourly');
    new CronJobWebhook().default(obj, ctx);
    expect(obj.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3 });
  });

  it('refuses a schedule that does not parse, naming the field', () => {
    const err = (() => {
      try {
        new CronJobWebhook().validateCreate(cronJob('every minute'), ctx);
      } catch (e) {
        return e;
      }
    })();
    expect(isValidationError(err) && err.fieldErrors.map((f) => f.field)).toEqual(['spec.schedule']);
  });
});

describe('parseSchedule', () => {
  it('finds the next time, in UTC', () => {
    const after = new Date('2026-03-01T10:06:30Z');
    expect(parseSchedule('*/5 * * * *').next(after)?.toISOString()).toBe('2026-03-01T10:10:00.000Z');
    expect(parseSchedule('30 9 * * 1-5').next(after)?.toISOString()).toBe('2026-03-02T09:30:00.000Z');
    expect(parseSchedule('@every 90s').next(after)?.toISOString()).toBe('2026-03-01T10:08:00.000Z');
  });
});
// #endregion webhook-unit
