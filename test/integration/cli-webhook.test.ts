import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamicClient, isInvalid, isNotFound, type Unstructured } from '../../sdk/client/index.js';
import { sharedCluster } from '../support/cluster.js';
import { eventually, type EventuallyOptions, freePort, httpGet } from '../support/wait.js';
import {
  dryRunCreate,
  dyingWithParent,
  linkCheckout,
  objectsUnder,
  optInConfigFolders,
  parseObjects,
  runCli,
  runCommand,
  runTsc,
  snapshot,
  succeeded,
  type Ran,
} from '../e2e/support/cli.js';
import { installCrds, installWebhooks } from '../../sdk/envtest/index.js';
import { certManagerStubCrds, kindsWithWebhooks } from '../e2e/support/webhooks.js';

/** Polls the API server the way the CLI-built operators converge: errors count as not yet. */
const poll: EventuallyOptions = { timeoutMs: 30_000, intervalMs: 100, retryErrors: true };

// `kubeloop create webhook` on a project made by the CLI (init --skip-install, its packages linked to this checkout,
// two kinds from create api): the files it writes and registers, its refusals, then `generate manifests` on the built
// project: the webhook configurations, Service, certificate and conversion it derives, their determinism, the API
// server's verdict on every manifest (dry run), and the built operator serving its webhooks to the shared API server
// through the generated configurations (pointed at 127.0.0.1 with a test CA, as the project's own tests do through
// kubeloop/envtest).
const id = randomBytes(3).toString('hex');
const name = `wh-${id}`;
const domain = `w${id}.example`;
const group = `webapp.${domain}`;
let root: string;
let project: string;

async function cli(...args: string[]): Promise<Ran> {
  return runCli(args, { cwd: project });
}

