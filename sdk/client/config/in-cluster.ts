/** The configuration of a process running in a pod: its service account and the `kubernetes` Service. */
import { readFile, stat } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';
import { describeFileError, requireCertificatePem } from './internal/files.js';
import type { RestConfig } from './types.js';

/** Where Kubernetes mounts a pod's service account token, CA bundle and namespace. */
export const defaultServiceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface InClusterOptions {
  /** Folder holding `token`, `ca.crt` and `namespace`. Default: `/var/run/secrets/kubernetes.io/serviceaccount`. */
  serviceAccountDir?: string;
  /** Environment to read `KUBERNETES_SERVICE_HOST`/`_PORT` (and `POD_NAMESPACE`) from. Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/**
 * The RestConfig of a pod: `https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT` (an IPv6 host in brackets),
 * the service account token as `bearerTokenFile`, and the cluster CA from `ca.crt`.
 *
 * Guarantees: the token is referenced by path, never copied into the config, so the transport re-reads it as the
 * kubelet rotates it; the token file was readable and non-empty when this returned. `ca.crt`, when present, is named
 * in `caFile` too, so a CA bundle rotated in the cluster (the kubelet updates the file) is used by new connections.
 *
 * Errors: a {@link ConfigError} when either variable is unset (not running in a pod), the port is not a port number,
 * the token file is missing, unreadable or empty, or `ca.crt` exists but cannot be read or holds no certificate.
 *
 * Caveats: as in client-go, a missing `ca.crt` is not an error; the server's certificate is then checked against
 * the system's roots.
 */
export async function inClusterConfig(options: InClusterOptions = {}): Promise<RestConfig> {
  const env = options.env ?? process.env;
  const dir = options.serviceAccountDir ?? defaultServiceAccountDir;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new ConfigError(
      'not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set (Kubernetes sets them in every pod)',
      { field: host ? 'KUBERNETES_SERVICE_PORT' : 'KUBERNETES_SERVICE_HOST' },
    );
  }
  if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) {
    throw new ConfigError(`KUBERNETES_SERVICE_PORT is "${port}", not a port number`, {
      field: 'KUBERNETES_SERVICE_PORT',
    });
  }
  const hostPart = isIP(host) === 6 ? `[${host}]` : host;

  const tokenFile = join(dir, 'token');
  let token: string;
  try {
    token = await readFile(tokenFile, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the service account token: ${describeFileError(err)}`, {
      file: tokenFile,
      cause: err,
    });
  }
  if (!token.trim()) throw new ConfigError('the service account token file is empty', { file: tokenFile });

  const caFile = join(dir, 'ca.crt');
  let caData: string | undefined;
  try {
    caData = requireCertificatePem(await readFile(caFile, 'utf8'), 'service account CA bundle', { file: caFile });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError(`cannot read the service account CA bundle: ${describeFileError(err)}`, {
        file: caFile,
        cause: err,
      });
    }
  }
  return {
    host: `https://${hostPart}:${port}`,
    bearerTokenFile: tokenFile,
    ...(caData !== undefined && { caData, caFile }),
  };
}

/**
 * The namespace a pod runs in: `$POD_NAMESPACE` if set (the downward API), else the service account's `namespace`
 * file, else `'default'`. As client-go's in-cluster client config.
 */
export async function inClusterNamespace(options: InClusterOptions = {}): Promise<string> {
  const env = options.env ?? process.env;
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    const ns = (
      await readFile(join(options.serviceAccountDir ?? defaultServiceAccountDir, 'namespace'), 'utf8')
    ).trim();
    if (ns) return ns;
  } catch {
    // no namespace file: the default namespace, as in client-go
  }
  return 'default';
}

/** True if {@link inClusterConfig} can be attempted: both variables set and a token file present (client-go's test). */
export async function inClusterPossible(options: InClusterOptions = {}): Promise<boolean> {
  const env = options.env ?? process.env;
  if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) return false;
  try {
    await stat(join(options.serviceAccountDir ?? defaultServiceAccountDir, 'token'));
    return true;
  } catch {
    return false;
  }
}
