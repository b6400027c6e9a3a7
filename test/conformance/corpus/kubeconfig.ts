/**
 * The kubeconfig corpus of the differential suite: kubeconfig files, loading rules (one explicit file or a KUBECONFIG
 * list) and kubectl's override flags. Each case says what it checks; the expected result is whatever client-go
 * v0.37.2 makes of it (test/conformance/oracle), never written here.
 */
import { dump } from 'js-yaml';
import { b64, fake, type Fixtures } from './fixtures.js';

export interface KubeconfigCase {
  id: string;
  /** What the case checks, in a few words. */
  about: string;
  /** The case's files, by path relative to its own folder. */
  files: Record<string, string>;
  /** The kubeconfig used alone (`kubectl --kubeconfig`), relative to the case folder. */
  explicit?: string;
  /** Else `KUBECONFIG`: these files (relative to the case folder) in order; missing ones are allowed. */
  list?: string[];
  /** kubectl's flags by name, without dashes (`server`, `as-group`); repeatable flags take a list. */
  flags?: Record<string, string | string[]>;
}

export const server = 'https://k8s.example.test:6443';
const plainServer = 'http://k8s.example.test:8080';

type Entry = Record<string, unknown>;

interface KubeconfigParts {
  clusters?: Record<string, Entry>;
  users?: Record<string, Entry>;
  contexts?: Record<string, Entry>;
  current?: string;
  /** Extra top-level keys. */
  top?: Entry;
}

/** A kubeconfig as YAML text, from named clusters, users and contexts. */
export function kubeconfigYaml(p: KubeconfigParts): string {
  const named = (key: string, map: Record<string, Entry> | undefined) =>
    Object.entries(map ?? {}).map(([name, value]) => ({ name, [key]: value }));
  const doc: Entry = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: named('cluster', p.clusters),
    users: named('user', p.users),
    contexts: named('context', p.contexts),
    ...(p.current !== undefined && { 'current-context': p.current }),
    ...p.top,
  };
  return dump(doc, { lineWidth: -1, noRefs: true });
}

/** One cluster `c` (the given fields, default: the TLS server with CA 1), one user `u`, context `ctx` using both. */
function single(f: Fixtures, user: Entry | undefined, cluster?: Entry, context?: Entry): string {
  return kubeconfigYaml({
    clusters: { c: cluster ?? { server, 'certificate-authority-data': b64(f.ca1) } },
    ...(user && { users: { u: user } }),
    contexts: { ctx: { cluster: 'c', ...(user && { user: 'u' }), ...context } },
    current: 'ctx',
  });
}

/** A case with one file, `config`, used alone. */
function one(id: string, about: string, text: string, flags?: KubeconfigCase['flags']): KubeconfigCase {
  return { id, about, files: { config: text }, explicit: 'config', ...(flags && { flags }) };
}

const execV1 = (extra: Entry = {}): Entry => ({
  exec: {
    apiVersion: 'client.authentication.k8s.io/v1',
    command: 'kubeloop-test-plugin',
    args: ['get-token', '--cluster', 'c'],
    env: [{ name: 'PLUGIN_MODE', value: 'test' }],
    interactiveMode: 'Never',
    ...extra,
  },
});

function basics(f: Fixtures): KubeconfigCase[] {
  const caFile = { server, 'certificate-authority': f.paths.ca1 };
  return [
    one('basic-token', 'a bearer token over TLS', single(f, { token: fake.token })),
    one('basic-token-file', 'a token file', single(f, { tokenFile: f.paths.token })),
    one(
      'basic-token-and-token-file',
      'token and tokenFile both set',
      single(f, { token: fake.token, tokenFile: f.paths.token }),
    ),
    one(
      'basic-cert-data',
      'client certificate and key data',
      single(f, { 'client-certificate-data': b64(f.certA), 'client-key-data': b64(f.keyA) }),
    ),
    one(
      'basic-cert-files',
      'client certificate and key files',
      single(f, { 'client-certificate': f.paths.certA, 'client-key': f.paths.keyA }),
    ),
    one(
      'basic-cert-file-key-data',
      'certificate file with key data',
      single(f, { 'client-certificate': f.paths.certA, 'client-key-data': b64(f.keyA) }),
    ),
    one('basic-basic-auth', 'username and password', single(f, { username: 'alice', password: fake.password })),
    one('basic-username-only', 'a username without a password', single(f, { username: 'alice' })),
    one('basic-anonymous', 'a context without a user', single(f, undefined)),
    one('basic-empty-user', 'a user entry with nothing in it', single(f, {})),
    one('basic-ca-file', 'a CA file instead of data', single(f, { token: fake.token }, caFile)),
    one('basic-no-ca', 'TLS with the system roots', single(f, { token: fake.token }, { server })),
    one(
      'basic-insecure',
      'insecure-skip-tls-verify without a CA',
      single(f, { token: fake.token }, { server, 'insecure-skip-tls-verify': true }),
    ),
    one(
      'basic-insecure-false-with-ca',
      'insecure-skip-tls-verify: false with a CA',
      single(
        f,
        { token: fake.token },
        { server, 'certificate-authority-data': b64(f.ca1), 'insecure-skip-tls-verify': false },
      ),
    ),
    one(
      'basic-tls-server-name',
      'tls-server-name from the kubeconfig',
      single(
        f,
        { token: fake.token },
        { server, 'certificate-authority-data': b64(f.ca1), 'tls-server-name': 'api.internal' },
      ),
    ),
    one(
      'basic-proxy-url',
      'proxy-url from the kubeconfig',
      single(
        f,
        { token: fake.token },
        { server, 'certificate-authority-data': b64(f.ca1), 'proxy-url': 'http://proxy.example.test:3128' },
      ),
    ),
    one(
      'basic-proxy-socks5',
      'a socks5 proxy-url',
      single(f, { token: fake.token }, { server, 'proxy-url': 'socks5://proxy.example.test:1080' }),
    ),
    one(
      'basic-proxy-https',
      'an https proxy-url',
      single(f, { token: fake.token }, { server, 'proxy-url': 'https://proxy.example.test:3129' }),
    ),
    one(
      'basic-proxy-bad-scheme',
      'a proxy-url with an unknown scheme',
      single(f, { token: fake.token }, { server, 'proxy-url': 'ftp://proxy.example.test' }),
    ),
    one(
      'basic-disable-compression',
      'disable-compression from the kubeconfig',
      single(f, { token: fake.token }, { server, 'disable-compression': true }),
    ),
    one(
      'basic-auth-provider',
      'an auth-provider (removed in-tree providers)',
      single(f, { 'auth-provider': { name: 'oidc', config: { 'client-id': 'x' } } }),
    ),
    one(
      'basic-auth-provider-and-exec',
      'an auth-provider together with exec',
      single(f, { 'auth-provider': { name: 'gcp' }, ...execV1() }),
    ),
  ];
}

