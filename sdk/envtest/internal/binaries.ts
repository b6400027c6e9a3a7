import { spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EnvtestError } from '../errors.js';

/** Where the control-plane binaries are, with `kubectl` when present. */
export interface Binaries {
  dir: string;
  kubeApiServer: string;
  etcd: string;
  kubectl: string | undefined;
}

/** The folder that holds the wrapper Go modules and their build script, found from this file's location. */
export function goModulesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'sdk', 'envtest', 'go');
    if (existsSync(join(candidate, 'build-binaries.sh'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new EnvtestError('cannot find sdk/envtest/go/build-binaries.sh in the kubeloop package');
    dir = parent;
  }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function describe(dir: string): Promise<Binaries | undefined> {
  const kubeApiServer = join(dir, 'kube-apiserver');
  const etcd = join(dir, 'etcd');
  if (!(await isExecutable(kubeApiServer)) || !(await isExecutable(etcd))) return undefined;
  const kubectl = join(dir, 'kubectl');
  return { dir, kubeApiServer, etcd, kubectl: (await isExecutable(kubectl)) ? kubectl : undefined };
}

export interface EnsureBinariesOptions {
  /** A folder with kube-apiserver and etcd. Default: `$KUBEBUILDER_ASSETS`. */
  assetsDir?: string;
  /** Where build progress goes. Default: standard error. */
  progress?: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * Finds the control-plane binaries in `KUBEBUILDER_ASSETS`, else in kubeloop's cache, else builds them from the Go
 * module proxy (minutes, once; progress is reported line by line). Concurrent callers share one build.
 */
export async function ensureBinaries(options: EnsureBinariesOptions = {}): Promise<Binaries> {
  const assets = options.assetsDir ?? process.env['KUBEBUILDER_ASSETS'];
  if (assets) {
    const found = await describe(assets);
    if (found) return found;
  }
  const env = { ...process.env };
  if (assets) env['KUBEBUILDER_ASSETS'] = assets;
  const dir = await runBuildScript(
    'build-binaries.sh',
    env,
    options,
    (why, tail) =>
      new EnvtestError(
        `cannot provide kube-apiserver and etcd: ${why}. Set KUBEBUILDER_ASSETS to a folder with kube-apiserver, ` +
          `etcd and kubectl, or install Go 1.26+ and run \`npm run envtest:setup\`.\n${tail}`,
      ),
  );
  const found = await describe(dir);
  if (!found) throw new EnvtestError(`the binary build reported ${dir}, but kube-apiserver or etcd is not there`);
  return found;
}

/**
 * Runs one of the build scripts beside the wrapper modules (they print a path as their last stdout line, progress on
 * stderr, and exit 3 when Go is missing) and returns that path.
 */
function runBuildScript(
  name: string,
  env: NodeJS.ProcessEnv,
  options: { progress?: ((line: string) => void) | undefined; signal?: AbortSignal | undefined },
  failure: (why: string, tail: string) => Error,
): Promise<string> {
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const script = join(goModulesDir(), name);
  return new Promise<string>((resolve, reject) => {
    const child = spawn('bash', [script], { env, stdio: ['ignore', 'pipe', 'pipe'], signal: options.signal });
    let out = '';
    let tail: string[] = [];
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        progress(line);
        tail = [...tail.slice(-19), line];
      }
    });
    child.on('error', (err) =>
      reject(new EnvtestError(`could not run ${script}: ${err.message}. Is bash installed?`, { cause: err })),
    );
    child.on('close', (code) => {
      if (code === 0) return resolve(out.trim().split('\n').pop() ?? '');
      reject(failure(code === 3 ? 'Go is missing' : `the build failed (exit ${code})`, tail.join('\n')));
    });
  });
}

/**
 * Finds the test kubelet of `startControlPlane({ kubelet: true })`: `binary`, else `$KUBELOOP_KUBELET`, else kubeloop's
 * cache, else builds it once from the Go module proxy (`sdk/envtest/go/build-kubelet.sh`).
 */
export async function ensureKubelet(
  options: { binary?: string | undefined; progress?: (line: string) => void; signal?: AbortSignal | undefined } = {},
): Promise<string> {
  const named = options.binary ?? process.env['KUBELOOP_KUBELET'];
  if (options.binary) {
    if (await isExecutable(options.binary)) return options.binary;
    throw new EnvtestError(`the test kubelet ${options.binary} (kubelet.binary) is not an executable file`);
  }
  const env = { ...process.env };
  if (named) env['KUBELOOP_KUBELET'] = named;
  const path = await runBuildScript(
    'build-kubelet.sh',
    env,
    options,
    (why, tail) =>
      new EnvtestError(
        `cannot provide the test kubelet: ${why}. Install Go 1.26+ and run \`npm run envtest:kubelet\` ` +
          `(sdk/envtest/go/build-kubelet.sh), or set KUBELOOP_KUBELET to a kubelet built from sdk/envtest/go/kubelet.\n${tail}`,
      ),
  );
  if (!(await isExecutable(path))) throw new EnvtestError(`the kubelet build reported ${path}, but it is not there`);
  return path;
}
