import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClientset,
  createDynamicClient,
  isForbidden,
  isInvalid,
  type RestConfig,
  type Unstructured,
  type admissionregistrationv1,
  type apiextensionsv1,
} from '../../sdk/client/index.js';

type WebhookConfiguration =
  | admissionregistrationv1.MutatingWebhookConfiguration
  | admissionregistrationv1.ValidatingWebhookConfiguration;
import { installCrds, installWebhooks, startControlPlane, type ControlPlane } from '../../sdk/envtest/index.js';
import { createAll, dryRunCreate, parseObjects, repoRoot, runCli, runCommand, type Ran } from './support/cli.js';
import { httpGet, startOperator, writeServiceAccountFolder, type RunningOperator } from './support/operator.js';
import { findHelm } from './support/helm.js';
import { certManagerStubCrds, kindsWithWebhooks } from './support/webhooks.js';
import { eventually, type EventuallyOptions } from '../support/wait.js';

/** Polls the API server the way the CLI-built operators converge: errors count as not yet. */
const poll: EventuallyOptions = { timeoutMs: 30_000, intervalMs: 100, retryErrors: true };

// The whole path of a user, end to end: `kubeloop init` from a tarball of this checkout (`npm pack` of the built
// package) → `kubeloop create api` → `kubeloop create webhook` (a defaulter, a validator, a conversion to a new
// version) → `npm run manifests` → type-check and the project's own tests (the webhook tests with webhooks installed
// by kubeloop/envtest) → the manifests accepted by a real API server → the built operator run as its ServiceAccount
// (a TokenRequest token, the CA and KUBERNETES_SERVICE_HOST/PORT: the in-cluster configuration), with only the RBAC it
// generated, serving its webhooks to the API server → a Guestbook defaulted, validated, converted and reconciled →
// SIGTERM → exit 0 with the lease released. Steps share one project and run in order; each prints its
// duration. npm uses the user's cache and prefers it to the registry.
const project = { name: 'guestbook-operator', domain: 'e2e.kubeloop.dev' };
const namespace = `${project.name}-system`;
const leaseName = `${project.name}.${project.domain}`;
const group = `webapp.${project.domain}`;

let root: string;
let dir: string;
let env: ControlPlane | undefined;
/** A second control plane for `helm install`: the first one holds the CRDs and webhooks the operator run installed. */
let helmEnv: ControlPlane | undefined;
const helm = findHelm();
const helmPath = 'path' in helm ? helm.path : undefined;
if ('missing' in helm)
  console.warn(`the scaffold's Helm chart steps (helm lint, template, install) skipped: ${helm.missing}`);
let operator: RunningOperator | undefined;
let objects: Unstructured[] = [];
const timings: [string, number][] = [];

const npmEnv: NodeJS.ProcessEnv = {
  ...process.env,
  npm_config_prefer_offline: 'true',
  npm_config_update_notifier: 'false',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
};

async function step<T>(name: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await work();
  } finally {
    const ms = Date.now() - started;
    timings.push([name, ms]);
    process.stderr.write(`[e2e] ${name}: ${(ms / 1000).toFixed(1)} s\n`);
  }
}

function ok(ran: Ran, what: string): Ran {
  if (ran.code !== 0)
    throw new Error(
      `${what} exited ${ran.code ?? ran.signal}:\n${ran.stdout.slice(-4000)}\n${ran.stderr.slice(-4000)}`,
    );
  return ran;
}

function npm(args: string[], cwd: string): Promise<Ran> {
  return runCommand(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { cwd, env: npmEnv, timeoutMs: 480_000 });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kubeloop-e2e-'));
  dir = join(root, project.name);
});

