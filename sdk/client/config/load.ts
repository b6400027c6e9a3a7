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
import { readReferencedFile, requireCertificatePem } from './internal/files.js';
import {
  overrideCluster,
  overrideUser,
  overridesUser,
  type ConfigOverrides,
  type ImpersonateOverride,
} from './internal/overrides.js';
import { toRestConfig } from './internal/rest-config.js';
import {
  loadKubeconfig,
  type Kubeconfig,
  type KubeconfigCluster,
  type KubeconfigContext,
  type KubeconfigUser,
} from './kubeconfig.js';
import type { RestConfig } from './types.js';

export type { ImpersonateOverride };

/**
 * Where to find the configuration, and kubectl's overrides on top of it. The overrides have kubectl's flag names
 * (camel-cased) and client-go's `ConfigOverrides` precedence: one that is set replaces the kubeconfig's value, one
 * that is unset leaves it. Relative file paths resolve against the working directory, as kubectl's flags do.
 */
export interface LoadConfigOptions {
  /**
   * A kubeconfig file to use alone; it must exist. Default: the files in `$KUBECONFIG` (merged), else
   * `~/.kube/config`, else the in-cluster configuration.
   */
  kubeconfig?: string;
  /** Use this context instead of the kubeconfig's `current-context` (`--context`). Default: `current-context`. */
  context?: string;
  /** Use this cluster (by name) instead of the context's (`--cluster`). Default: the context's. */
  cluster?: string;
  /** Use this user (by name) instead of the context's (`--user`). Default: the context's. */
  user?: string;
  /** Use this namespace instead of the context's (`--namespace`). Default: the context's, else `default`. */
  namespace?: string;
  /**
   * Use this API server URL instead of the cluster's (`--server`). It also clears the cluster's `tls-server-name`
   * (another server has another certificate) unless `tlsServerName` is given, as kubectl does. Default: the cluster's.
   */
  server?: string;
  /**
   * A bearer token (`--token`). Default: the user's. It replaces the user's `tokenFile` too; together with the
   * user's username/password it is an error (two methods), and it keeps an exec plugin from running, as in kubectl.
   */
  token?: string;
  /** User name for basic authentication (`--username`). Default: the user's. */
  username?: string;
  /** Password for basic authentication (`--password`); sent only with a user name. Default: the user's. */
  password?: string;
  /** Path of a PEM client certificate (`--client-certificate`); replaces the user's certificate. Default: the user's. */
  clientCertificate?: string;
  /** Path of the PEM key of the client certificate (`--client-key`); replaces the user's key. Default: the user's. */
  clientKey?: string;
  /**
   * Path of a PEM CA bundle (`--certificate-authority`). It replaces the cluster's CA data, CA file and
   * insecure-skip-tls-verify (unless `insecureSkipTLSVerify` is true too). Default: the cluster's.
   */
  certificateAuthority?: string;
  /**
   * Skip verification of the server's certificate (`--insecure-skip-tls-verify`). `true` drops the cluster's CA, as
   * kubectl does; `false` (like leaving it out) keeps the cluster's setting. Default: the cluster's.
   */
  insecureSkipTLSVerify?: boolean;
  /** Name to verify the server's certificate against (`--tls-server-name`). Default: the cluster's (see `server`). */
  tlsServerName?: string;
  /** Proxy for every request, `http://`, `https://` or `socks5://` (`--proxy-url`). Default: the cluster's. */
  proxyUrl?: string;
  /**
   * Timeout of a single request in milliseconds (`--request-timeout`, there in seconds or with a unit); 0 means
   * none. Becomes `RestConfig.timeoutMs`. Default: 0.
   */
  requestTimeoutMs?: number;
  /**
   * Act as another user (`--as`, `--as-uid`, `--as-group`, `--as-user-extra`). Each part that is set replaces the
   * user's (`as`, `as-uid`, `as-groups`); `extra` is merged key by key over the user's `as-user-extra`. A uid, groups
   * or extra need a user name, from here or the kubeconfig. Note the name `user`, where RestConfig's
   * `ImpersonationConfig` says `userName`. Default: the kubeconfig user's impersonation.
   */
  impersonate?: ImpersonateOverride;
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
 *    in-cluster configuration, if `KUBERNETES_SERVICE_HOST`/`_PORT` are set and a token file exists. There the
 *    `token` and `certificateAuthority` overrides apply, as in client-go, and (deliberately, client-go ignores
 *    them) `requestTimeoutMs` and `impersonate`; the others are ignored, as in client-go.
 * `context`, `cluster`, `user`, `namespace`, `server` and the other overrides (kubectl's flags, see
 * {@link LoadConfigOptions}) replace what the kubeconfig says, with client-go's precedence.
 *
 * Guarantees, as clientcmd's `ClientConfig()`: the RestConfig carries PEM text for the CA and client certificate
 * (read from files or decoded from `*-data`), `bearerTokenFile` rather than the token for token files, `exec` with
 * the cluster's `client.authentication.k8s.io/exec` extension as `config`, and `insecureSkipTLSVerify` only when
 * the kubeconfig or an override says `true`. Credentials and TLS settings are kept only for an `https://` server: a
 * plain `http://` one, or one without a scheme (`host:6443` is `http://`, as in client-go), gets none. An exec plugin
 * is kept only when no token, token file, user name or client certificate is set (client-go never runs it then); a
 * password without a user name and a client key without a certificate are ignored, as in client-go. Only the chosen
 * context, cluster and user are checked, so broken unused entries do no harm.
 *
 * Errors: a {@link ConfigError} naming the file and field at fault (an override's field is `options.<name>`): a
 * missing explicit kubeconfig; an unreadable or malformed one anywhere in the list; an unknown context, cluster or
 * user; a context whose cluster or user does not exist; a missing or invalid server; unreadable CA, certificate,
 * key or token files, or an empty token file; CA data together with a CA file; a client certificate without its
 * key, or with another pair's key; `token` together with `tokenFile`; two authentication methods; an
 * `auth-provider`; an invalid exec plugin; a negative `requestTimeoutMs`. When nothing is found at all, the error
 * says where it looked and what to do. Credentials and URL query strings never appear in messages.
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

/** The context: asked for, or the current one; none when neither is set. */
function chooseContext(
  merged: MergedKubeconfig,
  looked: string[],
  options: LoadConfigOptions,
): Origin<KubeconfigContext> | undefined {
  if (options.context) {
    const context = merged.contexts.get(options.context);
    if (!context) {
      throw new ConfigError(`context "${options.context}" not found (${known(merged.contexts)})`, {
        file: filesOf(merged) ?? looked.join(', '),
        field: 'contexts',
      });
    }
    return context;
  }
  const current = merged.currentContext;
  if (!current) return undefined;
  const context = merged.contexts.get(current.value);
  if (!context) {
    throw new ConfigError(
      `current-context is "${current.value}", but no context has that name (${known(merged.contexts)})`,
      { file: current.file, field: 'current-context' },
    );
  }
  return context;
}

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

  const context = chooseContext(merged, looked, options);
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

  const overrides = overridesOf(options);
  if (!cluster && !options.server) {
    // Nothing chosen: client-go's "empty config", where the in-cluster configuration takes over.
    if (await inClusterPossible(inCluster)) {
      return {
        config: await inClusterWithOverrides(inCluster, overrides, options),
        namespace: options.namespace || (await inClusterNamespace(inCluster)),
      };
    }
    throw nothingFound(merged, looked, inCluster);
  }

  const effectiveUser = user || overridesUser(overrides) ? overrideUser(user, overrides) : undefined;
  const config = await toRestConfig(overrideCluster(cluster, overrides), effectiveUser);
  const timeoutMs = requestTimeout(options);
  return {
    config: timeoutMs ? { ...config, timeoutMs } : config,
    namespace: options.namespace || context?.value.namespace || 'default',
    ...(context && { context: context.name }),
  };
}

function overridesOf(o: LoadConfigOptions): ConfigOverrides {
  return {
    server: o.server,
    token: o.token,
    username: o.username,
    password: o.password,
    clientCertificate: o.clientCertificate,
    clientKey: o.clientKey,
    certificateAuthority: o.certificateAuthority,
    insecureSkipTLSVerify: o.insecureSkipTLSVerify,
    tlsServerName: o.tlsServerName,
    proxyUrl: o.proxyUrl,
    impersonate: o.impersonate,
  };
}

function requestTimeout(options: LoadConfigOptions): number {
  const ms = options.requestTimeoutMs ?? 0;
  if (!Number.isFinite(ms) || ms < 0) {
    throw new ConfigError('requestTimeoutMs must be a number of milliseconds, 0 or more', {
      field: 'options.requestTimeoutMs',
    });
  }
  return ms;
}

/**
 * The in-cluster configuration with the overrides client-go applies there (a token, replacing the token file; a CA
 * file), and two it ignores but kubeloop applies on purpose: the request timeout and impersonation. The others
 * (client certificate, basic auth, insecure, tls-server-name, proxy) are ignored, as in client-go.
 */
async function inClusterWithOverrides(
  inCluster: InClusterOptions,
  overrides: ConfigOverrides,
  options: LoadConfigOptions,
): Promise<RestConfig> {
  const { bearerTokenFile, ...config } = await inClusterConfig(inCluster);
  const out: RestConfig = overrides.token
    ? { ...config, bearerToken: overrides.token }
    : { ...config, bearerTokenFile };
  if (overrides.certificateAuthority) {
    const place = { field: 'options.certificateAuthority' };
    const text = await readReferencedFile(overrides.certificateAuthority, 'certificate authority file', place);
    out.caData = requireCertificatePem(text, `file ${overrides.certificateAuthority}`, place);
    out.caFile = overrides.certificateAuthority;
  }
  const as = overrides.impersonate;
  if (as && (as.user || as.uid || as.groups?.length || (as.extra && Object.keys(as.extra).length))) {
    if (!as.user) {
      throw new ConfigError('impersonating a uid, groups or extra needs a user to impersonate', {
        field: 'options.impersonate.user',
      });
    }
    out.impersonate = {
      userName: as.user,
      ...(as.uid && { uid: as.uid }),
      ...(as.groups?.length && { groups: [...as.groups] }),
      ...(as.extra && Object.keys(as.extra).length && { extra: { ...as.extra } }),
    };
  }
  const timeoutMs = requestTimeout(options);
  return timeoutMs ? { ...out, timeoutMs } : out;
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
