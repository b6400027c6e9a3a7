// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { buildConfigFromFlags, loadClientConfig, loadConfig } from './load.js';
import type { RestConfig } from './types.js';

// Unit tests of the loading rules. The CA PEM here is only shaped like the real thing (nothing parses it as X.509);
// client certificates are real pairs, since a certificate is checked against its key
// (test/integration/config-kubeconfig.test.ts uses real certificates against a real API server).
const caPem = '-----BEGIN CERTIFICATE-----\nQ0EgY2VydA==\n-----END CERTIFICATE-----\n';
const keyBody = 'c2VjcmV0LWtleS1tYXRlcmlhbA==';
const fakeKeyPem = `-----BEGIN EC PRIVATE KEY-----\n${keyBody}\n-----END EC PRIVATE KEY-----\n`;
const secretToken = 'tok-3f9a1c-SECRET';
const secretPassword = 'pw-77c2-SECRET';
const b64 = (text: string): string => Buffer.from(text).toString('base64');
/** What no error message may show; the generated keys are added when they exist. */
const secrets = [secretToken, secretPassword, keyBody, b64(fakeKeyPem)];

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A self-signed client certificate and its key (ECDSA P-256), PEM. */
async function certificatePair(commonName: string): Promise<{ certPem: string; keyPem: string }> {
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
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  secrets.push(keyPem.split('\n')[1]!, b64(keyPem));
  return { certPem: cert.toString('pem'), keyPem };
}

let certPem: string;
let keyPem: string;

let dir: string;
let counter = 0;
/** An environment with no KUBECONFIG, no home folder and no pod: only what a test puts in it counts. */
const bareEnv: NodeJS.ProcessEnv = {};

