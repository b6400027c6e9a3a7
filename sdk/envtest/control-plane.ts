import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { dump } from 'js-yaml';
import type { RestConfig } from '../client/index.js';
import { EnvtestError } from './errors.js';
import { ensureBinaries, ensureKubelet, type Binaries } from './internal/binaries.js';
import { createCertificateAuthority, loadCertificateAuthority, type CertificateAuthority } from '../webhook/index.js';
import { createServiceAccountKeys } from './internal/service-account-keys.js';
import {
  installCrds,
  installWebhooks,
  type CrdInstallOptions,
  type WebhookInstallation,
  type WebhookInstallOptions,
  type WebhookServingOptions,
} from './webhooks.js';
import {
  freePort,
  logTail,
  reapOrphans,
  startProcess,
  waitFor,
  workDirPrefix,
  writeOwner,
  type ManagedProcess,
} from './internal/processes.js';

export interface ControlPlaneOptions {
  /**
   * The Kubernetes version the binaries must report, e.g. `'1.37.2'`. Start-up fails if `/version` says otherwise.
   * Default: no check.
   */
  kubernetesVersion?: string;
  /** A folder with `kube-apiserver`, `etcd` and `kubectl`. Default: `$KUBEBUILDER_ASSETS`, else cache or build. */
  assetsDir?: string;
  /**
   * Extra kube-apiserver flags, `--name=value`. A flag named here replaces kubeloop's default for it, e.g.
   * `--runtime-config=api/all=true` or `--authorization-mode=AlwaysAllow`.
   */
  apiServerFlags?: string[];
  /** Extra etcd flags, `--name=value`, replacing defaults of the same name. */
  etcdFlags?: string[];
  /** How long etcd and the API server may take to become ready, each. Default: 60000. */
  startTimeoutMs?: number;
  /**
   * Admission webhook configurations to install, pointed at a local HTTPS server (see {@link installWebhooks}):
   * `{ paths: ['config/webhook'] }`. The server to run is described by `env.webhookOptions`, which go into
   * `createManager({ webhook: env.webhookOptions })`. Default: none.
   */
  webhooks?: WebhookInstallOptions;
  /**
   * CustomResourceDefinitions to install once the API server is ready, waiting until each is Established
   * (see {@link installCrds}); with `webhooks`, CRDs converted by a webhook are pointed at the local server's
   * `/convert`. Default: none.
   */
  crds?: CrdInstallOptions;
  /**
   * Adds a test kubelet (see {@link KubeletOptions}): one Node, Ready, whose pods run as local processes, so exec,
   * attach, port-forward and logs work through the API server as on a real cluster (`kubectl exec` included).
   * `true` takes the defaults. Default: no kubelet, pods stay Pending.
   */
  kubelet?: boolean | KubeletOptions;
  /** Progress lines (the binary build, start-up). Default: standard error. */
  progress?: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * The test kubelet of `startControlPlane({ kubelet })`: a small Go program (sdk/envtest/go/kubelet, built once from the
 * Go module proxy and cached like the control-plane binaries, or named by `$KUBELOOP_KUBELET`) on the kubelet's own
 * streaming library, so the API server proxies exec, attach and port-forward (SPDY and WebSocket) and logs to it as to
 * a real kubelet. It registers a Node (Ready, InternalIP 127.0.0.1, its port in
 * `status.daemonEndpoints.kubeletEndpoint`, a Lease heartbeat) and runs the pods bound to it.
 *
 * What a pod gets: each container's `command` + `args` run as a local process of this machine (the image is ignored,
 * so `command` is required, or `args` as the whole command line), with `env` (literal values, `$(VAR)`, and fieldRefs
 * on the pod's name, namespace, uid and node), `workingDir` (default: a folder of the pod's own), `stdin` and `tty`.
 * Processes see the machine's file system: relative paths stay in the pod's folder, absolute ones do not.
 * Output goes to log files served by `pods/log` with follow, tailLines, sinceSeconds, sinceTime, timestamps, previous
 * and limitBytes. Status is kept true: Pending, Running with ready/started containers and their containerIDs,
 * terminated with the exit code; `restartPolicy` Always and OnFailure restart the process (1 s back-off, doubling to
 * 10 s), Never leaves it terminated. Deleting a pod sends SIGTERM to its processes, SIGKILL after the grace period,
 * and confirms the deletion. Port-forward reaches 127.0.0.1:<port>: the pods share the machine's network, so two pods
 * cannot listen on the same port. Not supported: init containers (the pod fails), probes (running is ready),
 * volumes, resources, securityContext, ConfigMap/Secret env sources.
 */
