/**
 * Helm v4 for the scaffold's chart tests: $KUBELOOP_HELM, else test/e2e/helm/build.sh (the cached binary, or a build
 * from the Go module proxy when Go is installed; its progress goes to the test run's stderr).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

const buildScript = join(repoRoot, 'test/e2e/helm/build.sh');

/** The helm binary, or why there is none (Go missing and nothing cached). Throws when a build fails. */
export function findHelm(env: NodeJS.ProcessEnv = process.env): { path: string } | { missing: string } {
  const given = env['KUBELOOP_HELM'];
  if (given && existsSync(given)) return { path: given };
  const build = spawnSync('bash', [buildScript], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'] });
  const path = build.stdout.trim().split('\n').pop();
  if (build.status === 0 && path && existsSync(path)) return { path };
  if (build.status === 3) {
    return {
      missing:
        'Go is not installed and Helm v4 is not cached (install Go 1.26 to build it, or set KUBELOOP_HELM to a Helm v4 binary)',
    };
  }
  throw new Error(`building Helm failed (exit ${build.status}); its output is above`);
}
