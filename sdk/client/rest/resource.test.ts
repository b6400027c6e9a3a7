import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { isGone } from '../errors.js';
import { createResourceClientFactory } from './resource.js';

// Paging logic that needs the server to misbehave at a chosen moment; the rest of the resource client is proven
// against the real API server in test/integration/dynamic-client.test.ts.
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
});

async function serve(pages: (query: URLSearchParams) => { status: number; body: unknown }): Promise<string> {
  server = createServer((req, res) => {
    const { status, body } = pages(new URL(req.url ?? '/', 'http://x').searchParams);
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const a = server.address();
  return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}

const list = (names: string[], cont?: string) => ({
  status: 200,
  body: { apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: '5', ...(cont && { continue: cont }) }, items: names.map((name) => ({ metadata: { name } })) },
});
const expired = { status: 410, body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410, message: 'continue token expired' } };

describe('listAll', () => {
  it('fills in apiVersion and kind of items and follows continue tokens', async () => {
    const host = await serve((q) => (q.get('continue') === 't1' ? list(['c', 'd']) : list(['a', 'b'], 't1')));
    const all = await createResourceClientFactory({ host }).resource({ group: '', version: 'v1', plural: 'configmaps' }).listAll({ limit: 2 });
    expect(all.items.map((i) => [i.metadata?.name, i.apiVersion, i.kind])).toEqual([
      ['a', 'v1', 'ConfigMap'], ['b', 'v1', 'ConfigMap'], ['c', 'v1', 'ConfigMap'], ['d', 'v1', 'ConfigMap'],
    ]);
    expect(all.metadata.continue).toBeUndefined();
  });

  it('starts over once when a continue token expires, and gives up the second time', async () => {
    let firstPages = 0;
    const host = await serve((q) => {
      if (q.get('continue')) return firstPages === 1 ? expired : list(['c']);
      firstPages++;
      return list(['a', 'b'], 'tok');
    });
    const cms = createResourceClientFactory({ host }).resource({ group: '', version: 'v1', plural: 'configmaps' });
    const all = await cms.listAll({ limit: 2 });
    expect(firstPages).toBe(2);
    expect(all.items.map((i) => i.metadata?.name)).toEqual(['a', 'b', 'c']);

    const always = await serve((q) => (q.get('continue') ? expired : list(['a'], 'tok')));
    const err = await createResourceClientFactory({ host: always })
      .resource({ group: '', version: 'v1', plural: 'configmaps' })
      .listAll({ limit: 1 })
      .catch((e: unknown) => e);
    expect(isGone(err)).toBe(true);
  });
});
