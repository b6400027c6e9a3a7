import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type { Clientset, JsonPatchOperation, Secret, apiextensionsv1 } from '../client/index.js';
import type { WebhookLogger } from './admission.js';
import { createCertificateAuthority, loadCertificateAuthority } from './certificates.js';
import { WebhookError } from './errors.js';
import { clientsetCertApi, isWriteRace, type CaBundleTarget, type CaBundleTargetObject, type CertApi } from './internal/cert-api.js';
import {
  issuedBy,
  normalizeIp,
  parseCert,
  readSecretState,
  secretKeys,
  secretText,
  servingPairOf,
  servingProblem,
  servingTrusted,
  validAt,
  type ParsedCert,
} from './internal/cert-state.js';

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
export interface ManagerCertProvisionerOptions extends Omit<CertProvisionerOptions, 'clientset' | 'namespace' | 'certDir' | 'certName' | 'keyName' | 'log'> {
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

interface Settings {
  namespace: string;
  secretName: string;
  dnsNames: string[];
  ipAddresses: string[];
  targets: CaBundleTarget[];
  certDir: string | undefined;
  certName: string;
  keyName: string;
  caValidityMs: number;
  caRenewBeforeMs: number;
  certValidityMs: number;
  renewBeforeMs: number;
  checkIntervalMs: number;
  caBundlePropagationMs: number;
  clock: CertClock;
  log: WebhookLogger;
}

function optionsError(message: string): WebhookError {
  return new WebhookError('ERR_WEBHOOK_OPTIONS', `certificate provisioner: ${message}`);
}

function settingsOf(options: Omit<CertProvisionerOptions, 'clientset'>): Settings {
  for (const key of ['namespace', 'secretName', 'serviceName'] as const) {
    if (typeof options[key] !== 'string' || options[key] === '') throw optionsError(`${key} is required`);
  }
  const duration = (key: 'caValidityMs' | 'caRenewBeforeMs' | 'certValidityMs' | 'renewBeforeMs' | 'checkIntervalMs' | 'caBundlePropagationMs', fallback: number, min = 1): number => {
    const value = options[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) throw optionsError(`${key} must be a number of milliseconds >= ${min}, got ${String(value)}`);
    return value;
  };
  const caValidityMs = duration('caValidityMs', 10 * yearMs);
  const certValidityMs = duration('certValidityMs', yearMs);
  const caRenewBeforeMs = duration('caRenewBeforeMs', Math.floor(caValidityMs / 3));
  const renewBeforeMs = duration('renewBeforeMs', Math.floor(certValidityMs / 3));
  if (renewBeforeMs >= certValidityMs) throw optionsError(`renewBeforeMs (${renewBeforeMs}) must be less than certValidityMs (${certValidityMs})`);
  if (caRenewBeforeMs >= caValidityMs) throw optionsError(`caRenewBeforeMs (${caRenewBeforeMs}) must be less than caValidityMs (${caValidityMs})`);
  if (caRenewBeforeMs <= renewBeforeMs) {
    // A serving certificate never outlives its CA: with less CA left than renewBeforeMs, each new one would be due at once.
    throw optionsError(`caRenewBeforeMs (${caRenewBeforeMs}) must be more than renewBeforeMs (${renewBeforeMs}); set a longer caValidityMs or a shorter certValidityMs`);
  }
  const service = `${options.serviceName}.${options.namespace}.svc`;
  const dnsNames = [...new Set([service, `${service}.${options.clusterDomain ?? 'cluster.local'}`, ...(options.dnsNames ?? [])])];
  for (const ip of options.ipAddresses ?? []) if (isIP(ip) === 0) throw optionsError(`ipAddresses: ${JSON.stringify(ip)} is not an IP address`);
  const names = (key: 'mutatingWebhookConfigurations' | 'validatingWebhookConfigurations' | 'crds', kind: CaBundleTarget['kind']): CaBundleTarget[] =>
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

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const targetName = (t: CaBundleTarget): string => `${t.kind} ${t.name}`;
const fingerprintOf = (c: ParsedCert): string => c.x509.fingerprint256;
/** What may be logged of a certificate: public facts only. */
const describe = (c: ParsedCert) => ({ notAfter: new Date(c.notAfterMs).toISOString(), fingerprint: fingerprintOf(c) });

/** A wait on the clock that a poke (the Secret changed) or the signal ends early. */
class Wakeup {
  private poked = false;
  private end: (() => void) | undefined;

  constructor(private readonly clock: CertClock) {}

  poke(): void {
    this.poked = true;
    this.end?.();
  }

  wait(delayMs: number, signal: AbortSignal): Promise<void> {
    if (this.poked || signal.aborted) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const end = (): void => {
        timer.cancel();
        signal.removeEventListener('abort', end);
        this.end = undefined;
        this.poked = false;
        resolve();
      };
      const timer = this.clock.setTimer(end, delayMs);
      signal.addEventListener('abort', end, { once: true });
      this.end = end;
    });
  }
}

