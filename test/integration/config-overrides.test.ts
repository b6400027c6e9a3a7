import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  TransportError,
  closeAllConnections,
  createDynamicClient,
  loadConfig,
  type LoadConfigOptions,
  type RestConfig,
} from '../../sdk/client/index.js';
import { connectToControlPlane, type ControlPlaneAccess } from '../../sdk/envtest/index.js';
import { createTestNamespace, sharedCluster, uniqueName, whoAmI } from '../support/cluster.js';

// kubectl's overrides (LoadConfigOptions) and clientcmd's credential rules against a real kube-apiserver: who the
// server thinks the caller is, through kubeloop's own transport, from nothing but a kubeconfig and the options.

describe('kubectl overrides against the real API server', () => {
  const { config: admin, workDir } = sharedCluster();
  let env: ControlPlaneAccess;
  let dir: string;
  let ns: string;
  let counter = 0;

  beforeAll(async () => {
    env = await connectToControlPlane(workDir);
    dir = await mkdtemp(join(tmpdir(), 'config-overrides-'));
    ns = await createTestNamespace(admin, 'overrides');
  });
  afterAll(async () => {
    await closeAllConnections();
    await rm(dir, { recursive: true, force: true });
  });

  /** A kubeconfig for this control plane with the given cluster and user fields (YAML flow mapping bodies). */
  async function kubeconfig(cluster: string, user: string): Promise<string> {
    const path = join(dir, `config-${++counter}.yaml`);
    await writeFile(
      path,
      [
        'apiVersion: v1',
        'kind: Config',
        'current-context: here',
        `clusters: [{name: envtest, cluster: {server: "${env.host}", ${cluster}}}]`,
        `users: [{name: someone, user: {${user}}}]`,
        'contexts: [{name: here, context: {cluster: envtest, user: someone}}]',
      ].join('\n'),
    );
    return path;
  }

  async function load(cluster: string, user: string, options: LoadConfigOptions = {}): Promise<RestConfig> {
    return loadConfig({ ...options, kubeconfig: await kubeconfig(cluster, user), env: {} });
  }

  const b64 = (text: string): string => Buffer.from(text).toString('base64');
  const caField = (): string => `certificate-authority-data: ${b64(env.caData)}`;

  async function userFiles(name: string): Promise<{ cert: string; key: string; config: RestConfig }> {
    const config = await env.addUser({ name });
    const cert = join(dir, `${name}.crt`);
    const key = join(dir, `${name}.key`);
    await writeFile(cert, config.certData ?? '');
    await writeFile(key, config.keyData ?? '', { mode: 0o600 });
    return { cert, key, config };
  }

  async function serviceAccountToken(name: string): Promise<string> {
    const dyn = createDynamicClient(admin);
    const accounts = dyn.resource({ group: '', version: 'v1', resource: 'serviceaccounts' }).namespace(ns);
    await accounts.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
    const request = await accounts.createSubresource<{ status: { token: string } }>(name, 'token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    return request.status.token;
  }

  it('replaces the kubeconfig client certificate with clientCertificate and clientKey files', async () => {
    const aliceName = uniqueName('alice');
    const bobName = uniqueName('bob');
    const alice = await userFiles(aliceName);
    const bob = await userFiles(bobName);
    const user = `client-certificate: ${alice.cert}, client-key: ${alice.key}`;
    expect((await whoAmI(await load(caField(), user))).username).toBe(aliceName);
    const asBob = await load(caField(), user, { clientCertificate: bob.cert, clientKey: bob.key });
    expect((await whoAmI(asBob)).username).toBe(bobName);
  });

  it("refuses at load a certificate with another user's key, before any request", async () => {
    const alice = await userFiles(uniqueName('alice'));
    const bob = await userFiles(uniqueName('bob'));
    const err = await load(caField(), `client-certificate: ${alice.cert}, client-key: ${bob.key}`).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(
      /the client key of user "someone" does not belong to its client certificate/,
    );
    expect((err as ConfigError).message).not.toContain(bob.config.keyData!.split('\n')[1]!);
  });

  it('uses a token override and never runs the kubeconfig exec plugin', async () => {
    const name = uniqueName('bot');
    const token = await serviceAccountToken(name);
    // The plugin does not exist: any attempt to run it would fail the request.
    const user =
      'exec: {command: /nonexistent/credential-plugin, apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never}';
    const config = await load(caField(), user, { token });
    expect((await whoAmI(config)).username).toBe(`system:serviceaccount:${ns}:${name}`);
    // Without the override, the plugin is what authenticates, and it cannot run.
    expect(await whoAmI(await load(caField(), user)).catch((e: unknown) => e)).toBeInstanceOf(Error);
  });

  it('trusts the server through certificateAuthority or insecureSkipTLSVerify when the kubeconfig CA is wrong', async () => {
    const name = uniqueName('tls');
    const { cert, key } = await userFiles(name);
    const wrongCa = `certificate-authority-data: ${b64(admin.certData ?? '')}`; // a client certificate, not the server's CA
    const user = `client-certificate: ${cert}, client-key: ${key}`;
    expect(await whoAmI(await load(wrongCa, user)).catch((e: unknown) => e)).toBeInstanceOf(TransportError);
    const caFile = join(dir, 'ca.crt');
    await writeFile(caFile, env.caData);
    expect((await whoAmI(await load(wrongCa, user, { certificateAuthority: caFile }))).username).toBe(name);
    const insecure = await load(wrongCa, user, { insecureSkipTLSVerify: true });
    expect(insecure.caData).toBeUndefined();
    expect((await whoAmI(insecure)).username).toBe(name);
  });

  it('clears the kubeconfig tls-server-name when the server is overridden, as kubectl does', async () => {
    const name = uniqueName('sni');
    const { cert, key } = await userFiles(name);
    const cluster = `${caField()}, tls-server-name: not-this-server.example`;
    const user = `client-certificate: ${cert}, client-key: ${key}`;
    // The server's certificate is not for that name ...
    expect(await whoAmI(await load(cluster, user)).catch((e: unknown) => e)).toBeInstanceOf(TransportError);
    // ... and another server (here the same one by another name) gets no tls-server-name unless one is given.
    const port = new URL(env.host).port;
    expect((await whoAmI(await load(cluster, user, { server: `https://localhost:${port}` }))).username).toBe(name);
    const named = await load(cluster, user, {
      server: `https://127.0.0.1:${port}`,
      tlsServerName: 'kubernetes.default',
    });
    expect(named.serverName).toBe('kubernetes.default');
    expect((await whoAmI(named)).username).toBe(name);
  });

  it('impersonates with the impersonate override on top of the kubeconfig user', async () => {
    const adminKubeconfig = await env.writeKubeconfig(admin, uniqueName('admin'));
    const config = await loadConfig({
      kubeconfig: adminKubeconfig,
      env: {},
      impersonate: { user: 'jane', groups: ['developers'] },
    });
    expect(await whoAmI(config)).toMatchObject({ username: 'jane', groups: expect.arrayContaining(['developers']) });
  });
});