function exec(f: Fixtures): KubeconfigCase[] {
  const v1beta1 = { apiVersion: 'client.authentication.k8s.io/v1beta1', command: 'kubeloop-test-plugin' };
  return [
    one('exec-v1', 'an exec plugin, v1', single(f, execV1({ installHint: 'install the plugin' }))),
    one('exec-v1beta1', 'an exec plugin, v1beta1, no interactiveMode', single(f, { exec: v1beta1 })),
    one(
      'exec-v1-no-interactive-mode',
      'v1 without interactiveMode',
      single(f, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'p' } }),
    ),
    one(
      'exec-no-command',
      'exec without a command',
      single(f, { exec: { apiVersion: 'client.authentication.k8s.io/v1beta1' } }),
    ),
    one('exec-no-api-version', 'exec without apiVersion', single(f, { exec: { command: 'p' } })),
    one(
      'exec-unknown-api-version',
      'exec with an unknown apiVersion',
      single(f, { exec: { apiVersion: 'client.authentication.k8s.io/v9', command: 'p', interactiveMode: 'Never' } }),
    ),
    one(
      'exec-alpha-api-version',
      'exec with the removed v1alpha1',
      single(f, { exec: { apiVersion: 'client.authentication.k8s.io/v1alpha1', command: 'p' } }),
    ),
    one('exec-bad-interactive-mode', 'an unknown interactiveMode', single(f, execV1({ interactiveMode: 'Sometimes' }))),
    one('exec-interactive-always', 'interactiveMode Always', single(f, execV1({ interactiveMode: 'Always' }))),
    one('exec-env-without-name', 'an env entry without a name', single(f, execV1({ env: [{ value: 'x' }] }))),
    one(
      'exec-relative-command',
      'a relative command with a slash, resolved against the kubeconfig',
      single(f, execV1({ command: '../../fixtures/bin/plugin' })),
    ),
    one('exec-bare-command', 'a bare command, looked up in PATH', single(f, execV1({ command: 'plugin' }))),
    one(
      'exec-cluster-info',
      'provideClusterInfo with the exec extension',
      single(f, execV1({ provideClusterInfo: true }), {
        server,
        'certificate-authority-data': b64(f.ca1),
        extensions: [{ name: 'client.authentication.k8s.io/exec', extension: { audience: 'kubeloop' } }],
      }),
    ),
    one(
      'exec-install-hint-ansi',
      'an installHint with an ANSI colour sequence',
      single(f, execV1({ installHint: 'run \u001b[31mbrew install plugin\u001b[0m' })),
    ),
    one(
      'exec-install-hint-osc',
      'an installHint with an OSC title sequence and BEL',
      single(f, execV1({ installHint: 'get it \u001b]0;pwned\u0007 here' })),
    ),
    one(
      'exec-install-hint-newlines',
      'an installHint over several lines with a tab',
      single(f, execV1({ installHint: 'line one\nline two\tindented' })),
    ),
    one(
      'exec-install-hint-cr',
      'an installHint with a carriage return and backspace',
      single(f, execV1({ installHint: 'safe\rfake\b prompt' })),
    ),
    one(
      'exec-install-hint-unicode',
      'an installHint with non-ASCII text',
      single(f, execV1({ installHint: 'installez le greffon — ok ✓' })),
    ),
    one(
      'exec-install-hint-c1',
      'an installHint with a C1 control (CSI U+009B)',
      single(f, execV1({ installHint: 'x\u009b31my' })),
    ),
  ];
}