/** The leader's side: one check at a time, each reading the Secret afresh. */
class Leader {
  private readonly log: WebhookLogger;
  /** When every caBundle was first seen to hold each CA (by fingerprint), on this leader's clock. */
  private readonly publishedAt = new Map<string, number>();
  /** The last problem logged per target, so that a missing target is reported once, not every check. */
  private readonly targetNotes = new Map<string, string>();
  /** The Secret's resourceVersion as this leader last read or wrote it: watch events for it are not news. */
  private known: string | undefined;

  constructor(
    private readonly api: CertApi,
    private readonly s: Settings,
  ) {
    this.log = s.log.child({ secret: `${s.namespace}/${s.secretName}` });
  }

  async run(signal: AbortSignal): Promise<void> {
    const wake = new Wakeup(this.s.clock);
    const watching = this.api.watchSecret(
      signal,
      (secret) => {
        if (secret?.metadata?.resourceVersion !== this.known) wake.poke();
      },
      (err) => this.log.warn({ error: errorMessage(err) }, 'watch of the webhook certificate Secret failed; retrying'),
    );
    let failures = 0;
    let races = 0;
    while (!signal.aborted) {
      let delayMs: number;
      try {
        delayMs = await this.check(signal);
        failures = 0;
        races = 0;
      } catch (err) {
        if (signal.aborted) break;
        // Another writer got in first (a leader handing over): read again at once, a few times, then back off.
        if (isWriteRace(err) && races++ < 3) {
          this.log.info({ error: errorMessage(err) }, 'the webhook certificate Secret changed meanwhile; checking again');
          continue;
        }
        delayMs = Math.min(this.s.checkIntervalMs, 1000 * 2 ** failures++);
        this.log.warn({ code: (err as { code?: unknown }).code, error: errorMessage(err), retryInMs: delayMs }, 'webhook certificates not reconciled; retrying');
      }
      await wake.wait(delayMs, signal);
    }
    await watching;
  }

  /** One pass: CA, serving pair, caBundles. Resolves the milliseconds until the next check is due. */
  private async check(signal: AbortSignal): Promise<number> {
    const { s, log } = this;
    const now = s.clock.now();
    let secret = await this.api.getSecret(signal);
    this.known = secret?.metadata?.resourceVersion;
    const state = readSecretState(secret);
    const changes: Record<string, string> = {};

    // 1. The signing CA, made anew ahead of its expiry. Older CAs stay in the bundle until they expire.
    let signer = state.signer;
    const caProblem = !signer
      ? 'there is no CA (or ca.key belongs to no certificate of ca.crt)'
      : !validAt(signer.cert, now)
        ? 'the CA is not valid now'
        : signer.cert.notAfterMs - now <= s.caRenewBeforeMs
          ? 'the CA is due for renewal'
          : undefined;
    if (!signer || caProblem) {
      const ca = await createCertificateAuthority(`webhook CA for ${s.dnsNames[0]}`, { validityMs: s.caValidityMs, now: new Date(now) });
      signer = { cert: parseCert(ca.certPem)!, keyPem: ca.keyPem };
      changes[secretKeys.caKey] = ca.keyPem;
      log.info({ reason: caProblem, ...describe(signer.cert) }, 'created a webhook CA');
    }
    const signerCert = signer.cert;
    const bundle = [signerCert, ...state.bundle.filter((c) => fingerprintOf(c) !== fingerprintOf(signerCert) && c.notAfterMs > now)];
    const bundlePem = bundle.map((c) => c.pem).join('');
    if (bundlePem !== secretText(secret, secretKeys.caBundle)) changes[secretKeys.caBundle] = bundlePem;

    // 2. With no serving certificate the API server can trust, nothing served can get worse: issue one at once.
    let serving = state.serving;
    let problem = servingProblem(serving, bundle, s, now);
    if (problem && !servingTrusted(serving, bundle, now)) {
      serving = await this.issue(signer, now, problem, changes);
      problem = undefined;
    }
    if (Object.keys(changes).length > 0) secret = await this.write(secret, changes, signal);

    // 3. Every caBundle holds the bundle.
    const failed = await this.publish(bundlePem, signal);
    const fingerprints = new Set(bundle.map(fingerprintOf));
    for (const fp of this.publishedAt.keys()) if (!fingerprints.has(fp)) this.publishedAt.delete(fp);
    if (failed.length === 0) {
      const at = s.clock.now();
      for (const fp of fingerprints) if (!this.publishedAt.has(fp)) this.publishedAt.set(fp, at);
    }

    // 4. A trusted serving certificate due for renewal: renewed by its own CA at once, or by a new CA once every API
    // server had time to load a caBundle that trusts it.
    let renewAt: number | undefined;
    if (problem && serving) {
      const publishedAt = this.publishedAt.get(fingerprintOf(signerCert));
      const trustedFrom = publishedAt === undefined ? undefined : publishedAt + s.caBundlePropagationMs;
      if (issuedBy(serving.cert, signerCert) || (trustedFrom !== undefined && trustedFrom <= s.clock.now())) {
        const renewal: Record<string, string> = {};
        serving = await this.issue(signer, now, problem, renewal);
        secret = await this.write(secret, renewal, signal);
      } else {
        renewAt = trustedFrom;
        log.info({ reason: problem, renewAt: trustedFrom && new Date(trustedFrom).toISOString() }, 'serving certificate renewal waits until every caBundle trusts the new CA');
      }
    }
    if (failed.length > 0) {
      throw new WebhookError('ERR_WEBHOOK_CA_BUNDLE', `cannot set the caBundle of ${failed.map((f) => `${targetName(f.target)} (${errorMessage(f.err)})`).join('; ')}`, {
        cause: failed[0]!.err,
      });
    }

    const due = [
      now + s.checkIntervalMs,
      signerCert.notAfterMs - s.caRenewBeforeMs,
      ...bundle.slice(1).map((c) => c.notAfterMs),
      // A renewal waiting for the new CA to propagate is due then, not at its (past) renewal point.
      ...(renewAt !== undefined ? [renewAt] : serving ? [serving.cert.notAfterMs - s.renewBeforeMs] : []),
    ];
    return Math.max(1000, Math.min(...due) - s.clock.now());
  }

