import { X509Certificate } from 'node:crypto';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { pino, type Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigMap,
  Secret,
  createClientset,
  isForbidden,
  isInvalid,
  type admissionregistrationv1,
  type Clientset,
  type ConfigMap as ConfigMapObject,
} from '../../sdk/client/index.js';
import { createManager, LOGGER, type Manager } from '../../sdk/manager/index.js';
import {
  Webhook,
  ValidationError,
  allowed,
  createCertificateAuthority,
  denied,
  fieldError,
  validatingPath,
  defaultingPath,
  type AdmissionContext,
  type AdmissionHandler,
  type CertificateAuthority,
  type Defaulter,
  type Validator,
  type Warnings,
} from '../../sdk/webhook/index.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';
import { eventually, freePort, httpGet } from '../support/wait.js';

// The webhook server as the API server sees it: a @Webhook class built through the manager's container, a raw
// handler, handlers that throw or hang, failure policies with the server down, and a certificate rotated while
// objects are being created. Every configuration is scoped to this file's namespaces by a namespaceSelector.

const seen: { dryRun: boolean; signalAbortedAfterTimeout?: boolean }[] = [];

@Webhook({ for: ConfigMap, defaulting: true, validating: true, timeoutSeconds: 5, handlerTimeoutMs: 1000 })
class ConfigMapPolicy implements Defaulter<ConfigMapObject>, Validator<ConfigMapObject> {
  static inject = [LOGGER] as const;
  constructor(private readonly log: Logger) {}

  default(cm: ConfigMapObject, _ctx: AdmissionContext<ConfigMapObject>): void {
    cm.metadata!.labels = { ...cm.metadata!.labels, 'policy.kubeloop.dev/checked': 'true' };
  }

  async validateCreate(cm: ConfigMapObject, ctx: AdmissionContext<ConfigMapObject>): Promise<Warnings> {
    seen.push({ dryRun: ctx.dryRun });
    switch (cm.data?.['mode']) {
      case 'throw':
        throw new Error('the policy store is unreachable');
      case 'hang':
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        seen.push({ dryRun: ctx.dryRun, signalAbortedAfterTimeout: ctx.signal.aborted });
        return [];
      case 'invalid':
        throw new ValidationError([fieldError('data.mode', 'must be one of throw, hang, warn', { value: 'invalid' })]);
      case 'warn':
        return ['mode warn: this ConfigMap is allowed, with a warning'];
      default:
        this.log.debug({ name: cm.metadata?.name }, 'allowed');
        return [];
    }
  }

  validateUpdate(_old: ConfigMapObject, _cm: ConfigMapObject, _ctx: AdmissionContext<ConfigMapObject>): Warnings {
    return [];
  }

  validateDelete(_cm: ConfigMapObject, _ctx: AdmissionContext<ConfigMapObject>): Warnings {
    return [];
  }
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

async function servingPair(ca: CertificateAuthority, dir: string): Promise<string> {
  const pair = await ca.sign({
    commonName: 'webhook',
    usage: 'server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  // Written as a Secret volume update would land: each file replaced whole. The watcher skips the moment where the
  // new key sits beside the old certificate.
  await writeFile(join(dir, 'tls.key.tmp'), pair.keyPem, { mode: 0o600 });
  await writeFile(join(dir, 'tls.crt.tmp'), pair.certPem);
  await rename(join(dir, 'tls.key.tmp'), join(dir, 'tls.key'));
  await rename(join(dir, 'tls.crt.tmp'), join(dir, 'tls.crt'));
  return new X509Certificate(pair.certPem).fingerprint256;
}

function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()!.fingerprint256);
      socket.end();
    });
    socket.once('error', reject);
  });
}

function webhookEntry(
  name: string,
  url: string,
  caPem: string,
  ns: string,
  resource: string,
  failurePolicy: 'Fail' | 'Ignore' = 'Fail',
): admissionregistrationv1.ValidatingWebhook {
  return {
    name,
    clientConfig: { url, caBundle: b64(caPem) },
    admissionReviewVersions: ['v1'],
    sideEffects: 'None',
    failurePolicy,
    timeoutSeconds: 5,
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
    rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: [resource], operations: ['CREATE'] }],
  };
}

