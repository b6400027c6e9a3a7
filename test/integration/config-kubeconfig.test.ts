import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RestConfig } from '../../sdk/client/index.js';
import { loadClientConfig, loadConfig } from '../../sdk/client/config/load.js';
import { connectToControlPlane, type ControlPlaneAccess } from '../../sdk/envtest/index.js';
import { sharedCluster, uniqueName } from '../support/cluster.js';

// The kubeconfig reader and loading rules against a real kube-apiserver: kubeconfigs written by envtest (and one
// with the credentials in files next to it) must give a RestConfig that the server accepts, as the right user.
// The HTTPS call is made here with undici directly, from nothing but the loaded RestConfig.

async function call(
  config: RestConfig,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const agent = new Agent({
    connect: { ca: config.caData, cert: config.certData, key: config.keyData, servername: config.serverName },
  });
  try {
    const res = await request(`${config.host}${path}`, {
      method,
      dispatcher: agent,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.statusCode, body: await res.body.json() };
  } finally {
    await agent.close();
  }
}

async function whoAmI(config: RestConfig): Promise<unknown> {
  const res = await call(config, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'SelfSubjectReview',
  });
  expect(res.status).toBe(201);
  return (res.body as { status: { userInfo: unknown } }).status.userInfo;
}

describe('loadConfig with kubeconfigs of a real control plane', () => {
  const cluster = sharedCluster();
  let env: ControlPlaneAccess;
  let dir: string;

  beforeAll(async () => {
    env = await connectToControlPlane(cluster.workDir);
    dir = await mkdtemp(join(tmpdir(), 'config-kubeconfig-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the admin kubeconfig into the same RestConfig the control plane hands out, and reaches /version', async () => {
    const path = await env.writeKubeconfig(env.config, uniqueName('admin'));
    const { config, namespace, context } = await loadClientConfig({ kubeconfig: path, env: {} });
    expect(config.host).toBe(env.config.host);
    expect(config.caData).toBe(env.config.caData);
    expect(config.certData).toBe(env.config.certData);
    expect(config.keyData).toBe(env.config.keyData);
    expect(config.serverName).toBe('localhost');
    expect(namespace).toBe('default');
    expect(context).toMatch(/^admin-/);

    const version = await call(config, 'GET', '/version');
    expect(version.status).toBe(200);
    expect(version.body).toMatchObject({ gitVersion: 'v1.37.2' });
  });

  it('authenticates as a minted user from its kubeconfig, found through KUBECONFIG', async () => {
    const name = uniqueName('dev');
    const user = await env.addUser({ name, groups: ['team-a'] });
    const path = await env.writeKubeconfig(user, name);
    const config = await loadConfig({
      env: { KUBECONFIG: [join(dir, 'missing'), path, cluster.kubeconfigPath].join(':') },
    });
    expect(config.certData).toBe(user.certData);
    expect(await whoAmI(config)).toMatchObject({
      username: name,
      groups: expect.arrayContaining(['team-a', 'system:authenticated']),
    });
  });

  it('reads CA, certificate and key from files next to the kubeconfig', async () => {
    const name = uniqueName('files');
    const user = await env.addUser({ name });
    await writeFile(join(dir, 'ca.crt'), env.caData);
    await writeFile(join(dir, `${name}.crt`), user.certData ?? '');
    await writeFile(join(dir, `${name}.key`), user.keyData ?? '', { mode: 0o600 });
    const path = join(dir, `${name}.yaml`);
    await writeFile(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: here',
        'clusters:',
        `- name: envtest`,
        `  cluster: {server: "${env.host}/", certificate-authority: ca.crt, tls-server-name: localhost}`,
        'users:',
        `- name: ${name}`,
        `  user: {client-certificate: ./${name}.crt, client-key: ${name}.key}`,
        'contexts:',
        `- name: here`,
        // Quoted: unquoted, YAML 1.1 reads `on` as a boolean, which kubectl (and kubeloop) refuse in a string field.
        `  context: {cluster: envtest, user: ${name}, namespace: "on"}`,
      ].join('\n'),
    );
    const { config, namespace } = await loadClientConfig({ kubeconfig: path, env: {} });
    expect(config.host).toBe(env.host);
    expect(namespace).toBe('on');
    expect(await whoAmI(config)).toMatchObject({ username: name });
  });
});
