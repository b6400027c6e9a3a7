// #region webhook
import {
  ValidationError,
  Webhook,
  fieldError,
  type AdmissionContext,
  type Defaulter,
  type FieldError,
  type Validator,
  type Warnings,
} from 'kubeloop/webhook';
import { CronJob } from '../api/batch/v1/cron-job.js';
import { parseSchedule } from '../schedule.js';

/** Job names are the CronJob's name and an 11-character suffix, and a Job's name must fit in a label (63). */
const maxNameLength = 52;

/**
 * Admission for CronJobs: the defaulting webhook fills in the policy and the history limits, the validating one
 * refuses a schedule that does not parse and a name too long for its Jobs. kubectl shows the refusal field by field.
 */
@Webhook({ for: CronJob, defaulting: true, validating: true, failurePolicy: 'Fail', timeoutSeconds: 5 })
export class CronJobWebhook implements Defaulter<CronJob>, Validator<CronJob> {
  default(obj: CronJob, _ctx: AdmissionContext<CronJob>): void {
    if (!obj.spec) return; // the schema requires a spec: the API server refuses the object after this
    obj.spec.concurrencyPolicy ??= 'Allow';
    obj.spec.suspend ??= false;
    obj.spec.successfulJobsHistoryLimit ??= 3;
    obj.spec.failedJobsHistoryLimit ??= 1;
  }

  validateCreate(obj: CronJob, _ctx: AdmissionContext<CronJob>): Warnings {
    return validate(obj);
  }

  validateUpdate(_oldObj: CronJob, obj: CronJob, _ctx: AdmissionContext<CronJob>): Warnings {
    return validate(obj);
  }

  validateDelete(_obj: CronJob, _ctx: AdmissionContext<CronJob>): Warnings {
    return [];
  }
}

function validate(obj: CronJob): Warnings {
  const errors: FieldError[] = [];
  const name = obj.metadata?.name ?? '';
  if (name.length > maxNameLength) {
    errors.push(fieldError('metadata.name', `must be no more than ${maxNameLength} characters`, { value: name }));
  }
  try {
    parseSchedule(obj.spec?.schedule ?? '');
  } catch (err) {
    errors.push(fieldError('spec.schedule', (err as Error).message, { value: obj.spec?.schedule }));
  }
  if (errors.length > 0) throw new ValidationError(errors);
  return obj.spec?.startingDeadlineSeconds === undefined
    ? ['spec.startingDeadlineSeconds is not set: after a long outage every missed run is counted']
    : [];
}
// #endregion webhook
