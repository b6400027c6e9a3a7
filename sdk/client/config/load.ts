/**
 * Loading rules: which kubeconfig files to read, how to merge them, which context to use, and how a cluster and user
 * become a RestConfig. client-go's clientcmd, in TypeScript.
 */
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import {
  defaultServiceAccountDir,
  inClusterConfig,
  inClusterNamespace,
  inClusterPossible,
  type InClusterOptions,
} from './in-cluster.js';
import {
  decodeBase64,
  readReferencedFile,
  requireCertificatePem,
  requirePrivateKeyPem,
  type Place,
} from './internal/files.js';
import {
  loadKubeconfig,
  type Kubeconfig,
  type KubeconfigCluster,
  type KubeconfigContext,
  type KubeconfigExec,
  type KubeconfigUser,
} from './kubeconfig.js';
import type { ExecConfig, ImpersonationConfig, RestConfig } from './types.js';

export interface LoadConfigOptions {
  /**
   * A kubeconfig file to use alone; it must exist. Default: the files in `$KUBECONFIG` (merged), else
   * `~/.kube/config`, else the in-cluster configuration.
   */
  kubeconfig?: string;
  /** Use this context instead of the kubeconfig's `current-context`. */
  context?: string;
  /** Use this cluster (by name) instead of the context's. */
  cluster?: string;
  /** Use this user (by name) instead of the context's. */
  user?: string;
  /** Use this namespace instead of the context's. */
  namespace?: string;
  /** Use this API server URL instead of the cluster's (`kubectl --server`). */
  server?: string;
  /** Environment for `KUBECONFIG`, `HOME` and the in-cluster variables. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Service account folder for the in-cluster configuration. Default: `/var/run/secrets/kubernetes.io/serviceaccount`. */
  serviceAccountDir?: string;
}

/** A RestConfig with the namespace to work in and the context it came from. */
export interface ClientConfig {
  config: RestConfig;
  /** The context's namespace (or the `namespace` option); in a pod, the pod's; `'default'` when none is set. */
  namespace: string;
  /** The kubeconfig context used; undefined for the in-cluster configuration or a server-only config. */
  context?: string;
}

/**
 * The RestConfig the default loading rules give. See {@link loadClientConfig}.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<RestConfig> {
  return (await loadClientConfig(options)).config;
}

/**
 * Finds the configuration as kubectl and client-go do:
 * 1. `options.kubeconfig`, alone; it must exist.
 * 2. Else `$KUBECONFIG`, a list of paths (`:`-separated; `;` on Windows), merged in order: the first file to define
 *    a cluster, user or context name, or `current-context`, wins. Files in the list that do not exist are skipped.
 * 3. Else `~/.kube/config`, if it exists.
 * 4. When no kubeconfig gives a context (none found, or no `current-context` and no `context` option), the
 *    in-cluster configuration, if `KUBERNETES_SERVICE_HOST`/`_PORT` are set and a token file exists.
 * `context`, `cluster`, `user`, `namespace` and `server` override what the kubeconfig says.
 *
 * Guarantees: the RestConfig carries PEM text for the CA and client certificate (read from files or decoded from
 * `*-data`), `bearerTokenFile` rather than the token for token files, `exec` with the cluster's
 * `client.authentication.k8s.io/exec` extension as `config`, and `insecureSkipTLSVerify` only when the kubeconfig
 * says `true`. Only the chosen context, cluster and user are checked, so broken unused entries do no harm.
 *
 * Errors: a {@link ConfigError} naming the file and field at fault: a missing explicit kubeconfig; an unreadable or
 * malformed one anywhere in the list; an unknown context, cluster or user; a context whose cluster or user does not
 * exist; a missing or invalid server; unreadable CA, certificate, key or token files; a client certificate without
 * its key; `token` together with `tokenFile`; two authentication methods; an `auth-provider`; an exec plugin without
 * command or apiVersion. When nothing is found at all, the error says where it looked and what to do. Credentials
 * never appear in messages.
 *
 * Caveats: CA, client certificate and key files are read here and named in `caFile`, `certFile` and `keyFile`, so the
 * transport re-reads them as they rotate; a token file likewise. `~` inside a kubeconfig is not expanded, as in
 * client-go.
 */
