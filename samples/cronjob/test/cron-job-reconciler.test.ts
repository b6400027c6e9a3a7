// #region integration
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientset, isNotFound, typedClient, type RestConfig } from 'kubeloop/client';
import { installCrds } from 'kubeloop/envtest';
import { createDefaultLogger, createManager } from 'kubeloop/manager';
import { CronJob, cronJobCrd } from '../src/api/batch/v1/cron-job.js';
import { CRONJOB_METRICS, createCronJobMetrics } from '../src/metrics.js';
import { CronJobReconciler } from '../src/reconcilers/cron-job-reconciler.js';
import { controlPlane, eventually } from './support.js';

const timeoutMs = 20_000;

describe('the CronJob operator against a real API server', () => {
  const stop = new AbortController();
  let config: RestConfig;
  let running: Promise<void>;
  const namespace = `cronjob-${Date.now().toString(36)}`;

  beforeAll(async () => {
    config = (await controlPlane()).config;
    await installCrds(config, { objects: [cronJobCrd] });
    await createClientset(config)
      .coreV1()
      .namespaces()
      .create({ metadata: { name: namespace } });
    const mgr = await createManager({
      config,
      cache: { namespaces: [namespace] },
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: createDefaultLogger({ level: 'silent' }),
    });
    mgr.provide(CRONJOB_METRICS, createCronJobMetrics(mgr.metrics.registry));
    mgr.register(CronJobReconciler);
    running = mgr.start(stop.signal);
  });
  afterAll(async () => {
    stop.abort();
    await running;
  });

  it('runs a Job on schedule, reports it, and deletes it with the CronJob', async () => {
    const cronJobs = typedClient(config, CronJob).namespace(namespace);
    const jobs = createClientset(config).batchV1().jobs(namespace);
    await cronJobs.create({
      apiVersion: 'batch.tutorial.kubeloop.dev/v1',
      kind: 'CronJob',
      metadata: { name: 'tick' },
      spec: {
        schedule: '@every 2s',
        concurrencyPolicy: 'Forbid', // no Job controller runs in envtest: the first Job stays active
        jobTemplate: {
          spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 't', image: 'busybox' }] } } },
        },
      },
    });

    const active = await eventually(
      'a running Job in the status',
      async () => {
        const { status } = await cronJobs.get('tick');
        return status?.active?.length ? status.active : undefined;
      },
      timeoutMs,
    );
    const [job] = (await jobs.list()).items;
    expect(active).toEqual([{ name: job?.metadata?.name, namespace, uid: job?.metadata?.uid }]);
    expect(job?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'tick', controller: true });

    // No garbage collector runs in envtest either: the finalizer deletes the Jobs.
    await cronJobs.delete('tick');
    await eventually(
      'the Jobs to go',
      async () => ((await jobs.list()).items.length === 0 ? true : undefined),
      timeoutMs,
    );
    await eventually(
      'the CronJob to go',
      () =>
        cronJobs.get('tick').then(
          () => undefined,
          (err: unknown) => (isNotFound(err) ? true : undefined),
        ),
      timeoutMs,
    );
  });
});
// #endregion integration
