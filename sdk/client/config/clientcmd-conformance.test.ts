// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { Transport } from '../transport/transport.js';
import { loadClientConfig, loadConfig, type LoadConfigOptions } from './load.js';
import type { RestConfig } from './types.js';

// What clientcmd (client-go v0.37) makes of a kubeconfig and kubectl's overrides, case by case: where credentials go,
// which entries are checked, and the precedence of LoadConfigOptions over the kubeconfig. The expectations were
// checked by hand against client-go v0.37.2's ClientConfig() on the same inputs (issue #15's differential suite
// automates that); the deliberate differences, documented in the README, say so where they are tested.

const caPem = '-----BEGIN CERTIFICATE-----\nQ0EgY2VydA==\n-----END CERTIFICATE-----\n';
const otherCaPem = '-----BEGIN CERTIFICATE-----\nT1RIRVIgQ0E=\n-----END CERTIFICATE-----\n';
const secretToken = 'tok-91ab-SECRET';
const overrideToken = 'tok-override-SECRET';
const secretPassword = 'pw-5e1d-SECRET';
const b64 = (text: string): string => Buffer.from(text).toString('base64');
const secrets = [secretToken, overrideToken, secretPassword];

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

interface Pair {
  certPem: string;
  keyPem: string;
}

async function certificatePair(commonName: string): Promise<Pair> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${commonName}`,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 24 * 3600_000),
    keys,
    signingAlgorithm: algorithm,
  });
  const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  secrets.push(keyPem.split('\n')[1]!, b64(keyPem));
  return { certPem: cert.toString('pem'), keyPem };
}

let dir: string;
let counter = 0;
let alice: Pair;
let bob: Pair;
const bareEnv: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  alice = await certificatePair('alice');
  bob = await certificatePair('bob');
  dir = await mkdtemp(join(tmpdir(), 'clientcmd-test-'));
  await writeFile(join(dir, 'ca.crt'), caPem);
  await writeFile(join(dir, 'other-ca.crt'), otherCaPem);
  await writeFile(join(dir, 'alice.crt'), alice.certPem);
  await writeFile(join(dir, 'alice.key'), alice.keyPem);
  await writeFile(join(dir, 'bob.crt'), bob.certPem);
  await writeFile(join(dir, 'bob.key'), bob.keyPem);
  await writeFile(join(dir, 'token'), `${secretToken}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(text: string): Promise<string> {
  const file = join(dir, `config-${++counter}`);
  await writeFile(file, text);
  return file;
}

function kubeconfig(cluster: string, user = '{}', extra = ''): string {
  return `apiVersion: v1
kind: Config
current-context: main
clusters: [{name: c1, cluster: ${cluster}}]
users: [{name: u1, user: ${user}}]
contexts: [{name: main, context: {cluster: c1, user: u1}}]
${extra}`;
}

/** Loads a kubeconfig with this cluster and user, and these overrides. */
async function load(cluster: string, user = '{}', options: LoadConfigOptions = {}): Promise<RestConfig> {
  return loadConfig({ ...options, kubeconfig: await write(kubeconfig(cluster, user)), env: bareEnv });
}

/** The ConfigError of `work`; it must show no credential. */
async function configError(work: Promise<unknown>): Promise<ConfigError> {
  const err: unknown = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  for (const secret of secrets) expect((err as ConfigError).message).not.toContain(secret);
  return err as ConfigError;
}

function fault(expected: { file?: string | undefined; field?: string | undefined; message: RegExp }): object {
  return { ...expected, message: expect.stringMatching(expected.message) };
}

const execV1 = '{command: plugin, apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never}';
const exec = { command: 'plugin', apiVersion: 'client.authentication.k8s.io/v1', interactiveMode: 'Never' };

