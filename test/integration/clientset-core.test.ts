// The typed Clientset against the real API server: core/v1 (pods, services, config maps, secrets, namespaces, nodes,
// service accounts) and coordination.k8s.io/v1 leases.
import { describe, expect, it } from 'vitest';
import { createClientset } from '../../sdk/client/clientset.js';
import { ApiError, isConflict, isInvalid, isNotFound } from '../../sdk/client/errors.js';
import type { corev1 } from '../../sdk/client/generated/index.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';

function pod(name: string, labels: Record<string, string> = {}): corev1.Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: {
      containers: [
        { name: 'app', image: 'nginx:1.27' },
        { name: 'sidecar', image: 'busybox:1.36' },
      ],
    },
  };
}

describe('Clientset: core/v1', () => {
  const { config } = sharedCluster();
  const cs = createClientset(config);

  it('creates pods, lists them by label and field selector, gets and deletes them', async () => {
    const ns = await createTestNamespace(config, 'cs-pods');
    const pods = cs.coreV1().pods(ns);
    const created = await pods.create(pod('web-1', { app: 'web', tier: 'front' }));
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.spec?.containers.map((c) => c.name)).toEqual(['app', 'sidecar']);
    await pods.create(pod('web-2', { app: 'web', tier: 'back' }));
    await pods.create(pod('db-1', { app: 'db' }));

    const web = await pods.list({ labelSelector: 'app=web' });
    expect(web.items.map((p) => p.metadata?.name).toSorted()).toEqual(['web-1', 'web-2']);
    expect(web.items.every((p) => p.kind === 'Pod' && p.apiVersion === 'v1')).toBe(true);
    expect(web.metadata.resourceVersion).toBeTruthy();
    const front = await pods.list({ labelSelector: 'app=web,tier in (front)' });
    expect(front.items.map((p) => p.metadata?.name)).toEqual(['web-1']);
    const byName = await pods.list({ fieldSelector: 'metadata.name=db-1' });
    expect(byName.items.map((p) => p.metadata?.labels)).toEqual([{ app: 'db' }]);

    // '' is every namespace.
    const everywhere = await cs.coreV1().pods('').list({ labelSelector: 'app=web' });
    expect(everywhere.items.filter((p) => p.metadata?.namespace === ns)).toHaveLength(2);

    const got = await pods.get('web-1');
    expect(got.metadata?.labels).toEqual({ app: 'web', tier: 'front' });
    expect(got.status?.phase).toBe('Pending');

    await pods.delete('web-1', { gracePeriodSeconds: 0 });
    await expect(pods.get('web-1')).rejects.toSatisfy(isNotFound);
    await pods.deleteCollection({ labelSelector: 'app=web' });
    expect((await pods.list()).items.map((p) => p.metadata?.name)).toEqual(['db-1']);
  });

  it('evicts a pod through pods/eviction, and a PodDisruptionBudget can refuse it', async () => {
    const ns = await createTestNamespace(config, 'cs-evict');
    const pods = cs.coreV1().pods(ns);
    await pods.create(pod('free'));
    const answer = await pods.evict('free', {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'free', namespace: ns },
    });
    expect(answer).toMatchObject({ kind: 'Status', status: 'Success' });
    await expect(pods.get('free')).rejects.toSatisfy(isNotFound);

    // A budget that allows no disruption refuses the eviction of a running pod with 429 (pending pods are exempt).
    await pods.create(pod('guarded', { app: 'guarded' }));
    await pods.bind('guarded', { metadata: { name: 'guarded' }, target: { kind: 'Node', name: 'node-a' } });
    await pods.updateStatus({
      ...(await pods.get('guarded')),
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const pdb = await cs
      .policyV1()
      .podDisruptionBudgets(ns)
      .create({
        metadata: { name: 'guard' },
        spec: { selector: { matchLabels: { app: 'guarded' } }, maxUnavailable: 0 },
      });
    await cs
      .policyV1()
      .podDisruptionBudgets(ns)
      .updateStatus({
        ...pdb,
        status: {
          currentHealthy: 1,
          desiredHealthy: 1,
          disruptionsAllowed: 0,
          expectedPods: 1,
          observedGeneration: pdb.metadata?.generation ?? 1,
        },
      });
    const refused = await pods
      .evict('guarded', { metadata: { name: 'guarded', namespace: ns } })
      .catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).statusCode).toBe(429);
    expect((refused as ApiError).message).toContain('disruption budget');
    expect((await pods.get('guarded')).metadata?.name).toBe('guarded');
    await pods.delete('guarded', { gracePeriodSeconds: 0 });
  });

  it('binds a pod to a node, updates its status and reads ephemeral containers', async () => {
    const ns = await createTestNamespace(config, 'cs-bind');
    const pods = cs.coreV1().pods(ns);
    await pods.create(pod('p'));
    await pods.bind('p', { metadata: { name: 'p' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-a' } });
    const bound = await pods.get('p');
    expect(bound.spec?.nodeName).toBe('node-a');

    const running = await pods.updateStatus({
      ...bound,
      status: { phase: 'Running', podIP: '10.1.0.7', podIPs: [{ ip: '10.1.0.7' }] },
    });
    expect(running.status?.phase).toBe('Running');
    expect(running.status?.podIPs).toEqual([{ ip: '10.1.0.7' }]);

    const withEphemeral = await pods.getEphemeralContainers('p');
    expect(withEphemeral.spec?.ephemeralContainers ?? []).toEqual([]);
    const added = await pods.updateEphemeralContainers('p', {
      ...withEphemeral,
      spec: { ...withEphemeral.spec!, ephemeralContainers: [{ name: 'debug', image: 'busybox:1.36' }] },
    });
    expect(added.spec?.ephemeralContainers?.map((c) => c.name)).toEqual(['debug']);
    await pods.delete('p', { gracePeriodSeconds: 0 });
  });

  it('asks for logs with the options as query parameters, and reports the server refusing them', async () => {
    // No kubelet runs in envtest, so the server cannot fetch logs: it names the reason, which proves the call reached
    // pods/{name}/log with the container option (an unknown container is refused before anything else).
    const ns = await createTestNamespace(config, 'cs-logs');
    const pods = cs.coreV1().pods(ns);
    await pods.create(pod('p'));
    const lines: string[] = [];
    const failure = await (async () => {
      for await (const line of pods.getLogs('p', { container: 'nope', tailLines: 5, timestamps: true }))
        lines.push(line);
    })().catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).statusCode).toBe(400);
    expect((failure as ApiError).message).toContain('container nope is not valid for pod p');
    expect(lines).toEqual([]);
  });

  it('keeps services, config maps and secrets as the server has them, and reports conflicts and invalid objects', async () => {
    const ns = await createTestNamespace(config, 'cs-objects');
    const svc = await cs
      .coreV1()
      .services(ns)
      .create({
        metadata: { name: 'web' },
        spec: {
          selector: { app: 'web' },
          ports: [
            { name: 'http', port: 80, targetPort: 'http' },
            { name: 'https', port: 443, targetPort: 8443 },
          ],
        },
      });
    expect(svc.spec?.clusterIP).toMatch(/^10\.0\.0\.\d+$/);
    expect(svc.spec?.ports?.map((p) => p.targetPort)).toEqual(['http', 8443]);
    expect(svc.spec?.type).toBe('ClusterIP');

    const cms = cs.coreV1().configMaps(ns);
    const cm = await cms.create({ metadata: { name: 'settings' }, data: { mode: 'fast' } });
    const updated = await cms.update({ ...cm, data: { mode: 'slow' } });
    expect(updated.data).toEqual({ mode: 'slow' });
    await expect(cms.update({ ...cm, data: { mode: 'stale' } })).rejects.toSatisfy(isConflict);

    const secret = await cs
      .coreV1()
      .secrets(ns)
      .create({
        metadata: { name: 'creds' },
        type: 'Opaque',
        stringData: { password: 'hunter2' },
      });
    expect(secret.data).toEqual({ password: Buffer.from('hunter2').toString('base64') });

    const invalid = await cms.create({ metadata: { name: 'Not_Valid' } }).catch((err: unknown) => err);
    expect(invalid).toSatisfy(isInvalid);
    expect((invalid as ApiError).details?.causes?.[0]?.field).toBe('metadata.name');
  });

  it('handles cluster-scoped namespaces and nodes, with node status', async () => {
    const name = uniqueName('cs-ns');
    const ns = await cs
      .coreV1()
      .namespaces()
      .create({ metadata: { name, labels: { purpose: 'test' } } });
    expect(ns.status?.phase).toBe('Active');
    const found = await cs.coreV1().namespaces().list({ labelSelector: 'purpose=test' });
    expect(found.items.map((n) => n.metadata?.name)).toContain(name);

    const nodeName = uniqueName('node');
    const nodes = cs.coreV1().nodes();
    const node = await nodes.create({
      metadata: { name: nodeName, labels: { zone: 'a' } },
      spec: { podCIDR: '10.2.0.0/24' },
    });
    expect(node.metadata?.namespace).toBeUndefined();
    const ready = await nodes.updateStatus({
      ...node,
      status: {
        capacity: { cpu: '4', memory: '8Gi', pods: '110' },
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          },
        ],
      },
    });
    expect(ready.status?.capacity).toEqual({ cpu: '4', memory: '8Gi', pods: '110' });
    expect(ready.status?.conditions?.[0]).toMatchObject({ type: 'Ready', status: 'True' });
    await nodes.delete(nodeName);
    await expect(nodes.get(nodeName)).rejects.toSatisfy(isNotFound);
  });

  it('mints a service account token through serviceaccounts/token', async () => {
    const ns = await createTestNamespace(config, 'cs-token');
    await cs
      .coreV1()
      .serviceAccounts(ns)
      .create({ metadata: { name: 'robot' } });
    const answer = await cs
      .coreV1()
      .serviceAccounts(ns)
      .createToken('robot', {
        spec: { audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 600 },
      });
    const token = answer.status?.token ?? '';
    expect(token.split('.')).toHaveLength(3);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { sub: string };
    expect(claims.sub).toBe(`system:serviceaccount:${ns}:robot`);

    const review = await cs.authenticationV1().tokenReviews().create({ spec: { token } });
    expect(review.status?.authenticated).toBe(true);
    expect(review.status?.user?.username).toBe(`system:serviceaccount:${ns}:robot`);
  });

  it('creates and renews a lease in coordination.k8s.io/v1', async () => {
    const ns = await createTestNamespace(config, 'cs-lease');
    const leases = cs.coordinationV1().leases(ns);
    const acquired = new Date().toISOString().replace('Z', '000Z');
    const lease = await leases.create({
      metadata: { name: 'leader' },
      spec: { holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: acquired, renewTime: acquired },
    });
    expect(lease.spec?.holderIdentity).toBe('a');
    const renewed = await leases.update({
      ...lease,
      spec: { ...lease.spec, renewTime: new Date().toISOString().replace('Z', '000Z'), leaseTransitions: 1 },
    });
    expect(renewed.spec?.leaseTransitions).toBe(1);
    expect(renewed.metadata?.resourceVersion).not.toBe(lease.metadata?.resourceVersion);
  });
});
