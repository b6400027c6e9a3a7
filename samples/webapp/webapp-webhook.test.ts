import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { isInvalid, typedClient } from 'kubeloop/client';
import { installCrds, installWebhooks, type WebhookInstallation } from 'kubeloop/envtest';
import { createManager, type Manager } from 'kubeloop/manager';
import { webhookFor, type AdmissionContext } from 'kubeloop/webhook';
import { createTestNamespace, sharedCluster } from '../../test/support/cluster.js';
import { eventually } from '../../test/support/wait.js';
import { WebApp, WebAppV1alpha1, webAppCrd } from './webapp.js';
import { WebAppWebhook, webAppConversion, webAppWebhookConfigurations } from './webapp-webhook.js';

interface Kubectl {
  code: number;
  stdout: string;
  stderr: string;
}

// The WebApp webhooks called by a real kube-apiserver: kubectl creates WebApps, the API server sends the
// AdmissionReviews and ConversionReviews to the manager's webhook server on 127.0.0.1, over TLS with a generated CA.
// The admission webhooks are scoped to this test's namespace, so other tests' WebApps are left alone.
describe('sample: the WebApp webhooks against a real API server', () => {
  const { config, kubeconfigPath, kubectl } = sharedCluster();
  const stop = new AbortController();
  const webhook = new WebAppWebhook();
  const validateCreate = vi.spyOn(webhook, 'validateCreate');
  let installation: WebhookInstallation;
  let mgr: Manager;
  let running: Promise<void>;
  let ns: string;
  let dir: string;

  function run(args: string[]): Promise<Kubectl> {
    if (!kubectl) throw new Error('the control plane has no kubectl (KUBEBUILDER_ASSETS must hold kubectl)');
    return new Promise((resolve) => {
      execFile(kubectl, ['--kubeconfig', kubeconfigPath, '-n', ns, ...args], (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  async function kubectlCreate(
    name: string,
    spec: object,
    extra: string[] = [],
    apiVersion = `${WebApp.group}/v1`,
  ): Promise<Kubectl> {
    const file = join(dir, `${name}-${Date.now()}.json`);
    await writeFile(file, JSON.stringify({ apiVersion, kind: 'WebApp', metadata: { name }, spec }));
    return run(['create', '-f', file, ...extra]);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'webapp-webhook-'));
    ns = await createTestNamespace(config, 'webapp-webhook');
    // The sample's webhook configurations, narrowed to this namespace.
    const configurations = webAppWebhookConfigurations({
      nameSuffix: ns,
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
    });
    installation = await installWebhooks(config, { configurations });
    await installCrds(config, { objects: [webAppCrd as never] }, installation);

    mgr = await createManager({
      config,
      cache: { namespaces: [ns] },
      webhook: installation.webhookOptions,
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: pino({ level: 'silent' }),
    });
    // The builder, with an instance the test can watch; main.ts registers the class: mgr.register(WebAppWebhook).
    webhookFor(mgr).for(WebApp).withDefaulter(webhook).withValidator(webhook).complete();
    mgr.register(webAppConversion);
    running = mgr.start(stop.signal);
    await mgr.webhookServer.listening();
    // The API server picks the configurations up from its informer: wait until a request is sent to the webhook.
    await eventually(
      'the API server to call the validating webhook',
      async () => (await kubectlCreate('probe', {}, ['--dry-run=server'])).code !== 0,
    );
  });

  afterAll(async () => {
    stop.abort();
    await running;
    await installation.uninstall();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses an invalid WebApp created with kubectl, with the validator message as a 422 Invalid', async () => {
    const ran = await kubectlCreate('no-image', { replicas: 20 });
    expect(ran.code).not.toBe(0);
    // kubectl shows the causes exactly as it shows the API server's own validation errors.
    expect(ran.stderr).toContain(
      'The WebApp "no-image" is invalid: \n* spec.image: Required value\n* spec.replicas: Invalid value: 20: must be between 0 and 10',
    );

    const err = await typedClient(config, WebApp)
      .namespace(ns)
      .create({ apiVersion: `${WebApp.group}/v1`, kind: 'WebApp', metadata: { name: 'no-image' }, spec: { image: '' } })
      .catch((e: unknown) => e);
    expect(isInvalid(err)).toBe(true);
    expect((err as Error).message).toContain(
      'admission webhook "vwebapp-v1.apps.kubeloop.dev" denied the request: WebApp.apps.kubeloop.dev "no-image" is invalid: spec.image: Required value',
    );
    expect((err as { status?: { details?: { causes?: unknown[] } } }).status?.details?.causes).toEqual([
      { reason: 'FieldValueRequired', field: 'spec.image', message: 'Required value' },
    ]);
  });

  it('stores a valid WebApp with its defaults, and kubectl shows the warnings', async () => {
    const ran = await kubectlCreate('shop', { image: 'nginx' });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stderr).toContain(
      'Warning: spec.image nginx has no fixed tag: pin a version so every replica runs the same code',
    );
    const stored = await typedClient(config, WebApp).namespace(ns).get('shop');
    expect(stored.spec).toEqual({ image: 'nginx', replicas: 1, port: 8080 });
  });

  it('passes a server-side dry run to the handler, and stores nothing', async () => {
    validateCreate.mockClear();
    const ran = await kubectlCreate('dry', { image: 'nginx:1.27' }, ['--dry-run=server']);
    expect(ran.code, ran.stderr).toBe(0);
    const ctx = validateCreate.mock.calls.at(-1)?.[1] as AdmissionContext<WebApp> | undefined;
    expect(ctx?.dryRun).toBe(true);
    expect(ctx?.userInfo.username).toBe('kubeloop-admin');
    const err = await typedClient(config, WebApp)
      .namespace(ns)
      .get('dry')
      .catch((e: unknown) => e);
    expect((err as { statusCode?: number }).statusCode).toBe(404);
  });

  it('refuses a change of the immutable port', async () => {
    expect((await kubectlCreate('blog', { image: 'ghost:6', port: 2368 })).code).toBe(0);
    const ran = await run(['patch', 'webapp', 'blog', '--type', 'merge', '-p', '{"spec":{"port":80}}']);
    expect(ran.code).not.toBe(0);
    expect(ran.stderr).toContain('The WebApp "blog" is invalid: spec.port: Invalid value: 80: field is immutable');
    expect((await run(['patch', 'webapp', 'blog', '--type', 'merge', '-p', '{"spec":{"replicas":3}}'])).code).toBe(0);
  });

  it('serves v1alpha1 and v1: objects created in one read back converted in the other, and a round trip is lossless', async () => {
    const v1 = typedClient(config, WebApp).namespace(ns);
    const v1alpha1 = typedClient(config, WebAppV1alpha1).namespace(ns);

    // Created in v1alpha1: converted to v1 for admission (defaults) and storage.
    const ran = await kubectlCreate(
      'legacy',
      { image: 'nginx:1.27', containerPort: 9090 },
      [],
      `${WebApp.group}/v1alpha1`,
    );
    expect(ran.code, ran.stderr).toBe(0);
    expect((await v1.get('legacy')).spec).toEqual({ image: 'nginx:1.27', replicas: 1, port: 9090 });
    expect((await v1alpha1.get('legacy')).spec).toEqual({ image: 'nginx:1.27', replicas: 1, containerPort: 9090 });

    // Created in v1, read in v1alpha1, written back in v1alpha1, read in v1: unchanged.
    const created = await v1.create({
      apiVersion: `${WebApp.group}/v1`,
      kind: 'WebApp',
      metadata: { name: 'modern', labels: { tier: 'web' } },
      spec: { image: 'ghost:6', replicas: 2, port: 2368 },
    });
    const old = await v1alpha1.get('modern');
    expect(old.apiVersion).toBe(`${WebApp.group}/v1alpha1`);
    expect(old.spec).toEqual({ image: 'ghost:6', replicas: 2, containerPort: 2368 });
    expect(old.metadata?.labels).toEqual({ tier: 'web' });
    await v1alpha1.update(old);
    const back = await v1.get('modern');
    expect(back.spec).toEqual(created.spec);
    expect(back.metadata?.labels).toEqual(created.metadata?.labels);

    // A list in v1alpha1 converts every item.
    const list = await v1alpha1.list();
    expect(list.items.map((i) => [i.metadata?.name, i.spec?.containerPort]).toSorted()).toEqual(
      expect.arrayContaining([
        ['legacy', 9090],
        ['modern', 2368],
      ]),
    );
  });
});
