import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientset, createDynamicClient, isNotFound, type RestConfig } from 'kubeloop/client';
import { createManager, type Manager } from 'kubeloop/manager';
import { createTestNamespace, sharedCluster } from '../../test/support/cluster.js';
import { WebApp, cleanupFinalizer, webAppCrd } from './webapp.js';
import { WebAppReconciler } from './webapp-reconciler.js';
import { eventually, type EventuallyOptions } from '../../test/support/wait.js';

const poll: EventuallyOptions = { timeoutMs: 20_000, intervalMs: 100, retryErrors: true };

async function installCrd(config: RestConfig): Promise<void> {
  const crds = createDynamicClient(config).resource({
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
  });
  await crds.create(webAppCrd).catch((err: { statusCode?: number }) => {
    if (err.statusCode !== 409) throw err;
  });
  await eventually(
    'the WebApp CRD to be established',
    async () => {
      const crd = await crds.get(webAppCrd.metadata.name);
      const conditions =
        (crd['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
      return conditions.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    },
    poll,
  );
}

describe('sample: the WebApp operator against a real API server', () => {
  const { config } = sharedCluster();
  const stop = new AbortController();
  let mgr: Manager;
  let ns: string;
  let running: Promise<void>;

  beforeAll(async () => {
    await installCrd(config);
    ns = await createTestNamespace(config, 'webapp');
    mgr = await createManager({
      config,
      cache: { namespaces: [ns] },
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: pino({ level: 'silent' }),
    });
    mgr.register(WebAppReconciler);
    running = mgr.start(stop.signal);
  });
  afterAll(async () => {
    stop.abort();
    await running;
  });

  it('creates a Deployment and a Service owned by the WebApp, and reports readiness in its status', async () => {
    const cs = createClientset(config);
    const apps = createDynamicClient(config)
      .resource({ group: WebApp.group, version: 'v1', resource: 'webapps' })
      .namespace(ns);
    const created = await apps.create({
      apiVersion: `${WebApp.group}/v1`,
      kind: 'WebApp',
      metadata: { name: 'shop' },
      spec: { image: 'nginx:1.27', replicas: 2 },
    });

    const deployment = await eventually('the Deployment', () => cs.appsV1().deployments(ns).get('shop'), poll);
    expect(deployment.spec?.replicas).toBe(2);
    expect(deployment.spec?.template.spec?.containers[0]?.image).toBe('nginx:1.27');
    expect(deployment.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'WebApp',
        name: 'shop',
        uid: created.metadata?.uid,
        controller: true,
        blockOwnerDeletion: true,
      }),
    ]);
    const service = await eventually('the Service', () => cs.coreV1().services(ns).get('shop'), poll);
    expect(service.spec?.ports?.[0]?.port).toBe(8080);

    const notReady = await eventually(
      'a status',
      async () => {
        const app = await apps.get('shop');
        const status = app['status'] as
          | { conditions?: { type: string; status: string }[]; observedGeneration?: number }
          | undefined;
        return status?.conditions?.length ? status : undefined;
      },
      poll,
    );
    expect(notReady.observedGeneration).toBe(1);
    expect(notReady.conditions).toEqual([
      expect.objectContaining({ type: 'Available', status: 'False', reason: 'ReplicasNotReady' }),
    ]);

    // Play the part of the deployment controller: the replicas become ready. The owned Deployment's change wakes
    // the WebApp's reconciler.
    await cs
      .appsV1()
      .deployments(ns)
      .updateStatus({ ...deployment, status: { replicas: 2, readyReplicas: 2, availableReplicas: 2 } });
    const ready = await eventually(
      'Available=True',
      async () => {
        const app = await apps.get('shop');
        const status = app['status'] as
          | { readyReplicas?: number; conditions?: { type: string; status: string }[] }
          | undefined;
        return status?.conditions?.[0]?.status === 'True' ? status : undefined;
      },
      poll,
    );
    expect(ready.readyReplicas).toBe(2);
  });

  it('follows spec changes, and puts back what someone else changed', async () => {
    const cs = createClientset(config);
    const apps = createDynamicClient(config)
      .resource({ group: WebApp.group, version: 'v1', resource: 'webapps' })
      .namespace(ns);
    await apps.create({
      apiVersion: `${WebApp.group}/v1`,
      kind: 'WebApp',
      metadata: { name: 'blog' },
      spec: { image: 'ghost:5' },
    });
    await eventually('the Deployment', () => cs.appsV1().deployments(ns).get('blog'), poll);
    await apps.patch('blog', { spec: { replicas: 3, image: 'ghost:6' } }, { patchType: 'merge' });
    await eventually(
      '3 replicas of ghost:6',
      async () => {
        const d = await cs.appsV1().deployments(ns).get('blog');
        return d.spec?.replicas === 3 && d.spec.template.spec?.containers[0]?.image === 'ghost:6' ? d : undefined;
      },
      poll,
    );
    // Drift: someone scales the Deployment by hand; the owned object's change makes the operator restore it.
    await cs
      .appsV1()
      .deployments(ns)
      .patch('blog', { spec: { replicas: 7 } }, { patchType: 'merge' });
    await eventually(
      'the replicas restored',
      async () => {
        const d = await cs.appsV1().deployments(ns).get('blog');
        return d.spec?.replicas === 3 ? d : undefined;
      },
      poll,
    );
    expect(mgr.cache.health().every((h) => h.synced)).toBe(true);
  });

  it('re-creates a Deployment someone deleted, and cleans up through its finalizer when the WebApp is deleted', async () => {
    const cs = createClientset(config);
    const apps = createDynamicClient(config)
      .resource({ group: WebApp.group, version: 'v1', resource: 'webapps' })
      .namespace(ns);
    await apps.create({
      apiVersion: `${WebApp.group}/v1`,
      kind: 'WebApp',
      metadata: { name: 'wiki' },
      spec: { image: 'mediawiki:1' },
    });
    const first = await eventually('the Deployment', () => cs.appsV1().deployments(ns).get('wiki'), poll);
    await cs.appsV1().deployments(ns).delete('wiki');
    const second = await eventually(
      'the Deployment re-created',
      async () => {
        const d = await cs.appsV1().deployments(ns).get('wiki');
        return d.metadata?.uid !== first.metadata?.uid ? d : undefined;
      },
      poll,
    );
    expect(second.metadata?.ownerReferences?.[0]?.name).toBe('wiki');
    expect((await apps.get('wiki')).metadata?.finalizers).toEqual([cleanupFinalizer]);

    // No garbage collector runs here: the operator's finalizer deletes what the WebApp owned.
    await apps.delete('wiki');
    await eventually(
      'the WebApp gone',
      () =>
        apps.get('wiki').then(
          () => undefined,
          (err: unknown) => (isNotFound(err) ? true : undefined),
        ),
      poll,
    );
    await expect(cs.appsV1().deployments(ns).get('wiki')).rejects.toSatisfy(isNotFound);
    await expect(cs.coreV1().services(ns).get('wiki')).rejects.toSatisfy(isNotFound);
  });
});