describe('credentials only over TLS, as clientcmd merges them', () => {
  it('gives a plain http:// server no credentials and no TLS settings, keeping impersonation and the proxy', async () => {
    const users = [
      `{token: ${secretToken}}`,
      '{tokenFile: token}',
      `{username: admin, password: ${secretPassword}}`,
      `{client-certificate: alice.crt, client-key: alice.key}`,
      `{exec: ${execV1}}`,
    ];
    for (const user of users) {
      const cluster = `{server: "http://api:8080/", certificate-authority-data: ${b64(caPem)}, tls-server-name: api}`;
      expect(await load(cluster, user)).toEqual({ host: 'http://api:8080' });
    }
    expect(
      await load(
        '{server: "http://api:8080", proxy-url: "http://proxy:3128", disable-compression: true}',
        `{token: ${secretToken}, as: jane}`,
      ),
    ).toEqual({
      host: 'http://api:8080',
      proxyUrl: 'http://proxy:3128',
      disableCompression: true,
      impersonate: { userName: 'jane' },
    });
  });

  it('sends no credential to a plain http:// server, end to end', async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    try {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      for (const [serverText, user] of [
        [`http://127.0.0.1:${port}`, `{token: ${secretToken}}`],
        [`127.0.0.1:${port}`, `{username: admin, password: ${secretPassword}}`],
      ] as const) {
        const config = await load(`{server: "${serverText}"}`, user, { impersonate: { user: 'jane' } });
        await new Transport(config).request({ method: 'GET', path: '/version' });
      }
    } finally {
      server.closeAllConnections();
      await new Promise((done) => server.close(done));
    }
    expect(seen.map((h) => [h['authorization'], h['impersonate-user']])).toEqual([
      [undefined, 'jane'],
      [undefined, 'jane'],
    ]);
  });

  it('treats a server without a scheme as http://, whatever TLS settings the cluster has', async () => {
    const config = await load(
      `{server: "api.example:6443", certificate-authority-data: ${b64(caPem)}, tls-server-name: api}`,
      `{token: ${secretToken}}`,
    );
    expect(config).toEqual({ host: 'http://api.example:6443' });
    // A token override to such a server is dropped as well.
    expect(await load('{server: "10.0.0.1:6443"}', '{}', { token: overrideToken })).toEqual({
      host: 'http://10.0.0.1:6443',
    });
  });

  it('keeps everything for https://, whatever the case of the scheme', async () => {
    const config = await load(
      `{server: "HTTPS://api:6443", certificate-authority-data: ${b64(caPem)}}`,
      `{token: ${secretToken}}`,
    );
    expect(config).toEqual({ host: 'https://api:6443', caData: caPem, bearerToken: secretToken });
  });

  it('still checks the files a plain http:// server would not use', async () => {
    expect(await configError(load('{server: "http://api:8080", certificate-authority: missing.crt}'))).toMatchObject(
      fault({ field: 'clusters[c1].cluster.certificate-authority', message: /cannot read/ }),
    );
  });
});

describe('one authentication method, as client-go picks it', () => {
  it('never runs an exec plugin next to a token, a token file, a user name or a client certificate', async () => {
    for (const other of [
      `token: ${secretToken}`,
      'tokenFile: token',
      'username: admin',
      'client-certificate: alice.crt, client-key: alice.key',
    ]) {
      expect((await load('{server: https://x}', `{${other}, exec: ${execV1}}`)).exec).toBeUndefined();
    }
    expect((await load('{server: https://x}', `{exec: ${execV1}}`)).exec).toEqual(exec);
    // A password alone does not count: no basic auth is sent, so the plugin runs.
    expect(await load('{server: https://x}', `{password: ${secretPassword}, exec: ${execV1}}`)).toEqual({
      host: 'https://x',
      exec,
    });
  });

  it('still checks an exec plugin that will not run, as client-go validates the user', async () => {
    const err = await configError(
      load('{server: https://x}', `{token: ${secretToken}, exec: {apiVersion: client.authentication.k8s.io/v1}}`),
    );
    expect(err).toMatchObject(fault({ field: 'users[u1].user.exec.command', message: /has no command/ }));
  });

  it('sends nothing for a password without a user name, and basic auth for a user name alone', async () => {
    expect(await load('{server: https://x}', `{password: ${secretPassword}}`)).toEqual({ host: 'https://x' });
    expect(await load('{server: https://x}', '{username: admin}')).toEqual({ host: 'https://x', username: 'admin' });
  });

  it('refuses a token file with a user name, and a token with a password alone', async () => {
    expect(await configError(load('{server: https://x}', '{tokenFile: token, username: admin}'))).toMatchObject(
      fault({ field: 'users[u1].user.tokenFile', message: /more than one authentication method for user "u1"/ }),
    );
    expect(
      await configError(load('{server: https://x}', `{token: ${secretToken}, password: ${secretPassword}}`)),
    ).toMatchObject(fault({ field: 'users[u1].user.token', message: /more than one authentication method/ }));
    // A token file with a password alone: the password is ignored, as in client-go.
    expect(await load('{server: https://x}', `{tokenFile: token, password: ${secretPassword}}`)).toEqual({
      host: 'https://x',
      bearerTokenFile: join(dir, 'token'),
    });
  });

  it('ignores a client key without a certificate, as client-go does (not even reading it)', async () => {
    expect(await load('{server: https://x}', '{client-key: missing.key}')).toEqual({ host: 'https://x' });
    expect(await load('{server: https://x}', `{client-key-data: ${b64(alice.keyPem)}, token: ${secretToken}}`)).toEqual(
      {
        host: 'https://x',
        bearerToken: secretToken,
      },
    );
  });
});

