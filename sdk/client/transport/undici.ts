/**
 * The parts of undici kubeloop uses, each from its own module rather than from undici's index. The index also loads
 * fetch, WebSocket, EventSource, the cache and mock agents and every interceptor, which kubeloop never calls: about
 * 12 MB of a process's resident memory at start (S8 of the benchmarks). undici has no `exports` map, so these paths
 * resolve for any user; undici.test.ts checks that they are the very classes and function undici's index exports, so
 * an upgrade of undici that moved them fails the tests here rather than a user's process.
 */
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export const Client = require('undici/lib/dispatcher/client.js') as typeof Undici.Client;
export const ProxyAgent = require('undici/lib/dispatcher/proxy-agent.js') as typeof Undici.ProxyAgent;
export const Socks5ProxyAgent =
  require('undici/lib/dispatcher/socks5-proxy-agent.js') as typeof Undici.Socks5ProxyAgent;
export type Agent = Undici.Agent;
export type Client = Undici.Client;
export type ProxyAgent = Undici.ProxyAgent;
export type Socks5ProxyAgent = Undici.Socks5ProxyAgent;

// What undici's index does on load: the request, stream, pipeline, upgrade and connect methods on every dispatcher
// (ProxyAgent itself calls `connect` on its client). The same functions, so loading the index later changes nothing.
const DispatcherClass = require('undici/lib/dispatcher/dispatcher.js') as typeof Undici.Dispatcher;
Object.assign(DispatcherClass.prototype, require('undici/lib/api/index.js') as object);

type RequestOptions = Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path' | 'method'> & {
  method: Undici.Dispatcher.HttpMethod;
  dispatcher: Undici.Dispatcher;
};

/**
 * undici's top-level `request(url, options)` with the dispatcher always given: the URL split into origin and path,
 * then the dispatcher's `request`.
 */
export function request(url: string, options: RequestOptions): Promise<Undici.Dispatcher.ResponseData> {
  const { dispatcher, ...rest } = options;
  const parsed = new URL(url);
  return dispatcher.request({
    ...rest,
    origin: parsed.origin,
    path: parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname,
  });
}
