import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { connectToControlPlane } from '../../sdk/envtest/index.js';
import { createTestNamespace, rawRequest, sharedCluster, uniqueName } from '../support/cluster.js';

const run = promisify(execFile);

describe('envtest control plane (shared)', () => {
  const cluster = sharedCluster();

  it('reports Kubernetes v1.37.2 on /version', async () => {
    const res = await rawRequest(cluster.config, 'GET', '/version');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ gitVersion: 'v1.37.2', major: '1', minor: '37' });
  });

  it('round-trips a namespace and a ConfigMap through the API', async () => {
    const ns = await createTestNamespace(cluster.config, 'envtest');
    const name = uniqueName('cm');
    const created = await rawRequest(cluster.config, 'POST', `/api/v1/namespaces/${ns}/configmaps`, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, labels: { app: 'envtest' } },
      data: { greeting: 'hello', yes: 'yes' },
    });
    expect(created.status).toBe(201);
    const got = await rawRequest(cluster.config, 'GET', `/api/v1/namespaces/${ns}/configmaps/${name}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      metadata: { name, namespace: ns, labels: { app: 'envtest' } },
      data: { greeting: 'hello', yes: 'yes' },
    });
    const deleted = await rawRequest(cluster.config, 'DELETE', `/api/v1/namespaces/${ns}/configmaps/${name}`);
    expect(deleted.status).toBe(200);
    expect((await rawRequest(cluster.config, 'GET', `/api/v1/namespaces/${ns}/configmaps/${name}`)).status).toBe(404);
  });

  it('lets kubectl reach the API with the written kubeconfig', async () => {
    expect(cluster.kubectl).toBeDefined();
    const { stdout } = await run(cluster.kubectl!, [
      '--kubeconfig',
      cluster.kubeconfigPath,
      'get',
      'ns',
      'default',
      '-o',
      'json',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({
      kind: 'Namespace',
      metadata: { name: 'default' },
      status: { phase: 'Active' },
    });
  });

  it('mints users who are authenticated but forbidden without RBAC', async () => {
    const env = await connectToControlPlane(cluster.workDir);
    const user = await env.addUser({ name: 'nobody', groups: ['team-a'] });
    const res = await rawRequest(user, 'GET', '/api/v1/namespaces/default/configmaps');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ kind: 'Status', reason: 'Forbidden' });
    expect((res.body as { message: string }).message).toContain('User "nobody" cannot list resource "configmaps"');

    const review = await rawRequest(user, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    expect(review.status).toBe(201);
    expect(review.body).toMatchObject({
      status: { userInfo: { username: 'nobody', groups: expect.arrayContaining(['team-a', 'system:authenticated']) } },
    });
  });

  it('gives a minted user what RBAC grants, and nothing more', async () => {
    const env = await connectToControlPlane(cluster.workDir);
    const ns = await createTestNamespace(cluster.config, 'rbac');
    const name = uniqueName('reader');
    const user = await env.addUser({ name });
    expect(
      (
        await rawRequest(cluster.config, 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`, {
          metadata: { name: 'reader' },
          rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await rawRequest(cluster.config, 'POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
          metadata: { name: 'reader' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' },
          subjects: [{ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name }],
        })
      ).status,
    ).toBe(201);
    expect((await rawRequest(user, 'GET', `/api/v1/namespaces/${ns}/configmaps`)).status).toBe(200);
    expect((await rawRequest(user, 'GET', `/api/v1/namespaces/${ns}/secrets`)).status).toBe(403);
  });
});