export interface KubeletOptions {
  /** The Node's name. Default: `'kubeloop-node'`. */
  nodeName?: string;
  /**
   * Binds pods that name no node (`spec.nodeName` empty) to this one through the `binding` subresource, as a
   * scheduler would: envtest runs none. With `false`, only pods created with `spec.nodeName` set to it run.
   * Default: true.
   */
  bindUnscheduledPods?: boolean;
  /** The kubelet binary. Default: `$KUBELOOP_KUBELET`, else kubeloop's cache, else built once (seconds after the control plane's own build). */
  binary?: string;
  /** How long the Node may take to become Ready. Default: `startTimeoutMs`. */
  startTimeoutMs?: number;
}

/** The running test kubelet: `env.kubelet`. */
export interface KubeletInfo {
  /** The Node's name: set it as a pod's `spec.nodeName` to run it there without binding. */
  readonly nodeName: string;
  /** The kubelet API's port on 127.0.0.1 (HTTPS, client certificate signed by the control plane's CA). */
  readonly port: number;
  /** Holds each pod's working folder and its containers' log files. */
  readonly rootDir: string;
  /** The kubelet's own log. */
  readonly logFile: string;
  /**
   * The kubelet's process id, for fault tests that kill it. Killed, it takes its containers' main and exec processes
   * with it (the kernel's parent-death signal); processes those started in the background may outlive it.
   */
  readonly pid: number;
}

/** A user of the control plane; `addUser` mints a client certificate for it. */
export interface EnvtestUser {
  name: string;
  /** Groups, sent as the certificate's organizations. `system:masters` makes a cluster admin. */
  groups?: string[];
}

/**
 * A running etcd + kube-apiserver on 127.0.0.1, with an admin identity.
 *
 * Guarantees: RBAC authorization and x509 client-certificate authentication are on; the admin (`config`) is in
 * `system:masters`. Ready means `/readyz` answered 200 and the `default` namespace exists. The processes end with
 * `stop()`, with the process that started them (SIGINT, SIGTERM, exit, and on Linux also a crash, by the kernel's
 * parent-death signal), or at the next start-up after a crash that escaped all of those.
 *
 * Caveats: no controller-manager runs, so there is no garbage collection, no namespace finalization and no
 * ServiceAccount token controller; the `ServiceAccount` admission plugin is off, so pods can be created in a
 * namespace without a `default` ServiceAccount.
 */
