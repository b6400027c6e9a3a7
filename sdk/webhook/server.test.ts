import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Registry } from 'prom-client';
import { Agent, request } from 'undici';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { allowed, type AdmissionHandler, type WebhookLogger } from './admission.js';
import { createCertificateAuthority, type CertificateAuthority, type KeyPair } from './certificates.js';
import { defineConversion } from './conversion.js';
import { defineResource } from '../client/index.js';
import { createWebhookServer, type WebhookServer, type WebhookServerOptions } from './server.js';

let ca: CertificateAuthority;
let agent: Agent;
const running: { stop: AbortController; done: Promise<void>; dir: string }[] = [];

beforeAll(async () => {
  ca = await createCertificateAuthority('server-test-ca');
  agent = new Agent({ connect: { ca: ca.certPem } });
});

afterEach(async () => {
  for (const r of running.splice(0)) {
    r.stop.abort();
    await r.done;
    await rm(r.dir, { recursive: true, force: true });
  }
});

async function writePair(dir: string, pair: KeyPair): Promise<void> {
  await writeFile(join(dir, 'tls.crt'), pair.certPem);
  await writeFile(join(dir, 'tls.key'), pair.keyPem);
}

const leaf = (): Promise<KeyPair> => ca.sign({ commonName: 'webhook', usage: 'server', ipAddresses: ['127.0.0.1'] });

function recordingLog(lines: string[]): WebhookLogger {
  const log: WebhookLogger = {
    info: () => undefined,
    debug: () => undefined,
    warn: (obj, msg) => lines.push(`${msg} ${JSON.stringify(obj)}`),
    error: (obj, msg) => lines.push(`${msg} ${JSON.stringify(obj)}`),
    child: () => log,
  };
  return log;
}

async function serve(
  setup: (s: WebhookServer) => void,
  options: WebhookServerOptions = {},
): Promise<{ server: WebhookServer; dir: string; url: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'webhook-server-test-'));
  await writePair(dir, await leaf());
  const server = createWebhookServer({ port: 0, host: '127.0.0.1', certDir: dir, ...options });
  setup(server);
  const stop = new AbortController();
  const done = server.start(stop.signal);
  running.push({ stop, done, dir });
  await server.listening();
  return { server, dir, url: `https://127.0.0.1:${server.port}` };
}

const review = (
  uid = 'uid-1',
  object: object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } },
): object => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid,
    kind: { group: '', version: 'v1', kind: 'ConfigMap' },
    operation: 'CREATE',
    userInfo: { username: 'u' },
    object,
  },
});

async function post(
  url: string,
  body: string | object,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) {
  const res = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, text, json: () => JSON.parse(text) as { response: Record<string, unknown> } };
}