function plainHttp(f: Fixtures): KubeconfigCase[] {
  const http = (extra: Entry = {}): Entry => ({ server: plainServer, ...extra });
  return [
    one('http-token', 'a token to an http:// server', single(f, { token: fake.token }, http())),
    one('http-token-file', 'a token file to an http:// server', single(f, { tokenFile: f.paths.token }, http())),
    one(
      'http-basic',
      'basic auth to an http:// server',
      single(f, { username: 'alice', password: fake.password }, http()),
    ),
    one(
      'http-cert',
      'a client certificate to an http:// server',
      single(f, { 'client-certificate-data': b64(f.certA), 'client-key-data': b64(f.keyA) }, http()),
    ),
    one('http-exec', 'an exec plugin for an http:// server', single(f, execV1(), http())),
    one(
      'http-ca',
      'a CA for an http:// server',
      single(f, { token: fake.token }, http({ 'certificate-authority-data': b64(f.ca1) })),
    ),
    one(
      'http-insecure',
      'insecure-skip-tls-verify for an http:// server',
      single(f, { token: fake.token }, http({ 'insecure-skip-tls-verify': true })),
    ),
    one('http-impersonate', 'impersonation over http://', single(f, { as: 'bob', 'as-groups': ['devs'] }, http())),
    one('http-anonymous', 'no user, http://', single(f, undefined, http())),
    one('http-token-flag', 'kubectl --token to an http:// server', single(f, undefined, http()), {
      token: fake.otherToken,
    }),
    one(
      'http-server-flag',
      'kubectl --server http:// over a TLS cluster with a token',
      single(f, { token: fake.token }),
      { server: plainServer },
    ),
  ];
}

function hosts(f: Fixtures): KubeconfigCase[] {
  const withServer = (s: string, cluster: Entry = {}, user: Entry = { token: fake.token }) =>
    single(f, user, { server: s, ...cluster });
  const ca = { 'certificate-authority-data': b64(f.ca1) };
  return [
    one('host-no-scheme', 'host:port without a scheme nor TLS settings', withServer('k8s.example.test:6443')),
    one('host-no-scheme-ca', 'host:port without a scheme, with a CA', withServer('k8s.example.test:6443', ca)),
    one(
      'host-no-scheme-insecure',
      'host:port without a scheme, insecure',
      withServer('k8s.example.test:6443', { 'insecure-skip-tls-verify': true }),
    ),
    one(
      'host-no-scheme-cert',
      'host:port without a scheme, client certificate',
      withServer(
        'k8s.example.test:6443',
        {},
        { 'client-certificate-data': b64(f.certA), 'client-key-data': b64(f.keyA) },
      ),
    ),
    one('host-no-scheme-ip', 'ip:port without a scheme, with a CA', withServer('10.0.0.1:6443', ca)),
    one('host-no-scheme-no-port', 'a bare host name', withServer('k8s.example.test', ca)),
    one('host-no-scheme-path', 'host:port/prefix without a scheme', withServer('k8s.example.test:6443/prefix', ca)),
    one('host-path-prefix', 'an https URL with a path prefix', withServer('https://k8s.example.test:6443/prefix/', ca)),
    one('host-trailing-slash', 'an https URL with a trailing slash', withServer('https://k8s.example.test:6443/', ca)),
    one('host-uppercase', 'upper-case scheme and host', withServer('HTTPS://K8S.EXAMPLE.TEST:6443', ca)),
    one('host-default-port', 'https with :443', withServer('https://k8s.example.test:443', ca)),
    one('host-query', 'a server with a query string', withServer('https://k8s.example.test:6443/?x=1', ca)),
    one('host-ipv6', 'an IPv6 literal', withServer('https://[fd00::1]:6443', ca)),
    one('host-empty', 'a cluster without a server', withServer('', ca)),
    one('host-ftp', 'a server with another scheme', withServer('ftp://k8s.example.test', ca)),
    one('host-userinfo', 'a server URL with user info', withServer('https://someone@k8s.example.test:6443', ca)),
    one('host-spaces', 'a server with a space', withServer('https://k8s.example.test :6443', ca)),
  ];
}

function methods(f: Fixtures): KubeconfigCase[] {
  const cert = { 'client-certificate-data': b64(f.certA), 'client-key-data': b64(f.keyA) };
  return [
    one('method-token-and-exec', 'a static token and an exec plugin', single(f, { token: fake.token, ...execV1() })),
    one(
      'method-token-file-and-exec',
      'a token file and an exec plugin',
      single(f, { tokenFile: f.paths.token, ...execV1() }),
    ),
    one('method-cert-and-exec', 'a client certificate and an exec plugin', single(f, { ...cert, ...execV1() })),
    one(
      'method-basic-and-exec',
      'basic auth and an exec plugin',
      single(f, { username: 'alice', password: fake.password, ...execV1() }),
    ),
    one('method-token-flag-over-exec', 'kubectl --token over a user with exec', single(f, execV1()), {
      token: fake.otherToken,
    }),
    one('method-password-only', 'a password without a username', single(f, { password: fake.password })),
    one(
      'method-password-and-token',
      'a password and a token',
      single(f, { password: fake.password, token: fake.token }),
    ),
    one(
      'method-basic-and-token',
      'username/password and a token',
      single(f, { username: 'alice', password: fake.password, token: fake.token }),
    ),
    one(
      'method-basic-and-cert',
      'username/password and a client certificate',
      single(f, { username: 'alice', password: fake.password, ...cert }),
    ),
    one('method-token-and-cert', 'a token and a client certificate', single(f, { token: fake.token, ...cert })),
    one(
      'method-password-only-exec',
      'a password without a username, with exec',
      single(f, { password: fake.password, ...execV1() }),
    ),
  ];
}