describe('client certificates checked at load', () => {
  it('accepts a certificate with its own key, from data or files', async () => {
    const fromData = await load(
      '{server: https://x}',
      `{client-certificate-data: ${b64(alice.certPem)}, client-key-data: ${b64(alice.keyPem)}}`,
    );
    expect(fromData).toEqual({ host: 'https://x', certData: alice.certPem, keyData: alice.keyPem });
    expect(await load('{server: https://x}', '{client-certificate: bob.crt, client-key: bob.key}')).toMatchObject({
      certData: bob.certPem,
    });
  });

  it("refuses another pair's key, naming the user entry and the key's field", async () => {
    const file = await write(
      kubeconfig(
        '{server: https://x}',
        `{client-certificate-data: ${b64(alice.certPem)}, client-key-data: ${b64(bob.keyPem)}}`,
      ),
    );
    expect(await configError(loadConfig({ kubeconfig: file, env: bareEnv }))).toMatchObject(
      fault({
        file,
        field: 'users[u1].user.client-key-data',
        message: /the client key of user "u1" does not belong to its client certificate/,
      }),
    );
    expect(
      await configError(load('{server: https://x}', '{client-certificate: alice.crt, client-key: bob.key}')),
    ).toMatchObject(fault({ field: 'users[u1].user.client-key', message: /does not belong/ }));
  });

  it('refuses a certificate or key that does not parse', async () => {
    const fakeCert = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n';
    expect(
      await configError(
        load(
          '{server: https://x}',
          `{client-certificate-data: ${b64(fakeCert)}, client-key-data: ${b64(alice.keyPem)}}`,
        ),
      ),
    ).toMatchObject(
      fault({ field: 'users[u1].user.client-certificate-data', message: /not a valid X\.509 certificate/ }),
    );
    const fakeKey = '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n';
    expect(
      await configError(
        load(
          '{server: https://x}',
          `{client-certificate-data: ${b64(alice.certPem)}, client-key-data: ${b64(fakeKey)}}`,
        ),
      ),
    ).toMatchObject(fault({ field: 'users[u1].user.client-key-data', message: /not a valid unencrypted private key/ }));
  });
});

describe('only the chosen entries are checked', () => {
  it('loads past broken clusters, users and contexts that the chosen context does not use', async () => {
    const file = await write(`
current-context: good
clusters:
- {name: ok, cluster: {server: https://ok}}
- {name: both-ca, cluster: {server: https://x, certificate-authority: missing.crt, certificate-authority-data: ${b64(caPem)}}}
- {name: no-server, cluster: {}}
- {cluster: {server: https://unnamed}}
users:
- {name: fine, user: {token: ${secretToken}}}
- {name: two-tokens, user: {token: ${secretToken}, tokenFile: missing}}
- {name: bad-exec, user: {exec: {env: [{value: x}]}}}
- {name: provider, user: {auth-provider: {name: gcp}}}
- {name: mismatch, user: {client-certificate-data: ${b64(alice.certPem)}, client-key-data: ${b64(bob.keyPem)}}}
contexts:
- {name: good, context: {cluster: ok, user: fine}}
- {name: dangling, context: {cluster: nowhere, user: nobody}}
- {context: {cluster: both-ca}}
`);
    expect(await loadConfig({ kubeconfig: file, env: bareEnv })).toEqual({
      host: 'https://ok',
      bearerToken: secretToken,
    });
    expect(await configError(loadConfig({ kubeconfig: file, env: bareEnv, user: 'bad-exec' }))).toMatchObject(
      fault({ file, field: 'users[bad-exec].user.exec.command', message: /has no command/ }),
    );
  });

  it('checks an exec variable without a name only when the plugin is used', async () => {
    const user = `{exec: {command: p, apiVersion: client.authentication.k8s.io/v1, interactiveMode: Never, env: [{value: x}]}}`;
    expect(await configError(load('{server: https://x}', user))).toMatchObject(
      fault({ field: 'users[u1].user.exec.env[0].name', message: /has no name/ }),
    );
  });
});

