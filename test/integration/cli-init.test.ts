import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Unstructured } from '../../sdk/client/index.js';
import { cliBin, parseObjects, repoRoot, runCli } from '../e2e/support/cli.js';
import { eventually } from '../support/wait.js';

// `kubeloop init`, run as the built command in temporary folders: what a new project holds, and how bad input is
// refused without leaving anything behind. No cluster is needed; npm runs only in the install-failure test.
const kubeloop = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'kubeloop-cli-init-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .toSorted();
}

describe('kubeloop init', () => {
  it('writes a complete project into a new folder', async () => {
    const ran = await runCli(['init', 'guestbook-operator', '--domain', 'example.org', '--skip-install'], {
      cwd: root,
    });
    expect(ran.stderr).toContain('Writing');
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain('Created guestbook-operator in guestbook-operator.');
    expect(ran.stdout).toContain('npx kubeloop create api');
    const dir = join(root, 'guestbook-operator');
    expect(await filesUnder(dir)).toEqual([
      '.dockerignore',
      '.github/workflows/ci.yml',
      '.gitignore',
      'Dockerfile',
      'README.md',
      'config/crd/kustomization.yaml',
      'config/default/kustomization.yaml',
      'config/default/metrics_service.yaml',
      'config/manager/kustomization.yaml',
      'config/manager/manager.yaml',
      'config/manager/watch_namespaces_patch.yaml',
      'config/network-policy/allow-metrics-traffic.yaml',
      'config/network-policy/kustomization.yaml',
      'config/prometheus/kustomization.yaml',
      'config/prometheus/monitor.yaml',
      'config/rbac/api_roles.yaml',
      'config/rbac/kustomization.yaml',
      'config/rbac/leader_election_role.yaml',
      'config/rbac/leader_election_role_binding.yaml',
      'config/rbac/metrics_auth_role.yaml',
      'config/rbac/metrics_auth_role_binding.yaml',
      'config/rbac/metrics_reader_role.yaml',
      'config/rbac/role.yaml',
      'config/rbac/role_binding.yaml',
      'config/rbac/service_account.yaml',
      'config/webhook/kustomization.yaml',
      'kubeloop.json',
      'package.json',
      'src/main.ts',
      'test/global-setup.ts',
      'test/install.test.ts',
      'test/manifests.test.ts',
      'test/metrics.test.ts',
      'test/support.ts',
      'tsconfig.build.json',
      'tsconfig.json',
      'vitest.config.ts',
    ]);
    expect(await readdir(join(dir, 'src'))).toEqual(expect.arrayContaining(['api', 'reconcilers']));

    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
    expect(pkg['dependencies']).toEqual({
      kubeloop: `^${kubeloop.version}`,
      'reflect-metadata': kubeloop.dependencies['reflect-metadata'],
    });
    expect(pkg['devDependencies']).toMatchObject({
      typescript: kubeloop.devDependencies['typescript'],
      vitest: kubeloop.devDependencies['vitest'],
      '@types/node': kubeloop.devDependencies['@types/node'],
    });
    expect(pkg['scripts']).toMatchObject({
      build: 'tsc -p tsconfig.build.json',
      manifests: 'npm run --silent build && kubeloop generate manifests',
      test: 'vitest run',
    });
    expect(JSON.parse(await readFile(join(dir, 'kubeloop.json'), 'utf8'))).toEqual({
      version: 1,
      name: 'guestbook-operator',
      domain: 'example.org',
      namespace: 'guestbook-operator-system',
      sourceDir: 'src',
      outDir: 'dist',
      reconcilersDir: 'src/reconcilers',
      webhooksDir: 'src/webhooks',
      watchNamespaces: [],
      webhookCertificates: 'cert-manager',
      apis: [],
    });
    const tsconfig = await readFile(join(dir, 'tsconfig.json'), 'utf8');
    expect(tsconfig).toContain('"experimentalDecorators": true');
    expect(tsconfig).toContain('"noUncheckedIndexedAccess": true');

    const main = await readFile(join(dir, 'src/main.ts'), 'utf8');
    for (const part of [
      '// kubeloop:scaffold:imports',
      '// kubeloop:scaffold:reconcilers',
      "'leader-elect': { type: 'boolean' }",
      "'webhook-port': { type: 'string' }",
      "process.env['WEBHOOK_CERT_DIR']",
      "envFlag('LEADER_ELECT')",
      "process.env['METRICS_BIND_ADDRESS'] ?? ':8443'",
      "process.env['HEALTH_PROBE_BIND_ADDRESS'] ?? ':8081'",
      "process.env['KUBELOOP_SERVICE_ACCOUNT_DIR']",
      "id: 'guestbook-operator.example.org'",
      'setupSignalHandler()',
    ]) {
      expect(main).toContain(part);
    }
  });

  it('makes a Deployment, RBAC and Service fit to run: 2 replicas, leader election, probes, metrics, a restricted security context', async () => {
    const dir = join(root, 'guestbook-operator');
    const [namespace, deployment] = parseObjects(await readFile(join(dir, 'config/manager/manager.yaml'), 'utf8'));
    expect(namespace).toMatchObject({ kind: 'Namespace', metadata: { name: 'guestbook-operator-system' } });
    expect(deployment).toMatchObject({
      kind: 'Deployment',
      metadata: { name: 'guestbook-operator-controller-manager', namespace: 'guestbook-operator-system' },
      spec: {
        replicas: 2,
        template: {
          spec: {
            serviceAccountName: 'guestbook-operator-controller-manager',
            securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
            containers: [
              {
                args: ['--leader-elect', '--metrics-bind-address=:8443', '--health-probe-bind-address=:8081'],
                ports: [
                  { name: 'metrics', containerPort: 8443 },
                  { name: 'health', containerPort: 8081 },
                ],
                livenessProbe: { httpGet: { path: '/healthz', port: 'health' } },
                readinessProbe: { httpGet: { path: '/readyz', port: 'health' } },
                resources: {
                  requests: { cpu: expect.any(String), memory: expect.any(String) },
                  limits: { cpu: expect.any(String), memory: expect.any(String) },
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  runAsNonRoot: true,
                  capabilities: { drop: ['ALL'] },
                },
              },
            ],
          },
        },
      },
    });
    const [service] = parseObjects(await readFile(join(dir, 'config/default/metrics_service.yaml'), 'utf8'));
    expect(service).toMatchObject({
      kind: 'Service',
      spec: { ports: [{ name: 'https', port: 8443, targetPort: 'metrics' }] },
    });
    const [leaderRole] = parseObjects(await readFile(join(dir, 'config/rbac/leader_election_role.yaml'), 'utf8'));
    expect(leaderRole).toMatchObject({
      kind: 'Role',
      metadata: { namespace: 'guestbook-operator-system' },
      rules: [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['create', 'get', 'update'] }],
    });
    const role = await readFile(join(dir, 'config/rbac/role.yaml'), 'utf8');
    expect(role.startsWith('# Generated by `kubeloop generate manifests`')).toBe(true);
    expect(parseObjects(role)).toEqual([
      expect.objectContaining({
        kind: 'ClusterRole',
        metadata: expect.objectContaining({ name: 'guestbook-operator-manager-role' }),
        rules: [],
      }),
    ]);
  });

  it('serves metrics securely as kubebuilder does: TokenReview/SubjectAccessReview RBAC, a metrics-reader role, a ServiceMonitor and a NetworkPolicy', async () => {
    const dir = join(root, 'guestbook-operator');
    const read = async (path: string): Promise<Unstructured[]> => parseObjects(await readFile(join(dir, path), 'utf8'));
    expect(await read('config/rbac/metrics_auth_role.yaml')).toEqual([
      expect.objectContaining({
        kind: 'ClusterRole',
        rules: [
          { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
          { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
        ],
      }),
    ]);
    expect(await read('config/rbac/metrics_auth_role_binding.yaml')).toEqual([
      expect.objectContaining({
        subjects: [
          {
            kind: 'ServiceAccount',
            name: 'guestbook-operator-controller-manager',
            namespace: 'guestbook-operator-system',
          },
        ],
      }),
    ]);
    expect(await read('config/rbac/metrics_reader_role.yaml')).toEqual([
      expect.objectContaining({
        metadata: expect.objectContaining({ name: 'guestbook-operator-metrics-reader' }),
        rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }],
      }),
    ]);
    const [monitor] = await read('config/prometheus/monitor.yaml');
    expect(monitor).toMatchObject({
      kind: 'ServiceMonitor',
      spec: {
        endpoints: [
          {
            port: 'https',
            scheme: 'https',
            bearerTokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
            tlsConfig: { insecureSkipVerify: true },
          },
        ],
      },
    });
    const [policy] = await read('config/network-policy/allow-metrics-traffic.yaml');
    expect(policy).toMatchObject({
      kind: 'NetworkPolicy',
      spec: {
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { metrics: 'enabled' } } }],
            ports: [{ port: 8443, protocol: 'TCP' }],
          },
        ],
      },
    });
    const defaults = await readFile(join(dir, 'config/default/kustomization.yaml'), 'utf8');
    expect(defaults).toContain('# - ../prometheus');
    expect(defaults).toContain('# - ../network-policy');
    const main = await readFile(join(dir, 'src/main.ts'), 'utf8');
    expect(main).toContain("const secure = flags['metrics-secure'] ?? envFlag('METRICS_SECURE') ?? true;");
  });

  it('writes a CI workflow: typecheck, manifests up to date, tests, image build', async () => {
    const workflow = load(await readFile(join(root, 'guestbook-operator/.github/workflows/ci.yml'), 'utf8')) as {
      jobs: Record<string, { steps: { name?: string; run?: string; uses?: string }[] }>;
    };
    expect(Object.keys(workflow.jobs)).toEqual(['test', 'image']);
    const runs = workflow.jobs['test']!.steps.map((s) => s.run).filter(Boolean);
    expect(runs).toEqual([
      'npm ci',
      'npm run typecheck',
      'npm run manifests && npx kubeloop generate install && git diff --exit-code -- config dist/install.yaml',
      'npm test',
    ]);
    expect(workflow.jobs['image']!.steps.map((s) => s.uses)).toContain('docker/build-push-action@v6');
  });

  it('writes a multi-stage Dockerfile onto a distroless Node 24 image, run as a non-root user', async () => {
    const dir = join(root, 'guestbook-operator');
    const dockerfile = await readFile(join(dir, 'Dockerfile'), 'utf8');
    const from = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)].map((m) => [m[1], m[2]]);
    expect(from).toEqual([
      ['node:24-trixie-slim', 'build'],
      ['gcr.io/distroless/nodejs24-debian13:nonroot', undefined],
    ]);
    expect(dockerfile).toMatch(/^RUN .*npm ci/m);
    expect(dockerfile).toMatch(/^RUN npm run build && npm prune --omit=dev$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/app\/dist \.\/dist$/m);
    expect(dockerfile).toMatch(/^USER 65532:65532$/m);
    expect(dockerfile).toMatch(/^CMD \["dist\/main\.js"\]$/m);
    const dockerignore = (await readFile(join(dir, '.dockerignore'), 'utf8')).split('\n');
    expect(dockerignore).toEqual(expect.arrayContaining(['*', '!package.json', '!package-lock.json', '!src/']));
  });

  it('fills an existing empty folder', async () => {
    const dir = join(root, 'empty');
    await mkdir(dir);
    const ran = await runCli(['init', dir, '--name', 'filled', '--skip-install'], { cwd: root });
    expect(ran.code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'kubeloop.json'), 'utf8'))).toMatchObject({
      name: 'filled',
      domain: 'example.com',
    });
  });

  it('refuses a folder that is not empty and leaves it as it was', async () => {
    const dir = join(root, 'occupied');
    await mkdir(dir);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const ran = await runCli(['init', dir, '--skip-install'], { cwd: root });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(`error: ${dir} is not empty (it holds notes.txt)`);
    expect(await readdir(dir)).toEqual(['notes.txt']);
  });

  it.each([
    [['init', 'Bad_Name', '--skip-install'], 'invalid project name "Bad_Name"', 'Bad_Name'],
    [['init', 'fine', '--name', 'no.dots', '--skip-install'], 'invalid project name "no.dots"', 'fine'],
    [['init', 'fine', '--domain', 'localhost', '--skip-install'], 'invalid domain "localhost"', 'fine'],
    [['init', 'fine', '--kubeloop-from', './missing.tgz', '--skip-install'], 'missing.tgz does not exist', 'fine'],
  ])('refuses %j with a clear error and writes nothing', async (args, message, target) => {
    const before = await readdir(root);
    const ran = await runCli(args, { cwd: root });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain(message);
    expect(existsSync(join(root, target))).toBe(before.includes(target));
    expect(await readdir(root)).toEqual(before);
  });

  it('turns a missing argument or option into usage help', async () => {
    const ran = await runCli(['init'], { cwd: root });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain("missing required argument 'dir'");
    expect(ran.stderr).toContain('--help');
  });

  it('depends on a given tarball by its absolute path', async () => {
    await writeFile(join(root, 'kubeloop-9.9.9.tgz'), '');
    const ran = await runCli(['init', 'from-tarball', '--kubeloop-from', 'kubeloop-9.9.9.tgz', '--skip-install'], {
      cwd: root,
    });
    expect(ran.code).toBe(0);
    const pkg = JSON.parse(await readFile(join(root, 'from-tarball/package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(pkg.dependencies['kubeloop']).toBe(`file:${join(root, 'kubeloop-9.9.9.tgz')}`);
  });

  it('keeps showing progress during a long install, and leaves nothing behind when interrupted', async () => {
    // An npm that never finishes, first on the PATH.
    const before = await readdir(root);
    const bin = join(root, 'slow-npm');
    await mkdir(bin);
    await writeFile(join(bin, 'npm'), '#!/bin/sh\nexec sleep 120\n', { mode: 0o755 });
    const child = spawn(process.execPath, [cliBin, 'init', 'interrupted'], {
      cwd: root,
      env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await eventually('the progress line', () => stderr.includes('… still installing dependencies'), {
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    expect(stderr).toMatch(/… still installing dependencies \(\d+ s\)/);
    expect((await readdir(root)).filter((f) => f.startsWith('.interrupted.kubeloop-init-'))).toHaveLength(1);
    child.kill('SIGINT');
    expect(await exited).toBe(1);
    expect(stderr).toContain('error: interrupted by SIGINT while installing dependencies');
    expect(stderr).toContain('Nothing was written');
    expect((await readdir(root)).toSorted()).toEqual([...before, 'slow-npm'].toSorted());
  });

  it('shows progress while npm installs, and leaves nothing behind when the install fails', async () => {
    const broken = join(root, 'broken-kubeloop.tgz');
    await writeFile(broken, 'not a tarball');
    const before = await readdir(root);
    const ran = await runCli(['init', 'install-fails', '--kubeloop-from', broken], {
      cwd: root,
      env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' },
    });
    expect(ran.code).toBe(1);
    expect(ran.stderr).toContain('Installing dependencies with npm');
    expect(ran.stderr).toMatch(/error: npm install --no-audit --no-fund failed \(exit code \d+\)/);
    expect(ran.stderr).toContain('Nothing was written');
    expect(await readdir(root)).toEqual(before);
  });
});