function tls(f: Fixtures): KubeconfigCase[] {
  const user = { token: fake.token };
  const cluster = (extra: Entry) => single(f, user, { server, ...extra });
  return [
    one(
      'ca-data-and-file',
      'certificate-authority-data and certificate-authority both set',
      cluster({ 'certificate-authority-data': b64(f.ca1), 'certificate-authority': f.paths.ca2 }),
    ),
    one(
      'ca-file-missing',
      'a CA file that does not exist',
      cluster({ 'certificate-authority': '/nonexistent/ca.crt' }),
    ),
    one('ca-file-not-pem', 'a CA file that is not PEM', cluster({ 'certificate-authority': f.paths.notPem })),
    one(
      'ca-data-not-pem',
      'CA data that is not PEM',
      cluster({ 'certificate-authority-data': b64('not a certificate') }),
    ),
    one(
      'ca-data-not-base64',
      'CA data that is not base64',
      cluster({ 'certificate-authority-data': '%%% not base64 %%%' }),
    ),
    one(
      'ca-insecure-and-ca',
      'insecure-skip-tls-verify with a CA',
      cluster({ 'certificate-authority-data': b64(f.ca1), 'insecure-skip-tls-verify': true }),
    ),
    one(
      'ca-insecure-and-ca-file',
      'insecure-skip-tls-verify with a CA file',
      cluster({ 'certificate-authority': f.paths.ca1, 'insecure-skip-tls-verify': true }),
    ),
    one(
      'ca-bundle',
      'two CAs in one data field',
      cluster({ 'certificate-authority-data': b64(`${f.ca1.trim()}\n${f.ca2.trim()}\n`) }),
    ),
    one(
      'cert-key-mismatch-data',
      "a client certificate with another pair's key (data)",
      single(f, { 'client-certificate-data': b64(f.certA), 'client-key-data': b64(f.keyB) }),
    ),
    one(
      'cert-key-mismatch-files',
      "a client certificate with another pair's key (files)",
      single(f, { 'client-certificate': f.paths.certA, 'client-key': f.paths.keyB }),
    ),
    one(
      'cert-without-key',
      'a client certificate without its key',
      single(f, { 'client-certificate-data': b64(f.certA) }),
    ),
    one(
      'cert-stray-key-data',
      'a client key without a certificate (data)',
      single(f, { 'client-key-data': b64(f.keyA), token: fake.token }),
    ),
    one('cert-stray-key-file', 'a client key file without a certificate', single(f, { 'client-key': f.paths.keyA })),
    one(
      'cert-data-and-file',
      'client certificate data and file both set',
      single(f, {
        'client-certificate': f.paths.certA,
        'client-certificate-data': b64(f.certA),
        'client-key-data': b64(f.keyA),
      }),
    ),
    one(
      'cert-file-missing',
      'a client certificate file that does not exist',
      single(f, { 'client-certificate': '/nonexistent/a.crt', 'client-key': f.paths.keyA }),
    ),
    one(
      'cert-key-file-missing',
      'a client key file that does not exist',
      single(f, { 'client-certificate': f.paths.certA, 'client-key': '/nonexistent/a.key' }),
    ),
    one(
      'cert-not-pem',
      'a client certificate that is not PEM',
      single(f, { 'client-certificate': f.paths.notPem, 'client-key': f.paths.keyA }),
    ),
    one(
      'cert-key-swapped',
      'certificate and key swapped',
      single(f, { 'client-certificate-data': b64(f.keyA), 'client-key-data': b64(f.certA) }),
    ),
  ];
}

function tokens(f: Fixtures): KubeconfigCase[] {
  return [
    one('token-file-empty', 'an empty token file', single(f, { tokenFile: f.paths.emptyToken })),
    one('token-file-blank', 'a token file with only white space', single(f, { tokenFile: f.paths.blankToken })),
    one('token-file-missing', 'a token file that does not exist', single(f, { tokenFile: '/nonexistent/token' })),
    one(
      'token-file-relative',
      'a token file relative to the kubeconfig',
      single(f, { tokenFile: '../../fixtures/token' }),
    ),
    one('token-empty-string', 'token: ""', single(f, { token: '' })),
  ];
}

/** Entries the chosen context does not use, each broken in its own way. */
function unused(f: Fixtures): KubeconfigCase[] {
  const good = { c: { server, 'certificate-authority-data': b64(f.ca1) } };
  const withBroken = (extra: KubeconfigParts) =>
    kubeconfigYaml({
      clusters: { ...good, ...extra.clusters },
      users: { u: { token: fake.token }, ...extra.users },
      contexts: { ctx: { cluster: 'c', user: 'u' }, ...extra.contexts },
      current: 'ctx',
    });
  return [
    one('unused-cluster-no-server', 'an unused cluster without a server', withBroken({ clusters: { broken: {} } })),
    one(
      'unused-cluster-missing-ca',
      'an unused cluster with a missing CA file',
      withBroken({ clusters: { broken: { server, 'certificate-authority': '/nonexistent/ca.crt' } } }),
    ),
    one(
      'unused-cluster-bad-ca-data',
      'an unused cluster with CA data that is not PEM',
      withBroken({ clusters: { broken: { server, 'certificate-authority-data': b64('nope') } } }),
    ),
    one(
      'unused-user-cert-no-key',
      'an unused user with a certificate and no key',
      withBroken({ users: { broken: { 'client-certificate-data': b64(f.certA) } } }),
    ),
    one(
      'unused-user-missing-token-file',
      'an unused user with a missing token file',
      withBroken({ users: { broken: { tokenFile: '/nonexistent/token' } } }),
    ),
    one(
      'unused-user-auth-provider',
      'an unused user with an auth-provider',
      withBroken({ users: { broken: { 'auth-provider': { name: 'gcp' } } } }),
    ),
    one(
      'unused-user-exec-no-command',
      'an unused user with an exec plugin without command',
      withBroken({ users: { broken: { exec: { apiVersion: 'client.authentication.k8s.io/v1' } } } }),
    ),
    one(
      'unused-user-two-methods',
      'an unused user with token and basic auth',
      withBroken({ users: { broken: { token: fake.token, username: 'x', password: fake.password } } }),
    ),
    one(
      'unused-context-missing-cluster',
      'an unused context naming a missing cluster',
      withBroken({ contexts: { broken: { cluster: 'nope', user: 'u' } } }),
    ),
    one(
      'unused-context-missing-user',
      'an unused context naming a missing user',
      withBroken({ contexts: { broken: { cluster: 'c', user: 'nope' } } }),
    ),
    one(
      'unused-cluster-insecure-and-ca',
      'an unused cluster with insecure and a CA',
      withBroken({
        clusters: { broken: { server, 'insecure-skip-tls-verify': true, 'certificate-authority-data': b64(f.ca1) } },
      }),
    ),
  ];
}

