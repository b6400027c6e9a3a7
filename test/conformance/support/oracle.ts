/**
 * Finds (or builds) the client-go oracle and runs it on the corpus. The binary comes from
 * test/conformance/oracle/build.sh, cached under ~/.cache/kubeloop; `KUBELOOP_CONFORMANCE_ORACLE` names a binary
 * built beforehand (.ci/run builds it beside the control plane).
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const buildScript = join(import.meta.dirname, '..', 'oracle', 'build.sh');

/** The oracle's path, or why there is none (Go missing and nothing cached). Builds it when Go is present. */
export function findOracle(env: NodeJS.ProcessEnv = process.env): { path: string } | { missing: string } {
  const given = env.KUBELOOP_CONFORMANCE_ORACLE;
  if (given && existsSync(given)) return { path: given };
  // The build's progress goes to the test run's stderr: a cold build downloads client-go and compiles it.
  const build = spawnSync('bash', [buildScript], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'inherit'] });
  const path = build.stdout.trim().split('\n').pop();
  if (build.status === 0 && path && existsSync(path)) return { path };
  if (build.status === 3) {
    return {
      missing:
        'Go is not installed and the client-go oracle is not cached (set KUBELOOP_CONFORMANCE_ORACLE or install Go 1.26)',
    };
  }
  throw new Error(`building the client-go oracle failed (exit ${build.status}); its output is above`);
}

/** Runs the oracle with one JSON request; returns its JSON answer. */
export async function runOracle<T>(path: string, request: unknown): Promise<T> {
  const child = promisify(execFile)(path, [], { maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env.PATH ?? '' } });
  child.child.stdin?.end(JSON.stringify(request));
  const { stdout } = await child;
  return JSON.parse(stdout) as T;
}