describe('webhook server through the real API server', () => {
  const { config } = sharedCluster();
  const cs: Clientset = createClientset(config);
  const stop = new AbortController();
  const cleanup: (() => Promise<unknown>)[] = [];
  let ca: CertificateAuthority;
  let certDir: string;
  let port: number;
  let probePort: number;
  let ns: string;
  let mgr: Manager;
  let running: Promise<void>;
  let firstFingerprint: string;

  const cm = (name: string, data: Record<string, string> = {}): ConfigMapObject => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name },
    data,
  });

  beforeAll(async () => {
    ns = await createTestNamespace(config, 'webhook');
    ca = await createCertificateAuthority('webhook-test-ca');
    certDir = await mkdtemp(join(tmpdir(), 'webhook-certs-'));
    firstFingerprint = await servingPair(ca, certDir);
    [port, probePort] = [await freePort(), await freePort()];
    const url = (path: string): string => `https://127.0.0.1:${port}${path}`;

    const mutating = await cs
      .admissionregistrationV1()
      .mutatingWebhookConfigurations()
      .create({
        metadata: { name: uniqueName('webhook-test-m') },
        webhooks: [
          {
            ...webhookEntry('mconfigmap.kubeloop.dev', url(defaultingPath(ConfigMap)), ca.certPem, ns, 'configmaps'),
            reinvocationPolicy: 'Never',
          },
        ],
      });
    const validating = await cs
      .admissionregistrationV1()
      .validatingWebhookConfigurations()
      .create({
        metadata: { name: uniqueName('webhook-test-v') },
        webhooks: [
          webhookEntry('vconfigmap.kubeloop.dev', url(validatingPath(ConfigMap)), ca.certPem, ns, 'configmaps'),
          webhookEntry('vsecret.kubeloop.dev', url('/validate-secrets'), ca.certPem, ns, 'secrets'),
        ],
      });
    cleanup.push(
      () => cs.admissionregistrationV1().mutatingWebhookConfigurations().delete(mutating.metadata!.name!),
      () => cs.admissionregistrationV1().validatingWebhookConfigurations().delete(validating.metadata!.name!),
    );

    mgr = await createManager({
      config,
      cache: { namespaces: [ns] },
      webhook: { host: '127.0.0.1', port, certDir, certPollIntervalMs: 500 },
      metricsBindAddress: '0',
      healthProbeBindAddress: `127.0.0.1:${probePort}`,
      logger: pino({ level: 'silent' }),
    });
    mgr.register(ConfigMapPolicy);
    const secretPolicy: AdmissionHandler = (request) =>
      request.object?.metadata?.labels?.['forbidden'] === 'true'
        ? denied(`Secrets labelled forbidden=true may not be created in ${request.namespace}`)
        : allowed();
    mgr.webhookServer.register('/validate-secrets', secretPolicy);
    running = mgr.start(stop.signal);
    await mgr.webhookServer.listening();
    await eventually('the API server to call the webhooks', async () => {
      const created = await cs
        .coreV1()
        .configMaps(ns)
        .create(cm(uniqueName('probe')), { dryRun: ['All'] });
      return created.metadata?.labels?.['policy.kubeloop.dev/checked'] === 'true';
    });
  });

  afterAll(async () => {
    stop.abort();
    await running;
    for (const c of cleanup) await c();
    await rm(certDir, { recursive: true, force: true });
  });

  it('defaults and validates through a @Webhook class built by the manager, with warnings and dry runs', async () => {
    const created = await cs.coreV1().configMaps(ns).create(cm('plain'));
    expect(created.metadata?.labels).toEqual({ 'policy.kubeloop.dev/checked': 'true' });

    seen.length = 0;
    await cs
      .coreV1()
      .configMaps(ns)
      .create(cm('dry'), { dryRun: ['All'] });
    expect(seen).toEqual([{ dryRun: true }]);

    const err = await cs
      .coreV1()
      .configMaps(ns)
      .create(cm('bad', { mode: 'invalid' }))
      .catch((e: unknown) => e);
    expect(isInvalid(err)).toBe(true);
    expect((err as Error).message).toContain(
      'ConfigMap "bad" is invalid: data.mode: Invalid value: "invalid": must be one of throw, hang, warn',
    );
  });

  it('denies with the message alone when a handler throws, and within its own timeout when it hangs', async () => {
    const thrown = await cs
      .coreV1()
      .configMaps(ns)
      .create(cm('thrown', { mode: 'throw' }))
      .catch((e: unknown) => e);
    expect(isForbidden(thrown)).toBe(true);
    expect((thrown as Error).message).toContain(
      'admission webhook "vconfigmap.kubeloop.dev" denied the request: the policy store is unreachable',
    );
    expect((thrown as Error).message).not.toMatch(/\bat .*\.(ts|js):\d+/);

    seen.length = 0;
    const started = Date.now();
    const hung = await cs
      .coreV1()
      .configMaps(ns)
      .create(cm('hung', { mode: 'hang' }))
      .catch((e: unknown) => e);
    const tookMs = Date.now() - started;
    expect((hung as Error).message).toContain('denied the request: the webhook did not answer within 1000 ms');
    // Denied by the handler's own timeout (1 s), well before the configuration's timeoutSeconds (5 s).
    expect(tookMs).toBeLessThan(5000);
    await eventually('the hung handler to see its signal aborted', () =>
      seen.find((s) => s.signalAbortedAfterTimeout !== undefined),
    );
    expect(seen.find((s) => s.signalAbortedAfterTimeout !== undefined)?.signalAbortedAfterTimeout).toBe(true);
  });

  it('serves a raw admission.k8s.io/v1 handler registered on mgr.webhookServer', async () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'nope', labels: { forbidden: 'true' } },
      stringData: { token: 'hunter2' },
    };
    const err = await cs
      .coreV1()
      .secrets(ns)
      .create(secret)
      .catch((e: unknown) => e);
    expect(isForbidden(err)).toBe(true);
    expect((err as Error).message).toContain(`Secrets labelled forbidden=true may not be created in ${ns}`);
    expect((err as Error).message).not.toContain('hunter2');
    await cs
      .coreV1()
      .secrets(ns)
      .create({ ...secret, metadata: { name: 'fine' } });
    expect(Secret.kind).toBe('Secret');
  });

  it('reports readiness and controller-runtime metrics for the webhook server', async () => {
    expect((await httpGet(`http://127.0.0.1:${probePort}/readyz/webhook`)).status).toBe(200);
    const metrics = await mgr.metrics.registry.metrics();
    expect(metrics).toMatch(
      /controller_runtime_webhook_requests_total\{webhook="\/validate--v1-configmap",code="200"\} [1-9]/,
    );
    expect(metrics).toMatch(
      /controller_runtime_webhook_latency_seconds_count\{webhook="\/mutate--v1-configmap"\} [1-9]/,
    );
    expect(metrics).toContain('controller_runtime_webhook_requests_in_flight{webhook="/validate-secrets"} 0');
  });

  it('switches to a rotated certificate while objects are being created, and no request fails', async () => {
    const failures: string[] = [];
    let done = 0;
    let rotatedAt = 0;
    let afterRotation = 0;
    const loadDone = new AbortController();
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; !loadDone.signal.aborted; i++) {
        try {
          await cs
            .coreV1()
            .configMaps(ns)
            .create(cm(`load-${w}-${i}`), { dryRun: ['All'] });
          done++;
          if (rotatedAt && Date.now() > rotatedAt) afterRotation++;
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    };
    const load = Promise.all([0, 1, 2, 3].map(worker));
    await eventually('some requests before the rotation', () => done > 20);
    expect(await servedFingerprint(port)).toBe(firstFingerprint);
    const next = await servingPair(ca, certDir);
    rotatedAt = Date.now();
    await eventually(
      'the server to serve the new certificate',
      async () => (await servedFingerprint(port)) === next,
      10_000,
    );
    const switchedAt = Date.now();
    await eventually('requests on the new certificate', () => afterRotation > 50 && Date.now() - switchedAt > 500);
    loadDone.abort();
    await load;
    expect(failures).toEqual([]);
    expect(done).toBeGreaterThan(70);
  });
});

