import { describe, expect, it } from 'vitest';
import { proxyForUrl } from './proxy-env.js';

const proxy = 'http://proxy.corp:3128';

describe('proxyForUrl: which variable', () => {
  it('uses HTTPS_PROXY for https and HTTP_PROXY for http, never the other', () => {
    const env = { HTTPS_PROXY: 'http://secure-proxy:1', HTTP_PROXY: 'http://plain-proxy:2' };
    expect(proxyForUrl('https://api.example.com', env)).toBe('http://secure-proxy:1');
    expect(proxyForUrl('http://api.example.com', env)).toBe('http://plain-proxy:2');
    expect(proxyForUrl('https://api.example.com', { HTTP_PROXY: proxy })).toBeUndefined();
    expect(proxyForUrl('http://api.example.com', { HTTPS_PROXY: proxy })).toBeUndefined();
  });

  it('accepts lower-case names, upper case winning when both are set and non-empty', () => {
    expect(proxyForUrl('https://a.example', { https_proxy: proxy })).toBe(proxy);
    expect(proxyForUrl('http://a.example', { http_proxy: proxy })).toBe(proxy);
    expect(proxyForUrl('https://a.example', { HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2' })).toBe(
      'http://upper:1',
    );
    expect(proxyForUrl('https://a.example', { HTTPS_PROXY: '', https_proxy: 'http://lower:2' })).toBe('http://lower:2');
  });

  it('returns nothing without a proxy variable', () => {
    expect(proxyForUrl('https://a.example', {})).toBeUndefined();
  });

  it('adds http:// to a proxy without a scheme and keeps other schemes', () => {
    expect(proxyForUrl('https://a.example', { HTTPS_PROXY: 'proxy.corp:3128' })).toBe('http://proxy.corp:3128');
    expect(proxyForUrl('https://a.example', { HTTPS_PROXY: 'socks5://proxy.corp:1080' })).toBe(
      'socks5://proxy.corp:1080',
    );
    expect(proxyForUrl('https://a.example', { HTTPS_PROXY: 'https://proxy.corp' })).toBe('https://proxy.corp');
  });

  it('never proxies localhost or loopback addresses', () => {
    const env = { HTTPS_PROXY: proxy };
    for (const url of [
      'https://localhost:6443',
      'https://127.0.0.1:6443',
      'https://127.8.9.10',
      'https://[::1]:6443',
      'https://[::ffff:127.0.0.1]',
    ]) {
      expect(proxyForUrl(url, env), url).toBeUndefined();
    }
    expect(proxyForUrl('https://128.0.0.1', env)).toBe(proxy);
  });

  it('returns nothing for a URL it cannot parse', () => {
    expect(proxyForUrl('not a url', { HTTPS_PROXY: proxy, HTTP_PROXY: proxy })).toBeUndefined();
  });
});

/** Whether `url` goes through the proxy when NO_PROXY (or `name`) is `noProxy`. */
function proxied(url: string, noProxy: string, name = 'NO_PROXY'): boolean {
  return proxyForUrl(url, { HTTPS_PROXY: proxy, HTTP_PROXY: proxy, [name]: noProxy }) !== undefined;
}

describe('proxyForUrl: NO_PROXY', () => {
  it('* exempts every host', () => {
    expect(proxied('https://anything.example', '*')).toBe(false);
    expect(proxied('https://10.1.2.3', 'other, *')).toBe(false);
  });

  it('reads no_proxy too, NO_PROXY winning', () => {
    expect(proxied('https://a.example', 'a.example', 'no_proxy')).toBe(false);
    expect(proxyForUrl('https://a.example', { HTTPS_PROXY: proxy, NO_PROXY: 'b.example', no_proxy: 'a.example' })).toBe(
      proxy,
    );
  });

  it('a host name matches itself and its subdomains, not look-alikes', () => {
    const list = 'example.com';
    expect(proxied('https://example.com', list)).toBe(false);
    expect(proxied('https://api.example.com:6443', list)).toBe(false);
    expect(proxied('https://a.b.example.com', list)).toBe(false);
    expect(proxied('https://notexample.com', list)).toBe(true);
    expect(proxied('https://example.com.evil.io', list)).toBe(true);
  });

  it('.suffix and *.suffix match subdomains only', () => {
    for (const list of ['.example.com', '*.example.com']) {
      expect(proxied('https://api.example.com', list), list).toBe(false);
      expect(proxied('https://example.com', list), list).toBe(true);
      expect(proxied('https://badexample.com', list), list).toBe(true);
    }
  });

  it('ignores case, spaces, empty entries and trailing dots', () => {
    expect(proxied('https://API.Example.COM', ' , Example.com ,')).toBe(false);
    expect(proxied('https://api.example.com.', 'example.com')).toBe(false);
    expect(proxied('https://api.example.com', 'example.com.')).toBe(false);
    expect(proxied('https://api.example.com', 'other.io example.com')).toBe(false);
  });

  it('host:port matches only that port, with 443/80 by default', () => {
    expect(proxied('https://api.example.com:6443', 'api.example.com:6443')).toBe(false);
    expect(proxied('https://api.example.com:8443', 'api.example.com:6443')).toBe(true);
    expect(proxied('https://api.example.com', 'api.example.com:443')).toBe(false);
    expect(proxied('http://api.example.com', 'api.example.com:443')).toBe(true);
    expect(proxied('http://api.example.com', 'api.example.com:80')).toBe(false);
    expect(proxied('https://10.0.0.5:6443', '10.0.0.5:6443')).toBe(false);
    expect(proxied('https://10.0.0.5:443', '10.0.0.5:6443')).toBe(true);
  });

  it('an IP address matches that address only', () => {
    expect(proxied('https://10.0.0.5', '10.0.0.5')).toBe(false);
    expect(proxied('https://10.0.0.50', '10.0.0.5')).toBe(true);
    expect(proxied('https://[fd00::5]', 'fd00::5')).toBe(false);
    expect(proxied('https://[fd00::5]', '[fd00::5]')).toBe(false);
    expect(proxied('https://[fd00:0:0::5]:6443', '[fd00::5]:6443')).toBe(false);
    expect(proxied('https://[fd00::5]:6443', '[fd00::5]:443')).toBe(true);
    expect(proxied('https://[fd00::6]', 'fd00::5')).toBe(true);
  });

  it('a name never matches an IP address, nor an IP a name', () => {
    expect(proxied('https://10.0.0.5', '0.0.5')).toBe(true);
    expect(proxied('https://10.0.0.5', '.0.0.5')).toBe(true);
    expect(proxied('https://ten.example', '10.0.0.5')).toBe(true);
  });

  it('IPv4 CIDR blocks match addresses inside them', () => {
    const list = '10.0.0.0/8, 192.168.1.0/24';
    expect(proxied('https://10.200.3.4', list)).toBe(false);
    expect(proxied('https://192.168.1.77:6443', list)).toBe(false);
    expect(proxied('https://192.168.2.1', list)).toBe(true);
    expect(proxied('https://11.0.0.1', list)).toBe(true);
    expect(proxied('https://1.2.3.4', '0.0.0.0/0')).toBe(false);
    expect(proxied('https://10.0.0.1', '10.0.0.1/32')).toBe(false);
    expect(proxied('https://10.0.0.2', '10.0.0.1/32')).toBe(true);
  });

  it('IPv6 CIDR blocks match addresses inside them', () => {
    const list = 'fd00::/8';
    expect(proxied('https://[fd12:3456::1]', list)).toBe(false);
    expect(proxied('https://[fe80::1]', list)).toBe(true);
    expect(proxied('https://[2001:db8::1]:6443', '2001:db8::/32')).toBe(false);
    expect(proxied('https://[2001:db9::1]', '2001:db8::/32')).toBe(true);
  });

  it('CIDR blocks do not match host names (no DNS lookups)', () => {
    expect(proxied('https://kubernetes.default.svc', '10.0.0.0/8')).toBe(true);
  });

  it('ignores malformed CIDR entries instead of matching everything', () => {
    expect(proxied('https://10.0.0.1', '10.0.0.0/33')).toBe(true);
    expect(proxied('https://10.0.0.1', 'nonsense/8')).toBe(true);
    expect(proxied('https://10.0.0.1', '10.0.0.0/x')).toBe(true);
    expect(proxied('https://[fd00::1]', 'fd00::/129')).toBe(true);
  });

  it('a CIDR block of one family never matches an address of the other', () => {
    expect(proxied('https://10.0.0.1', 'fd00::/8')).toBe(true);
    expect(proxied('https://[fd00::1]', '10.0.0.0/8')).toBe(true);
  });
});