/** YAML as people write it: several documents, unquoted scalars, stray keys. */
function yamlText(f: Fixtures): KubeconfigCase[] {
  const base = single(f, { token: fake.token });
  const head = (user: string, context = '') =>
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: c',
      '  cluster:',
      `    server: ${server}`,
      `    certificate-authority-data: ${b64(f.ca1)}`,
      'users:',
      '- name: u',
      '  user:',
      ...user.split('\n').map((l) => `    ${l}`),
      'contexts:',
      '- name: ctx',
      '  context:',
      '    cluster: c',
      '    user: u',
      ...(context ? context.split('\n').map((l) => `    ${l}`) : []),
      'current-context: ctx',
      '',
    ].join('\n');
  return [
    one('yaml-second-document', 'a second YAML document after ---', `${base}---\nkind: Config\napiVersion: v1\n`),
    one('yaml-leading-separator', 'a leading --- marker', `---\n${base}`),
    one('yaml-trailing-separator', 'a trailing --- with nothing after it', `${base}---\n`),
    one('yaml-document-end', 'a document-end marker (...)', `${base}...\n`),
    one(
      'yaml-json',
      'the kubeconfig written as JSON',
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'c', cluster: { server, 'certificate-authority-data': b64(f.ca1) } }],
        users: [{ name: 'u', user: { token: fake.token } }],
        contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u' } }],
        'current-context': 'ctx',
      }),
    ),
    one('yaml-token-octal-like', 'token: 0123 (unquoted)', head('token: 0123')),
    one('yaml-token-number', 'token: 123456 (unquoted)', head('token: 123456')),
    one('yaml-token-float', 'token: 1e3 (unquoted)', head('token: 1e3')),
    one('yaml-token-bool', 'token: true (unquoted)', head('token: true')),
    one('yaml-token-null', 'token: null', head('token: null')),
    one('yaml-token-tilde', 'token: ~', head('token: ~')),
    one('yaml-token-hex', 'token: 0x1F (unquoted)', head('token: 0x1F')),
    one(
      'yaml-token-digits',
      'a long all-digit token, unquoted (its refusal must not show it)',
      head(`token: ${fake.numericToken}`),
    ),
    one(
      'yaml-password-digits',
      'an all-digit password, unquoted',
      head(`username: alice\npassword: ${fake.numericPassword}`),
    ),
    one('yaml-token-quoted', 'token: "0123" (quoted)', head('token: "0123"')),
    one('yaml-username-yes', 'username: yes (YAML 1.1 boolean)', head(`username: yes\npassword: ${fake.password}`)),
    one('yaml-username-on', 'username: on (YAML 1.1 boolean)', head(`username: on\npassword: ${fake.password}`)),
    one('yaml-namespace-number', 'namespace: 0123 in the context', head(`token: ${fake.token}`, 'namespace: 0123')),
    one(
      'yaml-insecure-string',
      'insecure-skip-tls-verify: "true" (a string)',
      base.replace(
        'certificate-authority-data:',
        "insecure-skip-tls-verify: 'true'\n      certificate-authority-data:",
      ),
    ),
    one('yaml-stray-top-key', 'an unknown top-level key', `${base}colour: blue\n`),
    one('yaml-stray-user-key', 'an unknown key in a user (a typo)', head(`token: ${fake.token}\ntoken-file: /x`)),
    one(
      'yaml-stray-cluster-key',
      'an unknown key in a cluster',
      base.replace('certificate-authority-data:', 'certificate-autority: /typo\n      certificate-authority-data:'),
    ),
    one('yaml-duplicate-key', 'the same key twice in a user', head(`token: ${fake.token}\ntoken: ${fake.otherToken}`)),
    one('yaml-not-yaml', 'a file that is not YAML', '{ this is: [not yaml\n'),
    one('yaml-empty-file', 'an empty file', ''),
    one('yaml-wrong-kind', 'kind: Pod', base.replace('kind: Config', 'kind: Pod')),
    one('yaml-no-kind', 'no apiVersion nor kind', base.replace('apiVersion: v1\n', '').replace('kind: Config\n', '')),
    one(
      'yaml-tabs',
      'a list with a flow style',
      head(`token: ${fake.token}`).replace('- name: u\n', '- {name: u2, user: {token: x}}\n- name: u\n'),
    ),
    one(
      'yaml-anchor',
      'an anchor and alias for a user',
      head(`token: &t ${fake.token}`).replace('current-context: ctx', 'preferences: {}\ncurrent-context: ctx'),
    ),
    one(
      'yaml-alias-bomb',
      'a billion laughs: 9 levels of 10 aliases under an unknown key (go-yaml: excessive aliasing)',
      `${base}${laughs(9)}`,
    ),
    one(
      'yaml-alias-small',
      'aliases that expand 4 levels of 4 (256 strings): real documents use a few',
      `${base}${laughs(4, 4)}`,
    ),
  ];
}