afterAll(async () => {
  if (operator?.running()) {
    operator.child.kill('SIGKILL');
    await operator.exited;
  }
  await env?.stop();
  await helmEnv?.stop();
  if (process.env['KUBELOOP_E2E_KEEP']) process.stderr.write(`[e2e] kept ${root}\n`);
  else await rm(root, { recursive: true, force: true });
  const total = timings.reduce((sum, [, ms]) => sum + ms, 0);
  process.stderr.write(
    `[e2e] total ${(total / 1000).toFixed(1)} s: ${timings.map(([n, ms]) => `${n} ${(ms / 1000).toFixed(1)} s`).join('; ')}\n`,
  );
});

describe('a scaffolded operator, from kubeloop init to a clean stop in a cluster', () => {
  it('is created by kubeloop init from a packed tarball of this checkout, with progress shown', async () => {
    const tarball = await step('npm pack', async () => {
      // `npm test` built dist/ just before (pretest); packing without scripts keeps other tests' dist/ untouched.
      if (!existsSync(join(repoRoot, 'dist/sdk/cli/bin.js')))
        throw new Error('dist/ is missing: run `npm run build` first');
      const ran = ok(
        await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', root], repoRoot),
        'npm pack',
      );
      const [packed] = JSON.parse(ran.stdout) as { filename: string }[];
      return join(root, packed!.filename);
    });
    const ran = await step('kubeloop init (npm install)', () =>
      runCli(['init', project.name, '--domain', project.domain, '--kubeloop-from', tarball], {
        cwd: root,
        env: npmEnv,
        timeoutMs: 480_000,
      }),
    );
    ok(ran, 'kubeloop init');
    expect(ran.stderr).toContain('Writing');
    expect(ran.stderr).toContain('Installing dependencies with npm');
    expect(ran.stderr).toMatch(/Installed in \d+ s/);
    const installed = JSON.parse(await readFile(join(dir, 'node_modules/kubeloop/package.json'), 'utf8')) as {
      version: string;
    };
    const ours = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
    expect(installed.version).toBe(ours.version);
    expect(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))).toMatchObject({
      dependencies: { kubeloop: `file:${tarball}` },
    });
    expect(existsSync(join(dir, 'package-lock.json'))).toBe(true);
  });

  it('gets a namespaced and a cluster-scoped API from the installed kubeloop command', async () => {
    const kubeloop = join(dir, 'node_modules/.bin/kubeloop');
    const ran = await step('kubeloop create api', () =>
      runCommand(kubeloop, ['create', 'api', '--group', 'webapp', '--version', 'v1', '--kind', 'Guestbook'], {
        cwd: dir,
      }),
    );
    ok(ran, 'kubeloop create api');
    expect(ran.stdout).toContain(`Added Guestbook ${group}/v1 (namespaced, plural guestbooks)`);
    const cluster = ok(
      await runCommand(
        kubeloop,
        ['create', 'api', '--group', 'infra', '--version', 'v1alpha1', '--kind', 'Region', '--namespaced=false'],
        { cwd: dir },
      ),
      'kubeloop create api --namespaced=false',
    );
    expect(cluster.stdout).toContain(`Added Region infra.${project.domain}/v1alpha1 (cluster-scoped, plural regions)`);
    const main = await readFile(join(dir, 'src/main.ts'), 'utf8');
    expect(main).toContain('mgr.register(GuestbookReconciler);');
    expect(main).toContain('mgr.register(RegionReconciler);');
  });

  it('gets a defaulting and validating webhook and a conversion to a new version v1beta1', async () => {
    const ran = await step('kubeloop create webhook', () =>
      runCommand(
        join(dir, 'node_modules/.bin/kubeloop'),
        [
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
          '--conversion',
          '--spoke',
          'v1beta1',
        ],
        { cwd: dir },
      ),
    );
    ok(ran, 'kubeloop create webhook');
    expect(ran.stdout).toContain(`Added defaulting, validation, conversion webhooks for Guestbook ${group}/v1:`);
    for (const file of [
      'src/webhooks/guestbook-webhook.ts',
      'src/api/webapp/v1beta1/guestbook.ts',
      'src/api/webapp/guestbook-conversion.ts',
    ]) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    const main = await readFile(join(dir, 'src/main.ts'), 'utf8');
    expect(main).toContain('mgr.register(GuestbookWebhook);');
    expect(main).toContain('mgr.register(guestbookConversion);');
  });

  it('generates its manifests, type-checks, and passes its own tests', async () => {
    const manifests = ok(await step('npm run manifests', () => npm(['run', 'manifests'], dir)), 'npm run manifests');
    expect(manifests.stdout).toContain(`config/crd/bases/${group}_guestbooks.yaml`);
    expect(manifests.stdout).toContain(`config/crd/bases/infra.${project.domain}_regions.yaml`);
    expect(manifests.stdout).toContain('2 CRDs, RBAC from 2 reconcilers, 1 webhook class, 1 conversion');
    expect(manifests.stdout).toContain('created   config/webhook/manifests.yaml');
    ok(await step('npm run typecheck', () => npm(['run', 'typecheck'], dir)), 'npm run typecheck');
    const tests = ok(
      await step('npm test (the project, its own control planes)', () => npm(['test'], dir)),
      'npm test',
    );
    const output = tests.stdout.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
    // Two reconciler tests of Guestbook, one of Region, the manifests test, the secure metrics test, the install
    // bundle's end-to-end test, three webhook tests, one conversion test; and the unit project (fake client, no
    // control plane): two tests of each reconciler.
    expect(output).toMatch(/Tests\s+14 passed \(14\)/);
    expect(output).toMatch(/unit\s+test\/guestbook-reconciler\.unit\.test\.ts \(2 tests\)/);
    expect(output).toMatch(/unit\s+test\/region-reconciler\.unit\.test\.ts \(2 tests\)/);
    expect(output).toContain('test/metrics.test.ts');
    expect(output).toContain('test/install.test.ts');
    expect(output).toContain('test/guestbook-webhook.test.ts');
    expect(output).toContain('test/guestbook-conversion.test.ts');
  });

  it('has manifests a real API server accepts (kustomize build, server-side dry-run create)', async () => {
    env = await step('start a control plane', () =>
      startControlPlane({ kubernetesVersion: '1.37.2', progress: () => undefined }),
    );
    const kubectl = env.binaries.kubectl;
    if (!kubectl) throw new Error('the control plane has no kubectl (KUBEBUILDER_ASSETS must hold kubectl)');
    const rendered = ok(
      await runCommand(kubectl, ['kustomize', join(dir, 'config/default')], { cwd: dir }),
      'kubectl kustomize',
    );
    objects = parseObjects(rendered.stdout);
    expect(objects.map((o) => o.kind).toSorted()).toEqual(kindsWithWebhooks);
    // The control plane has no cert-manager: stand-ins of its CRDs let the dry run admit the Issuer and Certificate.
    await installCrds(env!.config, { objects: certManagerStubCrds });
    const submitted = await step('dry-run create every manifest', () => dryRunCreate(env!.config, objects));
    expect(submitted.map(({ accepted }) => `${accepted.kind}/${accepted.metadata?.name}`).toSorted()).toEqual(
      objects.map((o) => `${o.kind}/${o.metadata?.name}`).toSorted(),
    );
  });

  it('runs in-cluster as its ServiceAccount with only its generated RBAC, serves its webhooks, and reconciles a Guestbook', async () => {
    const admin = env!.config;
    const cs = createClientset(admin);
    // No cluster network and no cert-manager here: kubeloop/envtest points the webhook configurations and the CRD's
    // conversion webhook at the operator on 127.0.0.1 with a CA made for the test, instead of at the webhook Service.
    const serving = await step('install the CRDs, the RBAC and the webhook configurations', async () => {
      const installation = await installWebhooks(admin, {
        configurations: objects.filter(
          (o) => o.kind === 'MutatingWebhookConfiguration' || o.kind === 'ValidatingWebhookConfiguration',
        ) as WebhookConfiguration[],
        certDir: join(root, 'serving-certs'),
      });
      await installCrds(
        admin,
        {
          objects: objects.filter(
            (o) => o.kind === 'CustomResourceDefinition',
          ) as unknown as apiextensionsv1.CustomResourceDefinition[],
        },
        installation,
      );
      await createAll(
        admin,
        objects.filter((o) =>
          ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'].includes(o.kind!),
        ),
      );
      return installation.webhookOptions;
    });
    const saName = objects.find((o) => o.kind === 'ServiceAccount')!.metadata!.name!;

    // What the kubelet would mount, found through KUBELOOP_SERVICE_ACCOUNT_DIR; the API server through
    // KUBERNETES_SERVICE_HOST/PORT (127.0.0.1 is in the serving certificate); an empty HOME: no kubeconfig to find.
    const sa = await step('TokenRequest for the ServiceAccount', () =>
      writeServiceAccountFolder(admin, {
        dir: join(root, 'serviceaccount'),
        namespace,
        serviceAccount: saName,
        caData: env!.caData,
      }),
    );

    // The identity is not an admin: reading Secrets, which no reconciler declared, is forbidden.
    const asOperator: RestConfig = { host: env!.host, caData: env!.caData, bearerToken: sa.token };
    await expect(createClientset(asOperator).coreV1().secrets('kube-system').list()).rejects.toSatisfy(isForbidden);

    const running = await step('start the operator and wait for the lease and /readyz', async () => {
      const started = await startOperator({
        projectDir: dir,
        host: env!.host,
        serviceAccountDir: sa.dir,
        home: join(root, 'home'),
        env: { WEBHOOK_PORT: String(serving.port), WEBHOOK_CERT_DIR: serving.certDir },
      });
      operator = started;
      const lease = await eventually(
        'the operator to hold the lease',
        async () => {
          if (!started.running()) throw new Error(`the operator exited:\n${started.log()}`);
          const l = await cs.coordinationV1().leases(namespace).get(leaseName);
          return l.spec?.holderIdentity ? l : undefined;
        },
        { ...poll, timeoutMs: 30_000 },
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}\noperator log:\n${started.log()}`);
      });
      expect(lease.spec?.holderIdentity).toMatch(/_/);
      await eventually(
        '/readyz to answer 200',
        async () => ((await httpGet(`http://127.0.0.1:${started.probePort}/readyz`)).status === 200 ? true : undefined),
        poll,
      );
      return started;
    });
    expect(running.log()).toContain('"msg":"became leader"');
    expect((await httpGet(`http://127.0.0.1:${running.probePort}/healthz`)).status).toBe(200);

    await step('create a Guestbook and see it reconciled', async () => {
      const shop = 'shop';
      await cs
        .coreV1()
        .namespaces()
        .create({ metadata: { name: shop } });
      const guestbooks = createDynamicClient(admin)
        .resource({ group, version: 'v1', resource: 'guestbooks' })
        .namespace(shop);
      const created = await guestbooks.create({
        apiVersion: `${group}/v1`,
        kind: 'Guestbook',
        metadata: { name: 'visitors' },
        spec: { message: 'hello from e2e' },
      });

      const configMap = await eventually(
        'the owned ConfigMap',
        () => cs.coreV1().configMaps(shop).get('visitors'),
        poll,
      );
      expect(configMap.data).toEqual({ message: 'hello from e2e' });
      expect(configMap.metadata?.ownerReferences).toEqual([
        expect.objectContaining({
          apiVersion: `${group}/v1`,
          kind: 'Guestbook',
          name: 'visitors',
          uid: created.metadata?.uid,
          controller: true,
        }),
      ]);
      const status = await eventually(
        'status Ready=True',
        async () => {
          const s = (await guestbooks.get('visitors'))['status'] as
            | { observedGeneration?: number; conditions?: { type: string; status: string; reason: string }[] }
            | undefined;
          return s?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? s : undefined;
        },
        poll,
      );
      expect(status.observedGeneration).toBe(1);
      expect(status.conditions).toEqual([
        expect.objectContaining({ type: 'Ready', status: 'True', reason: 'Reconciled' }),
      ]);
      const event = await eventually(
        'the Created event',
        async () => {
          const list = await cs.eventsV1().events(shop).list();
          return list.items.find((e) => e.reason === 'Created' && e.regarding?.name === 'visitors');
        },
        poll,
      );
      expect(event.note).toBe('created ConfigMap visitors');

      await guestbooks.patch('visitors', { spec: { message: 'changed' } }, { patchType: 'merge' });
      await eventually(
        'the ConfigMap to follow the spec',
        async () =>
          (await cs.coreV1().configMaps(shop).get('visitors')).data?.['message'] === 'changed' ? true : undefined,
        poll,
      );
    });

    await step("the operator's webhooks: defaulted, refused, converted", async () => {
      const guestbooks = createDynamicClient(admin)
        .resource({ group, version: 'v1', resource: 'guestbooks' })
        .namespace('shop');
      const defaulted = await guestbooks.create({
        apiVersion: `${group}/v1`,
        kind: 'Guestbook',
        metadata: { name: 'defaulted' },
        spec: {},
      });
      expect(defaulted['spec']).toEqual({ message: 'Hello' });
      const blank = guestbooks.create({
        apiVersion: `${group}/v1`,
        kind: 'Guestbook',
        metadata: { name: 'blank' },
        spec: { message: ' ' },
      });
      await expect(blank).rejects.toSatisfy(isInvalid);
      await expect(blank).rejects.toThrow('spec.message: Invalid value: " ": must not be blank');
      const asV1beta1 = await createDynamicClient(admin)
        .resource({ group, version: 'v1beta1', resource: 'guestbooks' })
        .namespace('shop')
        .get('visitors');
      expect(asV1beta1.apiVersion).toBe(`${group}/v1beta1`);
      expect(asV1beta1['spec']).toEqual({ message: 'changed' });
    });

    await step('create a cluster-scoped Region and see it reconciled', async () => {
      const regions = createDynamicClient(admin).resource({
        group: `infra.${project.domain}`,
        version: 'v1alpha1',
        resource: 'regions',
      });
      await regions.create({
        apiVersion: `infra.${project.domain}/v1alpha1`,
        kind: 'Region',
        metadata: { name: 'eu' },
        spec: {},
      });
      const status = await eventually(
        'Region status Ready=True',
        async () => {
          const s = (await regions.get('eu'))['status'] as
            | { observedGeneration?: number; conditions?: { type: string; status: string }[] }
            | undefined;
          return s?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? s : undefined;
        },
        poll,
      );
      expect(status.observedGeneration).toBe(1);
      // The Event about a cluster-scoped object goes to the default namespace.
      await eventually(
        'the Region event',
        async () => (await cs.eventsV1().events('default').list()).items.find((e) => e.regarding?.name === 'eu'),
        poll,
      );
    });

    const metrics = await httpGet(`http://127.0.0.1:${running.metricsPort}/metrics`);
    for (const controller of ['guestbook', 'region']) {
      expect(metrics.body).toMatch(
        new RegExp(
          `controller_runtime_reconcile_total\\{[^}]*controller="${controller}"[^}]*result="success"[^}]*\\} [1-9]`,
        ),
      );
    }
    expect(metrics.body).toMatch(/leader_election_master_status\{[^}]*\} 1/);
    // Every permission the operator used was granted: a missing one shows up as a 403 in its log.
    expect(running.log()).not.toMatch(/forbidden|"statusCode":403/i);
  });

  it('stops on SIGTERM: exit code 0 and the lease released for a successor', async () => {
    const running = operator!;
    const exit = await step('SIGTERM to exit', async () => {
      running.child.kill('SIGTERM');
      return Promise.race([
        running.exited,
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`the operator did not exit within 30 s:\n${running.log()}`)), 30_000),
        ),
      ]);
    });
    expect(exit, running.log()).toEqual({ code: 0, signal: null });
    expect(running.log()).toContain('"msg":"released the lease"');
    const lease = await createClientset(env!.config).coordinationV1().leases(namespace).get(leaseName);
    expect(lease.spec?.holderIdentity ?? '').toBe('');
  });

  it('ships as one install.yaml: what kustomize renders of config/default', async () => {
    const ran = ok(
      await step('npm run build-installer', () => npm(['run', 'build-installer'], dir)),
      'npm run build-installer',
    );
    expect(ran.stdout).toContain('dist/install.yaml: ');
    const installed = parseObjects(await readFile(join(dir, 'dist/install.yaml'), 'utf8'));
    expect(installed).toEqual(objects);
  });

  it.skipIf(helmPath === undefined)(
    'ships as a Helm chart that helm lints, renders and installs into a control plane',
    async () => {
      const ran = ok(
        await step('kubeloop generate helm', () =>
          runCommand(join(dir, 'node_modules/.bin/kubeloop'), ['generate', 'helm'], { cwd: dir }),
        ),
        'kubeloop generate helm',
      );
      expect(ran.stdout).toContain(
        `helm install ${project.name} dist/chart --namespace ${namespace} --create-namespace`,
      );
      helmEnv = await step('start a second control plane', () =>
        startControlPlane({ kubernetesVersion: '1.37.2', progress: () => undefined }),
      );
      const helmCommand = (args: string[]): Promise<Ran> =>
        runCommand(helmPath!, [...args, '--kubeconfig', helmEnv!.kubeconfigPath], {
          cwd: dir,
          env: {
            PATH: process.env['PATH'] ?? '',
            HOME: root,
            HELM_CACHE_HOME: join(root, 'helm/cache'),
            HELM_CONFIG_HOME: join(root, 'helm/config'),
            HELM_DATA_HOME: join(root, 'helm/data'),
          },
          timeoutMs: 120_000,
        });
      ok(await step('helm lint', () => helmCommand(['lint', 'dist/chart', '--strict'])), 'helm lint');
      const rendered = parseObjects(
        ok(
          await step('helm template', () =>
            helmCommand(['template', project.name, 'dist/chart', '--namespace', namespace]),
          ),
          'helm template',
        ).stdout,
      );
      // The chart holds what install.yaml holds, but the Namespace (helm install --create-namespace makes it).
      expect(rendered.map((o) => `${o.kind}/${o.metadata?.name}`).toSorted()).toEqual(
        objects
          .filter((o) => o.kind !== 'Namespace')
          .map((o) => `${o.kind}/${o.metadata?.name}`)
          .toSorted(),
      );
      // The control plane has no cert-manager: stand-ins of its CRDs let it admit the Issuer and Certificate.
      await installCrds(helmEnv.config, { objects: certManagerStubCrds });
      const installed = ok(
        await step('helm install', () =>
          helmCommand([
            'install',
            project.name,
            'dist/chart',
            '--namespace',
            namespace,
            '--create-namespace',
            '--wait=false',
          ]),
        ),
        'helm install',
      );
      expect(installed.stdout).toContain('STATUS: deployed');
      const cs = createClientset(helmEnv.config);
      const deployment = await cs.appsV1().deployments(namespace).get(`${project.name}-controller-manager`);
      expect(deployment.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('Helm');
      const service = await cs.coreV1().services(namespace).get(`${project.name}-controller-manager-metrics-service`);
      expect(service.spec?.ports).toEqual([expect.objectContaining({ name: 'https', port: 8443 })]);
      ok(
        await step('helm upgrade', () =>
          helmCommand([
            'upgrade',
            project.name,
            'dist/chart',
            '--namespace',
            namespace,
            '--set',
            'manager.replicas=1',
            '--wait=false',
          ]),
        ),
        'helm upgrade',
      );
      expect((await cs.appsV1().deployments(namespace).get(`${project.name}-controller-manager`)).spec?.replicas).toBe(
        1,
      );
    },
  );
});