export interface ControlPlane extends ControlPlaneAccess {
  readonly binaries: Binaries;
  /** `http://127.0.0.1:<port>` of etcd. */
  readonly etcdUrl: string;
  /** Stops the API server and starts it again on the same port against the same etcd; resolves once ready. */
  restartApiServer(): Promise<void>;
  /** Stops both processes and removes the work folder. Safe to call twice. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * What a test needs of a running control plane: its admin identity and the means to mint users. A control plane
 * started in vitest's globalSetup is reached from test workers with {@link connectToControlPlane}(workDir).
 */
export interface ControlPlaneAccess {
  /** A RestConfig for the admin user. */
  readonly config: RestConfig;
  /** A kubeconfig file for the admin user (for kubectl and other tools). */
  readonly kubeconfigPath: string;
  /** PEM of the CA that signs the API server's serving certificate. */
  readonly caData: string;
  /** `https://127.0.0.1:<port>`; stays the same across `restartApiServer()`. */
  readonly host: string;
  /** The temporary folder holding certificates, the kubeconfig, etcd's data and the processes' logs. */
  readonly workDir: string;
  /** Mints a client certificate for a user and returns a RestConfig that authenticates as it. */
  addUser(user: EnvtestUser): Promise<RestConfig>;
  /** Writes a kubeconfig file for a RestConfig of this control plane; returns its path. */
  writeKubeconfig(config: RestConfig, name: string): Promise<string>;
  /**
   * Where the local webhook server must listen and the certificate it serves, when the control plane was started
   * with `webhooks`: `createManager({ webhook: env.webhookOptions })`. Undefined otherwise.
   */
  readonly webhookOptions: WebhookServingOptions | undefined;
  /** The test kubelet, when the control plane was started with `kubelet`. Undefined otherwise. */
  readonly kubelet: KubeletInfo | undefined;
}

const flagName = (flag: string): string => flag.split('=')[0] ?? flag;

function mergeFlags(defaults: string[], overrides: string[] = []): string[] {
  const replaced = new Set(overrides.map(flagName));
  return [...defaults.filter((f) => !replaced.has(flagName(f))), ...overrides];
}

/** The work folder's certificates: a CA, the API server's serving certificate, the admin's and the SA keys. */
async function writePki(
  workDir: string,
  kubeletNode: string | undefined,
): Promise<{ pki: string; ca: CertificateAuthority; admin: { certPem: string; keyPem: string } }> {
  const pki = join(workDir, 'pki');
  await mkdir(pki);
  const file = (name: string): string => join(pki, name);
  const ca = await createCertificateAuthority('kubeloop-envtest-ca');
  const serving = await ca.sign({
    commonName: 'kube-apiserver',
    usage: 'server',
    dnsNames: ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
    ipAddresses: ['127.0.0.1', '10.0.0.1'],
  });
  const admin = await adminCredentials(workDir, ca);
  const sa = createServiceAccountKeys();
  await Promise.all([
    writeFile(file('ca.crt'), ca.certPem),
    writeFile(file('ca.key'), ca.keyPem, { mode: 0o600 }),
    writeFile(file('apiserver.crt'), serving.certPem),
    writeFile(file('apiserver.key'), serving.keyPem, { mode: 0o600 }),
    writeFile(file('sa.key'), sa.privateKeyPem, { mode: 0o600 }),
    writeFile(file('sa.pub'), sa.publicKeyPem),
  ]);
  if (kubeletNode !== undefined) await writeKubeletPki(pki, ca, kubeletNode);
  return { pki, ca, admin };
}

/**
 * The test kubelet's serving certificate (verified by the API server with --kubelet-certificate-authority) and the API
 * server's client certificate towards it (the kubelet requires one signed by the same CA).
 */
async function writeKubeletPki(pki: string, ca: CertificateAuthority, nodeName: string): Promise<void> {
  const serving = await ca.sign({
    commonName: `system:node:${nodeName}`,
    organizations: ['system:nodes'],
    usage: 'server',
    dnsNames: ['localhost', nodeName],
    ipAddresses: ['127.0.0.1'],
  });
  const client = await ca.sign({
    commonName: 'kube-apiserver-kubelet-client',
    organizations: ['system:masters'],
    usage: 'client',
  });
  await Promise.all([
    writeFile(join(pki, 'kubelet.crt'), serving.certPem),
    writeFile(join(pki, 'kubelet.key'), serving.keyPem, { mode: 0o600 }),
    writeFile(join(pki, 'apiserver-kubelet-client.crt'), client.certPem),
    writeFile(join(pki, 'apiserver-kubelet-client.key'), client.keyPem, { mode: 0o600 }),
  ]);
}

/** Where the processes listen: free loopback ports. */
interface Endpoints {
  etcdUrl: string;
  peerUrl: string;
  apiPort: number;
  host: string;
}

async function freeEndpoints(): Promise<Endpoints> {
  const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  return {
    etcdUrl: `http://127.0.0.1:${etcdPort}`,
    peerUrl: `http://127.0.0.1:${peerPort}`,
    apiPort,
    host: `https://127.0.0.1:${apiPort}`,
  };
}

function etcdFlagsFor(workDir: string, { etcdUrl, peerUrl }: Endpoints, overrides: string[] | undefined): string[] {
  return mergeFlags(
    [
      `--name=envtest`,
      `--data-dir=${join(workDir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=envtest=${peerUrl}`,
      `--unsafe-no-fsync=true`,
      `--log-level=warn`,
    ],
    overrides,
  );
}

function apiServerFlagsFor(
  pki: string,
  { etcdUrl, apiPort }: Endpoints,
  overrides: string[] | undefined,
  kubelet: boolean,
): string[] {
  const file = (name: string): string => join(pki, name);
  const kubeletFlags = kubelet
    ? [
        `--kubelet-client-certificate=${file('apiserver-kubelet-client.crt')}`,
        `--kubelet-client-key=${file('apiserver-kubelet-client.key')}`,
        `--kubelet-certificate-authority=${file('ca.crt')}`,
        `--kubelet-preferred-address-types=InternalIP,Hostname`,
      ]
    : [];
  return mergeFlags(
    [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=127.0.0.1`,
      `--advertise-address=127.0.0.1`,
      // A loopback advertise address is refused by the endpoint reconciler; with no nodes it has nothing to do anyway.
      `--endpoint-reconciler-type=none`,
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${file('apiserver.crt')}`,
      `--tls-private-key-file=${file('apiserver.key')}`,
      `--client-ca-file=${file('ca.crt')}`,
      `--authorization-mode=RBAC`,
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${file('sa.pub')}`,
      `--service-account-signing-key-file=${file('sa.key')}`,
      `--service-cluster-ip-range=10.0.0.0/24`,
      `--disable-admission-plugins=ServiceAccount`,
      `--allow-privileged=true`,
      `--cert-dir=${pki}`,
      `--v=0`,
      ...kubeletFlags,
    ],
    overrides,
  );
}

/** GETs of the API server as the admin, for readiness and /version. */
interface AdminProbe {
  get(path: string): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

function adminProbe(host: string, ca: CertificateAuthority, admin: { certPem: string; keyPem: string }): AdminProbe {
  const tls = new Agent({
    connect: { ca: ca.certPem, cert: admin.certPem, key: admin.keyPem, servername: 'localhost' },
  });
  return {
    async get(path) {
      const res = await request(`${host}${path}`, { dispatcher: tls, signal: AbortSignal.timeout(5000) });
      return { status: res.statusCode, body: await res.body.text() };
    },
    close: () => tls.close(),
  };
}

/** Waits until `ready` says so; stops the process when it exits first or is not ready in time. */
async function readyOrStopped(
  proc: ManagedProcess,
  where: string,
  timeoutMs: number,
  ready: () => Promise<boolean>,
): Promise<ManagedProcess> {
  try {
    await waitFor(`${proc.name} on ${where}`, timeoutMs, ready, () =>
      proc.hasExited() ? `${proc.name} exited early; its log ends:\n${logTail(proc.logFile)}` : undefined,
    );
  } catch (err) {
    await proc.stop(1000);
    throw err;
  }
  return proc;
}

/**
 * The control plane's processes: starting each until ready, recording them as owned by this process (for the reaper
 * of a later start-up), and stopping them and removing the work folder.
 */
class Processes {
  etcd: ManagedProcess | undefined;
  apiServer: ManagedProcess | undefined;
  kubelet: { proc: ManagedProcess; binary: string } | undefined;
  stopped = false;

  constructor(
    private readonly launch: {
      workDir: string;
      binaries: Binaries;
      endpoints: Endpoints;
      etcdArgs: string[];
      apiArgs: string[];
      timeoutMs: number;
      probe: AdminProbe;
    },
  ) {}

  async startEtcd(): Promise<void> {
    const { workDir, binaries, endpoints, etcdArgs, timeoutMs } = this.launch;
    const proc = startProcess('etcd', binaries.etcd, etcdArgs, join(workDir, 'etcd.log'));
    this.etcd = await readyOrStopped(proc, endpoints.etcdUrl, timeoutMs, async () => {
      const res = await request(`${endpoints.etcdUrl}/health`, { signal: AbortSignal.timeout(2000) });
      return res.statusCode === 200 && (await res.body.text()).includes('"true"');
    });
    this.recordOwner();
  }

  /** Ready: /readyz answers 200 and the default namespace exists. */
  async startApiServer(): Promise<void> {
    const { workDir, binaries, endpoints, apiArgs, timeoutMs, probe } = this.launch;
    const proc = startProcess('kube-apiserver', binaries.kubeApiServer, apiArgs, join(workDir, 'kube-apiserver.log'));
    this.apiServer = await readyOrStopped(
      proc,
      endpoints.host,
      timeoutMs,
      async () =>
        (await probe.get('/readyz')).status === 200 && (await probe.get('/api/v1/namespaces/default')).status === 200,
    );
    this.recordOwner();
  }

  /** Ready: its Node is Ready. The kubelet registers it once it serves its API. */
  async startKubelet(binary: string, args: string[], nodeName: string, timeoutMs: number): Promise<void> {
    const { workDir, probe } = this.launch;
    const proc = startProcess('kubelet', binary, args, join(workDir, 'kubelet.log'));
    this.kubelet = { proc, binary };
    this.recordOwner();
    await readyOrStopped(proc, `node ${nodeName}`, timeoutMs, async () => {
      const res = await probe.get(`/api/v1/nodes/${nodeName}`);
      if (res.status !== 200) return false;
      const node = JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string }[] } };
      return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    });
  }

  recordOwner(): void {
    const { workDir, binaries } = this.launch;
    const owned: [ManagedProcess | undefined, string][] = [
      [this.etcd, binaries.etcd],
      [this.apiServer, binaries.kubeApiServer],
      [this.kubelet?.proc, this.kubelet?.binary ?? ''],
    ];
    const present = owned.filter((o): o is [ManagedProcess, string] => o[0] !== undefined);
    writeOwner(
      workDir,
      present.map(([p]) => p),
      present.map(([, command]) => command),
    );
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // The kubelet first: on SIGTERM it kills its containers' processes.
    await this.kubelet?.proc.stop(5000);
    await this.apiServer?.stop();
    await this.etcd?.stop();
    await this.launch.probe.close();
    await rm(this.launch.workDir, { recursive: true, force: true });
  }
}

/** Fails when the API server is not of the Kubernetes version asked for; returns the version it reports. */
async function checkVersion(
  probe: AdminProbe,
  kubernetesVersion: string | undefined,
  binaries: Binaries,
): Promise<string | undefined> {
  const version = JSON.parse((await probe.get('/version')).body) as { gitVersion?: string };
  if (kubernetesVersion && version.gitVersion !== `v${kubernetesVersion.replace(/^v/, '')}`) {
    throw new EnvtestError(
      `kube-apiserver reports ${version.gitVersion}, but kubernetesVersion ${kubernetesVersion} was asked ` +
        `for (binaries in ${binaries.dir})`,
    );
  }
  return version.gitVersion;
}

/** Installs the webhook configurations, then the CRDs, asked for; returns the access with its webhook options. */
async function installExtras(
  access: ControlPlaneAccess,
  options: ControlPlaneOptions,
  progress: (line: string) => void,
): Promise<ControlPlaneAccess> {
  let webhooks: WebhookInstallation | undefined;
  if (options.webhooks) {
    webhooks = await installWebhooks(access.config, {
      certDir: join(access.workDir, 'webhook-certs'),
      ...options.webhooks,
    });
    access = { ...access, webhookOptions: webhooks.webhookOptions };
    progress(
      `[envtest] ${webhooks.installed.length} webhook configuration(s) point at https://${webhooks.webhookOptions.host}:${webhooks.webhookOptions.port}`,
    );
  }
  if (options.crds)
    progress(`[envtest] ${(await installCrds(access.config, options.crds, webhooks)).length} CRD(s) established`);
  return access;
}

/** Starts etcd and kube-apiserver on loopback. See {@link ControlPlane}. */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const progress = options.progress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const started = Date.now();
  reapOrphans();
  const binaries = await ensureBinaries({ assetsDir: options.assetsDir, progress, signal: options.signal });
  const kubeletOptions: KubeletOptions | undefined =
    options.kubelet === true ? {} : options.kubelet === false ? undefined : options.kubelet;
  const kubeletNode = kubeletOptions && (kubeletOptions.nodeName ?? 'kubeloop-node');
  if (kubeletNode !== undefined && !isDnsSubdomain(kubeletNode))
    throw new EnvtestError(
      `kubelet.nodeName ${JSON.stringify(kubeletNode)} is not a valid node name: lowercase letters, digits, '-' and ` +
        `'.', starting and ending with a letter or digit, at most 253 characters`,
    );
  const kubeletBinary =
    kubeletOptions && (await ensureKubelet({ binary: kubeletOptions.binary, progress, signal: options.signal }));
  const workDir = await mkdtemp(join(tmpdir(), workDirPrefix));
  const { pki, ca, admin } = await writePki(workDir, kubeletNode);
  const endpoints = await freeEndpoints();
  const { etcdUrl, host } = endpoints;
  const probe = adminProbe(host, ca, admin);
  const processes = new Processes({
    workDir,
    binaries,
    endpoints,
    etcdArgs: etcdFlagsFor(workDir, endpoints, options.etcdFlags),
    apiArgs: apiServerFlagsFor(pki, endpoints, options.apiServerFlags, kubeletOptions !== undefined),
    timeoutMs: options.startTimeoutMs ?? 60_000,
    probe,
  });
  const stop = (): Promise<void> => processes.stop();