describe('webhook server: bad input', () => {
  it('answers 400 (and logs once) for a wrong content type, a body that is not JSON or not a review, or one over the limit', async () => {
    const lines: string[] = [];
    const { url } = await serve((s) => s.register('/v', () => allowed()), {
      maxRequestBytes: 1024,
      log: recordingLog(lines),
    });
    expect(await post(`${url}/v`, review(), { 'content-type': 'text/plain' })).toMatchObject({
      status: 400,
      text: 'content type "text/plain" is not application/json\n',
    });
    expect(await post(`${url}/v`, '{not json')).toMatchObject({
      status: 400,
      text: 'the body is not JSON (expected a AdmissionReview)\n',
    });
    expect(await post(`${url}/v`, { kind: 'AdmissionReview', request: {} })).toMatchObject({
      status: 400,
      text: 'the body is not a AdmissionReview with a request and its uid\n',
    });
    expect(await post(`${url}/v`, review('u', { data: 'x'.repeat(2000) }))).toMatchObject({ status: 400 });
    expect(lines).toHaveLength(4);
    expect(lines.every((l) => l.startsWith('bad webhook request'))).toBe(true);
  });

  it('answers 404 for an unknown path and 405 for a GET', async () => {
    const { url } = await serve((s) => s.register('/v', () => allowed()));
    expect((await post(`${url}/nope`, review())).status).toBe(404);
    const res = await request(`${url}/v`, { dispatcher: agent });
    expect(res.statusCode).toBe(405);
    expect(res.headers['allow']).toBe('POST');
    await res.body.dump();
  });

  it('refuses a path registered twice, or one without a leading slash', () => {
    const server = createWebhookServer();
    server.register('/a', () => allowed());
    expect(() => server.register('/a', () => allowed())).toThrow(/already registered at \/a/);
    expect(() => server.register('a', () => allowed())).toThrow(/must start with \//);
  });

  it('fails to start with a coded error naming the files when there is no certificate', async () => {
    const server = createWebhookServer({ port: 0, certDir: join(tmpdir(), 'does-not-exist-kubeloop') });
    await expect(server.start(new AbortController().signal)).rejects.toMatchObject({
      code: 'ERR_WEBHOOK_CERTIFICATE',
      message: expect.stringContaining('does-not-exist-kubeloop/tls.crt'),
    });
  });
});

describe('webhook server: handlers', () => {
  it('fills in the uid, and answers in the review version it was asked in', async () => {
    const { url } = await serve((s) => s.register('/v', () => ({ allowed: true, warnings: ['w'] })));
    const res = await post(`${url}/v`, review('abc'));
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({
      apiVersion: 'admission.k8s.io/v1',
      kind: 'AdmissionReview',
      response: { allowed: true, warnings: ['w'], uid: 'abc' },
    });
  });

  it('denies with the message alone when a handler throws, and logs no stack', async () => {
    const lines: string[] = [];
    const thrower: AdmissionHandler = () => {
      throw new Error('database down\n    at secret place');
    };
    const { url } = await serve((s) => s.register('/v', thrower), { log: recordingLog(lines) });
    const { response } = (await post(`${url}/v`, review())).json();
    expect(response).toEqual({
      uid: 'uid-1',
      allowed: false,
      status: { status: 'Failure', code: 403, reason: 'Forbidden', message: 'database down at secret place' },
    });
    expect(lines.join('\n')).not.toMatch(/server\.test\.ts|at .*:\d+:\d+/);
  });

  it('denies a handler that hangs within its timeout and aborts its signal', async () => {
    let aborted: boolean | undefined;
    const hang: AdmissionHandler = (_req, ctx) =>
      new Promise((resolve) =>
        ctx.signal.addEventListener('abort', () => {
          aborted = true;
          resolve(allowed());
        }),
      );
    const { url } = await serve((s) => s.register('/v', hang, { timeoutMs: 200 }));
    const { response } = (await post(`${url}/v`, review())).json();
    expect(response).toMatchObject({
      allowed: false,
      status: { code: 504, reason: 'Timeout', message: 'the webhook did not answer within 200 ms' },
    });
    expect(aborted).toBe(true);
  });

  it('serves /convert for every registered conversion', async () => {
    const V1 = defineResource<{ n: number }>({ group: 'example.com', version: 'v1', kind: 'Thing', namespaced: true });
    const V2 = defineResource<{ m: number }>({ group: 'example.com', version: 'v2', kind: 'Thing', namespaced: true });
    const conversion = defineConversion({
      hub: V2,
      spokes: [
        {
          resource: V1,
          toHub: (o) => ({ ...o, spec: { m: o.spec!.n } }),
          fromHub: (h) => ({ ...h, spec: { n: h.spec!.m } }),
        },
      ],
    });
    const { url, server } = await serve((s) => s.registerConversion(conversion));
    expect(server.paths()).toEqual(['/convert']);
    const res = await post(`${url}/convert`, {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'ConversionReview',
      request: {
        uid: 'c1',
        desiredAPIVersion: 'example.com/v2',
        objects: [{ apiVersion: 'example.com/v1', kind: 'Thing', metadata: { name: 'x' }, spec: { n: 1 } }],
      },
    });
    expect(JSON.parse(res.text)).toEqual({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'ConversionReview',
      response: {
        uid: 'c1',
        convertedObjects: [{ apiVersion: 'example.com/v2', kind: 'Thing', metadata: { name: 'x' }, spec: { m: 1 } }],
        result: { status: 'Success' },
      },
    });
    expect(() => server.registerConversion(conversion)).toThrow(
      /conversion for Thing.example.com is already registered/,
    );
  });

  it('counts requests with controller-runtime series', async () => {
    const registry = new Registry();
    const { url } = await serve((s) => s.register('/v', () => allowed()), { registry });
    await post(`${url}/v`, review());
    await post(`${url}/v`, 'nope');
    const text = await registry.metrics();
    expect(text).toContain('controller_runtime_webhook_requests_total{webhook="/v",code="200"} 1');
    expect(text).toContain('controller_runtime_webhook_requests_total{webhook="/v",code="400"} 1');
    expect(text).toContain('controller_runtime_webhook_latency_seconds_count{webhook="/v"} 2');
    expect(text).toContain('controller_runtime_webhook_requests_in_flight{webhook="/v"} 0');
  });
});

describe('webhook server: lifecycle and certificates', () => {
  it('lets a request in flight finish when stopped, and refuses new connections', async () => {
    let release!: () => void;
    const slow: AdmissionHandler = () => new Promise((resolve) => (release = () => resolve(allowed())));
    const dir = await mkdtemp(join(tmpdir(), 'webhook-server-test-'));
    await writePair(dir, await leaf());
    const server = createWebhookServer({ port: 0, host: '127.0.0.1', certDir: dir });
    server.register('/v', slow);
    const stop = new AbortController();
    const done = server.start(stop.signal);
    await server.listening();
    const url = `https://127.0.0.1:${server.port}`;
    const pending = post(`${url}/v`, review());
    await new Promise((r) => setTimeout(r, 100));
    stop.abort();
    await new Promise((r) => setTimeout(r, 100));
    await expect(
      request(`${url}/v`, { method: 'POST', dispatcher: new Agent({ connect: { ca: ca.certPem } }) }),
    ).rejects.toThrow(/ECONNREFUSED/);
    release();
    expect((await pending).json().response).toMatchObject({ allowed: true });
    await done;
    await rm(dir, { recursive: true, force: true });
  });

  it('picks up a rotated certificate, and keeps the last good pair while the files do not match', async () => {
    const lines: string[] = [];
    const { server, dir } = await serve((s) => s.register('/v', () => allowed()), {
      certPollIntervalMs: 50,
      log: recordingLog(lines),
    });
    const served = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: server.port!, rejectUnauthorized: false }, () => {
          resolve(socket.getPeerX509Certificate()!.serialNumber);
          socket.end();
        });
        socket.once('error', reject);
      });
    const before = await served();
    const next = await leaf();
    await writeFile(join(dir, 'tls.crt'), next.certPem); // the key is still the old one: not a pair
    await new Promise((r) => setTimeout(r, 300));
    expect(await served()).toBe(before);
    expect(lines.some((l) => l.startsWith('serving certificate not reloaded'))).toBe(true);
    await writeFile(join(dir, 'tls.key'), next.keyPem);
    const want = new X509Certificate(next.certPem).serialNumber;
    for (let i = 0; i < 100 && (await served()) !== want; i++) await new Promise((r) => setTimeout(r, 20));
    expect(await served()).toBe(want);
  });

  it('asks for and verifies client certificates when a client CA is configured', async () => {
    const { dir } = await serve(() => undefined);
    await writeFile(join(dir, 'client-ca.crt'), ca.certPem);
    const server = createWebhookServer({ port: 0, host: '127.0.0.1', certDir: dir, clientCAName: 'client-ca.crt' });
    server.register('/v', () => allowed());
    const stop = new AbortController();
    const done = server.start(stop.signal);
    await server.listening();
    const mtlsUrl = `https://127.0.0.1:${server.port}/v`;
    await expect(post(mtlsUrl, review())).rejects.toThrow(/other side closed|certificate required|ECONNRESET/);
    const client = await ca.sign({ commonName: 'kube-apiserver', usage: 'client' });
    const withCert = new Agent({ connect: { ca: ca.certPem, cert: client.certPem, key: client.keyPem } });
    const res = await request(mtlsUrl, {
      method: 'POST',
      dispatcher: withCert,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(review()),
    });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
    stop.abort();
    await done;
  });
});
