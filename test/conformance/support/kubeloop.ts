/**
 * kubeloop's side of the differential suite: each case run through kubeloop's public API and reported in the shape
 * of support/results.ts. kubectl's flags become `LoadConfigOptions` in one place, {@link optionsFromFlags}.
 */
import { readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { parseLabelSelector } from '../../../sdk/cache/index.js';
import * as client from '../../../sdk/client/index.js';
import { printable } from '../../../sdk/client/auth/exec.js';
import {
  loadClientConfig,
  parseFieldSelector,
  parseQuantity,
  type FieldSelector,
  type ImpersonateOverride,
  type LoadConfigOptions,
  type QuantityValue,
  type RestConfig,
} from '../../../sdk/client/index.js';
import { fake } from '../corpus/fixtures.js';
import { digest, type KubeconfigResult, type QuantityResult, type SelectorResult } from './results.js';

/** A kubeconfig case with its paths made absolute: what both sides are given. */
export interface PreparedCase {
  id: string;
  dir: string;
  explicitPath?: string;
  kubeconfigEnv?: string;
  flags?: Record<string, string[]>;
}

/** A flag value kubectl itself would refuse. */
class FlagError extends Error {}

/** kubectl's `--request-timeout`: whole seconds, or a Go duration (`1m30s`, `250ms`); in milliseconds. */
export function parseRequestTimeout(text: string): number {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== text) throw new FlagError(`--request-timeout ${text}`);
  return parts.reduce((ms, p) => ms + Number(p[1]) * (units[p[2] ?? ''] ?? 0), 0);
}

/**
 * kubectl's override flags (by name, each with its values in order) as kubeloop's `LoadConfigOptions`: the one
 * adapter between the two vocabularies.
 */
export function optionsFromFlags(flags: Record<string, string[]>): LoadConfigOptions {
  const options: LoadConfigOptions = {};
  const impersonate: ImpersonateOverride = {};
  const plain: Record<
    string,
    | 'server'
    | 'context'
    | 'cluster'
    | 'user'
    | 'namespace'
    | 'token'
    | 'username'
    | 'password'
    | 'clientCertificate'
    | 'clientKey'
    | 'certificateAuthority'
    | 'tlsServerName'
    | 'proxyUrl'
  > = {
    server: 'server',
    context: 'context',
    cluster: 'cluster',
    user: 'user',
    namespace: 'namespace',
    token: 'token',
    username: 'username',
    password: 'password',
    'client-certificate': 'clientCertificate',
    'client-key': 'clientKey',
    'certificate-authority': 'certificateAuthority',
    'tls-server-name': 'tlsServerName',
    'proxy-url': 'proxyUrl',
  };
  for (const [flag, values] of Object.entries(flags)) {
    const last = values.at(-1) ?? '';
    const option = plain[flag];
    if (option) options[option] = last;
    else if (flag === 'insecure-skip-tls-verify') {
      if (!['', 'true', 'false'].includes(last)) throw new FlagError(`--${flag}=${last}`);
      options.insecureSkipTLSVerify = last !== 'false';
    } else if (flag === 'request-timeout') options.requestTimeoutMs = parseRequestTimeout(last);
    else if (flag === 'as') impersonate.user = last;
    else if (flag === 'as-uid') impersonate.uid = last;
    else if (flag === 'as-group') impersonate.groups = [...values];
    else if (flag === 'as-user-extra') {
      impersonate.extra = {};
      for (const kv of values) {
        const eq = kv.indexOf('=');
        if (eq < 0) throw new FlagError(`--as-user-extra ${kv}`);
        (impersonate.extra[kv.slice(0, eq)] ??= []).push(kv.slice(eq + 1));
      }
    } else throw new FlagError(`--${flag} has no kubeloop option`);
  }
  if (Object.keys(impersonate).length) options.impersonate = impersonate;
  return options;
}

/** Which fake credential of the corpus an error's message (or its cause's) shows, if any. */
function leakedCredential(err: unknown): string | undefined {
  const texts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause) texts.push(e.message);
  const text = texts.join('\n');
  const secrets: [string, string][] = [...Object.entries(fake), ['a private key', 'PRIVATE KEY-----']];
  return secrets.find(([, value]) => text.includes(value))?.[0];
}

const relative = (path: string, dir: string): string =>
  path.startsWith(`${dir}/`) ? `$DIR${path.slice(dir.length)}` : path;

