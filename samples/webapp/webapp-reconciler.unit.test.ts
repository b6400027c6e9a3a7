// Unit tests of the WebApp reconciler with kubeloop/testing: no API server, a fake client seeded per case, and the
// reconciler built through the same DI tokens the manager uses. Table-driven: each case gives the objects to start
// from and what the reconcile must do. (The same reconciler is tested against a real API server in webapp.test.ts.)
import { describe, expect, it } from 'vitest';
import { Deployment, Service, isConflict, type KubeObject, type appsv1, type corev1 } from 'kubeloop/client';
import {
  createControllerHarness,
  createFakeClock,
  describeAction,
  failWith,
  intercept,
  reconcileOnce,
  type Interceptor,
  type ReconcileOnceResult,
} from 'kubeloop/testing';
import { WebApp, cleanupFinalizer, group } from './webapp.js';
import { WebAppReconciler } from './webapp-reconciler.js';

const ns = 'shop';
const uid = '4c1f0e4e-1111-4222-8333-444455556666';
/** A WebApp as the operator leaves it: with its cleanup finalizer (pass `finalizers: []` for a brand-new one). */
const webapp = (extra: { deletionTimestamp?: string; finalizers?: string[] } = {}): WebApp => ({
  apiVersion: `${group}/v1`,
  kind: 'WebApp',
  metadata: { name: 'web', namespace: ns, uid, generation: 3, finalizers: [cleanupFinalizer], ...extra },
  spec: { image: 'nginx:1.27', replicas: 2, port: 8080 },
});
const controllerRef = {
  apiVersion: `${group}/v1`,
  kind: 'WebApp',
  name: 'web',
  uid,
  controller: true,
  blockOwnerDeletion: true,
};
const labels = { 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/managed-by': 'webapp-operator' };

/** The Deployment as the operator wants it, with `readyReplicas` in its status. */
function ownedDeployment(readyReplicas: number, image = 'nginx:1.27', replicas = 2): appsv1.Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: ns, labels, ownerReferences: [controllerRef] },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'web', image, ports: [{ containerPort: 8080 }] }] },
      },
    },
    status: { readyReplicas },
  };
}

function ownedService(): corev1.Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: ns, labels, ownerReferences: [controllerRef] },
    spec: { selector: labels, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
  };
}

interface Case {
  name: string;
  objects: KubeObject[];
  interceptors?: Interceptor[];
  /** The writes, as `describeAction` prints them. */
  writes: string[];
  check(r: ReconcileOnceResult): Promise<void> | void;
}

const statusPatch = `patch webapps.${group}/status ${ns}/web (merge)`;

