// The certificate provisioner: its options and contract, and the factory. Its parts are internal: the leader's checks
// (internal/cert-leader.ts: the CA and serving certificate in internal/cert-issuer.ts, the Secret in
// internal/cert-store.ts, the caBundles in internal/ca-bundle.ts) and the replicas' installs (internal/cert-replica.ts).
import { isIP } from 'node:net';
import type { Clientset } from '../client/index.js';
import type { WebhookLogger } from './admission.js';
import { WebhookError } from './errors.js';
import { clientsetCertApi, type CaBundleTarget, type CertApi } from './internal/cert-api.js';
import { Leader } from './internal/cert-leader.js';
import { Replica } from './internal/cert-replica.js';
import { normalizeIp } from './internal/cert-state.js';
import type { Settings } from './internal/provisioner-common.js';

const dayMs = 24 * 3600 * 1000;
const yearMs = 365 * dayMs;

/**
 * Time as the provisioner sees it. Unlike the queues' clock, `now()` is wall time, because certificates carry dates:
 * kubeloop/workqueue's `createFakeClock({ startMs: Date.now() })` fits, and moves renewals in tests without waiting.
 */
export interface CertClock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `callback` once, `delayMs` from now. */
  setTimer(callback: () => void, delayMs: number): { cancel(): void };
}

/** The real clock: `Date.now()` and Node timers (long delays are cut to Node's limit; the provisioner checks again then). */
export const realCertClock: CertClock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    const handle = setTimeout(callback, Math.min(2_147_483_647, Math.max(1, Math.ceil(delayMs))));
    return { cancel: () => clearTimeout(handle) };
  },
};

/** Options of {@link createCertProvisioner}. */
export interface CertProvisionerOptions {
  /** Reads and writes the Secret, the webhook configurations and the CRDs. */
  clientset: Clientset;
  /** The namespace of the Secret and of the webhook Service: the operator's own. Required. */
  namespace: string;
  /** The Secret that keeps the CA and the serving pair (created when missing). Required. */
  secretName: string;
  /**
   * The webhook Service. The serving certificate is for `<serviceName>.<namespace>.svc` (its common name, what the API
   * server asks for) and `<serviceName>.<namespace>.svc.<clusterDomain>`. Required.
   */
  serviceName: string;
  /** Default: `cluster.local`. */
  clusterDomain?: string;
  /** More DNS names for the serving certificate (a webhook reached by `url`). Default: none. */
  dnsNames?: string[];
  /** IP addresses for the serving certificate. Default: none. */
  ipAddresses?: string[];
  /** MutatingWebhookConfigurations whose every webhook gets the caBundle. Default: none. */
  mutatingWebhookConfigurations?: string[];
  /** ValidatingWebhookConfigurations whose every webhook gets the caBundle. Default: none. */
  validatingWebhookConfigurations?: string[];
  /** CRDs (by name, `widgets.example.com`) whose `spec.conversion.webhook.clientConfig` gets the caBundle. Default: none. */
  crds?: string[];
  /**
   * Where every replica writes the serving pair (`certName`, `keyName`) for the webhook server to load. Default: none,
   * nothing is written: the Secret is mounted there as a volume, and `ready()` resolves once the Secret holds a pair.
   */
  certDir?: string;
  /** Default: `tls.crt`. */
  certName?: string;
  /** Default: `tls.key`. */
  keyName?: string;
  /** How long a new CA is valid. Default: ten years (as open-policy-agent/cert-controller). */
  caValidityMs?: number;
  /**
   * A new CA is made when the current one has this little validity left; the old one stays in the caBundle until it
   * expires. Must be more than `renewBeforeMs`. Default: a third of `caValidityMs` (about 3.3 years of 10).
   */
  caRenewBeforeMs?: number;
  /** How long a serving certificate is valid (never past its CA). Default: one year. */
  certValidityMs?: number;
  /** The serving certificate is renewed when it has this little validity left. Default: a third of `certValidityMs` (about four months of a year). */
  renewBeforeMs?: number;
  /**
   * How often the leader checks the Secret and every caBundle besides when the Secret changes: bounds how long a
   * caBundle someone overwrote (a `kubectl apply` of the manifests) stays wrong. Each check is one GET of the Secret and
   * one of each configuration and CRD. Default: 60000.
   */
  checkIntervalMs?: number;
  /**
   * After a new CA reached every caBundle, how long before a serving certificate signed by it is served: time for
   * every API server to load the new caBundle. Default: 60000.
   */
  caBundlePropagationMs?: number;
  /** Default: the real clock. */
  clock?: CertClock;
  /** Default: silent. Never given key material or Secret data. */
  log?: WebhookLogger;
}

