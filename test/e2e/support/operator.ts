/**
 * Running a scaffolded operator the way a pod runs it, outside a cluster: its ServiceAccount's token from the
 * TokenRequest API, the cluster CA and the namespace in a folder (what the kubelet mounts), found through
 * KUBELOOP_SERVICE_ACCOUNT_DIR; the API server through KUBERNETES_SERVICE_HOST/PORT; an empty HOME and no
 * KUBECONFIG, so the in-cluster configuration is the only one there is.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createClientset, type RestConfig } from '../../../sdk/client/index.js';
import { dyingWithParent } from './cli.js';

/** A free TCP port on 127.0.0.1 (free when this returns). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface ServiceAccountFolder {
  dir: string;
  token: string;
}

/**
 * Writes `token` (a TokenRequest token of the ServiceAccount, valid for an hour), `ca.crt` and `namespace` into
 * `dir`, as the kubelet would mount them. `admin` makes the TokenRequest.
 */
export async function writeServiceAccountFolder(
  admin: RestConfig,
  options: { dir: string; namespace: string; serviceAccount: string; caData: string },
): Promise<ServiceAccountFolder> {
  const request = await createClientset(admin)
    .coreV1()
    .serviceAccounts(options.namespace)
    .createToken(options.serviceAccount, { spec: { audiences: [], expirationSeconds: 3600 } });
  const token = request.status?.token;
  if (!token) throw new Error('the TokenRequest returned no token');
  await mkdir(options.dir, { recursive: true });
  await writeFile(join(options.dir, 'token'), token, { mode: 0o600 });
  await writeFile(join(options.dir, 'ca.crt'), options.caData);
  await writeFile(join(options.dir, 'namespace'), options.namespace);
  return { dir: options.dir, token };
}

export interface RunningOperator {
  readonly child: ChildProcess;
  readonly metricsPort: number;
  readonly probePort: number;
  /** Standard output and error so far (pino JSON lines). */
  log(): string;
  /** Settles when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True until the process exits. */
  running(): boolean;
}

/**
 * Starts `node dist/main.js` of the project in `projectDir` with leader election on, metrics and probes on free
 * loopback ports, and nothing from this process's environment but PATH.
 */
export async function startOperator(options: {
  projectDir: string;
  /** `https://127.0.0.1:<port>` of the API server. */
  host: string;
  serviceAccountDir: string;
  /** An empty folder for HOME. */
  home: string;
  env?: Record<string, string>;
}): Promise<RunningOperator> {
  const [metricsPort, probePort] = [await freePort(), await freePort()];
  const url = new URL(options.host);
  await mkdir(options.home, { recursive: true });
  const [file, argv] = dyingWithParent(process.execPath, [
    'dist/main.js',
    '--leader-elect',
    `--metrics-bind-address=127.0.0.1:${metricsPort}`,
    // Plain HTTP: this test reads /metrics without a token (the Deployment serves them securely).
    '--no-metrics-secure',
    `--health-probe-bind-address=127.0.0.1:${probePort}`,
  ]);
  const child = spawn(file, argv, {
    cwd: options.projectDir,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: options.home,
      KUBERNETES_SERVICE_HOST: url.hostname,
      KUBERNETES_SERVICE_PORT: url.port,
      KUBELOOP_SERVICE_ACCOUNT_DIR: options.serviceAccountDir,
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    }),
  );
  return { child, metricsPort, probePort, log: () => log, exited, running: () => !done };
}

/** GET on loopback with a 5 s timeout. */
export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.text() };
}
