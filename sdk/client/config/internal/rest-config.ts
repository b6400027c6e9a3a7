/**
 * A cluster and a user (kubeconfig entries with kubectl's overrides applied) become a RestConfig, as clientcmd's
 * `ClientConfig()` does: only what they use is checked, and credentials are kept only for a TLS server.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { ConfigError, describeUrl } from '../../errors.js';
import type { KubeconfigCluster, KubeconfigExec, KubeconfigUser } from '../kubeconfig.js';
import type { ExecConfig, ImpersonationConfig, RestConfig } from '../types.js';
import { decodeBase64, readReferencedFile, requireCertificatePem, requirePrivateKeyPem, type Place } from './files.js';
import type { Entry } from './overrides.js';

/**
 * The RestConfig for a cluster and an optional user.
 *
 * Like clientcmd, credentials (token, token file, basic auth, client certificate, exec plugin) and TLS settings (CA,
 * tls-server-name, insecure) go into the config only when the server is `https://`: a plain `http://` server, or a
 * server without a scheme (which is `http://`, since clientcmd decides before any TLS setting is merged), gets none of
 * them, so nothing secret crosses the network in clear. The files they name are still read and checked.
 */
export async function toRestConfig(
  cluster: Entry<KubeconfigCluster>,
  user: Entry<KubeconfigUser> | undefined,
): Promise<RestConfig> {
  const c = cluster.value;
  if (!c.server) {
    const message = cluster.name ? `cluster "${cluster.name}" has no server` : 'no server';
    throw new ConfigError(message, cluster.place('server'));
  }
  const host = normalizeServer(c.server, cluster.place('server'));
  const tls = host.startsWith('https:');
  const config: RestConfig = { host };
  if (c['proxy-url']) config.proxyUrl = checkProxyUrl(c['proxy-url'], cluster.place('proxy-url'));
  if (c['disable-compression'] === true) config.disableCompression = true;
  const server = await serverIdentity(cluster, tls);
  const identity = user ? await userIdentity(user, c, tls) : {};
  const impersonate = user && impersonation(user);
  if (impersonate) config.impersonate = impersonate;
  return tls ? { ...config, ...server, ...identity } : config;
}

/** The CA, tls-server-name and insecure flag. CA data and a CA file together are refused, as in client-go. */
async function serverIdentity(cluster: Entry<KubeconfigCluster>, tls: boolean): Promise<Partial<RestConfig>> {
  const c = cluster.value;
  const out: Partial<RestConfig> = {};
  if (c['certificate-authority'] && c['certificate-authority-data']) {
    throw new ConfigError(
      'both certificate-authority and certificate-authority-data are set: keep one',
      cluster.place('certificate-authority-data'),
    );
  }
  if (c['certificate-authority-data']) {
    const place = cluster.place('certificate-authority-data');
    const text = decodeBase64(c['certificate-authority-data']);
    out.caData = requireCertificatePem(text, 'certificate-authority-data', place);
  } else if (c['certificate-authority']) {
    const place = cluster.place('certificate-authority');
    const text = await readReferencedFile(c['certificate-authority'], 'certificate authority file', place);
    out.caData = requireCertificatePem(text, `file ${c['certificate-authority']}`, place);
    out.caFile = c['certificate-authority'];
  }
  if (c['tls-server-name']) out.serverName = c['tls-server-name'];
  if (c['insecure-skip-tls-verify'] === true) {
    if (out.caData && tls) {
      throw new ConfigError(
        'insecure-skip-tls-verify is true but a certificate authority is set too: keep one of them',
        cluster.place('insecure-skip-tls-verify'),
      );
    }
    out.insecureSkipTLSVerify = true;
  }
  return out;
}

/**
 * The user's credentials, checked as clientcmd checks the user in use. One method only, except that a client
 * certificate goes with a token or basic auth. An exec plugin is checked, but kept only when no token, token file,
 * user name or client certificate is set: client-go never runs it then.
 */
async function userIdentity(
  user: Entry<KubeconfigUser>,
  cluster: KubeconfigCluster,
  tls: boolean,
): Promise<Partial<RestConfig>> {
  const u = user.value;
  const provider = u['auth-provider'];
  if (provider) {
    throw new ConfigError(
      `auth-provider "${provider.name}" is not supported: the in-tree auth providers (gcp, azure, oidc) were removed ` +
        'from Kubernetes. Use an exec credential plugin instead (gke-gcloud-auth-plugin, kubelogin, kubectl oidc-login, …)',
      user.place('auth-provider'),
    );
  }
  const out: Partial<RestConfig> = { ...(await clientCertificate(user, tls)), ...(await tokenOrBasic(user, tls)) };
  if (u.exec) {
    const exec = execConfig(u.exec, cluster, user.place);
    if (!out.bearerToken && !out.bearerTokenFile && !out.username && !out.certData) out.exec = exec;
  }
  return out;
}