/**
 * The manager's `webhook.certProvisioner` option: {@link CertProvisionerOptions} less what the manager supplies (its
 * clientset and logger; the webhook server's `certDir`, `certName` and `keyName`).
 */
export interface ManagerCertProvisionerOptions extends Omit<
  CertProvisionerOptions,
  'clientset' | 'namespace' | 'certDir' | 'certName' | 'keyName' | 'log'
> {
  /** Default: the pod's namespace in a cluster, else `default`. */
  namespace?: string;
  /**
   * Every replica writes the pair into the webhook server's `certDir`. Set false when the Secret is mounted there as a
   * volume (the kubelet then updates the files, within about a minute of a renewal); the server then starts once the
   * Secret holds a pair, and fails to start (the pod restarts) if the kubelet has not put the files there yet — on a
   * first install. Default: true.
   */
  writeCertDir?: boolean;
}

/** Something a manager runs (kubeloop/manager's Runnable). */
export interface CertProvisionerRunnable {
  /** Runs until the signal aborts; resolves once stopped. Failures are logged and retried, never thrown. */
  start(signal: AbortSignal): Promise<void>;
}

/**
 * Webhook serving certificates for clusters without cert-manager (open-policy-agent/cert-controller's rotator):
 *
 * - {@link leader} (run it on the leader only) keeps a CA and a serving certificate for the webhook Service in a
 *   `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`, `ca.crt` — the CA bundle —, and `ca.key`), sets `caBundle` in
 *   every webhook of the named Mutating/ValidatingWebhookConfigurations and in the conversion webhook of the named
 *   CRDs, and renews both before they expire.
 * - {@link replica} (run it on every replica, leader or not) writes the Secret's pair into `certDir`, where the webhook
 *   server's certificate watcher picks it up.
 *
 * ```ts
 * const certs = createCertProvisioner({ clientset, namespace: 'ops', secretName: 'webhook-server-cert',
 *   serviceName: 'webhook-service', validatingWebhookConfigurations: ['widget-validating'], certDir });
 * mgr.add(certs.leader, { needLeaderElection: true });
 * mgr.add(certs.replica, { needLeaderElection: false });
 * await certs.ready(signal);   // then start the webhook server
 * ```
 * The manager does all of this with `createManager({ webhook: { certProvisioner: { … } } })`.
 *
 * Guarantees: the caBundle of every target always trusts the certificate a replica serves. A new CA is added to the
 * bundle (old CA kept) and published to every target; a serving certificate signed by it is issued only
 * `caBundlePropagationMs` after every target carries it, and a CA leaves the bundle only once expired, which is never
 * before the certificates it signed (a certificate never outlives its CA). Renewals by the same CA need no wait. Each
 * replica writes `tls.key` and `tls.crt` by writing temporary files and renaming them (the certificate watcher skips the
 * instant in which the two disagree).
 *
 * Recovery: the leader checks every `checkIntervalMs`, when the Secret changes, and at the next renewal point; a caBundle
 * someone overwrote is set again at the next check. A Secret that is missing, or whose parts do not parse or do not
 * match, is repaired (a new CA when `ca.key` is lost). A target that does not exist yet is set once it does. A failed
 * check is retried after 1 s, doubling up to `checkIntervalMs`; a watch that fails is resumed.
 *
 * Errors: {@link createCertProvisioner} throws `ERR_WEBHOOK_OPTIONS` for unusable options. The runnables never throw:
 * they log (`ERR_WEBHOOK_CA_BUNDLE` for targets that could not be patched, the API server's error otherwise: a 403
 * names the missing permission) and retry. Nothing logged carries key material or Secret data.
 *
 * Caveats: deleting the Secret (or `ca.key`) makes a new CA at once; replicas still serving the old certificate are
 * not trusted until they load the new pair, a moment later. A Secret mounted as a volume must exist before the pod can
 * start: mark the volume `optional: true` or ship an empty `kubernetes.io/tls` Secret in the manifests. Not a general
 * certificate manager: one CA, one serving certificate, ECDSA P-256.
 *
 * RBAC (what the operator's Role and ClusterRole need):
 * ```yaml
 * # Role in the operator's namespace (get, list, watch and update may be narrowed with resourceNames; create cannot)
 * - apiGroups: [""]
 *   resources: [secrets]
 *   verbs: [get, list, watch, create, update]
 * # ClusterRole
 * - apiGroups: [admissionregistration.k8s.io]
 *   resources: [mutatingwebhookconfigurations, validatingwebhookconfigurations]
 *   verbs: [get, patch]                      # may be narrowed with resourceNames
 * - apiGroups: [apiextensions.k8s.io]
 *   resources: [customresourcedefinitions]
 *   verbs: [get, patch]                      # may be narrowed with resourceNames
 * ```
 */
