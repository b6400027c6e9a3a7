import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamicClient, isInvalid, type Unstructured } from '../../sdk/client/index.js';
import { sharedCluster } from '../support/cluster.js';
import {
  dryRunCreate,
  linkCheckout,
  objectsUnder,
  optInConfigFolders,
  parseObjects,
  runCli,
  runCommand,
  runTsc,
  succeeded,
  type Ran,
} from '../e2e/support/cli.js';
import { eventually, type EventuallyOptions } from '../support/wait.js';

/** Polls the API server the way the CLI-built operators converge: errors count as not yet. */
const poll: EventuallyOptions = { timeoutMs: 30_000, intervalMs: 100, retryErrors: true };

// `kubeloop generate manifests` on a project made by the CLI (init --skip-install, its packages linked to this
// checkout, create api twice plus hand-written modules), built with tsc: the CRDs and the ClusterRole it writes,
// its determinism, its errors, and the API server's verdict on every manifest under config/.
const id = randomBytes(3).toString('hex');
const name = `mf-${id}`;
const domain = `m${id}.example`;
let root: string;
let project: string;

const poolModule = `import { defineResource, type apiextensionsv1, type metav1 } from 'kubeloop/client';

export interface PoolSpec {
  replicas?: number;
  size?: string;
  message?: string;
}
export interface PoolStatus {
  replicas?: number;
  selector?: string;
  observedGeneration?: number;
  conditions?: metav1.Condition[];
}

export const Pool = defineResource<PoolSpec, PoolStatus>({
  group: 'infra.${domain}',
  version: 'v1',
  kind: 'Pool',
  plural: 'pools',
  namespaced: false,
  shortNames: ['pl'],
  subresources: ['status', 'scale'],
});

export const poolCrdVersion = {
  name: 'v1',
  served: true,
  storage: true,
  subresources: {
    status: {},
    scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
  },
  additionalPrinterColumns: [
    { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
    { name: 'Size', type: 'string', jsonPath: '.spec.size', priority: 1 },
  ],
  schema: {
    openAPIV3Schema: {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          required: ['size'],
          properties: {
            replicas: { type: 'integer', minimum: 0, default: 1 },
            size: { type: 'string', enum: ['small', 'large'] },
            message: { type: 'string' },
          },
          'x-kubernetes-validations': [{ rule: "self.size != 'large' || self.replicas <= 3", message: 'a large pool has at most 3 replicas' }],
        },
        status: {
          type: 'object',
          properties: {
            replicas: { type: 'integer' },
            selector: { type: 'string' },
            observedGeneration: { type: 'integer' },
            conditions: { type: 'array', items: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          },
        },
      },
    },
  },
} satisfies apiextensionsv1.CustomResourceDefinitionVersion;
`;

// A reconciler written by hand, found by the scan of src/reconcilers; it lists its tokens instead of decorating
// parameters, watches Secrets and declares two rules of its own.
const auditModule = `import { Secret } from 'kubeloop/client';
import { Reconciler, enqueueRequestsFromMapFunc, type ReconcileResult } from 'kubeloop/manager';
import { Guestbook } from '../api/shop/v1/guestbook.js';

@Reconciler({
  for: Guestbook,
  name: 'guestbook-audit',
  watches: [{ resource: Secret, handler: enqueueRequestsFromMapFunc(() => []) }],
  rbac: [
    { apiGroups: [''], resources: ['configmaps'], verbs: ['get'], resourceNames: ['audit-settings'] },
    { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['list'] },
  ],
})
export class AuditReconciler implements Reconciler {
  static inject = [] as const;
  async reconcile(): Promise<ReconcileResult> {
    return {};
  }
}
`;

async function cli(...args: string[]): Promise<Ran> {
  return runCli(args, { cwd: project });
}

async function build(): Promise<void> {
  succeeded(await runTsc(['-p', 'tsconfig.build.json'], project), 'tsc -p tsconfig.build.json');
}

