// #region main
import 'reflect-metadata';
import { createManager, setupSignalHandler } from 'kubeloop/manager';
import { createCronJobMetrics, CRONJOB_METRICS } from './metrics.js';
import { CronJobReconciler } from './reconcilers/cron-job-reconciler.js';
import { CronJobWebhook } from './webhooks/cron-job-webhook.js';

// The scaffolded main.ts reads its flags and environment first (leader election, metrics, probes, namespaces,
// webhook certificates); these are the lines this operator adds to it.
const mgr = await createManager({
  leaderElection: { enabled: process.env['LEADER_ELECT'] === 'true', id: 'cronjob-operator' },
  metrics: { bindAddress: ':8443', secureServing: true, authorize: true },
  healthProbeBindAddress: ':8081',
});
// The operator's own series go on the manager's registry, next to controller-runtime's.
mgr.provide(CRONJOB_METRICS, createCronJobMetrics(mgr.metrics.registry));
mgr.register(CronJobReconciler);
// The webhook server needs a serving certificate: off for a run on your machine (ENABLE_WEBHOOKS=false npm start).
if (process.env['ENABLE_WEBHOOKS'] !== 'false') mgr.register(CronJobWebhook);
await mgr.start(setupSignalHandler());
// #endregion main
