import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ApiError,
  ConfigError,
  ResponseTooLargeError,
  TransportError,
  isNotFound,
  isTooManyRequests,
} from '../errors.js';
import { defaultMaxResponseBytes } from '../config/types.js';
import { Transport } from './transport.js';
import { defaultUserAgent } from './user-agent.js';
import { eventually } from '../../../test/support/wait.js';

// The transport's retry, warning and header logic, against a local HTTP server that misbehaves on purpose. (What the
// transport does with a real API server is proven in test/integration.)
type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

let server: Server | undefined;

async function serve(handler: Handler): Promise<string> {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => handler(req, res, body));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

describe('Transport', () => {
  it('retries 429 and 5xx answers that carry Retry-After, replaying the body, for any verb', async () => {
    const bodies: string[] = [];
    const host = await serve((req, res, body) => {
      bodies.push(body);
      if (bodies.length === 1) res.writeHead(429, { 'retry-after': '0' }).end('slow down');
      else if (bodies.length === 2) res.writeHead(503, { 'retry-after': '0' }).end();
      else res.writeHead(201, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const t = new Transport({ host });
    const res = await t.request({ method: 'POST', path: '/x', body: '{"n":1}' });
    expect(res.statusCode).toBe(201);
    expect(bodies).toEqual(['{"n":1}', '{"n":1}', '{"n":1}']);
  });

  it('gives up after 10 Retry-After retries and reports the last answer', async () => {
    let calls = 0;
    const host = await serve((_req, res) => {
      calls++;
      res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' }).end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'TooManyRequests',
          code: 429,
          message: 'busy',
        }),
      );
    });
    const err = await new Transport({ host }).request({ method: 'GET', path: '/x' }).catch((e: unknown) => e);
    expect(isTooManyRequests(err)).toBe(true);
    expect((err as ApiError).retryAfterSeconds).toBe(0);
    expect(calls).toBe(11);
  });

  it('does not retry a 5xx without Retry-After', async () => {
    let calls = 0;
    const host = await serve((_req, res) => {
      calls++;
      res.writeHead(500).end('<html>proxy error</html>');
    });
    const err = await new Transport({ host }).request({ method: 'GET', path: '/x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ statusCode: 500, reason: 'InternalError' });
    expect((err as ApiError).message).toContain('<html>proxy error</html>');
    expect(calls).toBe(1);
  });

  it('retries a GET whose connection was reset, but never a POST whose outcome is unknown', async () => {
    let gets = 0;
    let posts = 0;
    const host = await serve((req, res) => {
      if (req.method === 'GET' && ++gets < 3) return req.socket.destroy();
      if (req.method === 'POST') {
        posts++;
        return req.socket.destroy();
      }
      res.writeHead(200).end('{}');
    });
    const t = new Transport({ host });
    expect((await t.request({ method: 'GET', path: '/x' })).statusCode).toBe(200);
    expect(gets).toBe(3);
    const err = await t.request({ method: 'POST', path: '/x', body: '{}' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(posts).toBe(1);
  });

  it('sends the User-Agent, impersonation headers and a bearer token, and hands warnings to the handler', async () => {
    let seen: IncomingMessage['headers'] = {};
    let raw: string[] = [];
    const host = await serve((req, res) => {
      seen = req.headers;
      raw = req.rawHeaders;
      res.setHeader('warning', ['299 - "v1beta1 is deprecated"', '299 - "unknown field \\"x\\""']);
      res.writeHead(200).end('{}');
    });
    const warnings: string[] = [];
    const t = new Transport({
      host,
      bearerToken: 'secret-token',
      impersonate: { userName: 'alice', uid: 'u-1', groups: ['a', 'b'], extra: { scopes: ['s1', 's2'] } },
      warningHandler: (w) => warnings.push(w),
    });
    await t.request({ method: 'GET', path: '/x' });
    expect(seen['user-agent']).toBe(defaultUserAgent);
    expect(defaultUserAgent).toMatch(/^kubeloop\/\d+\.\d+\.\d+ \(linux\/\w+\) node\/v\d+/);
    expect(seen['authorization']).toBe('Bearer secret-token');
    expect(seen['impersonate-user']).toBe('alice');
    expect(seen['impersonate-uid']).toBe('u-1');
    const groups = raw.filter((_, i) => i % 2 === 1 && raw[i - 1]?.toLowerCase() === 'impersonate-group');
    expect(groups).toEqual(['a', 'b']);
    expect(warnings).toEqual(['v1beta1 is deprecated', 'unknown field "x"']);
  });

  it('picks one authentication method as client-go does: no exec plugin next to a token, no password without a user', async () => {
    const authorization: (string | undefined)[] = [];
    const host = await serve((req, res) => {
      authorization.push(req.headers['authorization']);
      res.writeHead(200).end('{}');
    });
    // The plugin would fail (no such program), so a request that succeeds did not run it.
    const exec = {
      command: '/nonexistent/plugin',
      apiVersion: 'client.authentication.k8s.io/v1',
      interactiveMode: 'Never' as const,
    };
    await new Transport({ host, bearerToken: 'secret-token', exec }).request({ method: 'GET', path: '/x' });
    await new Transport({ host, username: 'admin', exec }).request({ method: 'GET', path: '/x' });
    await new Transport({ host, password: 'secret-password' }).request({ method: 'GET', path: '/x' });
    expect(authorization).toEqual([
      'Bearer secret-token',
      `Basic ${Buffer.from('admin:').toString('base64')}`,
      undefined,
    ]);
  });

  it('keeps credentials out of error messages', async () => {
    const host = await serve((_req, res) =>
      res.writeHead(404, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'NotFound',
          code: 404,
          message: 'secrets "s" not found',
        }),
      ),
    );
    const err = await new Transport({ host, bearerToken: 'secret-token' })
      .request({ method: 'PUT', path: '/api/v1/namespaces/a/secrets/s', body: '{"data":{"password":"aHVudGVyMg=="}}' })
      .catch((e: unknown) => e);
    expect(isNotFound(err)).toBe(true);
    const text = `${(err as Error).message} ${JSON.stringify(err)} ${(err as Error).stack ?? ''}`;
    expect(text).not.toContain('secret-token');
    expect(text).not.toContain('aHVudGVyMg');
  });

  it('keeps the query string of a bad host or proxy URL out of its ConfigError', () => {
    const build = (): unknown => {
      try {
        return new Transport({ host: 'https://[::1/api?access_token=s3cr3t-h' });
      } catch (err) {
        return err;
      }
    };
    const host = build() as ConfigError;
    expect(host).toBeInstanceOf(ConfigError);
    expect(host.message).toMatch(/^host "https:\/\/\[::1\/api" is not a URL/);
    const text = `${host.message} ${JSON.stringify(host)} ${String(host.cause)}`;
    expect(text).not.toContain('s3cr3t');
  });

  it('asks for gzip and decompresses, unless compression is disabled', async () => {
    const { gzipSync } = await import('node:zlib');
    const encodings: (string | undefined)[] = [];
    const host = await serve((req, res) => {
      encodings.push(req.headers['accept-encoding']);
      if (req.headers['accept-encoding'] === 'gzip')
        res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('{"big":true}'));
      else res.writeHead(200).end('{"big":false}');
    });
    expect((await new Transport({ host }).request({ method: 'GET', path: '/x' })).body).toBe('{"big":true}');
    expect((await new Transport({ host, disableCompression: true }).request({ method: 'GET', path: '/x' })).body).toBe(
      '{"big":false}',
    );
    expect(encodings).toEqual(['gzip', 'identity']);
  });

  it('stops reading a gzip bomb at maxResponseBytes with ResponseTooLargeError, and the server sees it give up', async () => {
    const { gzipSync } = await import('node:zlib');
    // Gzip members of 16 MiB of zeros (16 KiB each on the wire), sent until the client hangs up: gunzip reads
    // concatenated members as one stream, so this body decodes to as much as the client is willing to hold.
    const member = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    let sentBytes = 0;
    let hungUp = false;
    const host = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      const more = (): void => {
        while (!res.destroyed && res.write(member)) sentBytes += member.length;
        if (!res.destroyed) res.once('drain', more);
      };
      res.on('close', () => (hungUp = true));
      more();
    });
    const err = await new Transport({ host, maxResponseBytes: 8 * 1024 * 1024 })
      .request({ method: 'GET', path: '/api/v1/configmaps?token=s3cr3t' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResponseTooLargeError);
    expect(err).toMatchObject({
      code: 'ERR_KUBE_RESPONSE_TOO_LARGE',
      limitBytes: 8 * 1024 * 1024,
      message: 'GET /api/v1/configmaps: the gzip-decoded response body is larger than 8 MiB',
    });
    await eventually('the server sees the client hang up', () => hungUp, 5000);
    // The endless body ended when the client gave up: what was sent is what the socket buffers took (a few MiB on
    // loopback), not a body the size of its decoded form.
    expect(sentBytes).toBeLessThan(32 * 1024 * 1024);
    expect(defaultMaxResponseBytes).toBe(256 * 1024 * 1024);
  });

  it('stops reading an endless plain body at maxResponseBytes', async () => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const host = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const more = (): void => {
        while (!res.destroyed && res.write(chunk)) {
          // keep writing until the socket pushes back
        }
        if (!res.destroyed) res.once('drain', more);
      };
      more();
    });
    const err = await new Transport({ host, maxResponseBytes: 1024 * 1024 })
      .request({ method: 'GET', path: '/x' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'ERR_KUBE_RESPONSE_TOO_LARGE',
      message: 'GET /x: the response body is larger than 1 MiB',
    });
  });

  it('times out a request after timeoutMs with a TransportError', async () => {
    const host = await serve(() => undefined); // never answers
    const err = await new Transport({ host, timeoutMs: 200 })
      .request({ method: 'GET', path: '/slow' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as Error).message).toContain('timed out after 200 ms');
  });

  it('limits the request rate when qps is set', async () => {
    const host = await serve((_req, res) => res.writeHead(200).end('{}'));
    const t = new Transport({ host, qps: 20, burst: 1 });
    const started = performance.now();
    await Promise.all(Array.from({ length: 5 }, () => t.request({ method: 'GET', path: '/x' })));
    // 1 from the burst, then 4 more at 20/s: at least ~200 ms.
    expect(performance.now() - started).toBeGreaterThanOrEqual(180);
  });
});