  private async issue(signer: { cert: ParsedCert; keyPem: string }, now: number, reason: string, changes: Record<string, string>) {
    const ca = await loadCertificateAuthority(signer.cert.pem, signer.keyPem);
    const pair = await ca.sign({
      commonName: this.s.dnsNames[0]!,
      usage: 'server',
      dnsNames: this.s.dnsNames,
      ipAddresses: this.s.ipAddresses,
      validityMs: Math.min(this.s.certValidityMs, signer.cert.notAfterMs - now),
      now: new Date(now),
    });
    const cert = parseCert(pair.certPem)!;
    changes[secretKeys.cert] = pair.certPem;
    changes[secretKeys.key] = pair.keyPem;
    this.log.info({ reason, dnsNames: this.s.dnsNames, ipAddresses: this.s.ipAddresses, ...describe(cert) }, 'issued a webhook serving certificate');
    return { cert, keyPem: pair.keyPem };
  }

  private async write(secret: Secret | undefined, changes: Record<string, string>, signal: AbortSignal): Promise<Secret> {
    const next: Secret = secret
      ? structuredClone(secret)
      : {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: this.s.secretName, namespace: this.s.namespace, labels: { 'app.kubernetes.io/managed-by': 'kubeloop' } },
          type: 'kubernetes.io/tls',
        };
    next.data = { ...next.data };
    for (const [key, text] of Object.entries(changes)) next.data[key] = Buffer.from(text, 'utf8').toString('base64');
    const written = await this.api.writeSecret(next, signal).catch((err: unknown) => {
      throw new WebhookError('ERR_WEBHOOK_CERTIFICATE', `cannot ${secret ? 'update' : 'create'} the Secret ${this.s.namespace}/${this.s.secretName}: ${errorMessage(err)}`, {
        cause: err,
      });
    });
    this.known = written.metadata?.resourceVersion;
    this.log.info({ keys: Object.keys(changes).toSorted() }, secret ? 'updated the webhook certificate Secret' : 'created the webhook certificate Secret');
    return written;
  }

  /** Sets the bundle in every target; resolves the targets that failed (a missing target is not a failure). */
  private async publish(bundlePem: string, signal: AbortSignal): Promise<{ target: CaBundleTarget; err: unknown }[]> {
    const value = Buffer.from(bundlePem, 'utf8').toString('base64');
    const failed: { target: CaBundleTarget; err: unknown }[] = [];
    for (const target of this.s.targets) {
      try {
        const obj = await this.api.getTarget(target, signal);
        const ops = obj ? caBundlePatch(target, obj, value) : 'does not exist (yet): its caBundle is set once it does';
        if (typeof ops === 'string') {
          this.note(target, ops);
          continue;
        }
        this.targetNotes.delete(targetName(target));
        if (ops.length === 0) continue;
        await this.api.patchTarget(target, ops, signal);
        this.log.info({ kind: target.kind, name: target.name }, 'set the caBundle');
      } catch (err) {
        if (signal.aborted) throw err;
        failed.push({ target, err });
      }
    }
    return failed;
  }

  private note(target: CaBundleTarget, message: string): void {
    if (this.targetNotes.get(targetName(target)) === message) return;
    this.targetNotes.set(targetName(target), message);
    this.log.warn({ kind: target.kind, name: target.name }, `caBundle not set: ${targetName(target)} ${message}`);
  }
}