beforeAll(async () => {
  ({ certPem, keyPem } = await certificatePair('alice'));
  dir = await mkdtemp(join(tmpdir(), 'load-test-'));
  await writeFile(join(dir, 'ca.crt'), caPem);
  await writeFile(join(dir, 'client.crt'), certPem);
  await writeFile(join(dir, 'client.key'), keyPem);
  await writeFile(join(dir, 'token'), `${secretToken}\n`);
  await writeFile(join(dir, 'empty-token'), '\n');
  await writeFile(join(dir, 'not-pem'), 'hello');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(text: string, name = `config-${++counter}`): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

/** A kubeconfig with one context `main` for the given cluster and user bodies (YAML flow mappings). */
function kubeconfig(cluster: string, user = '{}', extra = ''): string {
  return `apiVersion: v1
kind: Config
current-context: main
clusters: [{name: c1, cluster: ${cluster}}]
users: [{name: u1, user: ${user}}]
contexts: [{name: main, context: {cluster: c1, user: u1}}]
${extra}`;
}

/** The ConfigError `work` rejects with. Fails the test if it resolves, rejects otherwise, or shows a credential. */
async function configError(work: Promise<unknown>): Promise<ConfigError> {
  const err: unknown = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  for (const secret of secrets) expect((err as ConfigError).message).not.toContain(secret);
  return err as ConfigError;
}

/** What a ConfigError should look like: its place, and a message matching `message`. */
function fault(expected: { file?: string | undefined; field?: string | undefined; message: RegExp }): object {
  return { ...expected, message: expect.stringMatching(expected.message) };
}

/** Loads a kubeconfig with this text and nothing else from the environment. */
async function load(text: string): Promise<RestConfig> {
  return loadConfig({ kubeconfig: await write(text), env: bareEnv });
}

/** The ConfigError of loading a kubeconfig with this cluster and user; it must name that kubeconfig. */
async function failure(cluster: string, user: string): Promise<ConfigError> {
  const file = await write(kubeconfig(cluster, user));
  const err = await configError(loadConfig({ kubeconfig: file, env: bareEnv }));
  expect(err.file).toBe(file);
  return err;
}

describe('loading rules', () => {
  it('uses an explicit kubeconfig alone, ignoring KUBECONFIG', async () => {
    const explicit = await write(kubeconfig('{server: https://explicit:6443}'));
    const other = await write(kubeconfig('{server: https://other:6443}'));
    const got = await loadClientConfig({ kubeconfig: explicit, env: { KUBECONFIG: other } });
    expect(got).toEqual({ config: { host: 'https://explicit:6443' }, namespace: 'default', context: 'main' });
  });

  it('fails when the explicit kubeconfig does not exist, even in a pod', async () => {
    const file = join(dir, 'nope');
    const sa = await serviceAccount();
    expect(
      await configError(loadConfig({ kubeconfig: file, env: { ...podEnv, HOME: dir }, serviceAccountDir: sa })),
    ).toMatchObject(
      fault({
        file,
        message: /no such file/,
      }),
    );
  });

  it('merges the KUBECONFIG list in order: the first file to set a name or current-context wins', async () => {
    const first = await write(`
clusters: [{name: shared, cluster: {server: https://first}}]
users: [{name: shared, user: {token: first-token}}]
contexts: [{name: a, context: {cluster: shared, user: shared, namespace: first-ns}}]
`);
    const second = await write(`
current-context: a
clusters: [{name: shared, cluster: {server: https://second}}, {name: only2, cluster: {server: https://only2}}]
users: [{name: shared, user: {token: second-token}}]
contexts:
- {name: a, context: {cluster: only2, namespace: second-ns}}
- {name: b, context: {cluster: only2, user: shared}}
`);
    const third = await write('current-context: b\n');
    const env = { KUBECONFIG: [first, join(dir, 'missing-in-list'), '', second, third].join(':') };
    expect(await loadClientConfig({ env })).toEqual({
      config: { host: 'https://first', bearerToken: 'first-token' },
      namespace: 'first-ns',
      context: 'a',
    });
    expect(await loadClientConfig({ env, context: 'b' })).toEqual({
      config: { host: 'https://only2', bearerToken: 'first-token' },
      namespace: 'default',
      context: 'b',
    });
  });

  it('fails on a malformed file in the KUBECONFIG list instead of skipping it', async () => {
    const good = await write(kubeconfig('{server: https://good}'));
    const bad = await write('clusters: [\n');
    expect(await configError(loadConfig({ env: { KUBECONFIG: `${good}:${bad}` } }))).toMatchObject(
      fault({ file: bad, message: /malformed YAML/ }),
    );
  });

  it('reads ~/.kube/config when KUBECONFIG is unset', async () => {
    const home = join(dir, 'home');
    await mkdir(join(home, '.kube'), { recursive: true });
    await writeFile(join(home, '.kube', 'config'), kubeconfig('{server: https://home:6443}'));
    expect(await loadConfig({ env: { HOME: home } })).toEqual({ host: 'https://home:6443' });
  });

  it('falls back to the in-cluster configuration when no kubeconfig exists', async () => {
    const sa = await serviceAccount('ops');
    const got = await loadClientConfig({ env: { ...podEnv, HOME: join(dir, 'empty-home') }, serviceAccountDir: sa });
    expect(got).toEqual({
      config: {
        host: 'https://10.96.0.1:443',
        bearerTokenFile: join(sa, 'token'),
        caData: caPem,
        caFile: join(sa, 'ca.crt'),
      },
      namespace: 'ops',
    });
    const named = await loadClientConfig({
      env: { ...podEnv, POD_NAMESPACE: 'from-downward-api' },
      serviceAccountDir: sa,
    });
    expect(named.namespace).toBe('from-downward-api');
    const overridden = await loadClientConfig({ env: podEnv, serviceAccountDir: sa, namespace: 'chosen' });
    expect(overridden.namespace).toBe('chosen');
  });

  it('falls back to the in-cluster configuration when the kubeconfig has no current context', async () => {
    const sa = await serviceAccount();
    const file = await write('clusters: [{name: c, cluster: {server: https://x}}]\n');
    const got = await loadConfig({ env: { ...podEnv, KUBECONFIG: file }, serviceAccountDir: sa });
    expect(got.host).toBe('https://10.96.0.1:443');
  });

  it('says what to do when there is no configuration at all', async () => {
    const home = join(dir, 'empty-home');
    expect(await configError(loadConfig({ env: { HOME: home } }))).toMatchObject(
      fault({
        file: undefined,
        message: new RegExp(
          `no Kubernetes configuration found \\(looked for ${join(home, '.kube/config')}; not in a pod.*Set KUBECONFIG`,
        ),
      }),
    );
    expect(await configError(loadConfig({ env: bareEnv }))).toMatchObject(
      fault({ message: /no Kubernetes configuration found.*Set KUBECONFIG/ }),
    );
    const missing = join(dir, 'missing-a');
    expect(await configError(loadConfig({ env: { KUBECONFIG: missing } }))).toMatchObject(
      fault({ message: new RegExp(`looked for ${missing}`) }),
    );
  });

  it('says why the in-cluster configuration was not used', async () => {
    const noToken = join(dir, 'sa-without-token');
    await mkdir(noToken, { recursive: true });
    expect(await configError(loadConfig({ env: podEnv, serviceAccountDir: noToken }))).toMatchObject(
      fault({
        message: new RegExp(`KUBERNETES_SERVICE_HOST is set but there is no service account token at ${noToken}/token`),
      }),
    );
    expect(
      await configError(loadConfig({ env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' }, serviceAccountDir: noToken })),
    ).toMatchObject(fault({ message: /KUBERNETES_SERVICE_HOST is set but KUBERNETES_SERVICE_PORT is not/ }));
  });

  it('says to choose a context when the kubeconfig has none and there is no pod', async () => {
    const file = await write('clusters: [{name: c, cluster: {server: https://x}}]\n');
    expect(await configError(loadConfig({ kubeconfig: file, env: bareEnv }))).toMatchObject(
      fault({
        file,
        field: 'current-context',
        message: /sets no current-context.*use-context/,
      }),
    );
  });

  it('applies context, cluster, user, namespace and server overrides', async () => {
    const file = await write(`
current-context: main
clusters: [{name: c1, cluster: {server: https://one}}, {name: c2, cluster: {server: https://two}}]
users: [{name: u1, user: {token: t1}}, {name: u2, user: {token: t2}}]
contexts:
- {name: main, context: {cluster: c1, user: u1, namespace: ns1}}
- {name: other, context: {cluster: c2, user: u2, namespace: ns2}}
`);
    const env = bareEnv;
    expect(await loadClientConfig({ kubeconfig: file, env, context: 'other' })).toEqual({
      config: { host: 'https://two', bearerToken: 't2' },
      namespace: 'ns2',
      context: 'other',
    });
    expect(await loadClientConfig({ kubeconfig: file, env, cluster: 'c2', user: 'u2', namespace: 'mine' })).toEqual({
      config: { host: 'https://two', bearerToken: 't2' },
      namespace: 'mine',
      context: 'main',
    });
    expect(await loadConfig({ kubeconfig: file, env, server: 'https://elsewhere:8443/' })).toEqual({
      host: 'https://elsewhere:8443',
      bearerToken: 't1',
    });
  });

  it('uses no credentials for a context without a user', async () => {
    const file = await write(
      'current-context: x\nclusters: [{name: c, cluster: {server: https://x}}]\ncontexts: [{name: x, context: {cluster: c}}]\n',
    );
    expect(await loadConfig({ kubeconfig: file, env: bareEnv })).toEqual({ host: 'https://x' });
  });
});

describe('unknown names', () => {
  const config = `
current-context: main
clusters: [{name: c1, cluster: {server: https://one}}]
users: [{name: u1, user: {}}]
contexts:
- {name: main, context: {cluster: c1, user: u1}}
- {name: lost-cluster, context: {cluster: nowhere, user: u1}}
- {name: lost-user, context: {cluster: c1, user: nobody}}
- {name: no-cluster, context: {user: u1}}
`;

  it('names an unknown context, listing the known ones', async () => {
    const file = await write(config);
    expect(await configError(loadConfig({ kubeconfig: file, env: bareEnv, context: 'staging' }))).toMatchObject(
      fault({
        file,
        field: 'contexts',
        message: /context "staging" not found \(known: "main", "lost-cluster", "lost-user", "no-cluster"\)/,
      }),
    );
  });

  it('names a current-context that does not exist', async () => {
    const file = await write('current-context: gone\ncontexts: []\n');
    expect(await configError(loadConfig({ kubeconfig: file, env: bareEnv }))).toMatchObject(
      fault({
        file,
        field: 'current-context',
        message: /current-context is "gone", but no context has that name \(there are none\)/,
      }),
    );
  });

  it('names a context whose cluster or user does not exist', async () => {
    const file = await write(config);
    expect(await configError(loadConfig({ kubeconfig: file, env: bareEnv, context: 'lost-cluster' }))).toMatchObject(
      fault({
        file,
        field: 'contexts[lost-cluster].context.cluster',
        message: /cluster "nowhere" not found \(known: "c1"\)/,
      }),
    );
    expect(await configError(loadConfig({ kubeconfig: file, env: bareEnv, context: 'lost-user' }))).toMatchObject(
      fault({
        file,
        field: 'contexts[lost-user].context.user',
        message: /user "nobody" not found \(known: "u1"\)/,
      }),
    );
    expect(await configError(loadConfig({ kubeconfig: file, env: bareEnv, context: 'no-cluster' }))).toMatchObject(
      fault({
        file,
        field: 'contexts[no-cluster].context.cluster',
        message: /context "no-cluster" names no cluster/,
      }),
    );
  });

  it('names an unknown cluster or user override', async () => {
    const file = await write(config);
    expect(await configError(loadConfig({ kubeconfig: file, env: bareEnv, cluster: 'c9' }))).toMatchObject(
      fault({
        file,
        field: 'clusters',
        message: /cluster "c9" not found/,
      }),
    );
    expect(await configError(loadConfig({ kubeconfig: file, env: bareEnv, user: 'u9' }))).toMatchObject(
      fault({
        file,
        field: 'users',
        message: /user "u9" not found/,
      }),
    );
  });
});

describe('cluster and user to RestConfig', () => {
  it('turns CA and client certificate data into PEM text', async () => {
    const config = await load(
      kubeconfig(
        `{server: https://x, certificate-authority-data: ${b64(caPem)}}`,
        `{client-certificate-data: ${b64(certPem)}, client-key-data: ${b64(keyPem)}}`,
      ),
    );
    expect(config).toEqual({ host: 'https://x', caData: caPem, certData: certPem, keyData: keyPem });
  });

  it('reads CA, certificate and key files, relative to the kubeconfig', async () => {
    const config = await load(
      kubeconfig(
        '{server: https://x, certificate-authority: ca.crt}',
        '{client-certificate: client.crt, client-key: ./client.key}',
      ),
    );
    // The files are named too, so the transport re-reads them as they rotate.
    expect(config).toEqual({
      host: 'https://x',
      caData: caPem,
      caFile: join(dir, 'ca.crt'),
      certData: certPem,
      certFile: join(dir, 'client.crt'),
      keyData: keyPem,
      keyFile: join(dir, 'client.key'),
    });
  });

  it('refuses certificate-authority-data together with certificate-authority, as client-go does', async () => {
    expect(
      await failure(
        `{server: https://x, certificate-authority: ca.crt, certificate-authority-data: ${b64(caPem)}}`,
        '{}',
      ),
    ).toMatchObject(
      fault({
        field: 'clusters[c1].cluster.certificate-authority-data',
        message: /both certificate-authority and certificate-authority-data are set/,
      }),
    );
  });

  it('maps token, tokenFile, basic auth, impersonation, proxy, server name and compression', async () => {
    expect(await load(kubeconfig('{server: https://x}', `{token: ${secretToken}}`))).toEqual({
      host: 'https://x',
      bearerToken: secretToken,
    });
    expect(await load(kubeconfig('{server: https://x}', '{tokenFile: token}'))).toEqual({
      host: 'https://x',
      bearerTokenFile: join(dir, 'token'),
    });
    expect(await load(kubeconfig('{server: https://x}', `{username: admin, password: ${secretPassword}}`))).toEqual({
      host: 'https://x',
      username: 'admin',
      password: secretPassword,
    });
    expect(
      await load(
        kubeconfig(
          '{server: https://x}',
          '{as: jane, as-uid: "1000", as-groups: [a, b], as-user-extra: {reason: [debug]}}',
        ),
      ),
    ).toEqual({
      host: 'https://x',
      impersonate: { userName: 'jane', uid: '1000', groups: ['a', 'b'], extra: { reason: ['debug'] } },
    });
    expect(
      await load(
        kubeconfig(
          '{server: https://x, proxy-url: "http://proxy:3128", tls-server-name: api.internal, disable-compression: true}',
        ),
      ),
    ).toEqual({
      host: 'https://x',
      proxyUrl: 'http://proxy:3128',
      serverName: 'api.internal',
      disableCompression: true,
    });
  });

  it('sets insecureSkipTLSVerify only when the kubeconfig says true', async () => {
    expect(await load(kubeconfig('{server: https://x, insecure-skip-tls-verify: yes}'))).toEqual({
      host: 'https://x',
      insecureSkipTLSVerify: true,
    });
    expect(await load(kubeconfig('{server: https://x, insecure-skip-tls-verify: false}'))).toEqual({
      host: 'https://x',
    });
  });

  it('turns exec into an ExecConfig with the cluster exec extension as config', async () => {
    const config = await load(
      kubeconfig(
        '{server: https://x, extensions: [{name: client.authentication.k8s.io/exec, extension: {audience: a, retries: 3}}, {name: other, extension: 1}]}',
        `{exec: {apiVersion: client.authentication.k8s.io/v1, command: ./bin/plugin, args: [get, token], env: [{name: A, value: "1"}],
          interactiveMode: IfAvailable, provideClusterInfo: true, installHint: "brew install plugin"}}`,
      ),
    );
    expect(config.exec).toEqual({
      apiVersion: 'client.authentication.k8s.io/v1',
      command: join(dir, 'bin/plugin'),
      args: ['get', 'token'],
      env: [{ name: 'A', value: '1' }],
      interactiveMode: 'IfAvailable',
      provideClusterInfo: true,
      installHint: 'brew install plugin',
      config: { audience: 'a', retries: 3 },
    });
    const beta = await load(
      kubeconfig('{server: https://x}', '{exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: plugin}}'),
    );
    expect(beta.exec).toEqual({ apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'plugin' });
  });

  it('normalizes the server: http:// when the scheme is missing (as clientcmd), no trailing slash, path prefix kept', async () => {
    expect((await load(kubeconfig('{server: "https://x:6443/"}'))).host).toBe('https://x:6443');
    expect((await load(kubeconfig('{server: "HTTPS://x/prefix/"}'))).host).toBe('https://x/prefix');
    // clientcmd decides on TLS before it merges any TLS setting, so a server without a scheme is plain http even
    // with insecure-skip-tls-verify or a CA, and gets neither (nor any credential).
    expect(await load(kubeconfig('{server: "[fd00::1]:6443", insecure-skip-tls-verify: true}'))).toEqual({
      host: 'http://[fd00::1]:6443',
    });
    expect((await load(kubeconfig('{server: "localhost:8080"}'))).host).toBe('http://localhost:8080');
  });
});

describe('cluster and user errors', () => {
  it('needs a server that is an http(s) URL', async () => {
    expect(await failure('{}', '{}')).toMatchObject(
      fault({ field: 'clusters[c1].cluster.server', message: /cluster "c1" has no server/ }),
    );
    expect(await failure('{server: "https://exa mple:6443"}', '{}')).toMatchObject(
      fault({ field: 'clusters[c1].cluster.server', message: /server "https:\/\/exa mple:6443" is not a URL/ }),
    );
    expect(await failure('{server: "ftp://x"}', '{}')).toMatchObject(
      fault({ field: 'clusters[c1].cluster.server', message: /must be an http:\/\/ or https:\/\/ URL/ }),
    );
    expect(await failure(`{server: "https://admin:${secretPassword}@x"}`, '{}')).toMatchObject(
      fault({ field: 'clusters[c1].cluster.server', message: /must not carry a user name or password/ }),
    );
    // As client-go: without a scheme, a path prefix is refused (a full URL carries one).
    expect(await failure('{server: "x:6443/prefix"}', '{}')).toMatchObject(
      fault({ field: 'clusters[c1].cluster.server', message: /server "x:6443\/prefix" has a path but no scheme/ }),
    );
  });

  it('names an unreadable or non-PEM CA file', async () => {
    const missing = join(dir, 'missing-ca.crt');
    expect(await failure('{server: https://x, certificate-authority: missing-ca.crt}', '{}')).toMatchObject(
      fault({
        field: 'clusters[c1].cluster.certificate-authority',
        message: new RegExp(`cannot read the certificate authority file ${missing}: no such file`),
      }),
    );
    expect(await failure('{server: https://x, certificate-authority: not-pem}', '{}')).toMatchObject(
      fault({ field: 'clusters[c1].cluster.certificate-authority', message: /holds no PEM certificate/ }),
    );
    expect(await failure(`{server: https://x, certificate-authority-data: ${b64('junk')}}`, '{}')).toMatchObject(
      fault({ field: 'clusters[c1].cluster.certificate-authority-data', message: /holds no PEM certificate/ }),
    );
  });

  it('names unreadable client certificate and key files, and keys that are not keys', async () => {
    expect(
      await failure('{server: https://x}', '{client-certificate: nope.crt, client-key: client.key}'),
    ).toMatchObject(
      fault({
        field: 'users[u1].user.client-certificate',
        message: /cannot read the client certificate file .*nope\.crt: no such file/,
      }),
    );
    expect(
      await failure('{server: https://x}', '{client-certificate: client.crt, client-key: nope.key}'),
    ).toMatchObject(
      fault({ field: 'users[u1].user.client-key', message: /cannot read the client key file .*nope\.key/ }),
    );
    expect(
      await failure(
        '{server: https://x}',
        `{client-certificate: client.crt, client-key-data: ${b64(`junk ${secretToken}`)}}`,
      ),
    ).toMatchObject(fault({ field: 'users[u1].user.client-key-data', message: /holds no PEM private key/ }));
  });

  it('needs the key of a client certificate, and one source of each', async () => {
    // A key without a certificate is ignored, as client-go ignores it (not even read); see 'ignores a stray client key'.
    expect(await failure('{server: https://x}', `{client-certificate-data: ${b64(certPem)}}`)).toMatchObject(
      fault({ field: 'users[u1].user.client-key', message: /a client certificate needs its key/ }),
    );
    expect(
      await failure(
        '{server: https://x}',
        `{client-certificate: client.crt, client-certificate-data: ${b64(certPem)}, client-key: client.key}`,
      ),
    ).toMatchObject(
      fault({
        field: 'users[u1].user.client-certificate-data',
        message: /both client-certificate and client-certificate-data are set/,
      }),
    );
  });

  it('refuses token with tokenFile, and a token with basic auth', async () => {
    expect(await failure('{server: https://x}', `{token: ${secretToken}, tokenFile: token}`)).toMatchObject(
      fault({ field: 'users[u1].user.tokenFile', message: /both token and tokenFile are set/ }),
    );
    expect(
      await failure('{server: https://x}', `{token: ${secretToken}, username: a, password: ${secretPassword}}`),
    ).toMatchObject(fault({ field: 'users[u1].user.token', message: /more than one authentication method/ }));
  });

  it('names an unreadable or empty token file', async () => {
    expect(await failure('{server: https://x}', '{tokenFile: no-token}')).toMatchObject(
      fault({ field: 'users[u1].user.tokenFile', message: /cannot read the token file .*no-token: no such file/ }),
    );
    expect(await failure('{server: https://x}', '{tokenFile: empty-token}')).toMatchObject(
      fault({ field: 'users[u1].user.tokenFile', message: /the token file .*empty-token is empty/ }),
    );
  });

  it('refuses auth-provider and suggests an exec plugin', async () => {
    expect(
      await failure('{server: https://x}', `{auth-provider: {name: gcp, config: {access-token: ${secretToken}}}}`),
    ).toMatchObject(
      fault({
        field: 'users[u1].user.auth-provider',
        message: /auth-provider "gcp" is not supported.*exec credential plugin/,
      }),
    );
  });

  it('checks exec settings', async () => {
    expect(
      await failure('{server: https://x}', '{exec: {apiVersion: client.authentication.k8s.io/v1beta1}}'),
    ).toMatchObject(fault({ field: 'users[u1].user.exec.command', message: /has no command/ }));
    expect(await failure('{server: https://x}', '{exec: {command: p}}')).toMatchObject(
      fault({ field: 'users[u1].user.exec.apiVersion', message: /has no apiVersion/ }),
    );
    expect(
      await failure('{server: https://x}', '{exec: {command: p, apiVersion: client.authentication.k8s.io/v1alpha1}}'),
    ).toMatchObject(fault({ field: 'users[u1].user.exec.apiVersion', message: /not supported/ }));
    expect(
      await failure('{server: https://x}', '{exec: {command: p, apiVersion: client.authentication.k8s.io/v1}}'),
    ).toMatchObject(fault({ field: 'users[u1].user.exec.interactiveMode', message: /need interactiveMode/ }));
    expect(
      await failure(
        '{server: https://x}',
        '{exec: {command: p, apiVersion: client.authentication.k8s.io/v1, interactiveMode: Sometimes}}',
      ),
    ).toMatchObject(fault({ field: 'users[u1].user.exec.interactiveMode', message: /is not one of/ }));
  });

  it('refuses insecure-skip-tls-verify together with a CA, a bad proxy-url, and impersonation without a user', async () => {
    expect(
      await failure(
        `{server: https://x, insecure-skip-tls-verify: true, certificate-authority-data: ${b64(caPem)}}`,
        '{}',
      ),
    ).toMatchObject(fault({ field: 'clusters[c1].cluster.insecure-skip-tls-verify', message: /keep one/ }));
    expect(await failure('{server: https://x, proxy-url: "ftp://proxy"}', '{}')).toMatchObject(
      fault({ field: 'clusters[c1].cluster.proxy-url', message: /must use http, https or socks5/ }),
    );
    expect(await failure('{server: https://x}', '{as-groups: [admins]}')).toMatchObject(
      fault({ field: 'users[u1].user.as', message: /needs a user to impersonate/ }),
    );
  });
});

describe('buildConfigFromFlags', () => {
  it('uses the master URL alone', async () => {
    expect(await buildConfigFromFlags('https://master:6443', '', { env: bareEnv })).toEqual({
      host: 'https://master:6443',
    });
  });

  it('overrides the kubeconfig server with the master URL, keeping its TLS and credentials', async () => {
    const file = await write(
      kubeconfig(`{server: https://x, certificate-authority-data: ${b64(caPem)}}`, `{token: ${secretToken}}`),
    );
    expect(await buildConfigFromFlags('https://master:6443', file, { env: bareEnv })).toEqual({
      host: 'https://master:6443',
      caData: caPem,
      bearerToken: secretToken,
    });
    expect(await buildConfigFromFlags('', file, { env: bareEnv })).toMatchObject({ host: 'https://x' });
  });

  it('needs the kubeconfig it is given to exist', async () => {
    const file = join(dir, 'no-such-kubeconfig');
    expect(await configError(buildConfigFromFlags('', file, { env: bareEnv }))).toMatchObject(
      fault({ file, message: /no such file/ }),
    );
  });

  it('uses the in-cluster configuration when both are empty, and fails clearly outside a pod', async () => {
    const sa = await serviceAccount();
    expect(await buildConfigFromFlags('', '', { env: podEnv, serviceAccountDir: sa })).toMatchObject({
      host: 'https://10.96.0.1:443',
    });
    const err = await configError(
      buildConfigFromFlags('', '', { env: { KUBECONFIG: await write(kubeconfig('{server: https://x}')) } }),
    );
    expect(err).toMatchObject(
      fault({
        message: /neither a master URL nor a kubeconfig path was given.*KUBERNETES_SERVICE_HOST/,
      }),
    );
    expect(err.cause).toBeInstanceOf(ConfigError);
  });
});

const podEnv: NodeJS.ProcessEnv = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

async function serviceAccount(namespace?: string): Promise<string> {
  const sa = join(dir, `sa-${++counter}`);
  await mkdir(sa);
  await writeFile(join(sa, 'token'), 'sa-token');
  await writeFile(join(sa, 'ca.crt'), caPem);
  if (namespace) await writeFile(join(sa, 'namespace'), `${namespace}\n`);
  return sa;
}
