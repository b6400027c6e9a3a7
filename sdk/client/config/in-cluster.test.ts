import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { inClusterConfig, inClusterNamespace, inClusterPossible } from './in-cluster.js';

const caPem = '-----BEGIN CERTIFICATE-----\nQ0EgY2VydA==\n-----END CERTIFICATE-----\n';
const token = 'eyJhbGciOi-SECRET-service-account-token';
const env: NodeJS.ProcessEnv = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'in-cluster-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A service account folder with the given files (undefined: absent). */
async function serviceAccount(files: { token?: string; ca?: string; namespace?: string }): Promise<string> {
  const sa = join(dir, `sa-${++counter}`);
  await mkdir(sa);
  if (files.token !== undefined) await writeFile(join(sa, 'token'), files.token);
  if (files.ca !== undefined) await writeFile(join(sa, 'ca.crt'), files.ca);
  if (files.namespace !== undefined) await writeFile(join(sa, 'namespace'), files.namespace);
  return sa;
}

async function rejection(work: Promise<unknown>): Promise<ConfigError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).message).not.toContain(token);
  return err as ConfigError;
}

describe('inClusterConfig', () => {
  it('builds the config from the service variables and the service account files', async () => {
    const sa = await serviceAccount({ token, ca: caPem, namespace: 'ops' });
    expect(await inClusterConfig({ env, serviceAccountDir: sa })).toEqual({
      host: 'https://10.96.0.1:443',
      bearerTokenFile: join(sa, 'token'),
      caData: caPem,
      caFile: join(sa, 'ca.crt'),
    });
  });

  it('puts an IPv6 host in brackets', async () => {
    const sa = await serviceAccount({ token, ca: caPem });
    const config = await inClusterConfig({
      env: { KUBERNETES_SERVICE_HOST: 'fd00:10:96::1', KUBERNETES_SERVICE_PORT: '6443' },
      serviceAccountDir: sa,
    });
    expect(config.host).toBe('https://[fd00:10:96::1]:6443');
  });

  it('uses the system roots when ca.crt is absent, as client-go does', async () => {
    const sa = await serviceAccount({ token });
    expect(await inClusterConfig({ env, serviceAccountDir: sa })).toEqual({
      host: 'https://10.96.0.1:443',
      bearerTokenFile: join(sa, 'token'),
    });
  });

  it('says it is not in a cluster when a variable is missing', async () => {
    const sa = await serviceAccount({ token, ca: caPem });
    const err = await rejection(inClusterConfig({ env: {}, serviceAccountDir: sa }));
    expect(err.message).toMatch(
      /not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set/,
    );
    expect(err.field).toBe('KUBERNETES_SERVICE_HOST');
    const noPort = await rejection(inClusterConfig({ env: { KUBERNETES_SERVICE_HOST: 'h' }, serviceAccountDir: sa }));
    expect(noPort.field).toBe('KUBERNETES_SERVICE_PORT');
  });

  it('refuses a port that is not a port number', async () => {
    const sa = await serviceAccount({ token, ca: caPem });
    const err = await rejection(
      inClusterConfig({ env: { ...env, KUBERNETES_SERVICE_PORT: 'tcp://10.0.0.1:443' }, serviceAccountDir: sa }),
    );
    expect(err.message).toMatch(/KUBERNETES_SERVICE_PORT is "tcp:\/\/10.0.0.1:443", not a port number/);
  });

  it('names a missing or empty token file', async () => {
    const noToken = await serviceAccount({ ca: caPem });
    const missing = await rejection(inClusterConfig({ env, serviceAccountDir: noToken }));
    expect(missing.message).toMatch(/cannot read the service account token: no such file/);
    expect(missing.file).toBe(join(noToken, 'token'));
    const empty = await serviceAccount({ token: ' \n', ca: caPem });
    expect((await rejection(inClusterConfig({ env, serviceAccountDir: empty }))).message).toMatch(
      /token file is empty/,
    );
  });

  it('names a ca.crt that is not a certificate or cannot be read', async () => {
    const junk = await serviceAccount({ token, ca: 'junk' });
    const err = await rejection(inClusterConfig({ env, serviceAccountDir: junk }));
    expect(err.message).toMatch(/holds no PEM certificate/);
    expect(err.file).toBe(join(junk, 'ca.crt'));
    const folder = await serviceAccount({ token });
    await mkdir(join(folder, 'ca.crt'));
    expect((await rejection(inClusterConfig({ env, serviceAccountDir: folder }))).message).toMatch(
      /cannot read the service account CA bundle: it is a directory/,
    );
  });
});

describe('inClusterNamespace', () => {
  it('prefers POD_NAMESPACE, then the namespace file, then default', async () => {
    const sa = await serviceAccount({ token, namespace: 'from-file\n' });
    expect(await inClusterNamespace({ env: { POD_NAMESPACE: 'from-env' }, serviceAccountDir: sa })).toBe('from-env');
    expect(await inClusterNamespace({ env: {}, serviceAccountDir: sa })).toBe('from-file');
    expect(await inClusterNamespace({ env: {}, serviceAccountDir: await serviceAccount({ token }) })).toBe('default');
  });
});

describe('inClusterPossible', () => {
  it('needs both variables and a token file', async () => {
    const sa = await serviceAccount({ token });
    expect(await inClusterPossible({ env, serviceAccountDir: sa })).toBe(true);
    expect(await inClusterPossible({ env: {}, serviceAccountDir: sa })).toBe(false);
    expect(await inClusterPossible({ env, serviceAccountDir: await serviceAccount({}) })).toBe(false);
  });
});