/** A top-level `laughs:` key whose anchors each hold `width` aliases of the one before, `levels` deep. */
function laughs(levels: number, width = 10): string {
  let text = `laughs:\n  l0: &l0 [${Array.from({ length: width }, () => 'lol').join(', ')}]\n`;
  for (let i = 1; i < levels; i++)
    text += `  l${i}: &l${i} [${Array.from({ length: width }, () => `*l${i - 1}`).join(', ')}]\n`;
  return text;
}

/** KUBECONFIG lists: merged, the first to set a name wins. */
function lists(f: Fixtures): KubeconfigCase[] {
  const ca = b64(f.ca1);
  const a = kubeconfigYaml({
    clusters: { shared: { server: 'https://a.example.test:6443', 'certificate-authority-data': ca } },
    users: { ua: { token: fake.token } },
    contexts: { ca: { cluster: 'shared', user: 'ua', namespace: 'from-a' } },
    current: 'ca',
  });
  const b = kubeconfigYaml({
    clusters: {
      shared: { server: 'https://b.example.test:6443' },
      onlyb: { server: 'https://onlyb.example.test:6443', 'certificate-authority-data': ca },
    },
    users: { ua: { token: fake.otherToken }, ub: { username: 'bob', password: fake.password } },
    contexts: { cb: { cluster: 'onlyb', user: 'ub', namespace: 'from-b' }, mixed: { cluster: 'shared', user: 'ub' } },
    current: 'cb',
  });
  const noCurrent = kubeconfigYaml({
    clusters: { nc: { server: 'https://nc.example.test', 'certificate-authority-data': ca } },
    users: {},
    contexts: { nctx: { cluster: 'nc' } },
  });
  const files = { 'a/config': a, 'b/config': b };
  const list = (id: string, about: string, order: string[], extra: Partial<KubeconfigCase> = {}): KubeconfigCase => ({
    id,
    about,
    files: { ...files, ...extra.files },
    list: order,
    ...(extra.flags && { flags: extra.flags }),
  });
  return [
    list('list-first-wins', "a then b: a's current-context and cluster win", ['a/config', 'b/config']),
    list('list-reversed', 'b then a', ['b/config', 'a/config']),
    list(
      'list-context-from-second',
      '--context of the second file, cluster name set in both',
      ['a/config', 'b/config'],
      { flags: { context: 'mixed' } },
    ),
    list('list-user-from-first', 'context in b, user name defined in both', ['b/config', 'a/config'], {
      flags: { context: 'ca' },
    }),
    list('list-missing-file', 'a file in the list that does not exist', ['missing/config', 'b/config']),
    list('list-all-missing', 'only missing files', ['missing/config', 'missing2/config']),
    list('list-duplicate', 'the same file twice', ['a/config', 'a/config', 'b/config']),
    list('list-empty-entries', 'empty entries in the list', ['', 'b/config', '']),
    list('list-malformed', 'a malformed file in the list', ['bad/config', 'b/config'], {
      files: { 'bad/config': '{ not: [yaml\n' },
    }),
    list('list-no-current-then-current', 'the first file has no current-context', ['nc/config', 'b/config'], {
      files: { 'nc/config': noCurrent },
    }),
    list('list-no-current-anywhere', 'no file sets current-context', ['nc/config'], {
      files: { 'nc/config': noCurrent },
    }),
    list(
      'list-relative-in-second',
      'relative paths in the second file resolve against its folder',
      ['a/config', 'rel/config'],
      {
        files: {
          'rel/config': kubeconfigYaml({
            clusters: { r: { server, 'certificate-authority': '../../../fixtures/ca1.crt' } },
            users: { ur: { tokenFile: '../../../fixtures/token' } },
            contexts: { rctx: { cluster: 'r', user: 'ur' } },
          }),
        },
        flags: { context: 'rctx' },
      },
    ),
    list('list-cluster-flag-from-second', '--cluster naming a cluster of the second file', ['a/config', 'b/config'], {
      flags: { cluster: 'onlyb' },
    }),
  ];
}

function relativePaths(f: Fixtures): KubeconfigCase[] {
  return [
    one(
      'rel-ca',
      'a relative CA file',
      single(f, { token: fake.token }, { server, 'certificate-authority': '../../fixtures/ca1.crt' }),
    ),
    one(
      'rel-cert-key',
      'relative client certificate and key files',
      single(f, { 'client-certificate': '../../fixtures/a.crt', 'client-key': '../../fixtures/a.key' }),
    ),
    {
      id: 'rel-subfolder',
      about: 'a kubeconfig in a subfolder with ./ paths',
      files: {
        'sub/config': single(
          f,
          { 'client-certificate': './a.crt', 'client-key': './a.key' },
          { server, 'certificate-authority': 'ca.crt' },
        ),
        'sub/a.crt': f.certA,
        'sub/a.key': f.keyA,
        'sub/ca.crt': f.ca1,
      },
      explicit: 'sub/config',
    },
    one(
      'rel-tilde',
      'a path starting with ~ (not expanded)',
      single(f, { token: fake.token }, { server, 'certificate-authority': '~/ca.crt' }),
    ),
    one(
      'rel-absolute',
      'absolute paths stay as they are',
      single(f, { tokenFile: f.paths.token }, { server, 'certificate-authority': f.paths.ca1 }),
    ),
  ];
}

