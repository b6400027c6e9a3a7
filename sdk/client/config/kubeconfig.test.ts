import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { loadKubeconfig, parseKubeconfig } from './kubeconfig.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubeconfig-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

let counter = 0;
async function write(text: string, sub = ''): Promise<string> {
  const folder = join(dir, sub);
  await mkdir(folder, { recursive: true });
  const file = join(folder, `config-${++counter}.yaml`);
  await writeFile(file, text);
  return file;
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** The ConfigError `work` rejects with. Fails the test if it resolves, rejects otherwise, or shows one of `secrets`. */
async function configError(work: Promise<unknown>, secrets: string[] = []): Promise<ConfigError> {
  const err: unknown = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).code).toBe('ERR_KUBE_CONFIG');
  for (const secret of secrets) expect((err as ConfigError).message).not.toContain(secret);
  return err as ConfigError;
}

/** What a ConfigError should look like: its place, and a message matching `message`. */
function fault(expected: { file?: string | undefined; field?: string | undefined; message: RegExp }): object {
  return { ...expected, message: expect.stringMatching(expected.message) };
}

describe('loadKubeconfig', () => {
  it('reads clusters, users, contexts, preferences and extensions with kubeconfig field names', async () => {
    const file = await write(`
apiVersion: v1
kind: Config
current-context: dev
preferences:
  colors: true
clusters:
- name: prod
  cluster:
    server: https://prod.example.com:6443
    certificate-authority-data: ${b64('CA PEM')}
    tls-server-name: api.prod
    proxy-url: socks5://proxy:1080
    disable-compression: true
    extensions:
    - name: client.authentication.k8s.io/exec
      extension: {audience: prod}
users:
- name: alice
  user:
    client-certificate-data: ${b64('CERT')}
    client-key-data: ${b64('KEY')}
    as: bob
    as-uid: "42"
    as-groups: [admins, devs]
    as-user-extra: {scopes: [read, write]}
- name: exec-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: aws
      args: [eks, get-token]
      env: [{name: AWS_PROFILE, value: prod}]
      interactiveMode: Never
      provideClusterInfo: true
      installHint: install the aws cli
- name: legacy
  user:
    auth-provider: {name: gcp, config: {cmd-path: gcloud}}
contexts:
- name: dev
  context: {cluster: prod, user: alice, namespace: team-a}
extensions:
- name: tool
  extension: {a: 1}
`);
    const kc = await loadKubeconfig(file);
    expect(kc).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'dev',
      preferences: { colors: true },
      extensions: [{ name: 'tool', extension: { a: 1 } }],
      clusters: [
        {
          name: 'prod',
          cluster: {
            server: 'https://prod.example.com:6443',
            'certificate-authority-data': b64('CA PEM'),
            'tls-server-name': 'api.prod',
            'proxy-url': 'socks5://proxy:1080',
            'disable-compression': true,
            extensions: [{ name: 'client.authentication.k8s.io/exec', extension: { audience: 'prod' } }],
          },
        },
      ],
      users: [
        {
          name: 'alice',
          user: {
            'client-certificate-data': b64('CERT'),
            'client-key-data': b64('KEY'),
            as: 'bob',
            'as-uid': '42',
            'as-groups': ['admins', 'devs'],
            'as-user-extra': { scopes: ['read', 'write'] },
          },
        },
        {
          name: 'exec-user',
          user: {
            exec: {
              apiVersion: 'client.authentication.k8s.io/v1',
              command: 'aws',
              args: ['eks', 'get-token'],
              env: [{ name: 'AWS_PROFILE', value: 'prod' }],
              interactiveMode: 'Never',
              provideClusterInfo: true,
              installHint: 'install the aws cli',
            },
          },
        },
        { name: 'legacy', user: { 'auth-provider': { name: 'gcp', config: { 'cmd-path': 'gcloud' } } } },
      ],
      contexts: [{ name: 'dev', context: { cluster: 'prod', user: 'alice', namespace: 'team-a' } }],
    });
  });

  it('reads YAML 1.1 booleans (yes/no/on/off) in boolean fields', async () => {
    const kc = parseKubeconfig(`
preferences: {colors: on}
clusters:
- {name: a, cluster: {server: https://a, insecure-skip-tls-verify: yes, disable-compression: off}}
- {name: b, cluster: {server: https://b, insecure-skip-tls-verify: no}}
- {name: c, cluster: {server: https://c, insecure-skip-tls-verify: On}}
users:
- {name: u, user: {exec: {command: x, apiVersion: v, provideClusterInfo: Y}}}
`);
    expect(kc.preferences?.colors).toBe(true);
    expect(kc.clusters.map((c) => c.cluster['insecure-skip-tls-verify'])).toEqual([true, false, true]);
    expect(kc.clusters[0]?.cluster['disable-compression']).toBe(false);
    expect(kc.users[0]?.user.exec?.provideClusterInfo).toBe(true);
  });

  it('keeps string fields as written, even when YAML 1.1 would read a number or a boolean', async () => {
    const kc = parseKubeconfig(`
current-context: yes
clusters:
- name: 0644
  cluster: {server: https://x, tls-server-name: 1e3}
users:
- name: no
  user:
    token: 0123
    username: on
    password: 0x1F
    as-groups: [yes, 007, ~]
    exec: {command: plugin, apiVersion: v1, args: [--n, 0b11, "true"], env: [{name: N, value: 010}]}
contexts:
- name: yes
  context: {cluster: 0644, user: no, namespace: off}
`);
    expect(kc['current-context']).toBe('yes');
    expect(kc.clusters[0]).toEqual({ name: '0644', cluster: { server: 'https://x', 'tls-server-name': '1e3' } });
    const user = kc.users[0]!;
    expect(user.name).toBe('no');
    expect(user.user.token).toBe('0123');
    expect(user.user.username).toBe('on');
    expect(user.user.password).toBe('0x1F');
    expect(user.user['as-groups']).toEqual(['yes', '007', '']);
    expect(user.user.exec?.args).toEqual(['--n', '0b11', 'true']);
    expect(user.user.exec?.env).toEqual([{ name: 'N', value: '010' }]);
    expect(kc.contexts[0]).toEqual({ name: 'yes', context: { cluster: '0644', user: 'no', namespace: 'off' } });
  });

  it('reads extensions as YAML 1.1 data: octal numbers, booleans, timestamps kept as text', async () => {
    const kc = parseKubeconfig(`
extensions:
- name: ext
  extension:
    mode: 0644
    hex: 0x10
    enabled: yes
    since: 2024-01-02
    quoted: "0644"
    list: [on, off, 12]
`);
    expect(kc.extensions).toEqual([
      {
        name: 'ext',
        extension: {
          mode: 0o644,
          hex: 16,
          enabled: true,
          since: '2024-01-02',
          quoted: '0644',
          list: [true, false, 12],
        },
      },
    ]);
  });

  it('follows anchors and merge keys', async () => {
    const kc = parseKubeconfig(`
clusters:
- name: a
  cluster: &base {server: https://a, insecure-skip-tls-verify: true}
- name: b
  cluster:
    <<: *base
    server: https://b
`);
    expect(kc.clusters[1]?.cluster).toEqual({ server: 'https://b', 'insecure-skip-tls-verify': true });
  });

  it('keeps the last value of a duplicated key, as kubectl does', async () => {
    const kc = parseKubeconfig('current-context: a\ncurrent-context: b\n');
    expect(kc['current-context']).toBe('b');
  });

  it('resolves relative paths against the kubeconfig folder, and leaves absolute paths and bare commands alone', async () => {
    const file = await write(
      `
clusters:
- {name: c, cluster: {server: https://x, certificate-authority: certs/ca.crt}}
- {name: abs, cluster: {server: https://x, certificate-authority: /etc/ca.crt}}
users:
- name: u
  user:
    client-certificate: ./u.crt
    client-key: ../keys/u.key
    tokenFile: token
    exec: {command: bin/plugin, apiVersion: v}
- name: path
  user: {exec: {command: kubelogin, apiVersion: v}}
- name: home
  user: {tokenFile: ~/token}
`,
      'nested',
    );
    const kc = await loadKubeconfig(file);
    const folder = join(dir, 'nested');
    expect(kc.clusters[0]?.cluster['certificate-authority']).toBe(join(folder, 'certs/ca.crt'));
    expect(kc.clusters[1]?.cluster['certificate-authority']).toBe('/etc/ca.crt');
    expect(kc.users[0]?.user).toMatchObject({
      'client-certificate': join(folder, 'u.crt'),
      'client-key': join(dir, 'keys/u.key'),
      tokenFile: join(folder, 'token'),
      exec: { command: join(folder, 'bin/plugin') },
    });
    expect(kc.users[1]?.user.exec?.command).toBe('kubelogin');
    // client-go does not expand ~ either
    expect(kc.users[2]?.user.tokenFile).toBe(join(folder, '~/token'));
  });

  it('leaves relative paths as they are when parsing text with no file', () => {
    const kc = parseKubeconfig('clusters: [{name: c, cluster: {certificate-authority: ca.crt}}]');
    expect(kc.clusters[0]?.cluster['certificate-authority']).toBe('ca.crt');
  });

  it('reads an empty file, or one with only comments, as an empty kubeconfig', async () => {
    expect(await loadKubeconfig(await write(''))).toEqual({ clusters: [], users: [], contexts: [] });
    expect(await loadKubeconfig(await write('# nothing here\n'))).toEqual({ clusters: [], users: [], contexts: [] });
    expect(parseKubeconfig('clusters:\nusers: ~\n')).toEqual({ clusters: [], users: [], contexts: [] });
  });

  it('accepts base64 data split over lines', () => {
    const data = b64('x'.repeat(100));
    const kc = parseKubeconfig(
      `users: [{name: u, user: {client-key-data: "${data.slice(0, 40)}\\n${data.slice(40)}"}}]`,
    );
    expect(kc.users[0]?.user['client-key-data']).toBe(data);
  });
});