const read = (path: string): Promise<string> => readFile(join(project, path), 'utf8');
const identity = (o: Unstructured): string => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kubeloop-cli-webhook-'));
  project = join(root, name);
  succeeded(await runCli(['init', project, '--domain', domain, '--skip-install'], { cwd: root }), 'kubeloop init');
  await linkCheckout(project);
  succeeded(
    await cli('create', 'api', '--group', 'webapp', '--version', 'v1', '--kind', 'Guestbook'),
    'create api Guestbook',
  );
  succeeded(
    await cli('create', 'api', '--group', 'infra', '--version', 'v1', '--kind', 'Pool', '--no-namespaced'),
    'create api Pool',
  );
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('kubeloop create webhook', () => {
  it('adds a defaulting and validating @Webhook class, registered in src/main.ts, and its test with a control plane of its own', async () => {
    const ran = await cli(
      'create',
      'webhook',
      '--group',
      'webapp',
      '--version',
      'v1',
      '--kind',
      'Guestbook',
      '--defaulting',
      '--programmatic-validation',
    );
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain(`Added defaulting, validation webhooks for Guestbook ${group}/v1:`);
    expect(ran.stdout).toContain('created src/webhooks/guestbook-webhook.ts');
    expect(ran.stdout).toContain('created test/guestbook-webhook.test.ts');
    const webhook = await read('src/webhooks/guestbook-webhook.ts');
    expect(webhook).toContain("import { Guestbook } from '../api/webapp/v1/guestbook.js';");
    expect(webhook).toContain('@Webhook({ for: Guestbook, defaulting: true, validating: true })');
    expect(webhook).toContain('export class GuestbookWebhook implements Defaulter<Guestbook>, Validator<Guestbook> {');
    expect(webhook).toContain('default(guestbook: Guestbook, ctx: AdmissionContext<Guestbook>): void {');
    expect(webhook).toContain(
      'validateUpdate(oldGuestbook: Guestbook, guestbook: Guestbook, ctx: AdmissionContext<Guestbook>): Warnings {',
    );
    expect(webhook).toContain("errors.push(fieldError('spec.message', 'must not be blank', { value: text }));");
    expect(webhook).toContain(`/mutate-webapp-${domain.replaceAll('.', '-')}-v1-guestbook`);
    const test = await read('test/guestbook-webhook.test.ts');
    expect(test).toContain("webhooks: { paths: [join(root, 'config/webhook/manifests.yaml')] },");
    expect(test).toContain('webhook: env.webhookOptions,');
    expect(test).toContain('mgr.register(GuestbookWebhook);');
    expect(test).toContain('.namespace(namespace)');
    const main = await read('src/main.ts');
    expect(main).toContain(
      "import { GuestbookWebhook } from './webhooks/guestbook-webhook.js';\n// kubeloop:scaffold:imports",
    );
    expect(main).toContain('  mgr.register(GuestbookWebhook);\n  // kubeloop:scaffold:reconcilers');
  });

  it('adds a conversion from the hub to a new spoke version, with the spoke’s resource module, registered in src/main.ts', async () => {
    const ran = await cli(
      'create',
      'webhook',
      '--group',
      'webapp',
      '--version',
      'v1',
      '--kind',
      'Guestbook',
      '--conversion',
      '--spoke',
      'v1alpha1',
    );
    expect(ran.code, ran.stderr).toBe(0);
    const spoke = await read('src/api/webapp/v1alpha1/guestbook.ts');
    expect(spoke).toContain("version: 'v1alpha1'");
    expect(spoke).toContain('storage: false');
    const conversion = await read('src/api/webapp/guestbook-conversion.ts');
    expect(conversion).toContain("import { Guestbook as GuestbookV1alpha1 } from './v1alpha1/guestbook.js';");
    expect(conversion).toContain('export const guestbookConversion = defineConversion({');
    expect(conversion).toContain('{ resource: GuestbookV1alpha1, toHub: v1alpha1ToHub, fromHub: hubToV1alpha1 },');
    expect(conversion).toContain('function v1alpha1ToHub({ spec, status, ...rest }: GuestbookV1alpha1): Guestbook {');
    const test = await read('test/guestbook-conversion.test.ts');
    expect(test).toContain(
      "env = await startControlPlane({ crds: { paths: [join(root, 'config/crd/bases')] }, webhooks: {} });",
    );
    expect(test).toContain("it('serves a Guestbook written as v1alpha1 in v1, and back'");
    expect(await read('src/main.ts')).toContain('  mgr.register(guestbookConversion);\n');
    const file = JSON.parse(await read('kubeloop.json')) as {
      apis: { kind: string; version: string; path: string; reconciler?: string }[];
    };
    expect(file.apis.filter((a) => a.kind === 'Guestbook')).toEqual([
      expect.objectContaining({ version: 'v1', reconciler: 'src/reconcilers/guestbook-reconciler.ts' }),
      {
        group,
        version: 'v1alpha1',
        kind: 'Guestbook',
        plural: 'guestbooks',
        namespaced: true,
        path: 'src/api/webapp/v1alpha1/guestbook.ts',
      },
    ]);
  });

  it('adds a validator alone to a cluster-scoped kind', async () => {
    const ran = await cli(
      'create',
      'webhook',
      '--group',
      'infra',
      '--version',
      'v1',
      '--kind',
      'Pool',
      '--programmatic-validation',
    );
    expect(ran.code, ran.stderr).toBe(0);
    const webhook = await read('src/webhooks/pool-webhook.ts');
    expect(webhook).toContain('@Webhook({ for: Pool, validating: true })');
    expect(webhook).toContain('export class PoolWebhook implements Validator<Pool> {');
    expect(webhook).not.toContain('Defaulter');
    expect(webhook).not.toContain('default(');
    const test = await read('test/pool-webhook.test.ts');
    expect(test).not.toContain('namespace');
    expect(test).not.toContain('defaulted');
  });

  it.each([
    [
      ['--group', 'webapp', '--version', 'v1', '--kind', 'Guestbook'],
      'say what to scaffold for Guestbook: --defaulting',
    ],
    [
      ['--group', 'webapp', '--version', 'v1', '--kind', 'Cart', '--defaulting'],
      `Cart is not a kind of this project in ${group}`,
    ],
    [
      ['--group', 'webapp', '--version', 'v2', '--kind', 'Guestbook', '--defaulting'],
      `Guestbook ${group} has no version v2 in this project (it has v1, v1alpha1)`,
    ],
    [
      ['--group', 'webapp', '--version', 'v1', '--kind', 'Guestbook', '--defaulting', '--spoke', 'v2'],
      '--spoke names the versions of a conversion: pass --conversion with it',
    ],
    [
      ['--group', 'infra', '--version', 'v1', '--kind', 'Pool', '--conversion'],
      `Pool infra.${domain} has only the version v1: a conversion needs another one. Pass --spoke`,
    ],
    [
      ['--group', 'infra', '--version', 'v1', '--kind', 'Pool', '--conversion', '--spoke', 'v1'],
      '--spoke v1 is the hub (--version)',
    ],
    [
      ['--group', 'infra', '--version', 'v1', '--kind', 'Pool', '--conversion', '--spoke', 'two'],
      'invalid version "two"',
    ],
    [
      ['--group', 'webapp', '--version', 'v1', '--kind', 'Guestbook', '--defaulting'],
      'src/webhooks/guestbook-webhook.ts, test/guestbook-webhook.test.ts already exist: nothing was written',
    ],
    [
      ['--group', 'webapp', '--version', 'v1', '--kind', 'Guestbook', '--conversion'],
      'src/api/webapp/guestbook-conversion.ts, test/guestbook-conversion.test.ts already exist',
    ],
    [['--group', 'webapp', '--version', 'v1', '--defaulting'], "required option '--kind <Kind>' not specified"],
  ])('refuses %j and changes nothing', async (args, message) => {
    const before = await snapshot(project);
    const ran = await cli('create', 'webhook', ...args);
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(message);
    expect(await snapshot(project)).toEqual(before);
  });

  it('refuses a main.ts without its marker, writing nothing', async () => {
    const main = await read('src/main.ts');
    await writeFile(join(project, 'src/main.ts'), main.replace('// kubeloop:scaffold:imports\n', ''));
    const before = await snapshot(project);
    const ran = await cli(
      'create',
      'webhook',
      '--group',
      'infra',
      '--version',
      'v1',
      '--kind',
      'Pool',
      '--conversion',
      '--spoke',
      'v1beta1',
    );
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(
      'src/main.ts lacks the line "// kubeloop:scaffold:imports" that marks where imports go',
    );
    expect(await snapshot(project)).toEqual(before);
    expect(existsSync(join(project, 'src/api/infra/v1beta1/pool.ts'))).toBe(false);
    await writeFile(join(project, 'src/main.ts'), main);
  });
});