export interface CertProvisioner {
  /** Keeps the CA, the serving pair and every caBundle: needs leader election. */
  readonly leader: CertProvisionerRunnable;
  /** Installs the current pair on this replica: runs on every replica. */
  readonly replica: CertProvisionerRunnable;
  /**
   * Resolves once {@link replica} installed a first pair (wrote it into `certDir`, or saw it in the Secret when
   * nothing is written): start the webhook server then. Rejects with the signal's reason if it aborts first.
   */
  ready(signal?: AbortSignal): Promise<void>;
  /** The serving certificate's DNS names, the Service's first. */
  readonly dnsNames: readonly string[];
  /** The serving certificate's IP addresses. */
  readonly ipAddresses: readonly string[];
}

const silent: WebhookLogger = { info() {}, warn() {}, error() {}, debug() {}, child: () => silent };

function optionsError(message: string): WebhookError {
  return new WebhookError('ERR_WEBHOOK_OPTIONS', `certificate provisioner: ${message}`);
}

function settingsOf(options: Omit<CertProvisionerOptions, 'clientset'>): Settings {
  for (const key of ['namespace', 'secretName', 'serviceName'] as const) {
    if (typeof options[key] !== 'string' || options[key] === '') throw optionsError(`${key} is required`);
  }
  const duration = (
    key:
      | 'caValidityMs'
      | 'caRenewBeforeMs'
      | 'certValidityMs'
      | 'renewBeforeMs'
      | 'checkIntervalMs'
      | 'caBundlePropagationMs',
    fallback: number,
    min = 1,
  ): number => {
    const value = options[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min)
      throw optionsError(`${key} must be a number of milliseconds >= ${min}, got ${String(value)}`);
    return value;
  };
  const caValidityMs = duration('caValidityMs', 10 * yearMs);
  const certValidityMs = duration('certValidityMs', yearMs);
  const caRenewBeforeMs = duration('caRenewBeforeMs', Math.floor(caValidityMs / 3));
  const renewBeforeMs = duration('renewBeforeMs', Math.floor(certValidityMs / 3));
  if (renewBeforeMs >= certValidityMs)
    throw optionsError(`renewBeforeMs (${renewBeforeMs}) must be less than certValidityMs (${certValidityMs})`);
  if (caRenewBeforeMs >= caValidityMs)
    throw optionsError(`caRenewBeforeMs (${caRenewBeforeMs}) must be less than caValidityMs (${caValidityMs})`);
  if (caRenewBeforeMs <= renewBeforeMs) {
    // A serving certificate never outlives its CA: with less CA left than renewBeforeMs, each new one would be due at once.
    throw optionsError(
      `caRenewBeforeMs (${caRenewBeforeMs}) must be more than renewBeforeMs (${renewBeforeMs}); set a longer caValidityMs or a shorter certValidityMs`,
    );
  }
  const service = `${options.serviceName}.${options.namespace}.svc`;
  const dnsNames = [
    ...new Set([service, `${service}.${options.clusterDomain ?? 'cluster.local'}`, ...(options.dnsNames ?? [])]),
  ];
  for (const ip of options.ipAddresses ?? [])
    if (isIP(ip) === 0) throw optionsError(`ipAddresses: ${JSON.stringify(ip)} is not an IP address`);
  const names = (
    key: 'mutatingWebhookConfigurations' | 'validatingWebhookConfigurations' | 'crds',
    kind: CaBundleTarget['kind'],
  ): CaBundleTarget[] =>
    (options[key] ?? []).map((name) => {
      if (typeof name !== 'string' || name === '') throw optionsError(`${key} holds an empty name`);
      return { kind, name };
    });
  return {
    namespace: options.namespace,
    secretName: options.secretName,
    dnsNames,
    ipAddresses: [...new Set((options.ipAddresses ?? []).map(normalizeIp))],
    targets: [
      ...names('mutatingWebhookConfigurations', 'MutatingWebhookConfiguration'),
      ...names('validatingWebhookConfigurations', 'ValidatingWebhookConfiguration'),
      ...names('crds', 'CustomResourceDefinition'),
    ],
    certDir: options.certDir,
    certName: options.certName ?? 'tls.crt',
    keyName: options.keyName ?? 'tls.key',
    caValidityMs,
    caRenewBeforeMs,
    certValidityMs,
    renewBeforeMs,
    checkIntervalMs: duration('checkIntervalMs', 60_000),
    caBundlePropagationMs: duration('caBundlePropagationMs', 60_000, 0),
    clock: options.clock ?? realCertClock,
    log: options.log ?? silent,
  };
}

