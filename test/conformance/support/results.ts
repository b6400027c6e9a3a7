/**
 * What each side reports for a case, in one normalized shape (the oracle writes the same JSON), and the comparison
 * that turns two results into readable difference lines. Credentials are never held here in clear: tokens, passwords,
 * certificates and keys are digests.
 */
import { createHash } from 'node:crypto';

export interface KubeconfigResult {
  /** The stage that refused the configuration; absent when it loaded. */
  error?: string;
  host?: string;
  namespace?: string;
  tls: { ca?: string; cert?: string; key?: string; serverName?: string; insecure?: boolean };
  auth: {
    token?: string;
    tokenFile?: string;
    username?: string;
    password?: string;
    exec?: {
      command: string;
      args?: string[];
      env?: Record<string, string>;
      apiVersion: string;
      installHint?: string;
      interactiveMode?: string;
      provideClusterInfo?: boolean;
    };
    authProvider?: string;
  };
  impersonate?: { user?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  proxy?: string;
  timeoutMs?: number;
  disableCompression?: boolean;
}

export interface SelectorResult {
  error: boolean;
  string?: string;
  empty?: boolean;
  matches?: boolean[];
}

export interface QuantityResult {
  error: boolean;
  string?: string;
  value?: string;
  milliValue?: string;
  otherError?: boolean;
  cmp?: number;
  add?: string;
  sub?: string;
}

/** The first 16 hex digits of the SHA-256 of a text without surrounding white space (as the oracle computes it). */
export function digest(text: string): string {
  return createHash('sha256').update(text.trim(), 'utf8').digest('hex').slice(0, 16);
}

/** A URL as `scheme://host[:port][/path]`, lower-cased and without a default port or trailing slash. */
export function normalizeUrl(url: string | undefined): string | undefined {
  if (url === undefined || url === '') return undefined;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return `unparsable:${url}`;
  }
}

/**
 * Applies the rules both sides share before comparing: URLs normalized, and no TLS settings for a plain `http://`
 * server (they cannot apply; credentials there are still compared, since sending them is what matters).
 */
export function normalizeKubeconfig(r: KubeconfigResult): KubeconfigResult {
  if (r.error) return { error: r.error, tls: {}, auth: {} };
  const host = normalizeUrl(r.host);
  const out: KubeconfigResult = { ...r, tls: host?.startsWith('http:') ? {} : r.tls, auth: r.auth };
  if (host !== undefined) out.host = host;
  const proxy = normalizeUrl(r.proxy);
  if (proxy === undefined) delete out.proxy;
  else out.proxy = proxy;
  if (!out.timeoutMs) delete out.timeoutMs;
  if (!out.disableCompression) delete out.disableCompression;
  return out;
}

/** One field that differs: where, and each side's value as printable text. */
export interface Difference {
  field: string;
  clientGo: string;
  kubeloop: string;
}

const printable = (value: unknown): string => (value === undefined ? '(unset)' : JSON.stringify(value));

/** Leaf-by-leaf comparison of two JSON values; an error is compared as "refused or not", never by stage or text. */
export function compare(clientGo: unknown, kubeloop: unknown, path = ''): Difference[] {
  if (isObject(clientGo) && isObject(kubeloop)) {
    const keys = [...new Set([...Object.keys(clientGo), ...Object.keys(kubeloop)])].toSorted();
    return keys.flatMap((k) => compare(clientGo[k], kubeloop[k], path ? `${path}.${k}` : k));
  }
  if (JSON.stringify(clientGo) === JSON.stringify(kubeloop)) return [];
  return [{ field: path || '(value)', clientGo: printable(clientGo), kubeloop: printable(kubeloop) }];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Compares two kubeconfig results: refusal on one side only is one difference on `error`. */
export function compareKubeconfig(clientGo: KubeconfigResult, kubeloop: KubeconfigResult): Difference[] {
  const a = normalizeKubeconfig(clientGo);
  const b = normalizeKubeconfig(kubeloop);
  if (b.error?.startsWith('crash'))
    return [{ field: 'error', clientGo: printable(a.error ?? null), kubeloop: printable(b.error) }];
  if (a.error || b.error) {
    return Boolean(a.error) === Boolean(b.error)
      ? []
      : [
          {
            field: 'error',
            clientGo: a.error ? `refused (${a.error})` : 'accepted',
            kubeloop: b.error ? `refused (${b.error})` : 'accepted',
          },
        ];
  }
  return compare(a, b);
}

function compareRefusal(clientGo: { error: boolean }, kubeloop: { error: boolean }): Difference[] {
  if (clientGo.error === kubeloop.error) return [];
  return [
    {
      field: 'error',
      clientGo: clientGo.error ? 'refused' : 'accepted',
      kubeloop: kubeloop.error ? 'refused' : 'accepted',
    },
  ];
}

/** Compares two selector results; a match that differs names the set it was matched against. */
export function compareSelector(
  clientGo: SelectorResult,
  kubeloop: SelectorResult,
  sets: Record<string, string>[],
): Difference[] {
  if (clientGo.error || kubeloop.error) return compareRefusal(clientGo, kubeloop);
  const { matches: a = [], ...restA } = clientGo;
  const { matches: b = [], ...restB } = kubeloop;
  const diffs = compare(restA, restB);
  sets.forEach((set, i) => {
    if (a[i] !== b[i])
      diffs.push({
        field: `matches[${i}] ${JSON.stringify(set)}`,
        clientGo: printable(a[i]),
        kubeloop: printable(b[i]),
      });
  });
  return diffs;
}

/** Compares two Quantity results. */
export function compareQuantity(clientGo: QuantityResult, kubeloop: QuantityResult): Difference[] {
  if (clientGo.error || kubeloop.error) return compareRefusal(clientGo, kubeloop);
  return compare(clientGo, kubeloop);
}

/** A difference as one line for a test failure or report. */
export const formatDifference = (id: string, d: Difference): string =>
  `${id}: ${d.field}: client-go ${d.clientGo}, kubeloop ${d.kubeloop}`;