describe('loadKubeconfig errors', () => {
  it('names a missing file', async () => {
    const file = join(dir, 'absent.yaml');
    expect(await configError(loadKubeconfig(file))).toMatchObject(
      fault({ file, message: /cannot read the kubeconfig: no such file/ }),
    );
  });

  it('names an unreadable file', async () => {
    const folder = join(dir, 'a-directory');
    await mkdir(folder, { recursive: true });
    expect(await configError(loadKubeconfig(folder))).toMatchObject(
      fault({ file: folder, message: /cannot read the kubeconfig: it is a directory/ }),
    );
  });

  it('gives the line of malformed YAML without quoting the text around it', async () => {
    const file = await write('users:\n- name: u\n  user:\n    token: s3cr3t-t0ken\n   bad: [indent\n');
    const err = await configError(loadKubeconfig(file), ['s3cr3t-t0ken']);
    expect(err).toMatchObject(fault({ file, message: /malformed YAML at line 5, column \d+/ }));
    expect(err.cause).toBeUndefined();
  });

  it('refuses a document that is not a mapping', async () => {
    const list = await write('- a\n- b\n');
    expect(await configError(loadKubeconfig(list))).toMatchObject(
      fault({ file: list, message: /must be a YAML mapping/ }),
    );
    const scalar = await write('just text\n');
    expect(await configError(loadKubeconfig(scalar))).toMatchObject(
      fault({ file: scalar, message: /must be a YAML mapping/ }),
    );
  });

  it('refuses several YAML documents', async () => {
    const file = await write('kind: Config\n---\nkind: Config\n');
    expect(await configError(loadKubeconfig(file))).toMatchObject(
      fault({ file, message: /expected one YAML document, found 2/ }),
    );
  });

  it('refuses another kind or apiVersion', async () => {
    const pod = await write('apiVersion: v1\nkind: Pod\n');
    expect(await configError(loadKubeconfig(pod))).toMatchObject(
      fault({ file: pod, field: 'kind', message: /kind is "Pod", expected Config/ }),
    );
    const v2 = await write('apiVersion: v2\nkind: Config\n');
    expect(await configError(loadKubeconfig(v2))).toMatchObject(
      fault({ file: v2, field: 'apiVersion', message: /unsupported apiVersion "v2"/ }),
    );
  });

  it('refuses malformed base64 without quoting it', async () => {
    const file = await write('users:\n- name: dev\n  user:\n    client-key-data: "not*base64*s3cr3t"\n');
    expect(await configError(loadKubeconfig(file), ['not*base64*s3cr3t'])).toMatchObject(
      fault({ file, field: 'users[dev].user.client-key-data', message: /is not valid base64/ }),
    );
    const badLength = await write(`clusters: [{name: c, cluster: {certificate-authority-data: "QUJD="}}]`);
    expect(await configError(loadKubeconfig(badLength))).toMatchObject(
      fault({
        file: badLength,
        field: 'clusters[c].cluster.certificate-authority-data',
        message: /is not valid base64/,
      }),
    );
  });

  it('refuses a quoted "true" in a boolean field', async () => {
    const file = await write('clusters: [{name: c, cluster: {server: https://x, insecure-skip-tls-verify: "true"}}]');
    expect(await configError(loadKubeconfig(file))).toMatchObject(
      fault({
        file,
        field: 'clusters[c].cluster.insecure-skip-tls-verify',
        message: /must be a boolean/,
      }),
    );
  });

  it('refuses wrong shapes, naming the field', async () => {
    const cases: [string, string, RegExp][] = [
      ['clusters: {name: c}', 'clusters', /must be a list/],
      ['clusters: [just-a-name]', 'clusters[0]', /must be a mapping with name and cluster/],
      ['users: [{user: {token: x}}]', 'users[0].name', /is missing/],
      ['contexts: [{name: c, context: [a]}]', 'contexts[c].context', /must be a mapping/],
      ['users: [{name: u, user: {token: {nested: x}}}]', 'users[u].user.token', /must be a string/],
      ['users: [{name: u, user: {as-groups: a}}]', 'users[u].user.as-groups', /must be a list/],
      [
        'users: [{name: u, user: {exec: {command: x, env: [{value: v}]}}}]',
        'users[u].user.exec.env[0].name',
        /is missing/,
      ],
      [
        'clusters: [{name: c, cluster: {extensions: [{extension: 1}]}}]',
        'clusters[c].cluster.extensions[0].name',
        /is missing/,
      ],
    ];
    for (const [text, field, message] of cases) {
      const file = await write(text);
      expect(await configError(loadKubeconfig(file))).toMatchObject(fault({ file, field, message }));
    }
  });

  it('refuses a name used twice in one list', async () => {
    const file = await write(
      'clusters:\n- {name: c, cluster: {server: https://a}}\n- {name: c, cluster: {server: https://b}}\n',
    );
    expect(await configError(loadKubeconfig(file))).toMatchObject(
      fault({ file, field: 'clusters[1].name', message: /holds "c" twice/ }),
    );
  });
});