describe('failure policies while the webhook server is down', () => {
  const { config } = sharedCluster();
  const cs = createClientset(config);
  let ns: string;
  let name: string;

  beforeAll(async () => {
    ns = await createTestNamespace(config, 'webhook-down');
    const ca = await createCertificateAuthority('nobody-listens');
    const port = await freePort(); // free now, and nothing will listen there
    name = uniqueName('webhook-down');
    const entry = (
      hook: string,
      failurePolicy: 'Fail' | 'Ignore',
      resource: string,
    ): admissionregistrationv1.ValidatingWebhook =>
      webhookEntry(hook, `https://127.0.0.1:${port}/validate`, ca.certPem, ns, resource, failurePolicy);
    await cs
      .admissionregistrationV1()
      .validatingWebhookConfigurations()
      .create({
        metadata: { name },
        webhooks: [entry('ignore.kubeloop.dev', 'Ignore', 'configmaps'), entry('fail.kubeloop.dev', 'Fail', 'secrets')],
      });
    await eventually('the API server to call the failing webhook', async () =>
      cs
        .coreV1()
        .secrets(ns)
        .create({ metadata: { name: uniqueName('probe') } }, { dryRun: ['All'] })
        .then(
          () => false,
          () => true,
        ),
    );
  });

  afterAll(async () => {
    await cs.admissionregistrationV1().validatingWebhookConfigurations().delete(name);
  });

  it('Ignore lets the request through; Fail refuses it with a message naming the webhook and the cause', async () => {
    const created = await cs
      .coreV1()
      .configMaps(ns)
      .create({ metadata: { name: 'through' }, data: { a: 'b' } });
    expect(created.metadata?.name).toBe('through');
    const err = await cs
      .coreV1()
      .secrets(ns)
      .create({ metadata: { name: 'refused' } })
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/failed calling webhook "fail\.kubeloop\.dev".*connection refused/);
  });
});

describe('a manager whose webhook server cannot start', () => {
  it('stops with a coded error that says where the certificate should be', async () => {
    const mgr = await createManager({
      config: sharedCluster().config,
      webhook: { host: '127.0.0.1', port: 0, certDir: join(tmpdir(), 'kubeloop-no-such-certs') },
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: pino({ level: 'silent' }),
    });
    mgr.webhookServer.register('/validate-anything', () => allowed());
    await expect(mgr.start(new AbortController().signal)).rejects.toMatchObject({
      code: 'ERR_WEBHOOK_CERTIFICATE',
      message: expect.stringMatching(/kubeloop-no-such-certs\/tls\.crt .*Mount the certificate Secret there/),
    });
  });
});