/**
 * The JSON patch that sets `value` as the caBundle of a target: every webhook entry of a configuration (each guarded by
 * a test of its name, so a reordered list fails instead of patching the wrong entry), or a CRD's conversion webhook.
 * Empty when nothing differs; a string saying why when the target cannot carry one.
 */
export function caBundlePatch(target: CaBundleTarget, obj: CaBundleTargetObject, value: string): JsonPatchOperation[] | string {
  if (target.kind === 'CustomResourceDefinition') {
    const conversion = (obj as apiextensionsv1.CustomResourceDefinition).spec?.conversion;
    if (conversion?.strategy !== 'Webhook' || !conversion.webhook?.clientConfig) {
      return 'has no conversion webhook (spec.conversion.strategy is not Webhook): nothing to set';
    }
    if (conversion.webhook.clientConfig.caBundle === value) return [];
    return [
      { op: 'test', path: '/spec/conversion/strategy', value: 'Webhook' },
      { op: 'add', path: '/spec/conversion/webhook/clientConfig/caBundle', value },
    ];
  }
  const webhooks = (obj as { webhooks?: { name: string; clientConfig?: { caBundle?: string } }[] }).webhooks ?? [];
  return webhooks.flatMap((w, i): JsonPatchOperation[] =>
    w.clientConfig?.caBundle === value
      ? []
      : [
          { op: 'test', path: `/webhooks/${i}/name`, value: w.name },
          { op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value },
        ],
  );
}

/** Every replica's side: installs each new pair the Secret holds. */
class Replica {
  private readonly log: WebhookLogger;
  private installed = '';
  private waitingLogged = false;

  constructor(
    private readonly api: CertApi,
    private readonly s: Settings,
    private readonly onInstalled: () => void,
  ) {
    this.log = s.log.child({ secret: `${s.namespace}/${s.secretName}` });
  }

  async run(signal: AbortSignal): Promise<void> {
    let latest: Secret | undefined;
    let retry: { cancel(): void } | undefined;
    let chain = Promise.resolve();
    const attempt = async (): Promise<void> => {
      try {
        // A write that failed (a full disk, a read-only folder) is tried again, with whatever the Secret holds then.
        if (!signal.aborted && !(await this.install(latest))) retry = this.s.clock.setTimer(enqueue, 5_000);
      } catch (err) {
        this.log.error({ error: errorMessage(err) }, 'cannot install the webhook serving certificate');
      }
    };
    const enqueue = (): void => {
      retry?.cancel();
      chain = chain.then(attempt);
    };
    await this.api.watchSecret(
      signal,
      (secret) => {
        latest = secret;
        enqueue();
      },
      (err) => this.log.warn({ error: errorMessage(err) }, 'watch of the webhook certificate Secret failed; retrying'),
    );
    retry?.cancel();
    await chain;
  }

  /** Installs the Secret's pair if new. False when it could not be written. */
  private async install(secret: Secret | undefined): Promise<boolean> {
    const pair = servingPairOf(secret);
    if (!pair) {
      if (!this.waitingLogged) this.log.info({}, 'waiting for the leader to issue the webhook serving certificate');
      this.waitingLogged = true;
      return true;
    }
    const certPem = secretText(secret, secretKeys.cert);
    const digest = createHash('sha256').update(certPem).update('\0').update(pair.keyPem).digest('hex');
    if (digest === this.installed) return true;
    const { certDir } = this.s;
    if (certDir) {
      try {
        await writeFilesAtomically(certDir, [
          [this.s.keyName, pair.keyPem, 0o600],
          [this.s.certName, certPem, 0o644],
        ]);
      } catch (err) {
        this.log.error({ certDir, error: errorMessage(err) }, 'cannot write the webhook serving certificate; retrying in 5 s');
        return false;
      }
    }
    this.installed = digest;
    this.log.info({ certDir, ...describe(pair.cert) }, certDir ? 'wrote the webhook serving certificate' : 'the webhook serving certificate is in the Secret');
    this.onInstalled();
    return true;
  }
}

/**
 * Writes each file to a temporary name in `dir`, then renames them into place one after the other: a reader sees a
 * whole old file or a whole new one, never part of one.
 */
async function writeFilesAtomically(dir: string, files: [name: string, content: string, mode: number][]): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = files.map(([name]) => join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`));
  try {
    await Promise.all(files.map(([, content, mode], i) => writeFile(temporary[i]!, content, { mode })));
    for (const [i, [name]] of files.entries()) await rename(temporary[i]!, join(dir, name));
  } finally {
    await Promise.all(temporary.map((path) => rm(path, { force: true })));
  }
}
