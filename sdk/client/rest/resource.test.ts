import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, isConflict, isGone, ResponseDecodeError } from '../errors.js';
import type { KubeObject } from '../meta/types.js';
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
  body: {
    apiVersion: 'v1',
    kind: 'ConfigMapList',
    metadata: { resourceVersion: '5', ...(cont && { continue: cont }) },
    items: names.map((name) => ({ metadata: { name } })),
  },
});
const expired = {
  status: 410,
  body: {
    kind: 'Status',
    apiVersion: 'v1',
    status: 'Failure',
    reason: 'Expired',
    code: 410,
    message: 'continue token expired',
  },
};

describe('listAll', () => {
  it('fills in apiVersion and kind of items and follows continue tokens', async () => {
    const host = await serve((q) => (q.get('continue') === 't1' ? list(['c', 'd']) : list(['a', 'b'], 't1')));
    const all = await createResourceClientFactory({ host })
      .resource({ group: '', version: 'v1', plural: 'configmaps' })
      .listAll({ limit: 2 });
    expect(all.items.map((i) => [i.metadata?.name, i.apiVersion, i.kind])).toEqual([
      ['a', 'v1', 'ConfigMap'],
      ['b', 'v1', 'ConfigMap'],
      ['c', 'v1', 'ConfigMap'],
      ['d', 'v1', 'ConfigMap'],
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

// A 2xx answer whose body is not an object the client can use (a broken proxy, a cut connection, a buggy aggregated
// API server) is a coded error naming the request, never a bare SyntaxError or a `null` handed to the caller.
describe('bad 2xx bodies', () => {
  async function serveRaw(status: number, body: string): Promise<string> {
    server = createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const a = server.address();
    return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }
  const configMaps = (host: string) =>
    createResourceClientFactory({ host })
      .resource<KubeObject>({ group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap' })
      .namespace('ns');
  const failure = (work: Promise<unknown>): Promise<unknown> =>
    work.then(
      () => new Error('resolved'),
      (e: unknown) => e,
    );

  it('rejects a non-JSON 200 with ERR_KUBE_DECODE naming the verb and path, without the query string', async () => {
    const err = await failure(
      configMaps(await serveRaw(200, '<html>proxy login</html>')).get('a', { resourceVersion: '7' }),
    );
    expect(err).toBeInstanceOf(ResponseDecodeError);
    expect(err).toMatchObject({
      code: 'ERR_KUBE_DECODE',
      statusCode: 200,
      request: { method: 'GET', path: '/api/v1/namespaces/ns/configmaps/a' },
    });
    expect((err as Error).message).toMatch(
      /^GET \/api\/v1\/namespaces\/ns\/configmaps\/a: the HTTP 200 body is not JSON/,
    );
    expect((err as Error).message).not.toContain('resourceVersion');
    expect((err as Error).message).not.toContain('proxy login');
  });

  it('rejects a truncated 200 as truncated JSON, without echoing what arrived', async () => {
    const host = await serveRaw(200, '{"apiVersion":"v1","kind":"Secret","data":{"password":"c2VjcmV0');
    const err = await failure(configMaps(host).list({ labelSelector: 'a=b' }));
    expect(err).toBeInstanceOf(ResponseDecodeError);
    expect((err as Error).message).toMatch(
      /^GET \/api\/v1\/namespaces\/ns\/configmaps: the HTTP 200 body is truncated JSON/,
    );
    expect((err as Error).message).not.toContain('c2VjcmV0');
  });

  it('turns a kind: Status with status Failure on a 2xx into the ApiError it stands for', async () => {
    const status = {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      code: 409,
      reason: 'Conflict',
      message: 'the object has been modified',
    };
    const err = await failure(
      configMaps(await serveRaw(201, JSON.stringify(status))).create({ metadata: { name: 'a' } }),
    );
    expect(err).toBeInstanceOf(ApiError);
    expect(isConflict(err)).toBe(true);
    expect((err as ApiError).request).toEqual({ method: 'POST', path: '/api/v1/namespaces/ns/configmaps' });
  });

  it('rejects a null or empty body where an object was expected', async () => {
    const nullBody = await failure(configMaps(await serveRaw(200, 'null')).get('a'));
    expect(nullBody).toBeInstanceOf(ResponseDecodeError);
    expect((nullBody as Error).message).toBe(
      'GET /api/v1/namespaces/ns/configmaps/a: the HTTP 200 body is null, not an object',
    );
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    const empty = await failure(configMaps(await serveRaw(200, '')).get('a'));
    expect(empty).toBeInstanceOf(ResponseDecodeError);
    expect((empty as Error).message).toMatch(/empty body/);
  });

  it('still accepts a Status with status Success (a delete answer read as an object)', async () => {
    const status = { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name: 'a' } };
    const got = await configMaps(await serveRaw(200, JSON.stringify(status))).get('a');
    expect(got).toMatchObject({ kind: 'Status', status: 'Success' });
  });
});
