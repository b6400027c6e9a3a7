import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseObjects, runCli, snapshot, succeeded } from '../e2e/support/cli.js';

// `kubeloop create api` in projects made by `kubeloop init --skip-install`: the files it adds, the registration in
// src/main.ts, kubeloop.json, and bad input refused with nothing written. (cli-manifests.test.ts builds what it
// writes and runs it against the API server.)
let root: string;
let project: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kubeloop-cli-api-'));
  project = join(root, 'shop');
  succeeded(
    await runCli(['init', project, '--skip-install', '--domain', 'shop.example'], { cwd: root }),
    'kubeloop init',
  );
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('kubeloop create api', () => {
  it('adds a resource module, a reconciler registered in main, and its test', async () => {
    const ran = await runCli(['create', 'api', '--group', 'orders', '--version', 'v1', '--kind', 'OrderQueue'], {
      cwd: join(project, 'src'),
    });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('Added OrderQueue orders.shop.example/v1 (namespaced, plural orderqueues)');
    const resource = await readFile(join(project, 'src/api/orders/v1/order-queue.ts'), 'utf8');
    expect(resource).toContain('export const OrderQueue = defineCustomResource({');
    expect(resource).toContain("group: 'orders.shop.example'");
    expect(resource).toContain('namespaced: true');
    expect(resource).toContain('storage: true');
    expect(resource).toContain('spec: s.object(');
    expect(resource).toContain('export type OrderQueue = ObjectOf<typeof OrderQueue>;');
    const reconciler = await readFile(join(project, 'src/reconcilers/order-queue-reconciler.ts'), 'utf8');
    expect(reconciler).toContain("import { OrderQueue } from '../api/orders/v1/order-queue.js';");
    expect(reconciler).toContain('@Reconciler({ for: OrderQueue, owns: [ConfigMap] })');
    expect(reconciler).toContain('export class OrderQueueReconciler implements Reconciler {');
    const test = await readFile(join(project, 'test/order-queue-reconciler.test.ts'), 'utf8');
    expect(test).toContain("import { OrderQueueReconciler } from '../src/reconcilers/order-queue-reconciler.js';");
    const unit = await readFile(join(project, 'test/order-queue-reconciler.unit.test.ts'), 'utf8');
    expect(unit).toContain('await reconcileOnce(OrderQueueReconciler, { request: key, objects: [sample] });');
    const main = await readFile(join(project, 'src/main.ts'), 'utf8');
    expect(main).toContain(
      "import { OrderQueueReconciler } from './reconcilers/order-queue-reconciler.js';\n// kubeloop:scaffold:imports",
    );
    expect(main).toContain('  mgr.register(OrderQueueReconciler);\n  // kubeloop:scaffold:reconcilers');
    const file = JSON.parse(await readFile(join(project, 'kubeloop.json'), 'utf8')) as { apis: unknown[] };
    expect(file.apis).toEqual([
      {
        group: 'orders.shop.example',
        version: 'v1',
        kind: 'OrderQueue',
        plural: 'orderqueues',
        namespaced: true,
        path: 'src/api/orders/v1/order-queue.ts',
        reconciler: 'src/reconcilers/order-queue-reconciler.ts',
      },
    ]);
  });

  it('adds a cluster-scoped kind with --namespaced=false, and a given plural', async () => {
    const ran = await runCli(
      [
        'create',
        'api',
        '--group',
        'infra.other.io',
        '--version',
        'v1alpha1',
        '--kind',
        'Pool',
        '--namespaced',
        'false',
        '--plural',
        'poolz',
      ],
      { cwd: project },
    );
    expect(ran.code, ran.stderr).toBe(0);
    const resource = await readFile(join(project, 'src/api/infra/v1alpha1/pool.ts'), 'utf8');
    expect(resource).toContain("group: 'infra.other.io'");
    expect(resource).toContain("plural: 'poolz'");
    expect(resource).toContain('namespaced: false');
    const reconciler = await readFile(join(project, 'src/reconcilers/pool-reconciler.ts'), 'utf8');
    expect(reconciler).toContain('@Reconciler({ for: Pool })');
    expect(reconciler).not.toContain('ConfigMap');
    expect((await readFile(join(project, 'src/main.ts'), 'utf8')).match(/mgr\.register\(/g)).toHaveLength(2);
  });

  it('adds a second version of a kind as a resource alone, not the storage version', async () => {
    const ran = await runCli(['create', 'api', '--group', 'orders', '--version', 'v2', '--kind', 'OrderQueue'], {
      cwd: project,
    });
    expect(ran.code, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('storage: false, no reconciler');
    const resource = await readFile(join(project, 'src/api/orders/v2/order-queue.ts'), 'utf8');
    expect(resource).toContain("version: 'v2'");
    expect(resource).toContain('storage: false');
    expect((await readFile(join(project, 'src/main.ts'), 'utf8')).match(/mgr\.register\(/g)).toHaveLength(2);
  });

  it('writes a sample object per API into config/samples, listed in its kustomization', async () => {
    const sample = parseObjects(
      await readFile(join(project, 'config/samples/orders.shop.example_v1_orderqueue.yaml'), 'utf8'),
    );
    expect(sample).toEqual([
      {
        apiVersion: 'orders.shop.example/v1',
        kind: 'OrderQueue',
        metadata: { name: 'orderqueue-sample', labels: { 'app.kubernetes.io/name': 'shop' } },
        spec: { message: 'Hello from the OrderQueue sample' },
      },
    ]);
    const [kustomization] = parseObjects(
      await readFile(join(project, 'config/samples/kustomization.yaml'), 'utf8'),
    ) as unknown as { resources: string[] }[];
    expect(kustomization!.resources).toEqual([
      'infra.other.io_v1alpha1_pool.yaml',
      'orders.shop.example_v1_orderqueue.yaml',
      'orders.shop.example_v2_orderqueue.yaml',
    ]);
  });

  it.each([
    [
      ['--group', 'orders', '--version', 'v1', '--kind', 'OrderQueue'],
      'OrderQueue orders.shop.example/v1 already exists',
    ],
    [['--group', 'orders', '--version', 'v1', '--kind', 'orderQueue'], 'invalid kind "orderQueue"'],
    [['--group', 'orders', '--version', 'v1', '--kind', 'ConfigMap'], 'clashes with a name the generated code uses'],
    [['--group', 'Orders', '--version', 'v1', '--kind', 'Cart'], 'invalid group "Orders"'],
    [['--group', 'orders', '--version', '1', '--kind', 'Cart'], 'invalid version "1"'],
    [
      ['--group', 'orders', '--version', 'v1', '--kind', 'Cart', '--namespaced', 'maybe'],
      'expected true or false, got "maybe"',
    ],
    [
      ['--group', 'orders', '--version', 'v3', '--kind', 'OrderQueue', '--no-namespaced'],
      'exists in orders.shop.example with another plural or scope',
    ],
    [
      ['--group', 'orders', '--version', 'v1', '--kind', 'Cart', '--plural', 'orderqueues'],
      'OrderQueue in orders.shop.example already has the plural "orderqueues"',
    ],
    [['--group', 'orders', '--version', 'v1'], "required option '--kind <Kind>' not specified"],
  ])('refuses %j and changes nothing', async (args, message) => {
    const before = await snapshot(project);
    const ran = await runCli(['create', 'api', ...args], { cwd: project });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(message);
    expect(await snapshot(project)).toEqual(before);
  });

  it('refuses to overwrite a file in the way, and a main.ts without its marker, writing nothing', async () => {
    await writeFile(join(project, 'src/reconcilers/cart-reconciler.ts'), '// mine\n');
    let before = await snapshot(project);
    let ran = await runCli(['create', 'api', '--group', 'orders', '--version', 'v1', '--kind', 'Cart'], {
      cwd: project,
    });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('src/reconcilers/cart-reconciler.ts already exists: nothing was written');
    expect(await snapshot(project)).toEqual(before);
    await rm(join(project, 'src/reconcilers/cart-reconciler.ts'));

    const main = await readFile(join(project, 'src/main.ts'), 'utf8');
    await writeFile(join(project, 'src/main.ts'), main.replace('  // kubeloop:scaffold:reconcilers\n', ''));
    before = await snapshot(project);
    ran = await runCli(['create', 'api', '--group', 'orders', '--version', 'v1', '--kind', 'Cart'], { cwd: project });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('src/main.ts lacks the line "// kubeloop:scaffold:reconcilers"');
    expect(await snapshot(project)).toEqual(before);
    await writeFile(join(project, 'src/main.ts'), main);
  });

  it('says where to run when there is no project, or a broken project file', async () => {
    let ran = await runCli(['create', 'api', '--group', 'a', '--version', 'v1', '--kind', 'B'], { cwd: root });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(
      `error: no kubeloop.json in ${root} or any folder above it: run this inside a project made by \`kubeloop init <dir>\``,
    );

    const broken = join(root, 'broken');
    const init = await runCli(['init', broken, '--skip-install'], { cwd: root });
    expect(init.code).toBe(0);
    await writeFile(join(broken, 'kubeloop.json'), '{ "version": 1, "name": "broken" }');
    ran = await runCli(['create', 'api', '--group', 'a', '--version', 'v1', '--kind', 'B', '--project', broken], {
      cwd: root,
    });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(`${join(broken, 'kubeloop.json')}: "domain" must be a non-empty string`);
    await writeFile(join(broken, 'kubeloop.json'), '{ not json');
    ran = await runCli(['generate', 'manifests'], { cwd: broken });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(`cannot read ${join(broken, 'kubeloop.json')}`);
  });
});
