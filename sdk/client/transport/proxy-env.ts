/**
 * The proxy the environment asks for, by the rules of Go's `http.ProxyFromEnvironment` (which client-go uses).
 */
import { BlockList, isIP } from 'node:net';

/**
 * The proxy URL for a request to `url`, from `HTTPS_PROXY`/`https_proxy` (https URLs) or `HTTP_PROXY`/`http_proxy`
 * (http URLs), unless `NO_PROXY`/`no_proxy` exempts the host. The upper-case name wins when both are set and non-empty.
 *
 * `NO_PROXY` is a comma- or space-separated list; each entry is one of:
 * - `*`: no proxy for any host;
 * - a host name, `example.com`: that host and its subdomains; `.example.com` or `*.example.com`: subdomains only;
 * - an IP address, `10.1.2.3` or `fd00::1` (IPv6 with or without brackets): that address;
 * - a CIDR block, `10.0.0.0/8` or `fd00::/8`: any IP address in it (host names are not resolved);
 * - any of these with `:port`, e.g. `example.com:6443` or `[fd00::1]:6443`: only that port (the URL's port, or
 *   443/80 by its scheme).
 * Matching ignores case and a trailing dot.
 *
 * Guarantees: pure; reads nothing but `env`. `localhost` and loopback addresses are never proxied, as in Go.
 * A proxy value without a scheme gets `http://`, as in Go.
 *
 * Caveats: an unparsable URL gets no proxy. Other schemes (`ws:`) are treated by their TLS-ness: `wss:` as https.
 */
export function proxyForUrl(url: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return undefined;
  }
  const secure = target.protocol === 'https:' || target.protocol === 'wss:';
  const proxy = secure ? first(env, 'HTTPS_PROXY', 'https_proxy') : first(env, 'HTTP_PROXY', 'http_proxy');
  if (!proxy) return undefined;

  const host = normalizeHost(target.hostname);
  const port = target.port || (secure ? '443' : '80');
  if (host === 'localhost' || isLoopback(host)) return undefined;
  if (exempt(host, port, first(env, 'NO_PROXY', 'no_proxy') ?? '')) return undefined;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`;
}

function first(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return value;
  }
  return undefined;
}

/** Lower case, without IPv6 brackets or a trailing dot. */
function normalizeHost(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

function isLoopback(host: string): boolean {
  const family = isIP(host);
  if (family === 4) return host.startsWith('127.');
  if (family === 6) return ipv6Loopback.check(host, 'ipv6');
  return false;
}

const ipv6Loopback = new BlockList();
ipv6Loopback.addAddress('::1', 'ipv6');
ipv6Loopback.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');

interface Entry {
  /** Host part: a name, '.suffix', an IP, or a CIDR block. */
  host: string;
  port: string | undefined;
}

/** Splits `host`, `host:port`, `[v6]`, `[v6]:port`, bare IPv6 and CIDR (with optional port for IPv4). */
function parseEntry(text: string): Entry {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close > 0) {
      const rest = text.slice(close + 1);
      return { host: text.slice(1, close), port: rest.startsWith(':') && rest.length > 1 ? rest.slice(1) : undefined };
    }
  }
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const [host = '', port = ''] = text.split(':');
    if (/^\d+$/.test(port)) return { host, port };
  }
  // Zero colons, or a bare IPv6 address or block (several colons): no port.
  return { host: text, port: undefined };
}

function exempt(host: string, port: string, noProxy: string): boolean {
  const hostFamily = isIP(host);
  for (const raw of noProxy.split(/[\s,]+/)) {
    const text = raw.trim().toLowerCase();
    if (!text) continue;
    if (text === '*') return true;
    const entry = parseEntry(text);
    if (entry.port !== undefined && entry.port !== port) continue;
    const pattern = normalizeHost(entry.host);
    if (!pattern) continue;

    const slash = pattern.indexOf('/');
    if (slash >= 0) {
      if (hostFamily && inCidr(host, hostFamily, pattern.slice(0, slash), pattern.slice(slash + 1))) return true;
      continue;
    }
    const patternFamily = isIP(pattern);
    if (patternFamily) {
      if (hostFamily && sameAddress(host, hostFamily, pattern, patternFamily)) return true;
      continue;
    }
    if (hostFamily) continue; // a name never matches an IP literal
    if (pattern.startsWith('*.')) {
      if (host.endsWith(pattern.slice(1))) return true;
    } else if (pattern.startsWith('.')) {
      if (host.endsWith(pattern)) return true;
    } else if (host === pattern || host.endsWith(`.${pattern}`)) {
      return true;
    }
  }
  return false;
}

const familyName = (family: number): 'ipv4' | 'ipv6' => (family === 6 ? 'ipv6' : 'ipv4');

function inCidr(host: string, hostFamily: number, network: string, bits: string): boolean {
  const family = isIP(network);
  if (!family || !/^\d{1,3}$/.test(bits)) return false;
  const prefix = Number(bits);
  if (prefix > (family === 4 ? 32 : 128)) return false;
  const list = new BlockList();
  list.addSubnet(network, prefix, familyName(family));
  return list.check(host, familyName(hostFamily));
}

function sameAddress(host: string, hostFamily: number, pattern: string, patternFamily: number): boolean {
  const list = new BlockList();
  list.addAddress(pattern, familyName(patternFamily));
  return list.check(host, familyName(hostFamily));
}
