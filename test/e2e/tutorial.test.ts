import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load } from 'js-yaml';
import { createDynamicClient, type Unstructured } from '../../sdk/client/index.js';
import { startControlPlane } from '../../sdk/envtest/index.js';
import { eventually } from '../support/wait.js';
import {
  dyingWithParent,
  linkCheckout,
  repoRoot,
  runCli,
  runCommand,
  runTsc,
  succeeded,
  type Ran,
} from './support/cli.js';
import { freePort } from './support/operator.js';

// The book's tutorial, followed as a reader would: `kubeloop init`, `create api`, `create webhook`, then the files the
// tutorial's pages show (included from samples/cronjob) put in place of the scaffolded ones, the lines its Metrics step
// changes in src/main.ts (the metrics provided, the webhook behind ENABLE_WEBHOOKS), and the sample CronJob of its last page. The project must build, generate its manifests,
// install bundle and Helm chart, and pass the tutorial's tests and the scaffold's own: manifests the API server accepts,
// and dist/install.yaml installed into a control plane with the operator, run as its ServiceAccount with the generated
// RBAC, reconciling the sample to Ready. kubeloop and its tools come from this checkout (no npm).
const tutorial = join(repoRoot, 'samples', 'cronjob');
/** The tutorial's files, and where a scaffolded project has them. */
const files: [string, string][] = [
  ['src/api/batch/v1/cron-job.ts', 'src/api/batch/v1/cron-job.ts'],
  ['src/reconcilers/cron-job-reconciler.ts', 'src/reconcilers/cron-job-reconciler.ts'],
  ['src/webhooks/cron-job-webhook.ts', 'src/webhooks/cron-job-webhook.ts'],
  ['src/schedule.ts', 'src/schedule.ts'],
  ['src/metrics.ts', 'src/metrics.ts'],
  ['test/cron-job-reconciler.unit.test.ts', 'test/cron-job-reconciler.unit.test.ts'],
  ['test/cron-job-webhook.unit.test.ts', 'test/cron-job-webhook.unit.test.ts'],
  ['test/cron-job-reconciler.test.ts', 'test/cron-job-reconciler.test.ts'],
];
const sampleFile = 'config/samples/batch.tutorial.kubeloop.dev_v1_cronjob.yaml';

let root: string;
let dir: string;

function ok(ran: Ran, what: string): Ran {
  expect(ran.code, `${what}:\n${ran.stdout.slice(-4000)}\n${ran.stderr.slice(-4000)}`).toBe(0);
  return ran;
}

/** The YAML block of docs/tutorial/deploy.md that starts with `# <path>`: the sample as the page shows it. */
async function sampleFromThePage(): Promise<string> {
  const page = await readFile(join(repoRoot, 'docs', 'tutorial', 'deploy.md'), 'utf8');
  const block = new RegExp(`\`\`\`yaml\\n# ${sampleFile.replaceAll('.', '\\.')}\\n([\\s\\S]*?)\`\`\``).exec(page)?.[1];
  expect(block, `docs/tutorial/deploy.md shows ${sampleFile}`).toBeDefined();
  return block ?? '';
}

