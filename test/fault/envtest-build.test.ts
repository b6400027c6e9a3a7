import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { goModulesDir } from '../../sdk/envtest/internal/binaries.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the binary build script with a cache of its own and without KUBEBUILDER_ASSETS. */
function build(cacheDir: string): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, KUBELOOP_CACHE_DIR: cacheDir };
  delete env['KUBEBUILDER_ASSETS'];
  return new Promise((resolve) => {
    const child = spawn('bash', [join(goModulesDir(), 'build-binaries.sh')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function provesMissingGoMessage(cache: string): Promise<void> {
  const run = await build(cache);
  expect(run.code).toBe(3);
  expect(run.stderr).toContain('Go is not installed');
  expect(run.stderr).toContain('KUBEBUILDER_ASSETS');
}

async function provesLockAndCache(cache: string): Promise<void> {
  const [a, b] = await Promise.all([build(cache), build(cache)]);
  expect([a.code, b.code]).toEqual([0, 0]);
  const folderA = a.stdout.trim().split('\n').pop();
  const folderB = b.stdout.trim().split('\n').pop();
  expect(folderA).toBe(folderB);
  expect(folderA?.startsWith(join(cache, 'envtest', 'kubernetes-v1.37.2-etcd-v3.7.3-'))).toBe(true);
  for (const binary of ['kube-apiserver', 'kubectl', 'etcd'])
    expect(existsSync(join(folderA!, binary)), binary).toBe(true);
  const both = a.stderr + b.stderr;
  expect(both).toMatch(/holds .*\.build\.lock; waiting for it/);
  expect(both).toMatch(/built by a concurrent caller/);
  expect(both).toMatch(/kube-apiserver\+kubectl build took \d+s/);

  const again = await build(cache);
  expect(again.code).toBe(0);
  expect(again.stdout.trim().split('\n').pop()).toBe(folderA);
  expect(again.stderr).toContain('cached binaries in');
}

const hasGo = spawnSync('go', ['version']).status === 0;
const provesBuild = hasGo ? provesLockAndCache : provesMissingGoMessage;

// With Go, the build is cheap here: Go's own build cache is warm (CI builds the binaries before the tests), so this
// measures linking, the lock and the install, not compiling Kubernetes. Without Go, the script must say what to do.
describe('building the control-plane binaries into a new cache', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('survives two concurrent callers: one builds, the other waits on the lock, both get the same folder; then it is cached', async () => {
    const cache = await mkdtemp(join(tmpdir(), 'kubeloop-build-'));
    dirs.push(cache);
    await provesBuild(cache);
  }, 600_000);
});
