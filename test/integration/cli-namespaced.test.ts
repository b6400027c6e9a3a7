import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientset, createDynamicClient, type Unstructured } from '../../sdk/client/index.js';
import { sharedCluster } from '../support/cluster.js';
import { createAll, linkCheckout, parseObjects, runCli, runCommand, runTsc, succeeded } from '../e2e/support/cli.js';
import { startOperator, writeServiceAccountFolder, type RunningOperator } from '../e2e/support/operator.js';
import { eventually, type EventuallyOptions } from '../support/wait.js';

/** Polls the API server the way the CLI-built operators converge: errors count as not yet. */
const poll: EventuallyOptions = { timeoutMs: 30_000, intervalMs: 100, retryErrors: true };

// An operator that watches one namespace (`kubeloop init --watch-namespaces`): generate manifests splits its RBAC
// into a Role in that namespace and a ClusterRole for the cluster-scoped kind, and sets WATCH_NAMESPACES on the
// Deployment. The built operator then runs as its ServiceAccount with only those roles (in-cluster configuration,
// as in the e2e test, on the shared control plane) and reconciles in the watched namespace only.
const id = randomBytes(3).toString('hex');
const name = `ns-${id}`;
const domain = `n${id}.example`;
const watched = `watched-${id}`;
const unwatched = `unwatched-${id}`;
const operatorNamespace = `${name}-system`;
let root: string;
let project: string;
let operator: RunningOperator | undefined;
let rendered: Unstructured[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kubeloop-cli-namespaced-'));
  project = join(root, name);
  succeeded(
    await runCli(['init', project, '--domain', domain, '--watch-namespaces', watched, '--skip-install'], { cwd: root }),
    'kubeloop init',
  );
  await linkCheckout(project);
  succeeded(
    await runCli(['create', 'api', '--group', 'shop', '--version', 'v1', '--kind', 'Guestbook'], { cwd: project }),
    'create api',
  );
  succeeded(
    await runCli(['create', 'api', '--group', 'infra', '--version', 'v1', '--kind', 'Region', '--namespaced=false'], {
      cwd: project,
    }),
    'create api',
  );
  succeeded(await runTsc(['-p', 'tsconfig.build.json'], project), 'tsc');
  succeeded(await runCli(['generate', 'manifests'], { cwd: project }), 'generate manifests');
});

afterAll(async () => {
  if (operator?.running()) {
    operator.child.kill('SIGKILL');
    await operator.exited;
  }
  await rm(root, { recursive: true, force: true });
});

