// #region imports
import { defineCustomResource, s, type ObjectOf, type SpecOf, type StatusOf } from 'kubeloop/client';
// #endregion imports

// #region definition
/**
 * A CronJob runs a Job on a schedule: the tutorial's resource, after kubebuilder's. Its TypeScript types, its
 * descriptor (`client.get(CronJob, key)`, `@Reconciler({ for: CronJob })`) and its CRD schema all come from this one
 * definition; `kubeloop generate manifests` writes the schema to config/crd/bases.
 */
export const CronJob = defineCustomResource({
  group: 'batch.tutorial.kubeloop.dev',
  version: 'v1',
  kind: 'CronJob',
  plural: 'cronjobs',
  namespaced: true,
  description: 'CronJob runs a Job on a schedule.',
  spec: s.object({
    schedule: s.string({
      minLength: 1,
      description: 'When to run, in cron format: "*/5 * * * *", "@hourly", "@every 30s".',
    }),
    startingDeadlineSeconds: s
      .integer({ minimum: 0, description: 'A run missed by more than this many seconds is skipped.' })
      .optional(),
    concurrencyPolicy: s
      .enum(['Allow', 'Forbid', 'Replace'], { description: 'What to do when a run is due while the last one runs.' })
      .optional(),
    suspend: s.boolean({ description: 'Suspends later runs; runs already started go on.' }).optional(),
    jobTemplate: s.jobTemplateSpec({ description: 'The Job to create at each run.' }),
    successfulJobsHistoryLimit: s.integer({ minimum: 0, description: 'Finished Jobs to keep. Default: 3.' }).optional(),
    failedJobsHistoryLimit: s.integer({ minimum: 0, description: 'Failed Jobs to keep. Default: 1.' }).optional(),
  }),
  status: s.object({
    active: s
      .array(s.object({ name: s.string(), namespace: s.string(), uid: s.string().optional() }), {
        description: 'The Jobs running now.',
      })
      .optional(),
    lastScheduleTime: s.dateTime({ description: 'When a Job was last started on schedule.' }).optional(),
    observedGeneration: s.integer({ minimum: 0 }).optional(),
    conditions: s.array(s.condition(), { listType: 'map', mapKeys: ['type'] }).optional(),
  }),
  printerColumns: [
    { name: 'Schedule', type: 'string', jsonPath: '.spec.schedule' },
    { name: 'Suspend', type: 'boolean', jsonPath: '.spec.suspend' },
    { name: 'Last schedule', type: 'date', jsonPath: '.status.lastScheduleTime' },
  ],
});

export type CronJob = ObjectOf<typeof CronJob>;
export type CronJobSpec = SpecOf<typeof CronJob>;
export type CronJobStatus = StatusOf<typeof CronJob>;
// #endregion definition

// #region crd
/** The CustomResourceDefinition, as `kubeloop generate manifests` writes it (the tests install it into envtest). */
export const cronJobCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `cronjobs.${CronJob.group}` },
  spec: {
    group: CronJob.group,
    scope: 'Namespaced' as const,
    names: { plural: 'cronjobs', singular: 'cronjob', kind: 'CronJob', listKind: 'CronJobList' },
    versions: [CronJob.crdVersion],
  },
};
// #endregion crd