  try {
    await processes.startEtcd();
    progress(`[envtest] etcd ready on ${etcdUrl} (${Date.now() - started} ms)`);
    await processes.startApiServer();
    const version = await checkVersion(probe, options.kubernetesVersion, binaries);
    progress(`[envtest] kube-apiserver ${version} ready on ${host} (${Date.now() - started} ms)`);
  } catch (err) {
    await stop();
    throw new EnvtestError(`the control plane did not start: ${(err as Error).message}`, { cause: err });
  }

  let access = await accessFor(workDir, host, ca, undefined, undefined);
  await access.writeKubeconfig(access.config, 'admin');
  try {
    if (kubeletOptions && kubeletNode && kubeletBinary) {
      const kubelet = await startKubelet(processes, kubeletBinary, kubeletOptions, kubeletNode, pki, access, {
        timeoutMs: kubeletOptions.startTimeoutMs ?? options.startTimeoutMs ?? 60_000,
      });
      access = { ...access, kubelet };
      progress(
        `[envtest] test kubelet ready: node ${kubelet.nodeName}, https://127.0.0.1:${kubelet.port} (${Date.now() - started} ms)`,
      );
    }
    access = await installExtras(access, options, progress);
  } catch (err) {
    await stop();
    throw err;
  }
  await writeFile(
    join(workDir, stateFile),
    JSON.stringify({ host, webhookOptions: access.webhookOptions, kubelet: access.kubelet } satisfies State),
  );
  return {
    ...access,
    etcdUrl,
    binaries,
    async restartApiServer() {
      if (processes.stopped) throw new EnvtestError('restartApiServer() after stop()');
      await processes.apiServer?.stop();
      try {
        await processes.startApiServer();
      } catch (err) {
        throw new EnvtestError(`kube-apiserver did not come back: ${(err as Error).message}`, { cause: err });
      }
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A Node's name: an RFC 1123 DNS subdomain. */
const isDnsSubdomain = (name: string): boolean =>
  name.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(name);

/** Starts the test kubelet with the admin's kubeconfig and waits for its Node to be Ready. */
async function startKubelet(
  processes: Processes,
  binary: string,
  options: KubeletOptions,
  nodeName: string,
  pki: string,
  access: ControlPlaneAccess,
  { timeoutMs }: { timeoutMs: number },
): Promise<KubeletInfo> {
  const port = await freePort();
  const rootDir = join(access.workDir, 'kubelet');
  const args = [
    `--kubeconfig=${access.kubeconfigPath}`,
    `--node-name=${nodeName}`,
    `--address=127.0.0.1`,
    `--port=${port}`,
    `--tls-cert-file=${join(pki, 'kubelet.crt')}`,
    `--tls-private-key-file=${join(pki, 'kubelet.key')}`,
    `--client-ca-file=${join(pki, 'ca.crt')}`,
    `--root-dir=${rootDir}`,
    `--bind-unscheduled-pods=${options.bindUnscheduledPods ?? true}`,
    // Only the API server may call it (a real kubelet authorizes each caller; users go through the API server).
    `--allowed-clients=kube-apiserver-kubelet-client`,
  ];
  try {
    await processes.startKubelet(binary, args, nodeName, timeoutMs);
  } catch (err) {
    throw new EnvtestError(`the test kubelet did not start: ${(err as Error).message}`, { cause: err });
  }
  const pid = processes.kubelet?.proc.pid ?? -1;
  return { nodeName, port, rootDir, logFile: join(access.workDir, 'kubelet.log'), pid };
}

const stateFile = 'envtest.json';
interface State {
  host: string;
  webhookOptions?: WebhookServingOptions | undefined;
  kubelet?: KubeletInfo | undefined;
}

/**
 * Reaches a control plane that another process (for instance vitest's globalSetup) started, by its `workDir`:
 * the admin config, the kubeconfig and `addUser`. Stopping and restarting stay with the process that started it.
 */
export async function connectToControlPlane(workDir: string): Promise<ControlPlaneAccess> {
  try {
    const state = JSON.parse(await readFile(join(workDir, stateFile), 'utf8')) as State;
    const pki = join(workDir, 'pki');
    const ca = await loadCertificateAuthority(
      await readFile(join(pki, 'ca.crt'), 'utf8'),
      await readFile(join(pki, 'ca.key'), 'utf8'),
    );
    return await accessFor(workDir, state.host, ca, state.webhookOptions, state.kubelet);
  } catch (err) {
    throw new EnvtestError(`no running control plane in ${workDir}: ${(err as Error).message}`, { cause: err });
  }
}

async function accessFor(
  workDir: string,
  host: string,
  ca: CertificateAuthority,
  webhookOptions: WebhookServingOptions | undefined,
  kubelet: KubeletInfo | undefined,
): Promise<ControlPlaneAccess> {
  const configFor = (client: { certPem: string; keyPem: string }): RestConfig => ({
    host,
    caData: ca.certPem,
    certData: client.certPem,
    keyData: client.keyPem,
    serverName: 'localhost',
  });
  const writeKubeconfig = async (restConfig: RestConfig, name: string): Promise<string> => {
    const path = join(workDir, `${name}.kubeconfig`);
    await writeFile(path, kubeconfigYaml(restConfig, name), { mode: 0o600 });
    return path;
  };
  const admin = join(workDir, 'admin.kubeconfig');
  const config = configFor(await adminCredentials(workDir, ca));
  return {
    config,
    kubeconfigPath: admin,
    caData: ca.certPem,
    host,
    workDir,
    writeKubeconfig,
    addUser: async (user) => configFor(await signUser(ca, user)),
    webhookOptions,
    kubelet,
  };
}

/** The admin's certificate: minted once per control plane, kept in the work folder for processes that connect. */
async function adminCredentials(
  workDir: string,
  ca: CertificateAuthority,
): Promise<{ certPem: string; keyPem: string }> {
  const cert = join(workDir, 'pki', 'admin.crt');
  const key = join(workDir, 'pki', 'admin.key');
  try {
    return { certPem: await readFile(cert, 'utf8'), keyPem: await readFile(key, 'utf8') };
  } catch {
    const admin = await ca.sign({ commonName: 'kubeloop-admin', organizations: ['system:masters'], usage: 'client' });
    await writeFile(cert, admin.certPem);
    await writeFile(key, admin.keyPem, { mode: 0o600 });
    return admin;
  }
}

function signUser(ca: CertificateAuthority, user: EnvtestUser): Promise<{ certPem: string; keyPem: string }> {
  if (!user.name) throw new EnvtestError('addUser needs a user name');
  return ca.sign({ commonName: user.name, organizations: user.groups ?? [], usage: 'client' });
}

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** A kubeconfig with one cluster, user and context, credentials embedded. */
function kubeconfigYaml(config: RestConfig, name: string): string {
  return dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'envtest',
        cluster: {
          server: config.host,
          ...(config.caData && { 'certificate-authority-data': b64(config.caData) }),
          ...(config.serverName && { 'tls-server-name': config.serverName }),
        },
      },
    ],
    users: [
      {
        name,
        user: {
          ...(config.certData && { 'client-certificate-data': b64(config.certData) }),
          ...(config.keyData && { 'client-key-data': b64(config.keyData) }),
          ...(config.bearerToken && { token: config.bearerToken }),
        },
      },
    ],
    contexts: [{ name, context: { cluster: 'envtest', user: name, namespace: 'default' } }],
    'current-context': name,
  });
}