const identity = (o: Unstructured): string => `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kubeloop-cli-manifests-'));
  project = join(root, name);
  succeeded(await runCli(['init', project, '--domain', domain, '--skip-install'], { cwd: root }), 'kubeloop init');
  await linkCheckout(project);
  for (const args of [
    ['--group', 'shop', '--version', 'v1', '--kind', 'Guestbook'],
    ['--group', 'shop', '--version', 'v1beta1', '--kind', 'Guestbook'],
    ['--group', 'infra', '--version', 'v1', '--kind', 'Pool', '--no-namespaced'],
  ]) {
    succeeded(await cli('create', 'api', ...args), 'kubeloop create api');
  }
  await writeFile(join(project, 'src/api/infra/v1/pool.ts'), poolModule);
  await writeFile(join(project, 'src/reconcilers/audit-reconciler.ts'), auditModule);
  succeeded(await runTsc(['-p', 'tsconfig.json', '--noEmit'], project), 'tsc --noEmit');
  await build();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('kubeloop generate manifests', () => {
  it('writes a CRD per kind and a ClusterRole derived from the reconcilers', async () => {
    const ran = await cli('generate', 'manifests');
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain(`created   config/crd/bases/shop.${domain}_guestbooks.yaml`);
    expect(ran.stdout).toContain(`created   config/crd/bases/infra.${domain}_pools.yaml`);
    expect(ran.stdout).toContain('updated   config/rbac/role.yaml');
    expect(ran.stdout).toContain('2 CRDs, RBAC from 3 reconcilers');

    const guestbookText = await readFile(join(project, `config/crd/bases/shop.${domain}_guestbooks.yaml`), 'utf8');
    expect(guestbookText.split('\n')[0]).toBe(
      '# Generated by `kubeloop generate manifests` from src/api/shop/v1/guestbook.ts, src/api/shop/v1beta1/guestbook.ts. DO NOT EDIT.',
    );
    const [guestbooks] = parseObjects(guestbookText) as [
      Unstructured & { spec: { versions: { name: string; storage: boolean }[] } },
    ];
    expect(guestbooks.spec.versions.map((v) => [v.name, v.storage])).toEqual([
      ['v1', true],
      ['v1beta1', false],
    ]);
    const [pools] = parseObjects(await readFile(join(project, `config/crd/bases/infra.${domain}_pools.yaml`), 'utf8'));
    expect(pools).toMatchObject({
      metadata: { name: `pools.infra.${domain}` },
      spec: {
        scope: 'Cluster',
        names: { kind: 'Pool', listKind: 'PoolList', plural: 'pools', singular: 'pool', shortNames: ['pl'] },
        versions: [
          {
            additionalPrinterColumns: [
              { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
              { name: 'Size', type: 'string', jsonPath: '.spec.size', priority: 1 },
            ],
            subresources: {
              status: {},
              scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
            },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  apiVersion: { type: 'string' },
                  kind: { type: 'string' },
                  metadata: { type: 'object' },
                  spec: { 'x-kubernetes-validations': [{ rule: "self.size != 'large' || self.replicas <= 3" }] },
                },
              },
            },
          },
        ],
      },
    });
    expect(parseObjects(await readFile(join(project, 'config/crd/kustomization.yaml'), 'utf8'))[0]).toMatchObject({
      resources: [`bases/infra.${domain}_pools.yaml`, `bases/shop.${domain}_guestbooks.yaml`],
    });

    const [role] = parseObjects(await readFile(join(project, 'config/rbac/role.yaml'), 'utf8'));
    expect(role).toEqual({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: `${name}-manager-role`, labels: { 'app.kubernetes.io/name': name } },
      rules: [
        {
          apiGroups: [''],
          resources: ['configmaps'],
          verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
        },
        { apiGroups: [''], resources: ['configmaps'], resourceNames: ['audit-settings'], verbs: ['get'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['list'] },
        { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
        { apiGroups: [`infra.${domain}`], resources: ['pools'], verbs: ['get', 'list', 'patch', 'update', 'watch'] },
        { apiGroups: [`infra.${domain}`], resources: ['pools/finalizers'], verbs: ['update'] },
        { apiGroups: [`infra.${domain}`], resources: ['pools/status'], verbs: ['get', 'patch', 'update'] },
        {
          apiGroups: [`shop.${domain}`],
          resources: ['guestbooks'],
          verbs: ['get', 'list', 'patch', 'update', 'watch'],
        },
        { apiGroups: [`shop.${domain}`], resources: ['guestbooks/finalizers'], verbs: ['update'] },
        { apiGroups: [`shop.${domain}`], resources: ['guestbooks/status'], verbs: ['get', 'patch', 'update'] },
      ],
    });
  });

  it('writes the same bytes when nothing changed', async () => {
    const files = [
      'config/rbac/role.yaml',
      'config/crd/kustomization.yaml',
      `config/crd/bases/shop.${domain}_guestbooks.yaml`,
    ];
    const before = await Promise.all(files.map((f) => readFile(join(project, f), 'utf8')));
    const ran = await cli('generate', 'manifests');
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout.split('\n').filter((l) => l.includes('config/'))).toEqual([
      `unchanged config/crd/bases/infra.${domain}_pools.yaml`,
      `unchanged config/crd/bases/shop.${domain}_guestbooks.yaml`,
      'unchanged config/crd/kustomization.yaml',
      'unchanged config/rbac/role.yaml',
      'unchanged config/manager/watch_namespaces_patch.yaml',
      'unchanged config/rbac/api_roles.yaml',
      'unchanged config/webhook/kustomization.yaml',
    ]);
    expect(await Promise.all(files.map((f) => readFile(join(project, f), 'utf8')))).toEqual(before);
  });

  it('has kustomizations that render every manifest under config/, and the API server accepts them all (dry run)', async () => {
    const { config, kubectl } = sharedCluster();
    if (!kubectl) throw new Error('the control plane has no kubectl (KUBEBUILDER_ASSETS must hold kubectl)');
    const rendered = await runCommand(kubectl, ['kustomize', join(project, 'config/default')], { cwd: project });
    expect(rendered.code, rendered.stderr).toBe(0);
    const objects = parseObjects(rendered.stdout);
    expect(objects.map(identity).toSorted()).toEqual(
      (await objectsUnder(join(project, 'config'), optInConfigFolders)).map(identity).toSorted(),
    );
    expect(objects.map((o) => o.kind).toSorted()).toEqual([
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRole',
      'ClusterRoleBinding',
      'ClusterRoleBinding',
      'CustomResourceDefinition',
      'CustomResourceDefinition',
      'Deployment',
      'Namespace',
      'Role',
      'RoleBinding',
      'Service',
      'ServiceAccount',
    ]);

    const submitted = await dryRunCreate(config, objects);
    for (const { object, accepted } of submitted) {
      expect(identity(accepted), identity(object)).toBe(identity(object));
      expect(accepted.metadata?.uid, identity(object)).toBeTruthy();
    }
  });

  it('makes CRDs that serve what they declare: defaults, CEL rules and the scale subresource', async () => {
    const { config } = sharedCluster();
    const crds = createDynamicClient(config).resource({
      group: 'apiextensions.k8s.io',
      version: 'v1',
      resource: 'customresourcedefinitions',
    });
    for (const crd of await objectsUnder(join(project, 'config/crd'))) {
      await crds.create(crd);
      await eventually(
        `${crd.metadata?.name} established`,
        async () => {
          const status = (await crds.get(crd.metadata!.name!))['status'] as
            | { conditions?: { type: string; status: string }[] }
            | undefined;
          return status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
        },
        poll,
      );
    }
    const pools = createDynamicClient(config).resource({ group: `infra.${domain}`, version: 'v1', resource: 'pools' });
    const pool = await eventually(
      'a Pool',
      () =>
        pools.create({
          apiVersion: `infra.${domain}/v1`,
          kind: 'Pool',
          metadata: { name: 'p1' },
          spec: { size: 'small' },
        }),
      poll,
    );
    expect(pool['spec']).toEqual({ size: 'small', replicas: 1 });
    const scale = await pools.getSubresource<{ spec: { replicas: number } }>('p1', 'scale');
    expect(scale.spec.replicas).toBe(1);
    const tooLarge = pools.create({
      apiVersion: `infra.${domain}/v1`,
      kind: 'Pool',
      metadata: { name: 'p2' },
      spec: { size: 'large', replicas: 5 },
    });
    await expect(tooLarge).rejects.toSatisfy(isInvalid);
    await expect(tooLarge).rejects.toThrow('a large pool has at most 3 replicas');

    const ns = `${name}-system`;
    const guestbooks = createDynamicClient(config)
      .resource({ group: `shop.${domain}`, version: 'v1', resource: 'guestbooks' })
      .namespace(ns);
    const empty = guestbooks.create({
      apiVersion: `shop.${domain}/v1`,
      kind: 'Guestbook',
      metadata: { name: 'g' },
      spec: { message: '' },
    });
    await expect(empty).rejects.toThrow('message must not be empty');
    await pools.delete('p1');
  });

  it('refuses a stale or missing build and a schema that is not structural, changing nothing', async () => {
    const role = await readFile(join(project, 'config/rbac/role.yaml'), 'utf8');
    const source = join(project, 'src/api/infra/v1/pool.ts');
    const later = new Date(Date.now() + 5000);
    await utimes(source, later, later);
    let ran = await cli('generate', 'manifests');
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(
      'error: dist/api/infra/v1/pool.js is older than src/api/infra/v1/pool.ts: run `npm run build` first',
    );

    await writeFile(
      source,
      poolModule.replace("size: { type: 'string', enum: ['small', 'large'] }", "size: { enum: ['small', 'large'] }"),
    );
    await build();
    ran = await cli('generate', 'manifests');
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('cannot generate the CustomResourceDefinitions:');
    expect(ran.stderr).toContain('src/api/infra/v1/pool.ts (Pool v1): schema .spec.size: no type');
    expect(await readFile(join(project, 'config/rbac/role.yaml'), 'utf8')).toBe(role);

    await rm(join(project, 'dist'), { recursive: true });
    ran = await cli('generate', 'manifests');
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(
      'dist/api/shop/v1/guestbook.js, the compiled src/api/shop/v1/guestbook.ts, does not exist: run `npm run build` first',
    );
    await writeFile(source, poolModule);
    await build();
  });

  it('removes the CRD of a kind the project no longer defines', async () => {
    const file = JSON.parse(await readFile(join(project, 'kubeloop.json'), 'utf8')) as { apis: { kind: string }[] };
    await writeFile(
      join(project, 'kubeloop.json'),
      JSON.stringify({ ...file, apis: file.apis.filter((a) => a.kind !== 'Pool') }),
    );
    await rm(join(project, 'src/reconcilers/pool-reconciler.ts'));
    const ran = await cli('generate', 'manifests');
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain(`removed   config/crd/bases/infra.${domain}_pools.yaml`);
    expect(parseObjects(await readFile(join(project, 'config/crd/kustomization.yaml'), 'utf8'))[0]).toMatchObject({
      resources: [`bases/shop.${domain}_guestbooks.yaml`],
    });
    expect(await readFile(join(project, 'config/rbac/role.yaml'), 'utf8')).not.toContain('pools');
  });
});