export async function loadClientConfig(options: LoadConfigOptions = {}): Promise<ClientConfig> {
  const env = options.env ?? process.env;
  const { files, looked } = await findKubeconfigs(options, env);
  return resolveClientConfig(merge(files), looked, options, env);
}

/**
 * client-go's `BuildConfigFromFlags`: with neither argument, the in-cluster configuration (falling back to nothing, so
 * an error); otherwise the kubeconfig at `kubeconfigPath` (which must exist; none when empty) with its server
 * replaced by `masterUrl` when that is given. `masterUrl` alone gives a config with that server and no credentials.
 *
 * Errors: as {@link loadClientConfig}; with both arguments empty outside a pod, a ConfigError whose `cause` is the
 * in-cluster failure.
 */
export async function buildConfigFromFlags(
  masterUrl: string,
  kubeconfigPath: string,
  options: InClusterOptions = {},
): Promise<RestConfig> {
  const env = options.env ?? process.env;
  const common = {
    env,
    ...(options.serviceAccountDir !== undefined && { serviceAccountDir: options.serviceAccountDir }),
  };
  if (!masterUrl && !kubeconfigPath) {
    try {
      return await inClusterConfig(common);
    } catch (err) {
      throw new ConfigError(
        'neither a master URL nor a kubeconfig path was given, and the in-cluster configuration is not available: ' +
          `${(err as Error).message}. Pass a kubeconfig path or a server URL`,
        { cause: err },
      );
    }
  }
  const files = kubeconfigPath ? [await loadFile(resolve(kubeconfigPath))] : [];
  const looked = kubeconfigPath ? [resolve(kubeconfigPath)] : [];
  const { config } = await resolveClientConfig(
    merge(files),
    looked,
    { ...common, ...(masterUrl && { server: masterUrl }) },
    env,
  );
  return config;
}

interface LoadedFile {
  file: string;
  config: Kubeconfig;
}

async function loadFile(file: string): Promise<LoadedFile> {
  return { file, config: await loadKubeconfig(file) };
}