const cases: Case[] = [
  {
    name: 'a new WebApp: adds its finalizer, creates its Deployment and Service, owned by it, and writes its status',
    objects: [webapp({ finalizers: [] })],
    writes: [
      `patch webapps.${group} ${ns}/web (json)`,
      `create deployments.apps ${ns}/web`,
      `create services ${ns}/web`,
      statusPatch,
    ],
    async check({ result, error, events, client }) {
      expect(error).toBeUndefined();
      expect(result).toEqual({ requeueAfterMs: 10_000 });
      const d = await client.get(Deployment, { namespace: ns, name: 'web' });
      expect(d.metadata?.ownerReferences).toEqual([controllerRef]);
      expect(d.spec?.replicas).toBe(2);
      expect(d.spec?.template.spec?.containers[0]?.image).toBe('nginx:1.27');
      const s = await client.get(Service, { namespace: ns, name: 'web' });
      expect(s.metadata?.ownerReferences).toEqual([controllerRef]);
      expect(s.spec?.ports).toEqual([{ name: 'http', port: 8080, targetPort: 8080 }]);
      const app = await client.get(WebApp, { namespace: ns, name: 'web' });
      expect(app.metadata?.finalizers).toEqual([cleanupFinalizer]);
      expect(app.status?.observedGeneration).toBe(3);
      expect(app.status?.conditions?.[0]).toMatchObject({
        type: 'Available',
        status: 'False',
        reason: 'ReplicasNotReady',
        observedGeneration: 3,
      });
      expect(events).toEqual([
        expect.objectContaining({
          type: 'Normal',
          reason: 'Created',
          note: 'created Deployment web',
          regarding: expect.objectContaining({ kind: 'WebApp', name: 'web' }),
        }),
      ]);
    },
  },
  {
    name: 'a Deployment someone changed: restores what the WebApp says, leaves the Service alone',
    objects: [webapp(), ownedDeployment(2, 'nginx:evil', 7), ownedService()],
    writes: [`update deployments.apps ${ns}/web`, statusPatch],
    async check({ result, error, client, events }) {
      expect(error).toBeUndefined();
      const d = await client.get(Deployment, { namespace: ns, name: 'web' });
      expect(d.spec?.replicas).toBe(2);
      expect(d.spec?.template.spec?.containers[0]?.image).toBe('nginx:1.27');
      expect(d.metadata?.generation).toBe(2);
      expect(events).toEqual([]);
      // Both replicas are ready: the WebApp is Available and nothing is requeued.
      expect(result).toEqual({});
      const app = await client.get(WebApp, { namespace: ns, name: 'web' });
      expect(app.status).toMatchObject({
        readyReplicas: 2,
        conditions: [expect.objectContaining({ status: 'True', reason: 'ReplicasReady' })],
      });
    },
  },
  {
    name: 'a WebApp that is gone: does nothing',
    objects: [],
    writes: [],
    check({ result, error, actions }) {
      expect(error).toBeUndefined();
      expect(result).toEqual({});
      expect(actions.map(describeAction)).toEqual([`get webapps.${group} ${ns}/web`]);
    },
  },
  {
    name: 'a WebApp being deleted: deletes its Deployment and Service, then removes its finalizer',
    objects: [
      webapp({ deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['example.com/keep', cleanupFinalizer] }),
      ownedDeployment(2),
      ownedService(),
    ],
    writes: [
      `delete deployments.apps ${ns}/web`,
      `delete services ${ns}/web`,
      `patch webapps.${group} ${ns}/web (json)`,
    ],
    async check({ result, error, client, events }) {
      expect(error).toBeUndefined();
      expect(result).toEqual({});
      await expect(client.get(Deployment, { namespace: ns, name: 'web' })).rejects.toThrow(/not found/);
      expect((await client.get(WebApp, { namespace: ns, name: 'web' })).metadata?.finalizers).toEqual([
        'example.com/keep',
      ]);
      expect(events).toEqual([expect.objectContaining({ reason: 'Deleted' })]);
    },
  },
  {
    name: 'a WebApp being deleted without our finalizer: does nothing',
    objects: [webapp({ deletionTimestamp: '2026-01-01T00:00:00Z', finalizers: ['example.com/keep'] })],
    writes: [],
    check({ result, error }) {
      expect(error).toBeUndefined();
      expect(result).toEqual({});
    },
  },
  {
    name: 'a 409 Conflict on the status write: the reconcile fails with it (and is retried by the controller)',
    objects: [webapp(), ownedDeployment(2), ownedService()],
    interceptors: [intercept({ verb: 'patch', resource: WebApp, subresource: 'status' }, failWith(409))],
    writes: [statusPatch],
    async check({ result, error, client }) {
      expect(result).toBeUndefined();
      expect(isConflict(error)).toBe(true);
      expect((await client.get(WebApp, { namespace: ns, name: 'web' })).status).toBeUndefined();
    },
  },
];

describe('sample: WebAppReconciler unit tests with kubeloop/testing (no API server)', () => {
  it.each(cases)('$name', async (c) => {
    const r = await reconcileOnce(WebAppReconciler, {
      objects: c.objects,
      request: { namespace: ns, name: 'web' },
      ...(c.interceptors && { interceptors: c.interceptors }),
    });
    expect(r.writes.map(describeAction)).toEqual(c.writes);
    await c.check(r);
  });
});

describe('sample: WebAppReconciler requeues on a fake clock', () => {
  it('looks again every 10 s until the Deployment is ready, then stops, without waiting', async () => {
    const clock = createFakeClock();
    const h = createControllerHarness(WebAppReconciler, { clock, objects: [webapp()] });
    h.enqueue({ namespace: ns, name: 'web' });
    expect((await h.runReady()).map((r) => r.result)).toEqual([{ requeueAfterMs: 10_000 }]);
    expect(await h.advance(9_999)).toEqual([]);
    expect((await h.advance(1)).map((r) => [r.atMs, r.result])).toEqual([[10_000, { requeueAfterMs: 10_000 }]]);
    // The replicas become ready (a kubelet and the Deployment controller would do this in a cluster).
    const d = await h.client.get(Deployment, { namespace: ns, name: 'web' });
    await h.client.status().update({ ...d, status: { readyReplicas: 2 } });
    expect((await h.advance(10_000)).map((r) => [r.atMs, r.result])).toEqual([[20_000, {}]]);
    expect(await h.advance(60_000)).toEqual([]);
    h.shutDown();
  });
});
