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

  it('refuses, as kubectl does, an unquoted value that YAML reads as a number or boolean in a string field', async () => {
    // kubectl turns the YAML into JSON first (go-yaml v2, YAML 1.1), so `token: 0123` is the number 83 there and
    // fails to decode into a string field. Each case names the field and never shows the value.
    const cases: [string, string][] = [
      ['users: [{name: u, user: {token: 0123}}]', 'users[u].user.token'],
      ['users: [{name: u, user: {username: on}}]', 'users[u].user.username'],
      ['users: [{name: u, user: {password: 0x1F}}]', 'users[u].user.password'],
      ['users: [{name: u, user: {as-groups: [ok, yes]}}]', 'users[u].user.as-groups[1]'],
      [
        'users: [{name: u, user: {exec: {command: p, env: [{name: NUM, value: 010}]}}}]',
        'users[u].user.exec.env[0].value',
      ],
      ['clusters: [{name: c, cluster: {tls-server-name: 1e3}}]', 'clusters[c].cluster.tls-server-name'],
      ['clusters: [{name: 0644, cluster: {}}]', 'clusters[0].name'],
      ['contexts: [{name: c, context: {namespace: no}}]', 'contexts[c].context.namespace'],
      ['current-context: y', 'current-context'],
    ];
    for (const [text, field] of cases) {
      const file = await write(text);
      expect(await configError(loadKubeconfig(file))).toMatchObject(
        fault({
          file,
          field,
          message: /must be a string, but YAML reads this unquoted value as a (number|boolean).*quotes/,
        }),
      );
    }
  });

  it('keeps quoted values, timestamps, sexagesimal numbers and other plain text as written, as kubectl does', async () => {
    const kc = parseKubeconfig(`
current-context: "yes"
clusters:
- name: '0644'
  cluster: {server: https://x, tls-server-name: 1.2.3}
users:
- name: "no"
  user:
    token: "0123"
    username: 2001-01-01
    password: 12:30:00
    as-groups: [tRue, ~, !!str 007]
    exec: {command: plugin, apiVersion: v1, args: [--n, "0b11", 'true', 0x_G]}
contexts:
- name: "yes"
  context: {cluster: '0644', user: "no", namespace: _1}
`);
    expect(kc['current-context']).toBe('yes');
    expect(kc.clusters[0]).toEqual({ name: '0644', cluster: { server: 'https://x', 'tls-server-name': '1.2.3' } });
    const user = kc.users[0]!;
    expect(user.name).toBe('no');
    expect(user.user.token).toBe('0123');
    expect(user.user.username).toBe('2001-01-01');
    expect(user.user.password).toBe('12:30:00');
    expect(user.user['as-groups']).toEqual(['tRue', '', '007']);
    expect(user.user.exec?.args).toEqual(['--n', '0b11', 'true', '0x_G']);
    expect(kc.contexts[0]).toEqual({ name: 'yes', context: { cluster: '0644', user: 'no', namespace: '_1' } });
  });

  it("types plain scalars as go-yaml v2 does (kubectl's YAML reader)", () => {
    // Each scalar as go-yaml v2 (sigs.k8s.io/yaml, in client-go v0.37) turns it into JSON: a number or boolean, or
    // a string. Taken from that library's output on the same text.
    const numberOrBoolean = [
      'y',
      'Y',
      'n',
      'N',
      'yes',
      'No',
      'on',
      'OFF',
      'true',
      'True',
      'TRUE',
      '.inf',
      '.NaN',
      '-.inf',
      '0123',
      '0o17',
      '0O7',
      '0x1f',
      '0X1F',
      '0b101',
      '0B1',
      '-0b1',
      '+0x1',
      '1_000',
      '1__0',
      '0x_1',
      '0_1',
      '1_',
      '-_1',
      '1e3',
      '1E3',
      '1.5',
      '+12',
      '-0',
      '08',
      '0.',
      '1.',
      '.5',
      '+.5',
      '.5e3',
      '-1.5e+3',
      '1e-400',
      '0xffffffffffffffff',
      '-0x8000000000000000',
      '+0x7fffffffffffffff',
      '-9223372036854775808',
      '18446744073709551615',
      '18446744073709551616',
      '0777777777777777777777777',
    ];
    const strings = [
      'tRue',
      'yES',
      'On2',
      '1:20',
      '12:30:00',
      '2001-01-01',
      '1.2.3',
      '=',
      '1e400',
      '0x10000000000000000',
      '-0x8000000000000001',
      '+0x8000000000000000',
      '0b',
      '0xG',
      '._5',
      '_1',
      'v1',
      '6443x',
    ];
    const read = (scalar: string): string | Error => {
      try {
        return parseKubeconfig(`current-context: ${scalar}\n`)['current-context'] ?? '';
      } catch (err) {
        return err as Error;
      }
    };
    for (const scalar of numberOrBoolean) expect(read(scalar), scalar).toBeInstanceOf(ConfigError);
    for (const scalar of strings) expect(read(scalar), scalar).toBe(scalar);
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

  it('refuses a kubeconfig whose aliases expand to billions of nodes (billion laughs) with a ConfigError', async () => {
    // 10 levels of 10 aliases: 10^10 strings once expanded, from under 1 KB of text (finding 2 of issue #16).
    let text =
      'apiVersion: v1\nkind: Config\nextensions:\n- name: lol\n  extension:\n    l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i < 10; i++)
      text += `    l${i}: &l${i} [${Array.from({ length: 10 }, () => `*l${i - 1}`).join(', ')}]\n`;
    expect(text.length).toBeLessThan(1024);
    const file = await write(text);
    expect(await configError(loadKubeconfig(file))).toMatchObject(
      fault({ file, message: /excessive aliasing: its aliases expand to about 1\.\d+e\+10 nodes/ }),
    );
    expect(() => parseKubeconfig(text)).toThrow(ConfigError);
  });

  it('keeps aliases that expand a little, as real kubeconfigs use them', () => {
    const text =
      'clusters:\n- name: a\n  cluster: &c {server: https://a:6443, extensions: [{name: e, extension: &x {k: [1, 2, 3]}}]}\n- name: b\n  cluster: *c\nextensions: [{name: x, extension: *x}]\n';
    const kc = parseKubeconfig(text);
    expect(kc.clusters.map((c) => c.cluster.server)).toEqual(['https://a:6443', 'https://a:6443']);
    expect(kc.extensions).toEqual([{ name: 'x', extension: { k: [1, 2, 3] } }]);
  });

  it('refuses an alias that contains itself', async () => {
    const file = await write('extensions: [{name: loop, extension: &self {again: *self}}]\n');
    expect(await configError(loadKubeconfig(file))).toMatchObject(
      fault({ file, message: /alias that contains itself/ }),
    );
  });

  it('never echoes the tags, alias names or text the YAML parser quotes from the file', async () => {
    const cases = [
      'users: [{name: u, user: {token: !<tag:s3cr3t-tag-token> x}}]\n',
      'users: [{name: u, user: {token: *s3cr3t-alias-token}}]\n',
      'users: [{name: u, user: {token: !s3cr3t{bad}tag x}}]\n',
      'users: [{name: u, user: {token: !!s3cr3t-scalar x}}]\n',
      'users: [{name: u, user: {token: !h!s3cr3t-handle x}}]\n',
    ];
    for (const text of cases) {
      const file = await write(text);
      const err = await configError(loadKubeconfig(file), ['s3cr3t']);
      expect(err).toMatchObject(fault({ file, message: /^malformed YAML at line 1, column \d+: [^:]+ \(file / }));
    }
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

  it('refuses several YAML documents (kubectl reads the first only), but not empty ones after the first', async () => {
    const file = await write('kind: Config\n---\nkind: Config\n');
    expect(await configError(loadKubeconfig(file))).toMatchObject(
      fault({ file, message: /expected one YAML document, found 2.*kubectl would silently read only the first/ }),
    );
    const trailing = await write('---\ncurrent-context: a\n---\n# nothing more\n---\n');
    expect((await loadKubeconfig(trailing))['current-context']).toBe('a');
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
      ['contexts: [{name: c, context: [a]}]', 'contexts[c].context', /must be a mapping/],
      ['users: [{name: u, user: {token: {nested: x}}}]', 'users[u].user.token', /must be a string/],
      ['users: [{name: u, user: {as-groups: a}}]', 'users[u].user.as-groups', /must be a list/],
      [
        'clusters: [{name: c, cluster: {extensions: [{extension: 1}, {extension: 2}]}}]',
        'clusters[c].cluster.extensions[1].name',
        /holds "" twice/,
      ],
    ];
    for (const [text, field, message] of cases) {
      const file = await write(text);
      expect(await configError(loadKubeconfig(file))).toMatchObject(fault({ file, field, message }));
    }
  });

  it('reads a missing name as the empty name, and an exec variable without a name, as client-go does', () => {
    // client-go loads these; they fail only when a context uses them (see loadConfig).
    const kc = parseKubeconfig('users: [{user: {exec: {command: p, env: [{value: v}]}}}]\ncontexts: [{context: {}}]\n');
    expect(kc.users).toEqual([{ name: '', user: { exec: { command: 'p', env: [{ name: '', value: 'v' }] } } }]);
    expect(kc.contexts).toEqual([{ name: '', context: {} }]);
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