function namespacesAndContexts(f: Fixtures): KubeconfigCase[] {
  const ca = b64(f.ca1);
  const multi = kubeconfigYaml({
    clusters: {
      c1: { server: 'https://one.example.test:6443', 'certificate-authority-data': ca },
      c2: { server: 'https://two.example.test:6443', 'insecure-skip-tls-verify': true },
    },
    users: { u1: { token: fake.token }, u2: { username: 'bob', password: fake.password } },
    contexts: {
      one: { cluster: 'c1', user: 'u1', namespace: 'team-one' },
      two: { cluster: 'c2', user: 'u2' },
      nouser: { cluster: 'c1' },
      ghost: { cluster: 'c1', user: 'nobody' },
      lost: { cluster: 'nowhere', user: 'u1' },
      empty: {},
    },
    current: 'one',
  });
  const ctx = (id: string, about: string, flags?: KubeconfigCase['flags'], text = multi) => one(id, about, text, flags);
  return [
    ctx('ns-from-context', "the context's namespace"),
    ctx('ns-default', 'no namespace in the context', { context: 'two' }),
    ctx('ns-flag', 'kubectl --namespace', { namespace: 'override' }),
    ctx('ns-flag-other-context', '--namespace with --context', { namespace: 'override', context: 'two' }),
    ctx('ns-flag-invalid-name', 'a --namespace that is not a valid name', { namespace: 'Not_Valid' }),
    ctx('ctx-flag', 'kubectl --context', { context: 'two' }),
    ctx('ctx-flag-missing', '--context naming no context', { context: 'nope' }),
    ctx('ctx-no-user', 'a context without a user: anonymous', { context: 'nouser' }),
    ctx('ctx-missing-user', 'a context naming a missing user', { context: 'ghost' }),
    ctx('ctx-missing-cluster', 'a context naming a missing cluster', { context: 'lost' }),
    ctx('ctx-empty', 'a context with nothing in it', { context: 'empty' }),
    ctx('ctx-cluster-flag', 'kubectl --cluster', { cluster: 'c2' }),
    ctx('ctx-user-flag', 'kubectl --user', { user: 'u2' }),
    ctx('ctx-user-flag-missing', '--user naming no user', { user: 'nope' }),
    ctx('ctx-cluster-flag-missing', '--cluster naming no cluster', { cluster: 'nope' }),
    ctx(
      'ctx-current-missing',
      'current-context naming no context',
      undefined,
      multi.replace('current-context: one', 'current-context: vanished'),
    ),
    ctx(
      'ctx-no-current',
      'no current-context and no --context',
      undefined,
      multi.replace('current-context: one\n', ''),
    ),
    ctx(
      'ctx-no-current-server-flag',
      'no current-context, only --server',
      { server: 'https://flag.example.test:6443' },
      multi.replace('current-context: one\n', ''),
    ),
    ctx(
      'ctx-no-current-cluster-flag',
      'no current-context, --cluster and --user',
      { cluster: 'c1', user: 'u1' },
      multi.replace('current-context: one\n', ''),
    ),
    one('ctx-missing-explicit-file', 'an explicit kubeconfig that does not exist', multi, {}),
  ].map((c) => (c.id === 'ctx-missing-explicit-file' ? { ...c, explicit: 'no-such-config' } : c));
}

function impersonation(f: Fixtures): KubeconfigCase[] {
  return [
    one(
      'imp-kubeconfig-all',
      'as, as-uid, as-groups and as-user-extra in the kubeconfig',
      single(f, {
        token: fake.token,
        as: 'bob',
        'as-uid': '1234',
        'as-groups': ['devs', 'ops'],
        'as-user-extra': { scopes: ['view', 'edit'], team: ['a'] },
      }),
    ),
    one('imp-kubeconfig-user-only', 'as alone', single(f, { token: fake.token, as: 'bob' })),
    one('imp-kubeconfig-groups-only', 'as-groups without as', single(f, { token: fake.token, 'as-groups': ['devs'] })),
    one('imp-kubeconfig-uid-only', 'as-uid without as', single(f, { token: fake.token, 'as-uid': '1234' })),
    one('imp-flag-as', 'kubectl --as', single(f, { token: fake.token }), { as: 'carol' }),
    one('imp-flag-all', '--as, --as-uid, --as-group twice, --as-user-extra', single(f, { token: fake.token }), {
      as: 'carol',
      'as-uid': '42',
      'as-group': ['g1', 'g2'],
      'as-user-extra': ['scopes=view', 'scopes=edit', 'team=x'],
    }),
    one('imp-flag-group-only', '--as-group without --as', single(f, { token: fake.token }), { 'as-group': ['g1'] }),
    one(
      'imp-flag-over-kubeconfig',
      "--as over the kubeconfig's as, keeping its groups",
      single(f, { token: fake.token, as: 'bob', 'as-groups': ['devs'] }),
      { as: 'carol' },
    ),
    one(
      'imp-flag-groups-over-kubeconfig',
      "--as-group over the kubeconfig's as-groups",
      single(f, { token: fake.token, as: 'bob', 'as-groups': ['devs'] }),
      { 'as-group': ['g9'] },
    ),
    one('imp-flag-extra-empty-value', '--as-user-extra with an empty value', single(f, { token: fake.token }), {
      as: 'carol',
      'as-user-extra': ['key='],
    }),
  ];
}