/** What kubeloop's loadClientConfig makes of a case, normalized as the oracle normalizes client-go's. */
export async function kubeloopKubeconfig(c: PreparedCase): Promise<KubeconfigResult> {
  let options: LoadConfigOptions;
  try {
    options = optionsFromFlags(c.flags ?? {});
  } catch (err) {
    if (err instanceof FlagError) return { error: 'flags', tls: {}, auth: {} };
    throw err;
  }
  const env: NodeJS.ProcessEnv = { HOME: join(c.dir, 'no-home') };
  if (c.kubeconfigEnv !== undefined) env.KUBECONFIG = c.kubeconfigEnv;
  try {
    const loaded = await loadClientConfig({
      ...options,
      ...(c.explicitPath && { kubeconfig: c.explicitPath }),
      env,
      serviceAccountDir: join(c.dir, 'no-service-account'),
    });
    return { ...fromRestConfig(loaded.config, c.dir), namespace: loaded.namespace };
  } catch (err) {
    const leaked = leakedCredential(err);
    if (leaked) return { error: `crash: the error message shows ${leaked}`, tls: {}, auth: {} };
    if (err instanceof client.ConfigError) return { error: 'load', tls: {}, auth: {} };
    if (client.isKubeloopError(err)) return { error: `load:${err.code}`, tls: {}, auth: {} };
    return { error: `crash: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, tls: {}, auth: {} };
  }
}

/** The PEM text a config uses: its data, else its file's content now. */
const pem = (data: string | undefined, file: string | undefined): string | undefined =>
  data || (file ? readFileSync(file, 'utf8') : undefined);

function fromRestConfig(config: RestConfig, dir: string): KubeconfigResult {
  const r: KubeconfigResult = { host: config.host, tls: {}, auth: {} };
  const [ca, cert, key] = [
    pem(config.caData, config.caFile),
    pem(config.certData, config.certFile),
    pem(config.keyData, config.keyFile),
  ];
  if (ca) r.tls.ca = digest(ca);
  if (cert) r.tls.cert = digest(cert);
  if (key) r.tls.key = digest(key);
  if (config.serverName) r.tls.serverName = config.serverName;
  if (config.insecureSkipTLSVerify) r.tls.insecure = true;
  if (config.bearerTokenFile) r.auth.tokenFile = relative(config.bearerTokenFile, dir);
  else if (config.bearerToken) r.auth.token = digest(config.bearerToken);
  if (config.username) r.auth.username = config.username;
  if (config.password) r.auth.password = digest(config.password);
  const e = config.exec;
  if (e) {
    // kubeloop's plugin runner applies v1beta1's default, IfAvailable, when it runs; client-go's loader sets it.
    const mode = e.interactiveMode ?? (e.apiVersion.endsWith('/v1beta1') ? 'IfAvailable' : undefined);
    r.auth.exec = {
      command: relative(e.command, dir),
      apiVersion: e.apiVersion,
      ...(e.args?.length && { args: e.args }),
      ...(e.env?.length && { env: Object.fromEntries(e.env.map((v) => [v.name, v.value])) }),
      // kubeloop keeps the hint as written and escapes it where it prints it; client-go escapes it at load.
      ...(e.installHint && { installHint: printable(e.installHint) }),
      ...(mode && { interactiveMode: mode }),
      ...(e.provideClusterInfo && { provideClusterInfo: true }),
    };
  }
  const i = config.impersonate;
  if (i && (i.userName || i.uid || i.groups?.length || (i.extra && Object.keys(i.extra).length))) {
    r.impersonate = {
      ...(i.userName && { user: i.userName }),
      ...(i.uid && { uid: i.uid }),
      ...(i.groups?.length && { groups: i.groups }),
      ...(i.extra && Object.keys(i.extra).length && { extra: i.extra }),
    };
  }
  if (config.proxyUrl) r.proxy = config.proxyUrl;
  if (config.timeoutMs) r.timeoutMs = config.timeoutMs;
  if (config.disableCompression) r.disableCompression = true;
  return r;
}

/** kubeloop's label selector (kubeloop/cache parseLabelSelector) on one selector and the label sets. */
export function kubeloopLabelSelector(selector: string, sets: Record<string, string>[]): SelectorResult {
  let parsed: ReturnType<typeof parseLabelSelector>;
  try {
    parsed = parseLabelSelector(selector);
  } catch {
    return { error: true };
  }
  return {
    error: false,
    string: parsed.toString(),
    ...(parsed.empty && { empty: true }),
    matches: sets.map((s) => parsed.matches(s)),
  };
}

/** kubeloop's field selector (kubeloop/client parseFieldSelector) on one selector and the field sets. */
export function kubeloopFieldSelector(selector: string, sets: Record<string, string>[]): SelectorResult {
  let parsed: FieldSelector;
  try {
    parsed = parseFieldSelector(selector);
  } catch {
    return { error: true };
  }
  return {
    error: false,
    string: parsed.toString(),
    ...(parsed.empty() && { empty: true }),
    matches: sets.map((s) => parsed.matches(s)),
  };
}

/** kubeloop's Quantity (kubeloop/client parseQuantity): its text, value, milli-value, and arithmetic with `other`. */
export function kubeloopQuantity(value: string, other: string | undefined): QuantityResult {
  let q: QuantityValue;
  try {
    q = parseQuantity(value);
  } catch {
    return { error: true };
  }
  const r: QuantityResult = {
    error: false,
    string: q.toString(),
    value: String(q.value()),
    milliValue: String(q.milliValue()),
  };
  if (other === undefined) return r;
  let o: QuantityValue;
  try {
    o = parseQuantity(other);
  } catch {
    return { ...r, otherError: true };
  }
  return { ...r, cmp: q.cmp(o), add: q.add(o).toString(), sub: q.sub(o).toString() };
}

/** The KUBECONFIG list separator of this platform. */
export const listDelimiter = delimiter;
