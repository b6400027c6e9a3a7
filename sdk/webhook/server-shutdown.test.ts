import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allowed } from './admission.js';
import { createCertificateAuthority } from './certificates.js';
import { createWebhookServer, type WebhookServer } from './server.js';

// Stopping the webhook server: answers in flight are sent, and connections that carry no request, or are still in
// their TLS handshake, do not hold the stop up: neither may keep the process alive for shutdownTimeoutMs (a minute
// here, beyond the test's timeout).
let dir: string;
let caPem: string;
let server: WebhookServer;
let stop: AbortController;
let stopped: Promise<void>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubeloop-webhook-shutdown-'));
  const ca = await createCertificateAuthority('shutdown-test-ca');
  const leaf = await ca.sign({ commonName: '127.0.0.1', usage: 'server', ipAddresses: ['127.0.0.1'] });
  await writeFile(join(dir, 'tls.crt'), leaf.certPem);
  await writeFile(join(dir, 'tls.key'), leaf.keyPem);
  caPem = ca.certPem;
  server = createWebhookServer({ port: 0, host: '127.0.0.1', certDir: dir, shutdownTimeoutMs: 60_000 });
  stop = new AbortController();
});

afterEach(async () => {
  stop.abort();
  await stopped;
  await rm(dir, { recursive: true, force: true });
});

function openTls(): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: server.port!, ca: caPem });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function review(path: string): Promise<{ status: number; body: string }> {
  const body = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'u1',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      operation: 'CREATE',
      userInfo: {},
    },
  });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port: server.port!,
        path,
        method: 'POST',
        ca: caPem,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

describe('webhook server shutdown', () => {
  it('closes a connection that never sent a request instead of waiting for it', { timeout: 10_000 }, async () => {
    server.register('/validate', () => allowed());
    stopped = server.start(stop.signal);
    await server.listening();
    const idle = await openTls();
    // Sent and answered: a request on another connection, so the idle one has been accepted by the server for sure.
    expect((await review('/validate')).status).toBe(200);
    const ended = new Promise((resolve) => idle.once('close', resolve));
    stop.abort();
    await stopped;
    await ended;
    expect(idle.destroyed).toBe(true);
  });

  it('does not wait for a connection still in its TLS handshake', { timeout: 10_000 }, async () => {
    server.register('/validate', () => allowed());
    stopped = server.start(stop.signal);
    await server.listening();
    // The client's handshake completes before the server's: stopping at once catches the server mid-handshake.
    const handshaking = await openTls();
    const ended = new Promise((resolve) => handshaking.once('close', resolve));
    stop.abort();
    await stopped;
    await ended;
    expect(handshaking.destroyed).toBe(true);
  });

  it('sends the answer of a request in flight before closing', { timeout: 10_000 }, async () => {
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    server.register('/slow', async () => {
      entered();
      await new Promise((resolve) => setTimeout(resolve, 300));
      return allowed(['answered after the stop began']);
    });
    stopped = server.start(stop.signal);
    await server.listening();
    const answer = review('/slow');
    await inHandler;
    stop.abort();
    const { status, body } = await answer;
    expect(status).toBe(200);
    expect(JSON.parse(body)).toMatchObject({
      response: { uid: 'u1', allowed: true, warnings: ['answered after the stop began'] },
    });
    await stopped;
  });
});