/** A client certificate with its key, checked to be a pair. A key without a certificate is ignored, as in client-go. */
async function clientCertificate(user: Entry<KubeconfigUser>, tls: boolean): Promise<Partial<RestConfig>> {
  const u = user.value;
  if (!u['client-certificate'] && !u['client-certificate-data']) return {};
  for (const [file, data] of [
    ['client-certificate', 'client-certificate-data'],
    ['client-key', 'client-key-data'],
  ] as const) {
    if (u[file] && u[data]) throw new ConfigError(`both ${file} and ${data} are set: keep one`, user.place(data));
  }
  if (!u['client-key'] && !u['client-key-data']) {
    throw new ConfigError(
      'a client certificate needs its key (client-key or client-key-data)',
      user.place('client-key'),
    );
  }
  const certPlace = user.place(u['client-certificate-data'] ? 'client-certificate-data' : 'client-certificate');
  const keyPlace = user.place(u['client-key-data'] ? 'client-key-data' : 'client-key');
  const certData = requireCertificatePem(
    u['client-certificate-data']
      ? decodeBase64(u['client-certificate-data'])
      : await readReferencedFile(u['client-certificate']!, 'client certificate file', certPlace),
    'client certificate',
    certPlace,
  );
  const keyData = requirePrivateKeyPem(
    u['client-key-data']
      ? decodeBase64(u['client-key-data'])
      : await readReferencedFile(u['client-key']!, 'client key file', keyPlace),
    'client key',
    keyPlace,
  );
  if (tls) checkKeyPair(certData, keyData, user, certPlace, keyPlace);
  // Files are re-read by the transport as they rotate (client-go: only when both are files).
  const files = u['client-certificate'] &&
    u['client-key'] && { certFile: u['client-certificate'], keyFile: u['client-key'] };
  return { certData, keyData, ...files };
}

/**
 * Refuses a certificate and key that are not one pair, or that do not parse, here rather than at the first TLS
 * handshake. Messages name the user entry, never the key.
 */
function checkKeyPair(
  certPem: string,
  keyPem: string,
  user: Entry<KubeconfigUser>,
  certPlace: Place,
  keyPlace: Place,
): void {
  const who = user.name ? `user "${user.name}"` : 'the user';
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new ConfigError(`the client certificate of ${who} is not a valid X.509 certificate`, certPlace);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new ConfigError(`the client key of ${who} is not a valid unencrypted private key`, keyPlace);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new ConfigError(
      `the client key of ${who} does not belong to its client certificate (is it another pair's key?)`,
      keyPlace,
    );
  }
}

/**
 * A static token, a token file, or basic authentication. A password without a user name sends nothing, as in
 * client-go. kubeloop refuses `token` together with `tokenFile` (client-go keeps both and lets the file win).
 */
async function tokenOrBasic(user: Entry<KubeconfigUser>, tls: boolean): Promise<Partial<RestConfig>> {
  const u = user.value;
  const place = user.place;
  if (u.token && u.tokenFile) throw new ConfigError('both token and tokenFile are set: keep one', place('tokenFile'));
  if ((u.token && (u.username || u.password)) || (u.tokenFile && u.username)) {
    const who = user.name ? ` for user "${user.name}"` : '';
    throw new ConfigError(
      `more than one authentication method${who}: a token and a username/password; keep one`,
      place(u.token ? 'token' : 'tokenFile'),
    );
  }
  if (u.token) return { bearerToken: u.token };
  if (u.tokenFile && !tls) return { bearerTokenFile: u.tokenFile }; // never sent, so not read (as in clientcmd)
  if (u.tokenFile) {
    const token = await readReferencedFile(u.tokenFile, 'token file', place('tokenFile'));
    // client-go accepts an empty file here and fails when the client is made ("read empty token from file").
    if (!token.trim()) throw new ConfigError(`the token file ${u.tokenFile} is empty`, place('tokenFile'));
    return { bearerTokenFile: u.tokenFile };
  }
  if (u.username) return { username: u.username, ...(u.password && { password: u.password }) };
  return {};
}