function overrides(f: Fixtures): KubeconfigCase[] {
  const tokenUser = single(f, { token: fake.token });
  const certUser = single(f, { 'client-certificate-data': b64(f.certA), 'client-key-data': b64(f.keyA) });
  const sni = single(
    f,
    { token: fake.token },
    { server, 'certificate-authority-data': b64(f.ca1), 'tls-server-name': 'api.internal' },
  );
  const insecureCluster = single(f, { token: fake.token }, { server, 'insecure-skip-tls-verify': true });
  return [
    one('flag-server', "--server replaces the cluster's server", tokenUser, {
      server: 'https://other.example.test:7443',
    }),
    one('flag-server-drops-tls-server-name', "--server clears the kubeconfig's tls-server-name", sni, {
      server: 'https://other.example.test:7443',
    }),
    one('flag-server-and-tls-server-name', '--server with --tls-server-name', sni, {
      server: 'https://other.example.test:7443',
      'tls-server-name': 'flag.internal',
    }),
    one('flag-tls-server-name', '--tls-server-name alone', sni, { 'tls-server-name': 'flag.internal' }),
    one('flag-server-no-scheme', '--server host:port', tokenUser, { server: 'other.example.test:7443' }),
    one('flag-token-over-token', "--token over the kubeconfig's token", tokenUser, { token: fake.otherToken }),
    one('flag-token-over-cert', '--token with a client certificate user', certUser, { token: fake.otherToken }),
    one(
      'flag-token-over-basic',
      '--token with a basic-auth user',
      single(f, { username: 'alice', password: fake.password }),
      { token: fake.otherToken },
    ),
    one('flag-token-over-token-file', '--token with a token-file user', single(f, { tokenFile: f.paths.token }), {
      token: fake.otherToken,
    }),
    one('flag-username-password', '--username and --password', single(f, undefined), {
      username: 'dave',
      password: fake.otherPassword,
    }),
    one(
      'flag-password-only',
      '--password alone over a basic-auth user',
      single(f, { username: 'alice', password: fake.password }),
      { password: fake.otherPassword },
    ),
    one('flag-username-over-token', '--username with a token user', tokenUser, {
      username: 'dave',
      password: fake.otherPassword,
    }),
    one('flag-client-cert', '--client-certificate and --client-key', tokenUser, {
      'client-certificate': f.paths.certA,
      'client-key': f.paths.keyA,
    }),
    one('flag-client-cert-mismatch', '--client-certificate with a key of another pair', single(f, undefined), {
      'client-certificate': f.paths.certA,
      'client-key': f.paths.keyB,
    }),
    one('flag-client-cert-only', '--client-certificate over a user with a pair', certUser, {
      'client-certificate': f.paths.certB,
    }),
    one('flag-ca', '--certificate-authority over CA data', tokenUser, { 'certificate-authority': f.paths.ca2 }),
    one('flag-ca-over-insecure', '--certificate-authority over an insecure cluster', insecureCluster, {
      'certificate-authority': f.paths.ca2,
    }),
    one('flag-ca-missing', '--certificate-authority naming no file', tokenUser, {
      'certificate-authority': '/nonexistent/ca.crt',
    }),
    one('flag-insecure-drops-ca', "--insecure-skip-tls-verify drops the kubeconfig's CA", tokenUser, {
      'insecure-skip-tls-verify': 'true',
    }),
    one('flag-insecure-and-ca', '--insecure-skip-tls-verify with --certificate-authority', tokenUser, {
      'insecure-skip-tls-verify': 'true',
      'certificate-authority': f.paths.ca2,
    }),
    one('flag-insecure-false', '--insecure-skip-tls-verify=false on an insecure cluster', insecureCluster, {
      'insecure-skip-tls-verify': 'false',
    }),
    one('flag-proxy-url', '--proxy-url', tokenUser, { 'proxy-url': 'http://flag-proxy.example.test:3128' }),
    one('flag-proxy-url-socks5', '--proxy-url socks5', tokenUser, {
      'proxy-url': 'socks5://flag-proxy.example.test:1080',
    }),
    one('flag-proxy-url-bad', '--proxy-url with an unknown scheme', tokenUser, { 'proxy-url': 'gopher://x' }),
    one('flag-request-timeout-seconds', '--request-timeout 30 (seconds)', tokenUser, { 'request-timeout': '30' }),
    one('flag-request-timeout-duration', '--request-timeout 1m30s', tokenUser, { 'request-timeout': '1m30s' }),
    one('flag-request-timeout-ms', '--request-timeout 250ms', tokenUser, { 'request-timeout': '250ms' }),
    one('flag-request-timeout-zero', '--request-timeout 0', tokenUser, { 'request-timeout': '0' }),
    one('flag-request-timeout-bad', '--request-timeout abc', tokenUser, { 'request-timeout': 'abc' }),
    one('flag-everything', 'every flag at once', certUser, {
      server: 'https://all.example.test',
      'tls-server-name': 'all.internal',
      'certificate-authority': f.paths.ca2,
      token: fake.otherToken,
      'proxy-url': 'http://p.example.test:3128',
      'request-timeout': '5s',
      as: 'eve',
      'as-group': ['g'],
      namespace: 'all',
    }),
  ];
}

/** Every kubeconfig case, in a stable order; ids are unique. */
export function kubeconfigCases(f: Fixtures): KubeconfigCase[] {
  return [
    ...basics(f),
    ...exec(f),
    ...plainHttp(f),
    ...hosts(f),
    ...methods(f),
    ...tls(f),
    ...tokens(f),
    ...unused(f),
    ...yamlText(f),
    ...lists(f),
    ...relativePaths(f),
    ...namespacesAndContexts(f),
    ...impersonation(f),
    ...overrides(f),
  ];
}
