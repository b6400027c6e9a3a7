/**
 * kubectl's flags on top of the kubeconfig's entries, with clientcmd's precedence: an override that is set replaces
 * the entry's field; one that is unset (or false, or empty) leaves it alone. A few overrides clear related fields, as
 * clientcmd does: a certificate authority or insecure-skip-tls-verify clears the other TLS trust settings, a server
 * clears tls-server-name unless one is given, a client certificate or key file clears the matching `*-data`.
 */
import type { KubeconfigCluster, KubeconfigUser } from '../kubeconfig.js';
import type { Place } from './files.js';

/** The overrides, by `LoadConfigOptions`' names (see there for what each does). */
export interface ConfigOverrides {
  server?: string | undefined;
  token?: string | undefined;
  username?: string | undefined;
  password?: string | undefined;
  clientCertificate?: string | undefined;
  clientKey?: string | undefined;
  certificateAuthority?: string | undefined;
  insecureSkipTLSVerify?: boolean | undefined;
  tlsServerName?: string | undefined;
  proxyUrl?: string | undefined;
  impersonate?: ImpersonateOverride | undefined;
}

/** Who to act as, as kubectl's `--as`, `--as-uid`, `--as-group` and `--as-user-extra` say. */
export interface ImpersonateOverride {
  /** `--as`: the user name to act as. */
  user?: string;
  /** `--as-uid`. */
  uid?: string;
  /** `--as-group`, repeated. */
  groups?: string[];
  /** `--as-user-extra key=value`, repeated; merged over the kubeconfig's `as-user-extra`, key by key. */
  extra?: Record<string, string[]>;
}

/** A kubeconfig entry (or nothing) with overrides applied, and where each field came from, for error messages. */
export interface Entry<T> {
  /** The entry's name in the kubeconfig; '' when the kubeconfig has none (only overrides, or no user). */
  name: string;
  value: T;
  place(key: string): Place;
}

/** A kubeconfig entry as the loading rules found it. */
export interface Found<T> {
  name: string;
  value: T;
  file: string;
}

type Setter<T> = <K extends keyof T & string>(key: K, option: string, value: T[K] | undefined) => void;

function entry<T extends object>(
  found: Found<T> | undefined,
  list: 'clusters' | 'users',
  apply: (set: Setter<T>, current: T) => void,
): Entry<T> {
  const value = { ...found?.value } as T;
  const fromOption = new Map<string, string>();
  apply((key, option, v) => {
    if (v === undefined) delete value[key];
    else value[key] = v;
    fromOption.set(key, option);
  }, value);
  const item = list === 'clusters' ? 'cluster' : 'user';
  return {
    name: found?.name ?? '',
    value,
    place: (key) => {
      const option = fromOption.get(key);
      if (option) return { field: `options.${option}` };
      return { file: found?.file || undefined, field: found ? `${list}[${found.name}].${item}.${key}` : key };
    },
  };
}

/** The cluster with the overrides that concern it (server identity, proxy). */
export function overrideCluster(
  found: Found<KubeconfigCluster> | undefined,
  o: ConfigOverrides,
): Entry<KubeconfigCluster> {
  return entry(found, 'clusters', (set) => {
    if (o.server) set('server', 'server', o.server);
    if (o.proxyUrl) set('proxy-url', 'proxyUrl', o.proxyUrl);
    // A CA or insecure override replaces all TLS trust settings, so the kubeconfig's CA cannot clash with insecure.
    if (o.insecureSkipTLSVerify === true || o.certificateAuthority) {
      const option = o.certificateAuthority ? 'certificateAuthority' : 'insecureSkipTLSVerify';
      set('insecure-skip-tls-verify', 'insecureSkipTLSVerify', o.insecureSkipTLSVerify === true ? true : undefined);
      set('certificate-authority', option, o.certificateAuthority || undefined);
      set('certificate-authority-data', option, undefined);
    }
    // Another server most likely has another certificate: its name is the override's, or none.
    if (o.tlsServerName || o.server) {
      set('tls-server-name', o.tlsServerName ? 'tlsServerName' : 'server', o.tlsServerName || undefined);
    }
  });
}

/** The user with the overrides that concern it (credentials, impersonation). */
export function overrideUser(found: Found<KubeconfigUser> | undefined, o: ConfigOverrides): Entry<KubeconfigUser> {
  return entry(found, 'users', (set, current) => {
    if (o.token) {
      set('token', 'token', o.token);
      // kubectl means --token to replace a token file (it clears the field); clientcmd's merge cannot clear it.
      set('tokenFile', 'token', undefined);
    }
    if (o.username) set('username', 'username', o.username);
    if (o.password) set('password', 'password', o.password);
    if (o.clientCertificate) {
      set('client-certificate', 'clientCertificate', o.clientCertificate);
      set('client-certificate-data', 'clientCertificate', undefined);
    }
    if (o.clientKey) {
      set('client-key', 'clientKey', o.clientKey);
      set('client-key-data', 'clientKey', undefined);
    }
    const as = o.impersonate;
    if (as?.user) set('as', 'impersonate.user', as.user);
    if (as?.uid) set('as-uid', 'impersonate.uid', as.uid);
    if (as?.groups?.length) set('as-groups', 'impersonate.groups', [...as.groups]);
    if (as?.extra && Object.keys(as.extra).length) {
      set('as-user-extra', 'impersonate.extra', { ...current['as-user-extra'], ...as.extra });
    }
  });
}

/** Whether any override concerns the user (so a user entry exists even when the context names none). */
export function overridesUser(o: ConfigOverrides): boolean {
  const as = o.impersonate;
  return Boolean(
    o.token ||
    o.username ||
    o.password ||
    o.clientCertificate ||
    o.clientKey ||
    as?.user ||
    as?.uid ||
    as?.groups?.length ||
    (as?.extra && Object.keys(as.extra).length),
  );
}