function impersonation(user: Entry<KubeconfigUser>): ImpersonationConfig | undefined {
  const u = user.value;
  const out: ImpersonationConfig = {};
  if (u.as) out.userName = u.as;
  if (u['as-uid']) out.uid = u['as-uid'];
  if (u['as-groups']?.length) out.groups = u['as-groups'];
  if (u['as-user-extra'] && Object.keys(u['as-user-extra']).length) out.extra = u['as-user-extra'];
  if (!Object.keys(out).length) return undefined;
  if (!out.userName) {
    throw new ConfigError('impersonating a uid, groups or extra needs a user to impersonate (as)', user.place('as'));
  }
  return out;
}

const execApiVersions = new Set(['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']);
const interactiveModes = new Set(['Never', 'IfAvailable', 'Always']);

function execConfig(exec: KubeconfigExec, cluster: KubeconfigCluster, place: (key: string) => Place): ExecConfig {
  if (!exec.command) throw new ConfigError('the exec plugin has no command', place('exec.command'));
  if (!exec.apiVersion) throw new ConfigError('the exec plugin has no apiVersion', place('exec.apiVersion'));
  if (!execApiVersions.has(exec.apiVersion)) {
    throw new ConfigError(
      `exec apiVersion "${exec.apiVersion}" is not supported; use client.authentication.k8s.io/v1 or /v1beta1`,
      place('exec.apiVersion'),
    );
  }
  if (exec.interactiveMode !== undefined && !interactiveModes.has(exec.interactiveMode)) {
    throw new ConfigError(
      `exec interactiveMode "${exec.interactiveMode}" is not one of Never, IfAvailable, Always`,
      place('exec.interactiveMode'),
    );
  }
  if (exec.apiVersion === 'client.authentication.k8s.io/v1' && exec.interactiveMode === undefined) {
    throw new ConfigError(
      'client.authentication.k8s.io/v1 exec plugins need interactiveMode (Never, IfAvailable or Always)',
      place('exec.interactiveMode'),
    );
  }
  const unnamed = exec.env?.findIndex((v) => !v.name) ?? -1;
  if (unnamed >= 0) throw new ConfigError('the variable has no name', place(`exec.env[${unnamed}].name`));
  const out: ExecConfig = { command: exec.command, apiVersion: exec.apiVersion };
  if (exec.args) out.args = exec.args;
  if (exec.env) out.env = exec.env;
  if (exec.provideClusterInfo) out.provideClusterInfo = true;
  if (exec.interactiveMode) out.interactiveMode = exec.interactiveMode as NonNullable<ExecConfig['interactiveMode']>;
  if (exec.installHint) out.installHint = exec.installHint;
  const extension = cluster.extensions?.find((e) => e.name === 'client.authentication.k8s.io/exec');
  if (extension) out.config = extension.extension;
  return out;
}

/**
 * The server as `scheme://host[:port][/prefix]`, without a trailing slash. A server without a scheme is `http://`,
 * as in clientcmd (see {@link toRestConfig}).
 */
export function normalizeServer(server: string, place: Place): string {
  const schemeless = !/^[a-z][a-z0-9+.-]*:\/\//i.test(server);
  let url: URL;
  try {
    url = new URL(schemeless ? `http://${server}` : server);
  } catch {
    throw new ConfigError(`server "${describeUrl(server)}" is not a URL (expected https://host:port)`, place);
  }
  if (schemeless && url.pathname !== '/') {
    // client-go's rule: without a scheme, a server is a host or host:port; a path prefix needs a full URL.
    throw new ConfigError(
      `server "${describeUrl(server)}" has a path but no scheme: write host:port, or https://host:port/path`,
      place,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`server "${describeUrl(server)}" must be an http:// or https:// URL`, place);
  }
  if (!url.hostname) throw new ConfigError(`server "${describeUrl(server)}" has no host`, place);
  if (url.username || url.password) {
    throw new ConfigError('server must not carry a user name or password; put credentials in the user entry', place);
  }
  if (url.search || url.hash) {
    throw new ConfigError(`server "${describeUrl(server)}" must not have a query or fragment`, place);
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

function checkProxyUrl(proxy: string, place: Place): string {
  let url: URL;
  try {
    url = new URL(proxy);
  } catch {
    throw new ConfigError(`proxy-url "${describeUrl(proxy)}" is not a URL`, place);
  }
  if (!['http:', 'https:', 'socks5:'].includes(url.protocol)) {
    throw new ConfigError(`proxy-url "${describeUrl(proxy)}" must use http, https or socks5`, place);
  }
  return proxy;
}