describe('an operator watching some namespaces', () => {
  it('gets a Role in each watched namespace, a ClusterRole for cluster-scoped kinds, and WATCH_NAMESPACES', async () => {
    const docs = parseObjects(await readFile(join(project, 'config/rbac/role.yaml'), 'utf8'));
    expect(docs.map((d) => `${d.kind}/${d.metadata?.namespace ?? ''}/${d.metadata?.name}`)).toEqual([
      `ClusterRole//${name}-manager-role`,
      `Role/${watched}/${name}-manager-role`,
      `RoleBinding/${watched}/${name}-manager-rolebinding`,
    ]);
    const [clusterRole, role, binding] = docs as [
      Unstructured & { rules: unknown[] },
      Unstructured & { rules: { resources: string[] }[] },
      Unstructured,
    ];
    expect(clusterRole.rules).toEqual([
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
      { apiGroups: [`infra.${domain}`], resources: ['regions'], verbs: ['get', 'list', 'patch', 'update', 'watch'] },
      { apiGroups: [`infra.${domain}`], resources: ['regions/finalizers'], verbs: ['update'] },
      { apiGroups: [`infra.${domain}`], resources: ['regions/status'], verbs: ['get', 'patch', 'update'] },
    ]);
    expect(role.rules.flatMap((r) => r.resources).toSorted()).toEqual([
      'configmaps',
      'events',
      'guestbooks',
      'guestbooks/finalizers',
      'guestbooks/status',
    ]);
    expect(binding).toMatchObject({
      roleRef: { kind: 'Role', name: `${name}-manager-role` },
      subjects: [{ kind: 'ServiceAccount', name: `${name}-controller-manager`, namespace: operatorNamespace }],
    });

    const { kubectl } = sharedCluster();
    if (!kubectl) throw new Error('the control plane has no kubectl (KUBEBUILDER_ASSETS must hold kubectl)');
    rendered = parseObjects(
      succeeded(
        await runCommand(kubectl, ['kustomize', join(project, 'config/default')], { cwd: project }),
        'kustomize',
      ).stdout,
    );
    const deployment = rendered.find((o) => o.kind === 'Deployment') as Unstructured & {
      spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
    };
    expect(deployment.spec.template.spec.containers[0]!.env).toContainEqual({
      name: 'WATCH_NAMESPACES',
      value: watched,
    });
    // kustomize keeps each object in its own namespace: the manager's Role stays in the watched one.
    expect(
      rendered
        .filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding')
        .map((o) => `${o.kind}/${o.metadata?.namespace}`)
        .toSorted(),
    ).toEqual([
      `Role/${operatorNamespace}`,
      `Role/${watched}`,
      `RoleBinding/${operatorNamespace}`,
      `RoleBinding/${watched}`,
    ]);
  });

  it('runs with only those roles and reconciles in the watched namespace only', async () => {
    const { config: admin } = sharedCluster();
    const cs = createClientset(admin);
    for (const ns of [operatorNamespace, watched, unwatched])
      await cs
        .coreV1()
        .namespaces()
        .create({ metadata: { name: ns } });
    await createAll(
      admin,
      rendered.filter((o) => !['Namespace', 'Deployment', 'Service'].includes(o.kind!)),
    );
    const crds = createDynamicClient(admin).resource({
      group: 'apiextensions.k8s.io',
      version: 'v1',
      resource: 'customresourcedefinitions',
    });
    for (const crd of [`guestbooks.shop.${domain}`, `regions.infra.${domain}`]) {
      await eventually(
        `${crd} established`,
        async () => {
          const status = (await crds.get(crd))['status'] as
            | { conditions?: { type: string; status: string }[] }
            | undefined;
          return status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
        },
        poll,
      );
    }
    const sa = await writeServiceAccountFolder(admin, {
      dir: join(root, 'serviceaccount'),
      namespace: operatorNamespace,
      serviceAccount: `${name}-controller-manager`,
      caData: admin.caData!,
    });
    const deployment = rendered.find((o) => o.kind === 'Deployment') as Unstructured & {
      spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
    };
    const watchNamespaces = deployment.spec.template.spec.containers[0]!.env.find(
      (e) => e.name === 'WATCH_NAMESPACES',
    )!.value!;
    operator = await startOperator({
      projectDir: project,
      host: admin.host,
      serviceAccountDir: sa.dir,
      home: join(root, 'home'),
      env: { WATCH_NAMESPACES: watchNamespaces },
    });
    const running = operator;
    await eventually(
      'the lease',
      async () => {
        if (!running.running()) throw new Error(`the operator exited:\n${running.log()}`);
        return (await cs.coordinationV1().leases(operatorNamespace).get(`${name}.${domain}`)).spec?.holderIdentity
          ? true
          : undefined;
      },
      poll,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${running.log()}`);
    });

    const guestbooks = (ns: string) =>
      createDynamicClient(admin)
        .resource({ group: `shop.${domain}`, version: 'v1', resource: 'guestbooks' })
        .namespace(ns);
    const body = {
      apiVersion: `shop.${domain}/v1`,
      kind: 'Guestbook',
      metadata: { name: 'g' },
      spec: { message: 'hi' },
    };
    await guestbooks(unwatched).create(body);
    await guestbooks(watched).create(body);
    await eventually(
      'the ConfigMap in the watched namespace',
      () => cs.coreV1().configMaps(watched).get('g'),
      poll,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\noperator log:\n${running.log()}`);
    });
    await eventually(
      'Ready in the watched namespace',
      async () => {
        const status = (await guestbooks(watched).get('g'))['status'] as
          | { conditions?: { type: string; status: string }[] }
          | undefined;
        return status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
      },
      poll,
    );
    const regions = createDynamicClient(admin).resource({
      group: `infra.${domain}`,
      version: 'v1',
      resource: 'regions',
    });
    await regions.create({ apiVersion: `infra.${domain}/v1`, kind: 'Region', metadata: { name: `r-${id}` }, spec: {} });
    await eventually(
      'Ready on the cluster-scoped Region',
      async () => {
        const status = (await regions.get(`r-${id}`))['status'] as
          | { conditions?: { type: string; status: string }[] }
          | undefined;
        return status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
      },
      poll,
    );

    // The Guestbook outside the watched namespace, created first, was never seen: no status, no ConfigMap.
    expect((await guestbooks(unwatched).get('g'))['status']).toBeUndefined();
    expect((await cs.coreV1().configMaps(unwatched).list()).items.map((c) => c.metadata?.name)).not.toContain('g');
    expect(running.log()).not.toMatch(/forbidden|"statusCode":403/i);

    running.child.kill('SIGTERM');
    expect(await running.exited).toEqual({ code: 0, signal: null });
    await regions.delete(`r-${id}`);
  });
});
