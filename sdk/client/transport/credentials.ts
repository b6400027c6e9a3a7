import { printable, sharedExecCredentialSource } from '../auth/exec.js';
import { createTokenFileSource } from '../auth/token-file.js';
import type { RestConfig } from '../config/types.js';

/** What authenticates one request: headers, and possibly a client certificate for the TLS connection. */
export interface RequestCredentials {
  /** Header values given as arrays go out as repeated header lines (Impersonate-Group). */
  headers: Record<string, string | string[]>;
  certData?: string;
  keyData?: string;
}

/**
 * The credentials of a RestConfig, in the order client-go applies them: a token file (re-read as it rotates), else a
 * static bearer token, else basic auth when a user name is set (a password alone sends nothing); a static client
 * certificate in every case. An exec plugin runs only when none of those is set, as client-go never runs it next to
 * a token, a user name or a client certificate. Impersonation headers come on top.
 */
export interface CredentialProvider {
  /** The credentials; a wait for an exec plugin ends when `signal` aborts (its run goes on for other requests). */
  get(signal?: AbortSignal): Promise<RequestCredentials>;
  /** What `get` may wait for, for error messages (`the exec plugin NAME`); undefined when it never waits long. */
  readonly waitingFor?: string;
  /** The server said 401: drop cached credentials. True if fetching them again may help (then retry once). */
  invalidate(): boolean;
}

export function createCredentialProvider(config: RestConfig): CredentialProvider {
  const impersonation = impersonationHeaders(config);
  // A certificate read from files comes from the transport, which re-reads them as they rotate.
  const fromFiles = Boolean(config.certFile && config.keyFile);
  const staticCert =
    !fromFiles && config.certData && config.keyData ? { certData: config.certData, keyData: config.keyData } : {};
  const otherAuth = Boolean(
    config.bearerToken || config.bearerTokenFile || config.username || staticCert.certData || fromFiles,
  );
  if (config.exec && !otherAuth) {
    const exec = sharedExecCredentialSource(config.exec, {
      server: config.host,
      ...(config.caData && { caData: config.caData }),
      ...(config.serverName && { serverName: config.serverName }),
      ...(config.insecureSkipTLSVerify && { insecureSkipTLSVerify: true }),
    });
    return {
      waitingFor: `the exec plugin ${printable(config.exec.command)}`,
      async get(signal) {
        const cred = await exec.credential(signal);
        const headers = { ...impersonation, ...(cred.token && { authorization: `Bearer ${cred.token}` }) };
        return cred.certData && cred.keyData
          ? { headers, certData: cred.certData, keyData: cred.keyData }
          : { headers, ...staticCert };
      },
      invalidate() {
        exec.invalidate();
        return true;
      },
    };
  }
  if (config.bearerTokenFile) {
    const file = createTokenFileSource(config.bearerTokenFile);
    return {
      async get() {
        return { headers: { ...impersonation, authorization: `Bearer ${await file.token()}` }, ...staticCert };
      },
      invalidate() {
        file.invalidate();
        return true;
      },
    };
  }
  let auth: Record<string, string> = {};
  if (config.bearerToken) auth = { authorization: `Bearer ${config.bearerToken}` };
  else if (config.username) {
    const basic = Buffer.from(`${config.username}:${config.password ?? ''}`).toString('base64');
    auth = { authorization: `Basic ${basic}` };
  }
  const fixed: RequestCredentials = { headers: { ...impersonation, ...auth }, ...staticCert };
  const resolved = Promise.resolve(fixed);
  return { get: () => resolved, invalidate: () => false };
}

function impersonationHeaders(config: RestConfig): Record<string, string | string[]> {
  const as = config.impersonate;
  if (!as) return {};
  const headers: Record<string, string | string[]> = {};
  if (as.userName) headers['impersonate-user'] = as.userName;
  if (as.uid) headers['impersonate-uid'] = as.uid;
  // One header line per value: the server reads each line as one group (or extra value).
  if (as.groups?.length) headers['impersonate-group'] = [...as.groups];
  for (const [key, values] of Object.entries(as.extra ?? {})) {
    headers[`impersonate-extra-${encodeURIComponent(key)}`] = [...values];
  }
  return headers;
}
