// The hostile-input corpus (issue #16): kubeconfigs, API responses, watch streams and admission requests crafted to
// break a parser or exhaust memory. Each must end in a clear coded kubeloop error (or a 400 / a denial from the webhook
// server), never a crash, a bare TypeError or SyntaxError, or memory that grows with what the attacker sends.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSharedIndexInformer, type CacheLogger } from '../../sdk/cache/index.js';
import {
  createDynamicClient,
  isKubeloopError,
  loadConfig,
  parseKubeconfig,
  type KubeloopError,
  type ResourceInterface,
  type RestConfig,
  type Unstructured,
} from '../../sdk/client/index.js';
import {
  allowed,
  createCertificateAuthority,
  createWebhookServer,
  defaultingHandler,
  validatingHandler,
  type Defaulter,
  type Validator,
  type WebhookServer,
} from '../../sdk/webhook/index.js';
import { eventually } from '../support/wait.js';

/** What `work` failed with; fails the test when it succeeds. */
async function failure(work: () => unknown): Promise<unknown> {
  try {
    await work();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

/** A coded kubeloop error with `code`, whose message shows none of `secrets`. */
function expectCoded(err: unknown, code: string, secrets: string[] = []): void {
  expect(isKubeloopError(err), String(err)).toBe(true);
  expect((err as KubeloopError).code, (err as Error).message).toBe(code);
  for (const secret of secrets) expect((err as Error).message).not.toContain(secret);
}

const heapMiB = (): number => process.memoryUsage().heapUsed / 2 ** 20;

describe('hostile kubeconfigs', () => {
  const laughs = (under: string): string => {
    let text = `${under}\n    l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n`;
    for (let i = 1; i < 12; i++)
      text += `    l${i}: &l${i} [${Array.from({ length: 10 }, () => `*l${i - 1}`).join(', ')}]\n`;
    return text;
  };
  const refused: [string, string][] = [
    ['a billion laughs under extensions', laughs('extensions:\n- name: x\n  extension:')],
    [
      'a billion laughs as exec args',
      `${laughs('bomb:')}users:\n- name: u\n  user:\n    exec:\n      command: c\n      args: *l11\n`,
    ],
    [
      'aliases fanned out into a list',
      `${laughs('extensions:\n- name: x\n  extension:')}clusters: [${Array.from({ length: 50 }, () => '*l11').join(', ')}]\n`,
    ],
    ['an alias that contains itself', 'extensions: [{name: loop, extension: &self {again: *self}}]\n'],
    ['nesting 10,000 deep', `extensions: [{name: deep, extension: ${'['.repeat(10_000)}${']'.repeat(10_000)}}]\n`],
    [
      'a merge-key bomb',
      `base: &b {${Array.from({ length: 200 }, (_, i) => `k${i}: v`).join(', ')}}\nclusters:\n${Array.from({ length: 100 }, (_, i) => `- name: c${i}\n  cluster: {<<: [*b, *b, *b, *b, *b]}`).join('\n')}\n`,
    ],
    ['an unknown tag', 'users: [{name: u, user: {token: !<tag:evil.example,2026:s3cr3t> x}}]\n'],
    ['a JavaScript function tag', 'users: [{name: u, user: {token: !!js/function "function(){ return s3cr3t }"}}]\n'],
    ['an undefined alias', 'users: [{name: u, user: {token: *s3cr3t}}]\n'],
    ['clusters as a string', 'clusters: s3cr3t\n'],
    ['users as a number', 'users: 42\n'],
    ['contexts of numbers', 'contexts: [1, 2, 3]\n'],
    ['current-context as a list', 'current-context: [a, b]\n'],
    ['a token as a number', 'users: [{name: u, user: {token: 0123}}]\n'],
    ['bad base64', 'users: [{name: u, user: {client-key-data: "s3cr3t!!"}}]\n'],
    ['two documents', 'kind: Config\n---\nkind: Config\n'],
    ['a document that is a list', '- a\n- b\n'],
    ['a NUL byte', 'clusters: [{name: "a\u0000", cluster: {server: https://a}}]\n\u0000'],
    ['random bytes', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)).toString('latin1')],
    ['an unterminated flow', `clusters: [${'{name: a, '.repeat(1000)}`],
    ['a duplicate cluster name', 'clusters: [{name: a, cluster: {}}, {name: a, cluster: {}}]\n'],
  ];

  it.each(refused)('refuses %s with a ConfigError, quickly and in bounded memory', (_name, text) => {
    const before = heapMiB();
    const err = (() => {
      try {
        parseKubeconfig(text);
        return undefined;
      } catch (e) {
        return e;
      }
    })();
    expectCoded(err, 'ERR_KUBE_CONFIG', ['s3cr3t']);
    expect(heapMiB() - before).toBeLessThan(256);
  });

  it('reads large but honest kubeconfigs: a 2 MiB token, 5,000 clusters, a __proto__ key', () => {
    const token = 't'.repeat(2 * 2 ** 20);
    expect(parseKubeconfig(`users: [{name: u, user: {token: ${token}}}]\n`).users[0]!.user.token).toHaveLength(
      token.length,
    );
    const many = `clusters:\n${Array.from({ length: 5000 }, (_, i) => `- {name: c${i}, cluster: {server: "https://c${i}:6443"}}`).join('\n')}\n`;
    expect(parseKubeconfig(many).clusters).toHaveLength(5000);
    const proto = parseKubeconfig('extensions: [{name: p, extension: {__proto__: {polluted: true}}}]\n');
    expect(proto.extensions).toHaveLength(1);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('keeps a server URL query string, and user:password in it, out of the ConfigError of loadConfig', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hostile-kubeconfig-'));
    try {
      const servers = [
        'https://a:6443/?access_token=s3cr3t',
        'https://admin:s3cr3t@a:6443',
        'https://[a:6443/?access_token=s3cr3t',
        'ftp://a/?t=s3cr3t',
      ];
      for (const server of servers) {
        const file = join(dir, 'config');
        await writeFile(
          file,
          `clusters: [{name: c, cluster: {server: "${server}"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`,
        );
        expectCoded(await failure(() => loadConfig({ kubeconfig: file })), 'ERR_KUBE_CONFIG', [
          's3cr3t',
          'access_token',
        ]);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

type Answer = (req: IncomingMessage, res: ServerResponse) => void;

describe('hostile API servers', () => {
  let server: Server;
  let answer: Answer = (_req, res) => res.end();
  let config: RestConfig;

  beforeAll(async () => {
    server = createServer((req, res) => answer(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    // A short timeout: a GET whose connection breaks is retried (5 times, 3 s of backoff) until it runs out.
    config = { host: `http://127.0.0.1:${port}`, maxResponseBytes: 4 * 2 ** 20, timeoutMs: 2000 };
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const configMaps = (): ResourceInterface<Unstructured> =>
    createDynamicClient(config).resource({ group: '', version: 'v1', resource: 'configmaps' }).namespace('ns');
  const json =
    (status: number, body: string, headers: Record<string, string> = {}): Answer =>
    (_req, res) =>
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
  const endless =
    (headers: Record<string, string>, chunk: Buffer, first = Buffer.alloc(0)): Answer =>
    (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', ...headers });
      res.write(first);
      const more = (): void => {
        while (!res.destroyed && res.write(chunk)) {
          // until the socket pushes back
        }
        if (!res.destroyed) res.once('drain', more);
      };
      more();
    };

  const gets: [string, Answer, string][] = [
    ['a body that is not JSON', json(200, '<html>s3cr3t</html>'), 'ERR_KUBE_DECODE'],
    ['a truncated body', json(200, '{"kind":"ConfigMap","data":{"k":"s3cr3t'), 'ERR_KUBE_DECODE'],
    ['an empty body', json(200, ''), 'ERR_KUBE_DECODE'],
    ['null', json(200, 'null'), 'ERR_KUBE_DECODE'],
    ['an array', json(200, '["s3cr3t"]'), 'ERR_KUBE_DECODE'],
    ['a string', json(200, '"s3cr3t"'), 'ERR_KUBE_DECODE'],
    ['arrays nested 100,000 deep', json(200, `${'['.repeat(100_000)}${']'.repeat(100_000)}`), 'ERR_KUBE_DECODE'],
    [
      'a Status Failure on a 200',
      json(200, JSON.stringify({ kind: 'Status', status: 'Failure', code: 403, reason: 'Forbidden', message: 'no' })),
      'ERR_KUBE_API',
    ],
    ['an HTML 500', json(500, '<html>oops</html>', { 'content-type': 'text/html' }), 'ERR_KUBE_API'],
    ['a 404 of 8 MiB (still the 404 it is)', json(404, 's3cr3t'.repeat(2 ** 20)), 'ERR_KUBE_API'],
    ['an endless body', endless({}, Buffer.alloc(64 * 1024, 'a')), 'ERR_KUBE_RESPONSE_TOO_LARGE'],
    [
      'a gzip bomb',
      endless({ 'content-encoding': 'gzip' }, gzipSync(Buffer.alloc(16 * 2 ** 20))),
      'ERR_KUBE_RESPONSE_TOO_LARGE',
    ],
    [
      'a body that is not gzip but says so',
      json(200, '{"kind":"ConfigMap"}', { 'content-encoding': 'gzip' }),
      'ERR_KUBE_TRANSPORT',
    ],
    [
      'a body shorter than its content-length',
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        res.write('{"kind":', () => res.socket?.destroy());
      },
      'ERR_KUBE_TRANSPORT',
    ],
  ];

  it.each(gets)('a GET answered with %s fails with a coded error', async (_name, crafted, code) => {
    answer = crafted;
    const before = heapMiB();
    expectCoded(await failure(() => configMaps().get('a')), code, ['s3cr3t']);
    expect(heapMiB() - before).toBeLessThan(256);
  });

  const lists: [string, string][] = [
    ['items as a string', JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: {}, items: 's3cr3t' })],
    ['items as a number', JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: {}, items: 42 })],
    [
      'a null item',
      JSON.stringify({
        kind: 'ConfigMapList',
        apiVersion: 'v1',
        metadata: {},
        items: [{ metadata: { name: 'a' } }, null],
      }),
    ],
    [
      'an item that is a string',
      JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: {}, items: ['s3cr3t'] }),
    ],
  ];

  it.each(lists)('a LIST answered with %s fails with ERR_KUBE_DECODE', async (_name, body) => {
    answer = json(200, body);
    expectCoded(await failure(() => configMaps().list()), 'ERR_KUBE_DECODE', ['s3cr3t']);
  });

  it('reads a LIST whose items are null as an empty list, as client-go does', async () => {
    answer = json(200, JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: {}, items: null }));
    expect((await configMaps().list()).items).toEqual([]);
  });

  const event = (type: string, object: unknown): string => `${JSON.stringify({ type, object })}\n`;
  const added = event('ADDED', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'first' } });
  const watches: [string, string | Answer, string][] = [
    ['a line that is not JSON', `${added}s3cr3t garbage\n`, 'ERR_KUBE_TRANSPORT'],
    [
      'binary garbage',
      `${added}${Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 31) % 256)).toString('latin1')}\n`,
      'ERR_KUBE_TRANSPORT',
    ],
    ['a null line', `${added}null\n`, 'ERR_KUBE_DECODE'],
    ['an array line', `${added}[1,2]\n`, 'ERR_KUBE_DECODE'],
    ['an ADDED event with a null object', `${added}${event('ADDED', null)}`, 'ERR_KUBE_DECODE'],
    ['a MODIFIED event without an object', `${added}{"type":"MODIFIED"}\n`, 'ERR_KUBE_DECODE'],
    ['an event whose object is a string', `${added}${event('ADDED', 's3cr3t')}`, 'ERR_KUBE_DECODE'],
    ['an event of an unknown type', `${added}${event('s3cr3t-TYPE', {})}`, 'ERR_KUBE_DECODE'],
    ['an event whose type is a number', `${added}{"type":7,"object":{}}\n`, 'ERR_KUBE_DECODE'],
    ['an ERROR event with a null object', `${added}${event('ERROR', null)}`, 'ERR_KUBE_DECODE'],
    [
      'an ERROR event with a Status',
      `${added}${event('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' })}`,
      'ERR_KUBE_API',
    ],
    [
      'an endless line',
      endless({}, Buffer.alloc(64 * 1024, 'a'), Buffer.from(`${added}{"type":"ADDED","object":{"data":"`)),
      'ERR_KUBE_RESPONSE_TOO_LARGE',
    ],
  ];

  it.each(watches)(
    'a watch stream with %s ends with a coded error after the good events',
    async (_name, body, code) => {
      answer = typeof body === 'string' ? json(200, body) : body;
      const names: (string | undefined)[] = [];
      const before = heapMiB();
      const err = await failure(async () => {
        for await (const e of configMaps().watch()) names.push((e.object as Unstructured).metadata?.name);
      });
      expectCoded(err, code, ['s3cr3t']);
      expect(names).toEqual(['first']);
      expect(heapMiB() - before).toBeLessThan(256);
    },
  );

  it('an informer whose watches get garbage keeps retrying, with the coded error in its health', async () => {
    const list = JSON.stringify({
      kind: 'ConfigMapList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '1' },
      items: [],
    });
    let watchRequests = 0;
    answer = (req, res) => {
      if (!req.url?.includes('watch=')) return json(200, list)(req, res);
      watchRequests++;
      return json(200, `${added}null\n`)(req, res);
    };
    const logged: string[] = [];
    const logger: CacheLogger = {
      debug: () => undefined,
      warn: (_obj, msg) => void logged.push(msg ?? ''),
      error: (_obj, msg) => void logged.push(msg ?? ''),
    };
    const informer = createSharedIndexInformer<Unstructured>(configMaps(), { logger });
    const stop = new AbortController();
    const running = informer.start(stop.signal);
    try {
      // Its health between two watches (a watch that opens clears the error until its garbage arrives).
      const failed = await eventually(
        'two failed watches and the error in the health',
        () => {
          const health = informer.health();
          return watchRequests >= 2 && health.lastError !== undefined && health;
        },
        15_000,
      );
      expect(failed).toMatchObject({ synced: true, lastError: { code: 'ERR_KUBE_DECODE', during: 'watch' } });
      expect(failed.consecutiveFailures).toBeGreaterThanOrEqual(1);
      expect(logged).toContain('list/watch failed; retrying');
    } finally {
      stop.abort();
      await running;
    }
  });
});