async function loadIfExists(file: string): Promise<LoadedFile | undefined> {
  try {
    return await loadFile(file);
  } catch (err) {
    if (err instanceof ConfigError && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
      return undefined;
    throw err;
  }
}

/** The files of the loading rules, in priority order, and every path considered (for the "nothing found" error). */
async function findKubeconfigs(
  options: LoadConfigOptions,
  env: NodeJS.ProcessEnv,
): Promise<{ files: LoadedFile[]; looked: string[] }> {
  if (options.kubeconfig) {
    const file = resolve(options.kubeconfig);
    return { files: [await loadFile(file)], looked: [file] };
  }
  if (env.KUBECONFIG) {
    const paths = [
      ...new Set(
        env.KUBECONFIG.split(delimiter)
          .filter(Boolean)
          .map((p) => resolve(p)),
      ),
    ];
    const files: LoadedFile[] = [];
    for (const path of paths) {
      const loaded = await loadIfExists(path);
      if (loaded) files.push(loaded);
    }
    return { files, looked: paths };
  }
  const home = env.HOME || env.USERPROFILE || (env === process.env ? homedir() : undefined);
  if (!home) return { files: [], looked: [] };
  const file = join(home, '.kube', 'config');
  const loaded = await loadIfExists(file);
  return { files: loaded ? [loaded] : [], looked: [file] };
}

interface Origin<T> {
  name: string;
  value: T;
  file: string;
}

/** Several kubeconfigs merged by client-go's rule: the first file to set a name (or current-context) wins. */
interface MergedKubeconfig {
  files: string[];
  clusters: Map<string, Origin<KubeconfigCluster>>;
  users: Map<string, Origin<KubeconfigUser>>;
  contexts: Map<string, Origin<KubeconfigContext>>;
  currentContext?: Origin<string>;
}

function addFirst<T>(map: Map<string, Origin<T>>, name: string, value: T, file: string): void {
  if (!map.has(name)) map.set(name, { name, value, file });
}

function merge(files: LoadedFile[]): MergedKubeconfig {
  const merged: MergedKubeconfig = {
    files: files.map((f) => f.file),
    clusters: new Map(),
    users: new Map(),
    contexts: new Map(),
  };
  for (const { file, config } of files) {
    for (const c of config.clusters) addFirst(merged.clusters, c.name, c.cluster, file);
    for (const u of config.users) addFirst(merged.users, u.name, u.user, file);
    for (const c of config.contexts) addFirst(merged.contexts, c.name, c.context, file);
    const current = config['current-context'];
    if (current && !merged.currentContext) merged.currentContext = { name: 'current-context', value: current, file };
  }
  return merged;
}

const filesOf = (merged: MergedKubeconfig): string | undefined =>
  merged.files.length ? merged.files.join(', ') : undefined;

const known = (map: Map<string, unknown>): string =>
  map.size ? `known: ${[...map.keys()].map((k) => `"${k}"`).join(', ')}` : 'there are none';

async function resolveClientConfig(
  merged: MergedKubeconfig,
  looked: string[],
  options: LoadConfigOptions,
  env: NodeJS.ProcessEnv,
): Promise<ClientConfig> {
  const inCluster: InClusterOptions = {
    env,
    ...(options.serviceAccountDir !== undefined && { serviceAccountDir: options.serviceAccountDir }),
  };

  // The context: asked for, or the current one.
  let context: Origin<KubeconfigContext> | undefined;
  if (options.context) {
    context = merged.contexts.get(options.context);
    if (!context) {
      throw new ConfigError(`context "${options.context}" not found (${known(merged.contexts)})`, {
        file: filesOf(merged) ?? looked.join(', '),
        field: 'contexts',
      });
    }
  } else if (merged.currentContext) {
    const current = merged.currentContext;
    context = merged.contexts.get(current.value);
    if (!context) {
      throw new ConfigError(
        `current-context is "${current.value}", but no context has that name (${known(merged.contexts)})`,
        {
          file: current.file,
          field: 'current-context',
        },
      );
    }
  }
  const contextField = context && `contexts[${context.name}].context`;

  // The cluster: asked for, or the context's.
  let cluster: Origin<KubeconfigCluster> | undefined;
  const clusterName = options.cluster ?? context?.value.cluster;
  if (clusterName) {
    cluster = merged.clusters.get(clusterName);
    if (!cluster) {
      throw new ConfigError(
        `cluster "${clusterName}" not found (${known(merged.clusters)})`,
        options.cluster || !context
          ? { file: filesOf(merged), field: 'clusters' }
          : { file: context.file, field: `${contextField}.cluster` },
      );
    }
  } else if (context) {
    throw new ConfigError(`context "${context.name}" names no cluster`, {
      file: context.file,
      field: `${contextField}.cluster`,
    });
  }

  // The user: asked for, or the context's; none means anonymous.
  let user: Origin<KubeconfigUser> | undefined;
  const userName = options.user ?? context?.value.user;
  if (userName) {
    user = merged.users.get(userName);
    if (!user) {
      throw new ConfigError(
        `user "${userName}" not found (${known(merged.users)})`,
        options.user || !context
          ? { file: filesOf(merged), field: 'users' }
          : { file: context.file, field: `${contextField}.user` },
      );
    }
  }

  if (!cluster && !options.server) {
    // Nothing chosen: client-go's "empty config", where the in-cluster configuration takes over.
    if (await inClusterPossible(inCluster)) {
      return {
        config: await inClusterConfig(inCluster),
        namespace: options.namespace || (await inClusterNamespace(inCluster)),
      };
    }
    throw nothingFound(merged, looked, inCluster);
  }

  const config = await toRestConfig(cluster ?? { name: '', value: {}, file: '' }, user, options.server);
  return {
    config,
    namespace: options.namespace || context?.value.namespace || 'default',
    ...(context && { context: context.name }),
  };
}

function nothingFound(merged: MergedKubeconfig, looked: string[], inCluster: InClusterOptions): ConfigError {
  const env = inCluster.env ?? process.env;
  const tokenFile = join(inCluster.serviceAccountDir ?? defaultServiceAccountDir, 'token');
  const pod = !env.KUBERNETES_SERVICE_HOST
    ? 'not in a pod: KUBERNETES_SERVICE_HOST is not set'
    : !env.KUBERNETES_SERVICE_PORT
      ? 'KUBERNETES_SERVICE_HOST is set but KUBERNETES_SERVICE_PORT is not'
      : `KUBERNETES_SERVICE_HOST is set but there is no service account token at ${tokenFile}`;
  if (merged.files.length) {
    return new ConfigError(
      `the kubeconfig sets no current-context, so there is nothing to connect to (${pod}). ` +
        'Choose one with `kubectl config use-context NAME`, or pass { context: NAME }',
      { file: filesOf(merged), field: 'current-context' },
    );
  }
  const where = looked.length ? `looked for ${looked.join(', ')}` : 'no home folder to look in';
  return new ConfigError(
    `no Kubernetes configuration found (${where}; ${pod}). ` +
      'Set KUBECONFIG, create ~/.kube/config, pass { kubeconfig: path }, or run in a pod with a service account',
  );
}

/** Turns the chosen cluster and user into a RestConfig. Checks only what they use. */
async function toRestConfig(
  cluster: Origin<KubeconfigCluster>,
  user: Origin<KubeconfigUser> | undefined,
  serverOverride: string | undefined,
): Promise<RestConfig> {
  const c = cluster.value;
  const cPlace = (key: string): Place => ({
    file: cluster.file || undefined,
    field: cluster.name ? `clusters[${cluster.name}].cluster.${key}` : key,
  });
  const config: Partial<RestConfig> = {};

  // TLS towards the server.
  if (c['certificate-authority-data']) {
    config.caData = requireCertificatePem(
      decodeBase64(c['certificate-authority-data']),
      'certificate-authority-data',
      cPlace('certificate-authority-data'),
    );
  } else if (c['certificate-authority']) {
    const place = cPlace('certificate-authority');
    config.caData = requireCertificatePem(
      await readReferencedFile(c['certificate-authority'], 'certificate authority file', place),
      `file ${c['certificate-authority']}`,
      place,
    );
    config.caFile = c['certificate-authority'];
  }
  if (c['tls-server-name']) config.serverName = c['tls-server-name'];
  if (c['insecure-skip-tls-verify'] === true) {
    if (config.caData) {
      throw new ConfigError(
        'insecure-skip-tls-verify is true but a certificate authority is set too: keep one of them',
        cPlace('insecure-skip-tls-verify'),
      );
    }
    config.insecureSkipTLSVerify = true;
  }
  if (c['proxy-url']) config.proxyUrl = checkProxyUrl(c['proxy-url'], cPlace('proxy-url'));
  if (c['disable-compression'] === true) config.disableCompression = true;

  if (user) Object.assign(config, await userConfig(user, c));

  const server = serverOverride || c.server;
  if (!server) throw new ConfigError(`cluster "${cluster.name}" has no server`, cPlace('server'));
  const tlsHint = Boolean(config.caData || config.certData || config.insecureSkipTLSVerify);
  const host = normalizeServer(server, tlsHint, serverOverride ? { field: 'server' } : cPlace('server'));
  return { host, ...config };
}

async function userConfig(user: Origin<KubeconfigUser>, cluster: KubeconfigCluster): Promise<Partial<RestConfig>> {
  const u = user.value;
  const place = (key: string): Place => ({ file: user.file, field: `users[${user.name}].user.${key}` });
  const config: Partial<RestConfig> = {};

  const provider = u['auth-provider'];
  if (provider) {
    throw new ConfigError(
      `auth-provider "${provider.name}" is not supported: the in-tree auth providers (gcp, azure, oidc) were removed ` +
        'from Kubernetes. Use an exec credential plugin instead (gke-gcloud-auth-plugin, kubelogin, kubectl oidc-login, …)',
      place('auth-provider'),
    );
  }

  // Client certificate: data or file, never both, and always with its key.
  for (const [file, data] of [
    ['client-certificate', 'client-certificate-data'],
    ['client-key', 'client-key-data'],
  ] as const) {
    if (u[file] && u[data]) throw new ConfigError(`both ${file} and ${data} are set: keep one`, place(data));
  }
  const hasCert = Boolean(u['client-certificate'] || u['client-certificate-data']);
  const hasKey = Boolean(u['client-key'] || u['client-key-data']);
  if (hasCert !== hasKey) {
    throw new ConfigError(
      hasCert
        ? 'a client certificate needs its key (client-key or client-key-data)'
        : 'a client key needs its certificate (client-certificate or client-certificate-data)',
      place(hasCert ? 'client-key' : 'client-certificate'),
    );
  }
  if (hasCert) {
    config.certData = requireCertificatePem(
      u['client-certificate-data']
        ? decodeBase64(u['client-certificate-data'])
        : await readReferencedFile(u['client-certificate']!, 'client certificate file', place('client-certificate')),
      'client certificate',
      place(u['client-certificate-data'] ? 'client-certificate-data' : 'client-certificate'),
    );
    config.keyData = requirePrivateKeyPem(
      u['client-key-data']
        ? decodeBase64(u['client-key-data'])
        : await readReferencedFile(u['client-key']!, 'client key file', place('client-key')),
      'client key',
      place(u['client-key-data'] ? 'client-key-data' : 'client-key'),
    );
    // Files are re-read by the transport as they rotate (client-go: only when both are files).
    if (u['client-certificate'] && u['client-key']) {
      config.certFile = u['client-certificate'];
      config.keyFile = u['client-key'];
    }
  }

  // Tokens and basic authentication: one method only.
  if (u.token && u.tokenFile) throw new ConfigError('both token and tokenFile are set: keep one', place('tokenFile'));
  if ((u.token || u.tokenFile) && (u.username || u.password)) {
    throw new ConfigError(
      'more than one authentication method: a token and a username/password; keep one',
      place(u.token ? 'token' : 'tokenFile'),
    );
  }
  if (u.token) config.bearerToken = u.token;
  if (u.tokenFile) {
    const token = await readReferencedFile(u.tokenFile, 'token file', place('tokenFile'));
    if (!token.trim()) throw new ConfigError(`the token file ${u.tokenFile} is empty`, place('tokenFile'));
    config.bearerTokenFile = u.tokenFile;
  }
  if (u.username) config.username = u.username;
  if (u.password) config.password = u.password;

  if (u.exec) config.exec = execConfig(u.exec, cluster, place);

  const impersonate: ImpersonationConfig = {};
  if (u.as) impersonate.userName = u.as;
  if (u['as-uid']) impersonate.uid = u['as-uid'];
  if (u['as-groups']?.length) impersonate.groups = u['as-groups'];
  if (u['as-user-extra'] && Object.keys(u['as-user-extra']).length) impersonate.extra = u['as-user-extra'];
  if (Object.keys(impersonate).length) {
    if (!impersonate.userName) {
      throw new ConfigError('impersonating a uid, groups or extra needs a user to impersonate (as)', place('as'));
    }
    config.impersonate = impersonate;
  }
  return config;
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

/** Redacts `user:password@` in a URL before it goes into a message. */
const redactUserInfo = (url: string): string => url.replace(/\/\/[^/@]*@/, '//***@');

/**
 * The server as `scheme://host[:port][/prefix]`, without a trailing slash. A server without a scheme gets `https://`
 * when TLS is configured (CA, client certificate or insecure), else `http://`, as client-go does.
 */
function normalizeServer(server: string, tlsHint: boolean, place: Place): string {
  const text = /^[a-z][a-z0-9+.-]*:\/\//i.test(server) ? server : `${tlsHint ? 'https' : 'http'}://${server}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`server "${redactUserInfo(server)}" is not a URL (expected https://host:port)`, place);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`server "${redactUserInfo(server)}" must be an http:// or https:// URL`, place);
  }
  if (!url.hostname) throw new ConfigError(`server "${redactUserInfo(server)}" has no host`, place);
  if (url.username || url.password) {
    throw new ConfigError('server must not carry a user name or password; put credentials in the user entry', place);
  }
  if (url.search || url.hash) throw new ConfigError(`server "${server}" must not have a query or fragment`, place);
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

function checkProxyUrl(proxy: string, place: Place): string {
  let url: URL;
  try {
    url = new URL(proxy);
  } catch {
    throw new ConfigError(`proxy-url "${redactUserInfo(proxy)}" is not a URL`, place);
  }
  if (!['http:', 'https:', 'socks5:'].includes(url.protocol)) {
    throw new ConfigError(`proxy-url "${redactUserInfo(proxy)}" must use http, https or socks5`, place);
  }
  return proxy;
}