describe('generate manifests, with webhooks', () => {
  it('builds the project (src/, into dist/)', async () => {
    const ran = await runTsc(['-p', 'tsconfig.build.json'], project);
    expect(ran.code, ran.stdout).toBe(0);
    expect(existsSync(join(project, 'dist/webhooks/guestbook-webhook.js'))).toBe(true);
  });

  it('type-checks the project with its tests: startControlPlane({ crds, webhooks }) and env.webhookOptions (kubeloop/envtest)', async () => {
    const ran = await runTsc(['-p', 'tsconfig.json', '--noEmit'], project);
    expect(ran.stdout).toBe('');
    expect(ran.code).toBe(0);
  });

  it('writes the webhook configurations, Service, certificate, Deployment patch and the conversion on the CRD', async () => {
    const ran = await cli('generate', 'manifests');
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('2 CRDs, RBAC from 2 reconcilers, 2 webhook classes, 1 conversion');
    for (const path of ['manifests.yaml', 'service.yaml', 'manager_webhook_patch.yaml'])
      expect(ran.stdout).toContain(`created   config/webhook/${path}`);
    expect(ran.stdout).toContain('updated   config/webhook/kustomization.yaml');
    expect(ran.stdout).toContain('created   config/certmanager/certificate.yaml');

    const service = { name: `${name}-webhook-service`, namespace: `${name}-system` };
    const [mutating, validating] = parseObjects(await read('config/webhook/manifests.yaml')) as (Unstructured & {
      webhooks: unknown[];
    })[];
    const ca = { 'cert-manager.io/inject-ca-from': `${name}-system/${name}-serving-cert` };
    expect(mutating).toMatchObject({
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: `${name}-mutating-webhook-configuration`, annotations: ca },
    });
    expect(mutating!.webhooks).toEqual([
      {
        name: `mguestbook-v1.${group}`,
        admissionReviewVersions: ['v1'],
        clientConfig: { service: { ...service, path: `/mutate-webapp-${domain.replaceAll('.', '-')}-v1-guestbook` } },
        failurePolicy: 'Fail',
        matchPolicy: 'Equivalent',
        reinvocationPolicy: 'Never',
        sideEffects: 'None',
        timeoutSeconds: 10,
        rules: [
          { apiGroups: [group], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['guestbooks'] },
        ],
      },
    ]);
    expect(validating).toMatchObject({
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: `${name}-validating-webhook-configuration`, annotations: ca },
    });
    expect((validating!.webhooks as { name: string }[]).map((w) => w.name)).toEqual([
      `vguestbook-v1.${group}`,
      `vpool-v1.infra.${domain}`,
    ]);

    const [crd] = parseObjects(await read(`config/crd/bases/${group}_guestbooks.yaml`)) as (Unstructured & {
      spec: Record<string, unknown>;
    })[];
    expect((await read(`config/crd/bases/${group}_guestbooks.yaml`)).split('\n')[0]).toBe(
      '# Generated by `kubeloop generate manifests` from src/api/webapp/guestbook-conversion.ts, src/api/webapp/v1/guestbook.ts, ' +
        'src/api/webapp/v1alpha1/guestbook.ts. DO NOT EDIT.',
    );
    expect(crd!.metadata?.annotations).toEqual(ca);
    expect(crd!.spec['conversion']).toEqual({
      strategy: 'Webhook',
      webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: { ...service, path: '/convert' } } },
    });
    expect((crd!.spec['versions'] as { name: string; storage: boolean }[]).map((v) => [v.name, v.storage])).toEqual([
      ['v1', true],
      ['v1alpha1', false],
    ]);
    const [pools] = parseObjects(await read(`config/crd/bases/infra.${domain}_pools.yaml`)) as (Unstructured & {
      spec: Record<string, unknown>;
    })[];
    expect(pools!.spec['conversion']).toBeUndefined();

    const [issuer, certificate] = parseObjects(await read('config/certmanager/certificate.yaml'));
    expect(issuer).toMatchObject({
      kind: 'Issuer',
      metadata: { name: `${name}-selfsigned-issuer`, namespace: `${name}-system` },
      spec: { selfSigned: {} },
    });
    expect(certificate).toMatchObject({
      kind: 'Certificate',
      metadata: { name: `${name}-serving-cert`, namespace: `${name}-system` },
      spec: {
        dnsNames: [
          `${service.name}.${service.namespace}.svc`,
          `${service.name}.${service.namespace}.svc.cluster.local`,
        ],
        issuerRef: { kind: 'Issuer', name: `${name}-selfsigned-issuer` },
        secretName: 'webhook-server-cert',
      },
    });
  });

  it('writes the same bytes again, and config/default renders a Deployment with the webhook port and certificate', async () => {
    const files = [
      'config/webhook/manifests.yaml',
      'config/webhook/service.yaml',
      'config/certmanager/certificate.yaml',
      `config/crd/bases/${group}_guestbooks.yaml`,
    ];
    const before = await Promise.all(files.map(read));
    const ran = await cli('generate', 'manifests');
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).not.toMatch(/^(created|updated|removed) /m);
    expect(await Promise.all(files.map(read))).toEqual(before);

    const { kubectl } = sharedCluster();
    if (!kubectl) throw new Error('the control plane has no kubectl (KUBEBUILDER_ASSETS must hold kubectl)');
    const rendered = await runCommand(kubectl, ['kustomize', join(project, 'config/default')], { cwd: project });
    expect(rendered.code, rendered.stderr).toBe(0);
    const objects = parseObjects(rendered.stdout);
    expect(objects.map(identity).toSorted()).toEqual(
      (await objectsUnder(join(project, 'config'), optInConfigFolders)).map(identity).toSorted(),
    );
    const deployment = objects.find((o) => o.kind === 'Deployment') as Unstructured & {
      spec: {
        template: {
          spec: { containers: { name: string; ports: unknown[]; volumeMounts?: unknown[] }[]; volumes?: unknown[] };
        };
      };
    };
    const manager = deployment.spec.template.spec.containers.find((c) => c.name === 'manager')!;
    expect(manager.ports).toContainEqual({ name: 'webhook-server', containerPort: 9443, protocol: 'TCP' });
    expect(manager.volumeMounts).toEqual([
      { name: 'webhook-certs', mountPath: '/tmp/k8s-webhook-server/serving-certs', readOnly: true },
    ]);
    expect(deployment.spec.template.spec.volumes).toEqual([
      { name: 'webhook-certs', secret: { secretName: 'webhook-server-cert' } },
    ]);
  });

  it('has manifests the API server admits, every one of them (server-side dry run; cert-manager’s kinds from stand-in CRDs)', async () => {
    const { config, kubectl } = sharedCluster();
    await installCrds(config, { objects: certManagerStubCrds });
    const rendered = await runCommand(kubectl!, ['kustomize', join(project, 'config/default')], { cwd: project });
    const objects = parseObjects(rendered.stdout);
    expect(objects.map((o) => o.kind).toSorted()).toEqual(kindsWithWebhooks);
    const submitted = await dryRunCreate(config, objects);
    for (const { object, accepted } of submitted) {
      expect(identity(accepted), identity(object)).toBe(identity(object));
      expect(accepted.metadata?.uid, identity(object)).toBeTruthy();
    }
  });

  it('serves its webhooks from the built operator: the API server defaults, refuses and converts through the generated configurations', async () => {
    const { config, kubeconfigPath } = sharedCluster();
    const probePort = await freePort();
    // As the project's own tests do (through startControlPlane): the configurations and the conversion CRD call a local
    // server on 127.0.0.1 with a CA made for the test, instead of the webhook Service with cert-manager's CA.
    const installation = await installWebhooks(config, {
      paths: [join(project, 'config/webhook/manifests.yaml')],
      certDir: join(root, 'serving-certs'),
    });
    const { port: webhookPort, certDir } = installation.webhookOptions;
    const dyn = createDynamicClient(config);
    const crdClient = dyn.resource({
      group: 'apiextensions.k8s.io',
      version: 'v1',
      resource: 'customresourcedefinitions',
    });
    let crds: string[] = [];

    const [file, args] = dyingWithParent(process.execPath, [
      'dist/main.js',
      '--kubeconfig',
      kubeconfigPath,
      '--no-leader-elect',
      '--metrics-bind-address=0',
      `--health-probe-bind-address=127.0.0.1:${probePort}`,
      '--webhook-port',
      String(webhookPort),
      '--webhook-cert-dir',
      certDir,
      '--log-level=warn',
    ]);
    const operator = spawn(file, args, {
      cwd: project,
      env: { PATH: process.env['PATH'] ?? '', HOME: root },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    operator.stdout.on('data', (c: Buffer) => (log += c.toString()));
    operator.stderr.on('data', (c: Buffer) => (log += c.toString()));
    const exited = new Promise((resolve) => operator.once('exit', resolve));
    try {
      crds = (await installCrds(config, { paths: [join(project, 'config/crd/bases')] }, installation)).map(
        (c) => c.metadata!.name!,
      );
      await eventually(
        `the operator's /readyz (webhook server included) to answer 200`,
        async () => {
          if (operator.exitCode !== null) throw new Error(`the operator exited ${operator.exitCode}:\n${log}`);
          return (await httpGet(`http://127.0.0.1:${probePort}/readyz`)).status === 200 ? true : undefined;
        },
        poll,
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}\n${log}`);
      });

      const ns = `${name}-serve`;
      await dyn
        .resource({ group: '', version: 'v1', resource: 'namespaces' })
        .create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const v1 = dyn.resource({ group, version: 'v1', resource: 'guestbooks' }).namespace(ns);
      const v1alpha1 = dyn.resource({ group, version: 'v1alpha1', resource: 'guestbooks' }).namespace(ns);
      const apiVersion = `${group}/v1`;
      // The API server may take a moment to see the new configurations: the first defaulted object says so.
      const defaulted = await eventually(
        'the API server to call the defaulting webhook',
        async () => {
          const dry = await v1.create(
            { apiVersion, kind: 'Guestbook', metadata: { name: 'probe' }, spec: {} },
            { dryRun: ['All'] },
          );
          return (dry['spec'] as { message?: string }).message === 'Hello' ? dry : undefined;
        },
        poll,
      );
      expect(defaulted['spec']).toEqual({ message: 'Hello' });

      const stored = await v1.create({ apiVersion, kind: 'Guestbook', metadata: { name: 'defaulted' }, spec: {} });
      expect(stored['spec']).toEqual({ message: 'Hello' });
      const blank = v1.create({ apiVersion, kind: 'Guestbook', metadata: { name: 'blank' }, spec: { message: '  ' } });
      await expect(blank).rejects.toSatisfy(isInvalid);
      await expect(blank).rejects.toThrow('spec.message: Invalid value: "  ": must not be blank');
      await expect(v1.get('blank')).rejects.toSatisfy(isNotFound);

      const asSpoke = await v1alpha1.get('defaulted');
      expect(asSpoke.apiVersion).toBe(`${group}/v1alpha1`);
      expect(asSpoke['spec']).toEqual({ message: 'Hello' });
      await v1alpha1.create({
        apiVersion: `${group}/v1alpha1`,
        kind: 'Guestbook',
        metadata: { name: 'from-spoke' },
        spec: { message: 'old version' },
      });
      expect((await v1.get('from-spoke'))['spec']).toEqual({ message: 'old version' });
      expect(log).not.toMatch(/"level":(50|60)/);
    } finally {
      await installation.uninstall();
      operator.kill('SIGTERM');
      await exited;
      for (const crd of crds) await crdClient.delete(crd).catch(() => undefined);
    }
  });

  it('with webhookCertificates "kubeloop", writes the built-in provisioner instead of cert-manager, and the built operator provisions its certificate', async () => {
    const { config, kubeconfigPath, kubectl } = sharedCluster();
    const file = JSON.parse(await read('kubeloop.json')) as Record<string, unknown>;
    await writeFile(
      join(project, 'kubeloop.json'),
      JSON.stringify({ ...file, webhookCertificates: 'kubeloop' }, null, 2),
    );
    try {
      succeeded(await cli('generate', 'manifests'), 'generate manifests');
      expect(existsSync(join(project, 'config/certmanager/certificate.yaml'))).toBe(false);
      expect(await read('config/webhook/kustomization.yaml')).toContain('- certificates_rbac.yaml');
      expect(await read('config/webhook/manifests.yaml')).not.toContain('cert-manager.io');
      const rendered = parseObjects(
        (await runCommand(kubectl!, ['kustomize', join(project, 'config/default')], { cwd: project })).stdout,
      );
      expect(rendered.filter((o) => o.kind === 'Issuer' || o.kind === 'Certificate')).toEqual([]);
      const rbac = rendered.filter((o) => o.metadata?.name === `${name}-webhook-certificates`);
      expect(rbac.map((o) => o.kind).toSorted()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
      // The rest was dry-run above (and the namespace it created stays): the provisioner's RBAC is what is new here.
      for (const { object, accepted } of await dryRunCreate(config, rbac))
        expect(identity(accepted), identity(object)).toBe(identity(object));

      // The operator, run with the Deployment's WEBHOOK_CERT_PROVISIONER (in a namespace of this test's own), keeps
      // the certificate in the Secret, patches the caBundle of the generated configurations and writes the pair.
      const deployment = rendered.find((o) => o.kind === 'Deployment')!;
      const env =
        (deployment['spec'] as { template: { spec: { containers: { env?: { name: string; value: string }[] }[] } } })
          .template.spec.containers[0]!.env ?? [];
      const options = JSON.parse(env.find((e) => e.name === 'WEBHOOK_CERT_PROVISIONER')!.value) as Record<
        string,
        unknown
      >;
      const ns = `${name}-certs`;
      const dyn = createDynamicClient(config);
      await dyn
        .resource({ group: '', version: 'v1', resource: 'namespaces' })
        .create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
      const configurations = rendered.filter(
        (o) => o.kind === 'MutatingWebhookConfiguration' || o.kind === 'ValidatingWebhookConfiguration',
      );
      const clientFor = (kind: string) =>
        dyn.resource({ group: 'admissionregistration.k8s.io', version: 'v1', resource: `${kind.toLowerCase()}s` });
      // Created so the provisioner has something to patch, with failurePolicy Ignore: nothing serves them here.
      for (const c of configurations) {
        const webhooks = (c['webhooks'] as { failurePolicy?: string }[]).map((w) => ({
          ...w,
          failurePolicy: 'Ignore',
        }));
        await clientFor(c.kind!).create({ ...c, webhooks });
      }
      const certDir = await mkdtemp(join(tmpdir(), 'kubeloop-cli-certs-'));
      const [file2, args] = dyingWithParent(process.execPath, [
        'dist/main.js',
        '--kubeconfig',
        kubeconfigPath,
        '--leader-elect',
        '--leader-election-namespace',
        ns,
        '--metrics-bind-address=0',
        '--health-probe-bind-address=0',
        '--webhook-port',
        String(await freePort()),
        '--webhook-cert-dir',
        certDir,
        '--log-level=warn',
      ]);
      const operator = spawn(file2, args, {
        cwd: project,
        env: {
          PATH: process.env['PATH'] ?? '',
          HOME: root,
          WEBHOOK_CERT_PROVISIONER: JSON.stringify({ ...options, namespace: ns }),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      operator.stderr.on('data', (c: Buffer) => (log += c.toString()));
      operator.stdout.on('data', (c: Buffer) => (log += c.toString()));
      const exited = new Promise((resolve) => operator.once('exit', resolve));
      try {
        const secret = await eventually(
          'the provisioner to write its Secret',
          async () => {
            if (operator.exitCode !== null) throw new Error(`the operator exited ${operator.exitCode}:\n${log}`);
            return dyn
              .resource({ group: '', version: 'v1', resource: 'secrets' })
              .namespace(ns)
              .get('webhook-server-cert')
              .catch(() => undefined);
          },
          poll,
        );
        const caBundle = (secret['data'] as Record<string, string>)['ca.crt'];
        expect(caBundle).toBeTruthy();
        for (const c of configurations) {
          await eventually(
            `the caBundle of ${c.kind} ${c.metadata?.name}`,
            async () => {
              const current = await clientFor(c.kind!).get(c.metadata!.name!);
              return (current['webhooks'] as { clientConfig: { caBundle?: string } }[]).every(
                (w) => w.clientConfig.caBundle === caBundle,
              );
            },
            poll,
          );
        }
        await eventually(
          'the pair in the webhook server folder',
          async () => (existsSync(join(certDir, 'tls.crt')) && existsSync(join(certDir, 'tls.key'))) || undefined,
          poll,
        );
      } finally {
        operator.kill('SIGTERM');
        await exited;
        for (const c of configurations)
          await clientFor(c.kind!)
            .delete(c.metadata!.name!)
            .catch(() => undefined);
        await rm(certDir, { recursive: true, force: true });
      }
    } finally {
      await writeFile(join(project, 'kubeloop.json'), JSON.stringify(file, null, 2));
      succeeded(await cli('generate', 'manifests'), 'generate manifests');
    }
  });

  it('refuses two classes that default one kind, naming both, and writes nothing', async () => {
    const extra = `import { Webhook, type Defaulter } from 'kubeloop/webhook';
import { Guestbook } from '../api/webapp/v1/guestbook.js';

@Webhook({ for: Guestbook, defaulting: true })
export class SecondDefaulter implements Defaulter<Guestbook> {
  default(): void {}
}
`;
    await writeFile(join(project, 'src/webhooks/second.ts'), extra);
    succeeded(await runTsc(['-p', 'tsconfig.build.json'], project), 'tsc');
    const before = await read('config/webhook/manifests.yaml');
    const ran = await cli('generate', 'manifests');
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('cannot generate the webhook manifests:');
    expect(ran.stderr).toContain(
      `src/webhooks/second.ts (SecondDefaulter) and src/webhooks/guestbook-webhook.ts (GuestbookWebhook) both default Guestbook ${group}/v1 (mguestbook-v1.${group})`,
    );
    expect(await read('config/webhook/manifests.yaml')).toBe(before);
    await rm(join(project, 'src/webhooks/second.ts'));
    await rm(join(project, 'dist/webhooks/second.js'));
  });

  it('removes the webhook files once the project has no webhooks, leaving the component empty', async () => {
    for (const f of [
      'src/webhooks/guestbook-webhook.ts',
      'src/webhooks/pool-webhook.ts',
      'src/api/webapp/guestbook-conversion.ts',
    ])
      await rm(join(project, f));
    await rm(join(project, 'dist'), { recursive: true });
    const main = await read('src/main.ts');
    await writeFile(
      join(project, 'src/main.ts'),
      main
        .split('\n')
        .filter((l) => !/GuestbookWebhook|PoolWebhook|guestbookConversion/.test(l))
        .join('\n'),
    );
    succeeded(await runTsc(['-p', 'tsconfig.build.json'], project), 'tsc');
    const ran = await cli('generate', 'manifests');
    expect(ran.code, ran.stderr).toBe(0);
    for (const path of [
      'config/webhook/manifests.yaml',
      'config/webhook/service.yaml',
      'config/webhook/manager_webhook_patch.yaml',
      'config/certmanager/certificate.yaml',
    ]) {
      expect(ran.stdout).toContain(`removed   ${path}`);
      expect(existsSync(join(project, path))).toBe(false);
    }
    expect(parseObjects(await read('config/webhook/kustomization.yaml'))).toEqual([
      { apiVersion: 'kustomize.config.k8s.io/v1alpha1', kind: 'Component', resources: [] },
    ]);
    expect(parseObjects(await read(`config/crd/bases/${group}_guestbooks.yaml`))[0]).not.toHaveProperty(
      'spec.conversion',
    );
  });
});
