import { createRequire } from 'node:module';
import * as undici from 'undici';
import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { Agent, Client, ProxyAgent, Socks5ProxyAgent, request } from './undici.js';

describe('undici, from its own modules', () => {
  it('has the very classes undici exports', () => {
    expect(Agent).toBe(undici.Agent);
    expect(Client).toBe(undici.Client);
    expect(ProxyAgent).toBe(undici.ProxyAgent);
    expect(Socks5ProxyAgent).toBe(undici.Socks5ProxyAgent);
  });

  it('gives dispatchers the methods undici’s index gives them', () => {
    const require = createRequire(import.meta.url);
    const api = require('undici/lib/api/index.js') as Record<string, unknown>;
    for (const name of ['request', 'stream', 'pipeline', 'upgrade', 'connect']) {
      expect(api[name]).toBeTypeOf('function');
      expect((undici.Dispatcher.prototype as unknown as Record<string, unknown>)[name]).toBe(api[name]);
    }
  });

  it('sends a request with the dispatcher given', async () => {
    const seen: Dispatcher.DispatchOptions[] = [];
    const mock = new undici.MockAgent();
    mock.disableNetConnect();
    mock
      .get('https://api.example:6443')
      .intercept({ path: '/api/v1/namespaces?limit=1', method: 'GET' })
      .reply(200, (opts) => {
        seen.push(opts as Dispatcher.DispatchOptions);
        return { ok: true };
      });
    const res = await request('https://api.example:6443/api/v1/namespaces?limit=1', {
      method: 'GET',
      dispatcher: mock,
      headers: { accept: 'application/json' },
    });
    expect(res.statusCode).toBe(200);
    expect(await res.body.json()).toEqual({ ok: true });
    expect(seen[0]?.headers).toMatchObject({ accept: 'application/json' });
    await mock.close();
  });
});
