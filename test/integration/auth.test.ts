import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TransportError,
  closeAllConnections,
  createDynamicClient,
  inClusterConfig,
  isForbidden,
  loadClientConfig,
  restClientFor,
  type RestConfig,
} from '../../sdk/client/index.js';
import { connectToControlPlane } from '../../sdk/envtest/index.js';
import { createTestNamespace, sharedCluster, uniqueName, whoAmI } from '../support/cluster.js';
import { startConnectProxy } from '../support/connect-proxy.js';

const core = { group: '', version: 'v1' };
const rbac = { group: 'rbac.authorization.k8s.io', version: 'v1' };

describe('authentication modes against the real API server', () => {
  const { config, workDir } = sharedCluster();
  const dyn = createDynamicClient(config);
  let ns: string;
  let dir: string;

  /** A service account and a fresh token for it, bound to a role that may list ConfigMaps. */
  async function serviceAccountToken(name: string, expirationSeconds = 3600): Promise<string> {
    await dyn
      .resource({ ...core, resource: 'serviceaccounts' })
      .namespace(ns)
      .create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } })
      .catch(() => undefined);
    const request = await dyn
      .resource({ ...core, resource: 'serviceaccounts' })
      .namespace(ns)
      .createSubresource<{ status: { token: string } }>(name, 'token', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds },
      });
    return request.status.token;
  }

  beforeAll(async () => {
    ns = await createTestNamespace(config, 'auth');
    dir = await mkdtemp(join(tmpdir(), 'kubeloop-auth-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('authenticates with client certificates: the admin and a minted user', async () => {
    expect((await whoAmI(config)).groups).toContain('system:masters');
    const env = await connectToControlPlane(workDir);
    const name = uniqueName('cert-user');
    const user = await env.addUser({ name, groups: ['team-x'] });
    expect(await whoAmI(user)).toMatchObject({ username: name, groups: expect.arrayContaining(['team-x']) });
  });

  it('authenticates with a bearer token and re-reads a rotated token file', async () => {
    const tokenA = await serviceAccountToken('bot-a');
    const tokenB = await serviceAccountToken('bot-b');
    const bare = { host: config.host, caData: config.caData, serverName: config.serverName };
    expect((await whoAmI({ ...bare, bearerToken: tokenA })).username).toBe(`system:serviceaccount:${ns}:bot-a`);

    const file = join(dir, 'token');
    await writeFile(file, `${tokenA}\n`);
    const fromFile: RestConfig = { ...bare, bearerTokenFile: file };
    expect((await whoAmI(fromFile)).username).toBe(`system:serviceaccount:${ns}:bot-a`);

    // Rotate: the file now holds another account's token. The transport looks at the file at most once a second
    // (and re-reads it fully every minute, and on a 401), so the first request a second later uses the new token.
    await writeFile(file, tokenB);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await whoAmI(fromFile)).username).toBe(`system:serviceaccount:${ns}:bot-b`);
  });

  it('runs an exec credential plugin, caches its credential until it expires, and re-runs it on 401', async () => {
    const token = await serviceAccountToken('exec-bot');
    const runs = join(dir, 'exec-runs');
    const script = join(dir, 'credential-plugin.sh');
    await writeFile(runs, '');
    // Prints an ExecCredential whose expiry is 3 s away, and counts its runs.
    await writeFile(
      script,
      [
        '#!/bin/sh',
        `echo run >> "${runs}"`,
        // The first run hands out a token the server rejects, with a long expiry: only a 401 can replace it.
        `if [ "$(wc -l < "${runs}")" -eq 1 ]; then token=not-a-valid-token; life=3600; else token=$PLUGIN_TOKEN; life=3; fi`,
        'expiry=$(date -u -d "@$(( $(date +%s) + life ))" +%Y-%m-%dT%H:%M:%SZ)',
        'test -n "$KUBERNETES_EXEC_INFO" || exit 7',
        `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s","expirationTimestamp":"%s"}}' "$token" "$expiry"`,
      ].join('\n'),
    );
    await chmod(script, 0o755);
    const execConfig: RestConfig = {
      host: config.host,
      caData: config.caData,
      serverName: config.serverName,
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1',
        command: script,
        env: [{ name: 'PLUGIN_TOKEN', value: token }],
        interactiveMode: 'Never',
        provideClusterInfo: true,
      },
    };
    const count = async (): Promise<number> => (await readFile(runs, 'utf8')).split('\n').filter(Boolean).length;
    expect((await whoAmI(execConfig)).username).toBe(`system:serviceaccount:${ns}:exec-bot`);
    expect(await count()).toBe(2); // the first credential got a 401, so the plugin ran again
    expect((await whoAmI(execConfig)).username).toBe(`system:serviceaccount:${ns}:exec-bot`);
    expect(await count()).toBe(2); // cached
    await new Promise((r) => setTimeout(r, 3500));
    await whoAmI(execConfig);
    expect(await count()).toBe(3); // expired, ran again
  });

  it('impersonates when RBAC allows it, and is forbidden when it does not', async () => {
    const env = await connectToControlPlane(workDir);
    const allowedName = uniqueName('impersonator');
    const allowed = await env.addUser({ name: allowedName });
    const denied = await env.addUser({ name: uniqueName('not-impersonator') });
    const clusterRoles = restClientFor(config, { groupVersion: rbac });
    const role = uniqueName('impersonate');
    await clusterRoles
      .post()
      .resource('clusterroles')
      .body({
        metadata: { name: role },
        rules: [
          { apiGroups: [''], resources: ['users'], verbs: ['impersonate'], resourceNames: ['alice'] },
          { apiGroups: [''], resources: ['groups'], verbs: ['impersonate'], resourceNames: ['devs'] },
        ],
      })
      .do()
      .into();
    await clusterRoles
      .post()
      .resource('clusterrolebindings')
      .body({
        metadata: { name: role },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: allowedName }],
      })
      .do()
      .into();

    const asAlice = { userName: 'alice', groups: ['devs'] };
    expect(await whoAmI({ ...allowed, impersonate: asAlice })).toMatchObject({
      username: 'alice',
      groups: expect.arrayContaining(['devs']),
    });
    await expect(whoAmI({ ...denied, impersonate: asAlice })).rejects.toSatisfy(isForbidden);
  });

  it('tunnels through a CONNECT proxy named by proxyUrl', async () => {
    const proxy = await startConnectProxy();
    try {
      const viaProxy: RestConfig = { ...config, proxyUrl: proxy.url };
      expect((await whoAmI(viaProxy)).groups).toContain('system:masters');
      expect(proxy.targets).toEqual([new URL(config.host).host]);
    } finally {
      await closeAllConnections();
      await proxy.close();
    }
  });

  it('honours HTTPS_PROXY but, as Go does, never sends loopback traffic through it', async () => {
    // The NO_PROXY rules themselves (names, suffixes, ports, CIDR blocks, the in-cluster service IP) are unit-tested in
    // sdk/client/transport/proxy-env.test.ts: only loopback addresses are reachable from tests here.
    const proxy = await startConnectProxy();
    const saved = process.env['HTTPS_PROXY'];
    try {
      process.env['HTTPS_PROXY'] = proxy.url;
      expect((await whoAmI({ ...config })).groups).toContain('system:masters');
      expect(proxy.targets).toEqual([]);
      expect((await whoAmI({ ...config, proxyUrl: proxy.url })).groups).toContain('system:masters');
      expect(proxy.targets).toEqual([new URL(config.host).host]);
    } finally {
      if (saved === undefined) delete process.env['HTTPS_PROXY'];
      else process.env['HTTPS_PROXY'] = saved;
      await closeAllConnections();
      await proxy.close();
    }
  });

  it('builds an in-cluster config from the service-account folder and the service environment', async () => {
    const token = await serviceAccountToken('in-cluster');
    const saDir = join(dir, 'serviceaccount');
    await mkdir(saDir);
    await writeFile(join(saDir, 'token'), token);
    await writeFile(join(saDir, 'ca.crt'), config.caData!);
    await writeFile(join(saDir, 'namespace'), ns);
    const url = new URL(config.host);
    const env = { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port };
    const inCluster = await inClusterConfig({ serviceAccountDir: saDir, env });
    expect(inCluster.bearerTokenFile).toBe(join(saDir, 'token'));
    // The serving certificate names localhost, not the address: in a cluster it names the service IP.
    expect((await whoAmI({ ...inCluster, serverName: 'localhost' })).username).toBe(
      `system:serviceaccount:${ns}:in-cluster`,
    );
    expect((await loadClientConfig({ env: { ...env, HOME: dir }, serviceAccountDir: saDir })).namespace).toBe(ns);
  });

  it('verifies TLS: a wrong or missing CA fails closed with a clear error; insecureSkipTLSVerify is explicit', async () => {
    const other = await (await import('../../sdk/webhook/index.js')).createCertificateAuthority('some-other-ca');
    const wrongCa: RestConfig = { ...config, caData: other.certPem };
    const err = await whoAmI(wrongCa).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).message).toMatch(
      /TLS: the certificate of https:\/\/127\.0\.0\.1:\d+ is not signed by a trusted certificate authority/,
    );
    expect((err as TransportError).message).not.toContain('BEGIN');

    const { caData: _ca, ...noCa } = config;
    await expect(whoAmI(noCa)).rejects.toThrow(/not signed by a trusted certificate authority/);
    expect((await whoAmI({ ...noCa, insecureSkipTLSVerify: true })).groups).toContain('system:masters');
  });
});
