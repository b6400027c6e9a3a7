// The typed Clientset against the real API server: apps/v1 (deployments, replica sets, stateful sets) with status,
// patches of every type and the scale subresource, and watches of two kinds at once.
import { describe, expect, it } from 'vitest';
import { createClientset } from '../../sdk/client/clientset.js';
import { isConflict } from '../../sdk/client/errors.js';
import type { appsv1, corev1 } from '../../sdk/client/generated/index.js';
import type { WatchEvent } from '../../sdk/client/meta/types.js';
import { createTestNamespace, sharedCluster } from '../support/cluster.js';

function template(app: string): corev1.PodTemplateSpec {
  return { metadata: { labels: { app } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } };
}

function deployment(name: string, replicas = 1): appsv1.Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: template(name) },
  };
}

/** Collects events until there are `count` of them; leaving the loop closes the watch. */
async function collect<T>(stream: AsyncIterable<WatchEvent<T>>, into: WatchEvent<T>[], count: number): Promise<void> {
  for await (const event of stream) {
    into.push(event);
    if (into.length === count) break;
  }
}

describe('Clientset: apps/v1', () => {
  const { config } = sharedCluster();
  const cs = createClientset(config);

  it('creates, updates and updates the status of a deployment; a stale update is a conflict', async () => {
    const ns = await createTestNamespace(config, 'cs-deploy');
    const deployments = cs.appsV1().deployments(ns);
    const created = await deployments.create(deployment('web', 2), { fieldManager: 'kubeloop-test' });
    expect(created.spec.replicas).toBe(2);
    expect(created.spec.strategy?.type).toBe('RollingUpdate'); // defaulted by the server
    expect(created.metadata?.generation).toBe(1);

    const updated = await deployments.update({ ...created, spec: { ...created.spec, replicas: 3 } });
    expect(updated.spec.replicas).toBe(3);
    expect(updated.metadata?.generation).toBe(2);
    await expect(deployments.update({ ...created, spec: { ...created.spec, replicas: 4 } })).rejects.toSatisfy(
      isConflict,
    );

    const withStatus = await deployments.updateStatus({
      ...updated,
      status: { observedGeneration: 2, replicas: 3, readyReplicas: 3, availableReplicas: 3, updatedReplicas: 3 },
    });
    expect(withStatus.status).toMatchObject({ observedGeneration: 2, readyReplicas: 3 });
    // updateStatus ignores spec changes, update ignores status changes.
    const ignored = await deployments.updateStatus({ ...withStatus, spec: { ...withStatus.spec, replicas: 9 } });
    expect(ignored.spec.replicas).toBe(3);
  });

  it('patches a deployment with merge, strategic, JSON and apply patches', async () => {
    const ns = await createTestNamespace(config, 'cs-patch');
    const deployments = cs.appsV1().deployments(ns);
    await deployments.create(deployment('web'));

    const merged = await deployments.patch('web', { metadata: { labels: { tier: 'front' } } }, { patchType: 'merge' });
    expect(merged.metadata?.labels).toEqual({ app: 'web', tier: 'front' });

    // Strategic: containers merge by name instead of being replaced.
    const strategic = await deployments.patch(
      'web',
      { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:1.36' }] } } } },
      { patchType: 'strategic' },
    );
    expect(strategic.spec.template.spec?.containers.map((c) => c.name).toSorted()).toEqual(['sidecar', 'web']);

    const jsonPatched = await deployments.patch('web', [{ op: 'replace', path: '/spec/replicas', value: 4 }], {
      patchType: 'json',
    });
    expect(jsonPatched.spec.replicas).toBe(4);

    const applied = await deployments.apply(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', annotations: { owner: 'team-a' } } },
      { fieldManager: 'kubeloop-test' },
    );
    expect(applied.metadata?.annotations?.['owner']).toBe('team-a');
    expect(applied.metadata?.managedFields?.some((f) => f.manager === 'kubeloop-test' && f.operation === 'Apply')).toBe(
      true,
    );

    const statusApplied = await deployments.applyStatus(
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        status: { replicas: 4, observedGeneration: 4 },
      },
      { fieldManager: 'kubeloop-status', force: true },
    );
    expect(statusApplied.status?.replicas).toBe(4);
  });

  it('reads and changes replicas through the scale subresource of deployments and stateful sets', async () => {
    const ns = await createTestNamespace(config, 'cs-scale');
    await cs.appsV1().deployments(ns).create(deployment('web', 2));
    const scale = await cs.appsV1().deployments(ns).getScale('web');
    expect(scale).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      spec: { replicas: 2 },
      status: { selector: 'app=web' },
    });
    const scaled = await cs
      .appsV1()
      .deployments(ns)
      .updateScale('web', { ...scale, spec: { replicas: 5 } });
    expect(scaled.spec?.replicas).toBe(5);
    expect((await cs.appsV1().deployments(ns).get('web')).spec.replicas).toBe(5);
    const applied = await cs
      .appsV1()
      .deployments(ns)
      .applyScale(
        'web',
        { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' }, spec: { replicas: 1 } },
        { fieldManager: 'kubeloop-test', force: true },
      );
    expect(applied.spec?.replicas).toBe(1);

    const statefulSets = cs.appsV1().statefulSets(ns);
    await statefulSets.create({
      metadata: { name: 'pg' },
      spec: { serviceName: 'pg', replicas: 1, selector: { matchLabels: { app: 'pg' } }, template: template('pg') },
    });
    const pgScale = await statefulSets.getScale('pg');
    expect(pgScale.spec?.replicas).toBe(1);
    await statefulSets.updateScale('pg', { ...pgScale, spec: { replicas: 3 } });
    expect((await statefulSets.get('pg')).spec?.replicas).toBe(3);
  });

  it('lists, patches and deletes replica sets', async () => {
    const ns = await createTestNamespace(config, 'cs-rs');
    const replicaSets = cs.appsV1().replicaSets(ns);
    for (const name of ['a', 'b']) {
      await replicaSets.create({
        metadata: { name, labels: { app: 'rs', name } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'rs', name } },
          template: { ...template('rs'), metadata: { labels: { app: 'rs', name } } },
        },
      });
    }
    expect((await replicaSets.list({ labelSelector: 'app=rs' })).items.map((r) => r.metadata?.name)).toEqual([
      'a',
      'b',
    ]);
    const patched = await replicaSets.patch('a', { spec: { replicas: 0 } }, { patchType: 'merge' });
    expect(patched.spec?.replicas).toBe(0);
    const page = await replicaSets.list({ limit: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.metadata.continue).toBeTruthy();
    expect((await replicaSets.listAll({ limit: 1 })).items).toHaveLength(2);
    await replicaSets.deleteCollection({ labelSelector: 'name=b' });
    expect((await replicaSets.list()).items.map((r) => r.metadata?.name)).toEqual(['a']);
  });

  it('watches config maps and secrets at once, each stream typed by its kind', async () => {
    const ns = await createTestNamespace(config, 'cs-watch');
    const configMapEvents: WatchEvent<corev1.ConfigMap>[] = [];
    const secretEvents: WatchEvent<corev1.Secret>[] = [];
    const signal = AbortSignal.timeout(20_000);
    // Watching from the lists' resourceVersions: every change after them arrives, however late the streams open.
    const cmVersion = (await cs.coreV1().configMaps(ns).list()).metadata.resourceVersion;
    const secretVersion = (await cs.coreV1().secrets(ns).list()).metadata.resourceVersion;
    const done = Promise.all([
      collect(cs.coreV1().configMaps(ns).watch({ signal, resourceVersion: cmVersion }), configMapEvents, 3),
      collect(cs.coreV1().secrets(ns).watch({ signal, resourceVersion: secretVersion }), secretEvents, 2),
    ]);
    const cm = await cs
      .coreV1()
      .configMaps(ns)
      .create({ metadata: { name: 'c' }, data: { a: '1' } });
    await cs
      .coreV1()
      .secrets(ns)
      .create({ metadata: { name: 's' }, stringData: { k: 'v' } });
    await cs
      .coreV1()
      .configMaps(ns)
      .update({ ...cm, data: { a: '2' } });
    await cs.coreV1().secrets(ns).delete('s');
    await cs.coreV1().configMaps(ns).delete('c');
    await done;
    expect(configMapEvents.map((e) => [e.type, e.object.data?.['a']])).toEqual([
      ['ADDED', '1'],
      ['MODIFIED', '2'],
      ['DELETED', '2'],
    ]);
    expect(secretEvents.map((e) => [e.type, e.object.metadata?.name, e.object.kind])).toEqual([
      ['ADDED', 's', 'Secret'],
      ['DELETED', 's', 'Secret'],
    ]);
  });
});