describe('hostile admission requests', () => {
  let webhook: WebhookServer;
  let stop: AbortController;
  let done: Promise<void>;
  let dir: string;
  let agent: Agent;
  let url: string;

  interface Thing extends Unstructured {
    spec?: { size?: number };
  }
  const defaulter: Defaulter<Thing> = {
    default(obj: Thing): void {
      obj.spec ??= {};
      obj.spec.size ??= 1;
    },
  };
  const validator: Validator<Thing> = {
    validateCreate(obj: Thing): void {
      if ((obj.spec?.size ?? 0) > 10) throw new Error('too big');
    },
    validateUpdate(): void {},
    validateDelete(): void {},
  };

  beforeAll(async () => {
    const ca = await createCertificateAuthority('hostile-ca');
    const pair = await ca.sign({ commonName: 'webhook', usage: 'server', ipAddresses: ['127.0.0.1'] });
    dir = await mkdtemp(join(tmpdir(), 'hostile-webhook-'));
    await writeFile(join(dir, 'tls.crt'), pair.certPem);
    await writeFile(join(dir, 'tls.key'), pair.keyPem);
    webhook = createWebhookServer({ port: 0, host: '127.0.0.1', certDir: dir, maxRequestBytes: 64 * 1024 });
    webhook.register('/raw', () => allowed());
    webhook.register('/default', defaultingHandler(defaulter));
    webhook.register('/validate', validatingHandler(validator));
    stop = new AbortController();
    done = webhook.start(stop.signal);
    await webhook.listening();
    agent = new Agent({ connect: { ca: ca.certPem } });
    url = `https://127.0.0.1:${webhook.port}`;
  });
  afterAll(async () => {
    stop?.abort();
    await done;
    await agent?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function post(
    path: string,
    body: string | Buffer,
    headers: Record<string, string> = { 'content-type': 'application/json' },
  ) {
    const res = await request(`${url}${path}`, { method: 'POST', dispatcher: agent, headers, body });
    const text = await res.body.text();
    return { status: res.statusCode, text };
  }
  const review = (req: Record<string, unknown>): string =>
    JSON.stringify({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      request: { uid: 'u1', operation: 'CREATE', ...req },
    });

  const badRequests: [string, string | Buffer, Record<string, string>?][] = [
    ['not JSON', '{not json'],
    ['null', 'null'],
    ['an array', '[]'],
    [
      'a ConversionReview',
      JSON.stringify({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'ConversionReview', request: { uid: 'u' } }),
    ],
    ['a review without a request', JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' })],
    ['a uid that is a number', JSON.stringify({ kind: 'AdmissionReview', request: { uid: 7 } })],
    ['a body over the limit', `{"kind":"AdmissionReview","pad":"${'x'.repeat(128 * 1024)}"}`],
    ['nesting 100,000 deep', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
    ['random bytes', Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256))],
    ['the wrong content type', review({}), { 'content-type': 'text/yaml' }],
  ];

  it.each(badRequests)('answers 400 to %s, and keeps serving', async (_name, body, headers) => {
    for (const path of ['/raw', '/default', '/validate']) {
      expect((await post(path, body, headers)).status).toBe(400);
    }
    expect((await post('/raw', review({}))).status).toBe(200);
  });

  const odd: [string, Record<string, unknown>][] = [
    ['a null object', { object: null }],
    ['an object that is a string', { object: 's3cr3t' }],
    ['an object that is a list', { object: [1, 2] }],
    ['a spec of the wrong type', { object: { apiVersion: 'v1', kind: 'Thing', spec: 'big' } }],
    ['an unknown operation', { operation: 'EXPLODE', object: {} }],
    [
      'another kind than the webhook is for',
      {
        kind: { group: '', version: 'v1', kind: 'Secret' },
        object: { apiVersion: 'v1', kind: 'Secret', data: { k: 'czNjcjN0' } },
      },
    ],
  ];

  it.each(odd)(
    'answers a review with %s with an AdmissionReview, allowed or denied, never a crash',
    async (_name, req) => {
      for (const path of ['/default', '/validate']) {
        const res = await post(path, review(req));
        expect(res.status).toBe(200);
        const parsed = JSON.parse(res.text) as { kind: string; response: { uid: string; allowed: boolean } };
        expect(parsed).toMatchObject({ kind: 'AdmissionReview', response: { uid: 'u1' } });
        expect(typeof parsed.response.allowed).toBe('boolean');
        expect(res.text).not.toContain('s3cr3t');
      }
    },
  );

  it('denies with 400 a review whose object is a string or a list, without quoting it', async () => {
    for (const object of ['s3cr3t', ['s3cr3t']]) {
      for (const path of ['/default', '/validate']) {
        const { text } = await post(path, review({ object }));
        expect(text).not.toContain('s3cr3t');
        expect(JSON.parse(text)).toMatchObject({
          response: {
            allowed: false,
            status: {
              code: 400,
              message: expect.stringMatching(/the admission request's object is a JSON (string|array), not an object/),
            },
          },
        });
      }
    }
  });
});