/**
 * Makes a certificate provisioner; nothing runs until its runnables start. See {@link CertProvisioner}.
 *
 * Errors: `ERR_WEBHOOK_OPTIONS` for a missing namespace, secretName or serviceName, a duration that is not a positive
 * number, renewal margins that do not fit the validities, or an IP address that is not one.
 */
export function createCertProvisioner(options: CertProvisionerOptions): CertProvisioner {
  if (!options.clientset) throw optionsError('clientset is required');
  const s = settingsOf(options);
  return provisionerOf(clientsetCertApi(options.clientset, s.namespace, s.secretName), s);
}

/** A provisioner over any {@link CertApi}: a unit test's fake. */
export function provisionerWith(api: CertApi, options: Omit<CertProvisionerOptions, 'clientset'>): CertProvisioner {
  return provisionerOf(api, settingsOf(options));
}

function provisionerOf(api: CertApi, s: Settings): CertProvisioner {
  let resolveReady!: () => void;
  const readyPromise = new Promise<void>((resolve) => (resolveReady = resolve));
  return {
    leader: { start: (signal) => new Leader(api, s).run(signal) },
    replica: { start: (signal) => new Replica(api, s, resolveReady).run(signal) },
    ready: (signal) => (signal ? raceAbort(readyPromise, signal) : readyPromise),
    dnsNames: s.dnsNames,
    ipAddresses: s.ipAddresses,
  };
}

function raceAbort(promise: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
  });
}