describe('kubectl overrides (LoadConfigOptions), with clientcmd precedence', () => {
  const server = `{server: https://x, certificate-authority-data: ${b64(caPem)}, tls-server-name: api.internal}`;

  it('clears tls-server-name with a server override, unless one is given', async () => {
    expect(await load(server, '{}', { server: 'https://10.0.0.2:6443' })).toEqual({
      host: 'https://10.0.0.2:6443',
      caData: caPem,
    });
    expect(await load(server, '{}', { server: 'https://10.0.0.2:6443', tlsServerName: 'other.internal' })).toEqual({
      host: 'https://10.0.0.2:6443',
      caData: caPem,
      serverName: 'other.internal',
    });
    expect(await load(server, '{}', { tlsServerName: 'other.internal' })).toMatchObject({
      host: 'https://x',
      serverName: 'other.internal',
    });
  });

  it('drops the kubeconfig CA with insecureSkipTLSVerify, and replaces CA and insecure with certificateAuthority', async () => {
    expect(await load(server, '{}', { insecureSkipTLSVerify: true })).toEqual({
      host: 'https://x',
      serverName: 'api.internal',
      insecureSkipTLSVerify: true,
    });
    const ca = join(dir, 'other-ca.crt');
    expect(
      await load('{server: https://x, insecure-skip-tls-verify: true}', '{}', { certificateAuthority: ca }),
    ).toEqual({
      host: 'https://x',
      caData: otherCaPem,
      caFile: ca,
    });
    expect(await load(server, '{}', { certificateAuthority: ca })).toMatchObject({ caData: otherCaPem });
    // false is kubectl's default for the flag, so it changes nothing.
    expect(
      await load('{server: https://x, insecure-skip-tls-verify: true}', '{}', { insecureSkipTLSVerify: false }),
    ).toEqual({
      host: 'https://x',
      insecureSkipTLSVerify: true,
    });
  });

  it('puts a token over the token file (deliberately: client-go lets the file win) and keeps a client certificate', async () => {
    expect(await load('{server: https://x}', '{tokenFile: token}', { token: overrideToken })).toEqual({
      host: 'https://x',
      bearerToken: overrideToken,
    });
    expect(
      await load('{server: https://x}', '{client-certificate: alice.crt, client-key: alice.key}', {
        token: overrideToken,
      }),
    ).toEqual({
      host: 'https://x',
      bearerToken: overrideToken,
      certData: alice.certPem,
      keyData: alice.keyPem,
      certFile: join(dir, 'alice.crt'),
      keyFile: join(dir, 'alice.key'),
    });
    expect(await load('{server: https://x}', `{exec: ${execV1}}`, { token: overrideToken })).toEqual({
      host: 'https://x',
      bearerToken: overrideToken,
    });
    // A context without a user gets one from the overrides.
    const file = await write(
      'current-context: x\nclusters: [{name: c, cluster: {server: https://x}}]\ncontexts: [{name: x, context: {cluster: c}}]\n',
    );
    expect(await loadConfig({ kubeconfig: file, env: bareEnv, token: overrideToken })).toEqual({
      host: 'https://x',
      bearerToken: overrideToken,
    });
  });

  it('refuses a token override next to the kubeconfig user name and password, as client-go does', async () => {
    expect(
      await configError(
        load('{server: https://x}', `{username: admin, password: ${secretPassword}}`, { token: overrideToken }),
      ),
    ).toMatchObject(fault({ field: 'options.token', message: /more than one authentication method/ }));
  });

  it('takes username and password field by field', async () => {
    expect(await load('{server: https://x}', `{username: admin, password: old}`, { password: secretPassword })).toEqual(
      { host: 'https://x', username: 'admin', password: secretPassword },
    );
    expect(await load('{server: https://x}', '{}', { username: 'admin', password: secretPassword })).toEqual({
      host: 'https://x',
      username: 'admin',
      password: secretPassword,
    });
  });

  it('replaces the client certificate and key data with files, and checks the pair', async () => {
    const user = `{client-certificate-data: ${b64(alice.certPem)}, client-key-data: ${b64(alice.keyPem)}}`;
    const overrides = { clientCertificate: join(dir, 'bob.crt'), clientKey: join(dir, 'bob.key') };
    expect(await load('{server: https://x}', user, overrides)).toEqual({
      host: 'https://x',
      certData: bob.certPem,
      keyData: bob.keyPem,
      certFile: overrides.clientCertificate,
      keyFile: overrides.clientKey,
    });
    expect(
      await configError(load('{server: https://x}', user, { clientCertificate: join(dir, 'bob.crt') })),
    ).toMatchObject(fault({ field: 'users[u1].user.client-key-data', message: /does not belong/ }));
    expect(await configError(load('{server: https://x}', user, { clientKey: join(dir, 'missing.key') }))).toMatchObject(
      fault({ field: 'options.clientKey', message: /cannot read the client key file/ }),
    );
  });

  it('merges impersonation over the kubeconfig user: parts replaced, extra merged by key', async () => {
    const user = '{as: jane, as-groups: [a], as-user-extra: {reason: [debug], team: [x]}}';
    expect(
      await load('{server: https://x}', user, {
        impersonate: { uid: '42', groups: ['b', 'c'], extra: { team: ['y'] } },
      }),
    ).toEqual({
      host: 'https://x',
      impersonate: { userName: 'jane', uid: '42', groups: ['b', 'c'], extra: { reason: ['debug'], team: ['y'] } },
    });
    expect(await load('{server: https://x}', '{}', { impersonate: { user: 'bob' } })).toEqual({
      host: 'https://x',
      impersonate: { userName: 'bob' },
    });
    expect(await configError(load('{server: https://x}', '{}', { impersonate: { groups: ['g'] } }))).toMatchObject(
      fault({ field: 'users[u1].user.as', message: /needs a user to impersonate/ }),
    );
  });

  it('sets the proxy and the request timeout', async () => {
    expect(
      await load('{server: https://x, proxy-url: "http://old:1"}', '{}', {
        proxyUrl: 'socks5://proxy:1080',
        requestTimeoutMs: 1500,
      }),
    ).toEqual({ host: 'https://x', proxyUrl: 'socks5://proxy:1080', timeoutMs: 1500 });
    expect(await load('{server: https://x}', '{}', { requestTimeoutMs: 0 })).toEqual({ host: 'https://x' });
    expect(await configError(load('{server: https://x}', '{}', { requestTimeoutMs: -1 }))).toMatchObject(
      fault({ field: 'options.requestTimeoutMs', message: /0 or more/ }),
    );
    expect(await configError(load('{server: https://x}', '{}', { proxyUrl: 'ftp://p' }))).toMatchObject(
      fault({ field: 'options.proxyUrl', message: /must use http, https or socks5/ }),
    );
  });

  it('never shows a query string or user info of an override server in errors', async () => {
    const err = await configError(
      load('{server: https://x}', '{}', { server: `https://api:6443/?access_token=${secretToken}` }),
    );
    expect(err).toMatchObject(fault({ field: 'options.server', message: /must not have a query or fragment/ }));
    const proxy = await configError(
      load('{server: https://x}', '{}', { proxyUrl: `ftp://u:${secretPassword}@p/?k=${secretToken}` }),
    );
    expect(proxy.message).toContain('ftp://***@p/');
  });

  it('applies token, CA, and (deliberately, client-go ignores them) impersonation and timeout in a pod', async () => {
    const sa = join(dir, 'sa');
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, 'token'), 'pod-token\n');
    await writeFile(join(sa, 'ca.crt'), caPem);
    const env = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    const got = await loadClientConfig({
      env,
      serviceAccountDir: sa,
      token: overrideToken,
      certificateAuthority: join(dir, 'other-ca.crt'),
      impersonate: { user: 'jane', groups: ['g'] },
      requestTimeoutMs: 2000,
      insecureSkipTLSVerify: true,
    });
    expect(got.config).toEqual({
      host: 'https://10.96.0.1:443',
      bearerToken: overrideToken,
      caData: otherCaPem,
      caFile: join(dir, 'other-ca.crt'),
      impersonate: { userName: 'jane', groups: ['g'] },
      timeoutMs: 2000,
    });
    expect((await loadConfig({ env, serviceAccountDir: sa })).bearerTokenFile).toBe(join(sa, 'token'));
  });
});