describe("the book's tutorial, in a scaffolded project", () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'kubeloop-tutorial-'));
    dir = join(root, 'cronjob-operator');
    const cli = (args: string[], cwd: string): Promise<Ran> => runCli(args, { cwd });
    succeeded(
      await cli(['init', 'cronjob-operator', '--domain', 'tutorial.kubeloop.dev', '--skip-install'], root),
      'kubeloop init',
    );
    succeeded(
      await cli(['create', 'api', '--group', 'batch', '--version', 'v1', '--kind', 'CronJob'], dir),
      'create api',
    );
    succeeded(
      await cli(
        [
          'create',
          'webhook',
          '--group',
          'batch',
          '--version',
          'v1',
          '--kind',
          'CronJob',
          '--defaulting',
          '--programmatic-validation',
        ],
        dir,
      ),
      'create webhook',
    );
    await linkCheckout(dir);
    // The tutorial's Metrics step: prom-client is a dependency of the project.
    await symlink(join(repoRoot, 'node_modules', 'prom-client'), join(dir, 'node_modules', 'prom-client'), 'dir');
  }, 120_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('takes the code of the pages: the scaffolded examples replaced, main.ts given the metrics', async () => {
    // The scaffold's example tests test the example reconciler and webhook, which the tutorial rewrites.
    for (const test of ['cron-job-reconciler.test.ts', 'cron-job-reconciler.unit.test.ts', 'cron-job-webhook.test.ts'])
      await unlink(join(dir, 'test', test));
    for (const [from, to] of files) await copyFile(join(tutorial, from), join(dir, to));
    const mainPath = join(dir, 'src', 'main.ts');
    const main = await readFile(mainPath, 'utf8');
    const register = '  mgr.register(CronJobReconciler);\n';
    const registerWebhook = '  mgr.register(CronJobWebhook);\n';
    expect(main).toContain('// kubeloop:scaffold:imports\n');
    expect(main).toContain(register);
    expect(main).toContain(registerWebhook);
    await writeFile(
      mainPath,
      main
        .replace(
          '// kubeloop:scaffold:imports\n',
          "import { createCronJobMetrics, CRONJOB_METRICS } from './metrics.js';\n// kubeloop:scaffold:imports\n",
        )
        .replace(register, `  mgr.provide(CRONJOB_METRICS, createCronJobMetrics(mgr.metrics.registry));\n${register}`)
        .replace(registerWebhook, "  if (process.env['ENABLE_WEBHOOKS'] !== 'false') mgr.register(CronJobWebhook);\n"),
    );
    await writeFile(join(dir, sampleFile), await sampleFromThePage());
    ok(await runTsc(['-p', 'tsconfig.json', '--noEmit'], dir), 'the project type-checks');
    ok(await runTsc(['-p', 'tsconfig.build.json'], dir), 'the project builds');
  }, 120_000);

  it('generates its manifests, its install bundle and its Helm chart', async () => {
    const manifests = ok(await runCli(['generate', 'manifests'], { cwd: dir }), 'generate manifests');
    expect(manifests.stdout).toContain('1 CRD, RBAC from 1 reconciler, 1 webhook class');
    const role = await readFile(join(dir, 'config', 'rbac', 'role.yaml'), 'utf8');
    for (const resource of ['jobs', 'cronjobs', 'cronjobs/status', 'cronjobs/finalizers'])
      expect(role).toContain(`- ${resource}\n`);
    const crd = await readFile(
      join(dir, 'config', 'crd', 'bases', 'batch.tutorial.kubeloop.dev_cronjobs.yaml'),
      'utf8',
    );
    expect(crd).toContain('jobTemplate:');
    ok(await runCli(['generate', 'install'], { cwd: dir }), 'generate install');
    ok(await runCli(['generate', 'helm'], { cwd: dir }), 'generate helm');
  }, 120_000);

  it("passes the tutorial's tests and the scaffold's install test against a real API server", async () => {
    const vitest = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
    const tests = [
      'test/cron-job-reconciler.unit.test.ts',
      'test/cron-job-webhook.unit.test.ts',
      'test/cron-job-reconciler.test.ts',
      'test/manifests.test.ts',
      'test/install.test.ts',
    ];
    const ran = await runCommand(process.execPath, [vitest, 'run', ...tests], {
      cwd: dir,
      env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' },
      timeoutMs: 300_000,
    });
    ok(ran, 'the project tests');
    expect(ran.stdout).toMatch(/Test Files\s+5 passed/);
  }, 320_000);

  it('runs from the machine as the deploy page says: ENABLE_WEBHOOKS=false, the kubeconfig, the sample reconciled', async () => {
    const env = await startControlPlane({ crds: { paths: [join(dir, 'config', 'crd', 'bases')] } });
    let log = '';
    try {
      const [metrics, probes] = [await freePort(), await freePort()];
      const args = ['dist/main.js', '--kubeconfig', env.kubeconfigPath, '--no-metrics-secure'];
      args.push('--metrics-bind-address', `127.0.0.1:${metrics}`, '--health-probe-bind-address', `127.0.0.1:${probes}`);
      const [file, argv] = dyingWithParent(process.execPath, args);
      const child = spawn(file, argv, {
        cwd: dir,
        env: { PATH: process.env['PATH'] ?? '', HOME: root, ENABLE_WEBHOOKS: 'false' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.on('data', (c: Buffer) => (log += c.toString()));
      child.stderr.on('data', (c: Buffer) => (log += c.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        const sample = load(await sampleFromThePage()) as Unstructured;
        const cronJobs = createDynamicClient(env.config)
          .resource({ group: 'batch.tutorial.kubeloop.dev', version: 'v1', resource: 'cronjobs' })
          .namespace('default');
        await cronJobs.create(sample);
        await eventually(
          `the sample to be Ready (operator log: ${log.slice(-2000)})`,
          async () => {
            const status = (await cronJobs.get('cronjob-sample'))['status'] as
              | { conditions?: { type: string; status: string }[] }
              | undefined;
            return status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 100, retryErrors: true },
        );
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited, log.slice(-4000)).toBe(0);
    } finally {
      await env.stop();
    }
  }, 120_000);
});
