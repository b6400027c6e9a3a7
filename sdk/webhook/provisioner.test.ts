import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, type JsonPatchOperation, type Secret } from '../client/index.js';
import type { WebhookLogger } from './admission.js';
import type { CaBundleTarget, CaBundleTargetObject, CertApi } from './internal/cert-api.js';
import { createCertProvisioner, provisionerWith, type CertClock, type CertProvisionerOptions } from './provisioner.js';
import { eventually, type EventuallyOptions } from '../../test/support/wait.js';

const poll: EventuallyOptions = { timeoutMs: 10_000, intervalMs: 2 };

// ---------------------------------------------------------------------------------------------------------------------
// Fakes: a wall clock that moves only when told to, and an in-memory "API server" holding one Secret and the objects
// that carry a caBundle. The fake checks, on every write, that the caBundles trust what the Secret serves.

const dayMs = 24 * 3600 * 1000;

class TestClock implements CertClock {
  #now = Math.floor(Date.now() / 1000) * 1000; // certificates carry whole seconds
  #seq = 0;
  #timers: { dueAt: number; seq: number; callback: () => void }[] = [];

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): { cancel(): void } {
    const timer = { dueAt: this.#now + Math.max(0, delayMs), seq: this.#seq++, callback };
    this.#timers.push(timer);
    this.#timers.sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq);
    return { cancel: () => void (this.#timers = this.#timers.filter((t) => t !== timer)) };
  }

  pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward, firing due timers; what they start runs after this returns, at the new time. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (let next = this.#timers[0]; next !== undefined && next.dueAt <= target; next = this.#timers[0]) {
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.dueAt);
      next.callback();
    }
    this.#now = target;
  }
}

const key = (t: CaBundleTarget): string => `${t.kind}/${t.name}`;
const text = (secret: Secret | undefined, name: string): string =>
  Buffer.from(secret?.data?.[name] ?? '', 'base64').toString('utf8');
const certsOf = (pem: string): X509Certificate[] =>
  (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b));
const trusts = (bundlePem: string, certPem: string): boolean => {
  if (!certPem) return true;
  const cert = new X509Certificate(certPem);
  return certsOf(bundlePem).some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
};
const apiError = (code: number, reason: string, message: string): ApiError =>
  new ApiError(code, { kind: 'Status', apiVersion: 'v1', code, reason, message });

class FakeApi implements CertApi {
  secret: Secret | undefined;
  readonly targets = new Map<string, CaBundleTargetObject>();
  /** Since when each target's caBundle has held each CA (by fingerprint), on the test clock. */
  readonly caSince = new Map<string, Map<string, number>>();
  /** Broken promises: a served certificate some caBundle did not trust (long enough). */
  readonly violations: string[] = [];
  secretWrites = 0;
  failPatch: ((target: CaBundleTarget) => Error | undefined) | undefined;
  readonly #listeners = new Set<(s: Secret | undefined) => void>();
  #version = 0;

  constructor(
    private readonly clock: TestClock,
    private readonly propagationMs = 0,
  ) {}

  #bundles(): [string, string][] {
    const out: [string, string][] = [];
    for (const [name, obj] of this.targets) {
      if ('webhooks' in obj)
        for (const w of obj.webhooks ?? [])
          out.push([name, Buffer.from(w.clientConfig.caBundle ?? '', 'base64').toString('utf8')]);
      else if ('spec' in obj && obj.spec.conversion?.webhook?.clientConfig) {
        out.push([
          name,
          Buffer.from(obj.spec.conversion.webhook.clientConfig.caBundle ?? '', 'base64').toString('utf8'),
        ]);
      }
    }
    return out;
  }

  /** Sets the Secret as someone else would (kubectl), and tells the watchers. */
  put(secret: Secret | undefined): void {
    this.secret = secret && {
      ...structuredClone(secret),
      metadata: { ...secret.metadata, resourceVersion: String(++this.#version) },
    };
    // Like a watch event, after the writer got its answer.
    for (const listener of this.#listeners) setImmediate(() => listener(structuredClone(this.secret)));
  }

  async getSecret(): Promise<Secret | undefined> {
    return structuredClone(this.secret);
  }

  async writeSecret(secret: Secret): Promise<Secret> {
    const rv = secret.metadata?.resourceVersion;
    if (!rv && this.secret) throw apiError(409, 'AlreadyExists', 'secrets "certs" already exists');
    if (rv && rv !== this.secret?.metadata?.resourceVersion)
      throw apiError(409, 'Conflict', 'the object has been modified');
    const before = text(this.secret, 'tls.crt');
    const after = text(secret, 'tls.crt');
    if (before && after !== before) {
      // A new serving certificate replaces a served one: every caBundle must trust it, and have for propagationMs.
      const cert = new X509Certificate(after);
      for (const [name, bundle] of this.#bundles()) {
        const issuer = certsOf(bundle).find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
        if (!issuer) this.violations.push(`${name} does not trust the new serving certificate`);
        else if (this.clock.now() - (this.caSince.get(name)?.get(issuer.fingerprint256) ?? 0) < this.propagationMs) {
          this.violations.push(
            `${name} trusts the new serving certificate's CA for less than ${this.propagationMs} ms`,
          );
        }
      }
    }
    this.secretWrites++;
    this.put(secret);
    return structuredClone(this.secret!);
  }

  async watchSecret(signal: AbortSignal, onSecret: (s: Secret | undefined) => void): Promise<void> {
    onSecret(structuredClone(this.secret));
    this.#listeners.add(onSecret);
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    this.#listeners.delete(onSecret);
  }

  async getTarget(target: CaBundleTarget): Promise<CaBundleTargetObject | undefined> {
    return structuredClone(this.targets.get(key(target)));
  }

  async patchTarget(target: CaBundleTarget, ops: JsonPatchOperation[]): Promise<void> {
    const failure = this.failPatch?.(target);
    if (failure) throw failure;
    const doc = structuredClone(this.targets.get(key(target))) as unknown as Record<string, unknown>;
    for (const op of ops) {
      const segments = op.path.slice(1).split('/');
      const last = segments.pop()!;
      let parent = doc;
      for (const s of segments) parent = parent[s] as Record<string, unknown>;
      if (op.op === 'test' && parent[last] !== op.value) throw apiError(422, 'Invalid', `test of ${op.path} failed`);
      if (op.op === 'add' || op.op === 'replace') parent[last] = op.value;
    }
    this.targets.set(key(target), doc as unknown as CaBundleTargetObject);
    const served = text(this.secret, 'tls.crt');
    for (const [name, bundle] of this.#bundles()) {
      if (name !== key(target)) continue;
      if (!trusts(bundle, served))
        this.violations.push(`${name} was patched to a bundle that does not trust the served certificate`);
      const known = this.caSince.get(name) ?? new Map<string, number>();
      this.caSince.set(
        name,
        new Map(certsOf(bundle).map((ca) => [ca.fingerprint256, known.get(ca.fingerprint256) ?? this.clock.now()])),
      );
    }
  }
}

function validating(name: string, entries = ['a.example.com', 'b.example.com']): CaBundleTargetObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name },
    webhooks: entries.map((n) => ({
      name: n,
      clientConfig: { service: { name: 'svc', namespace: 'ops' } },
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
    })),
  };
}

function mutating(name: string): CaBundleTargetObject {
  return { ...validating(name, ['m.example.com']), kind: 'MutatingWebhookConfiguration' } as CaBundleTargetObject;
}

function crd(name: string, strategy: 'Webhook' | 'None' = 'Webhook'): CaBundleTargetObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name },
    spec: {
      group: 'example.com',
      names: { kind: 'Widget', plural: 'widgets' },
      scope: 'Namespaced',
      versions: [],
      conversion:
        strategy === 'Webhook'
          ? {
              strategy,
              webhook: {
                conversionReviewVersions: ['v1'],
                clientConfig: { service: { name: 'svc', namespace: 'ops' } },
              },
            }
          : { strategy },
    },
  };
}

interface LogLine {
  level: string;
  obj: object;
  msg: string | undefined;
}

function captureLog(lines: LogLine[]): WebhookLogger {
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  const log: WebhookLogger = {
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    debug: at('debug'),
    child: () => log,
  };
  return log;
}

const dirs: string[] = [];
const stops: AbortController[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop.abort();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setup(options: Partial<CertProvisionerOptions> = {}, propagationMs = options.caBundlePropagationMs ?? 60_000) {
  const clock = new TestClock();
  const api = new FakeApi(clock, propagationMs);
  api.targets.set('ValidatingWebhookConfiguration/vwc', validating('vwc'));
  api.targets.set('MutatingWebhookConfiguration/mwc', mutating('mwc'));
  api.targets.set('CustomResourceDefinition/widgets.example.com', crd('widgets.example.com'));
  const certDir = mkdtempSync(join(tmpdir(), 'certs-'));
  dirs.push(certDir);
  const logs: LogLine[] = [];
  const provisioner = provisionerWith(api, {
    namespace: 'ops',
    secretName: 'certs',
    serviceName: 'svc',
    validatingWebhookConfigurations: ['vwc'],
    mutatingWebhookConfigurations: ['mwc'],
    crds: ['widgets.example.com'],
    certDir,
    clock,
    log: captureLog(logs),
    ...options,
  });
  const stop = new AbortController();
  stops.push(stop);
  const run = { leader: provisioner.leader.start(stop.signal), replica: provisioner.replica.start(stop.signal) };
  /** The leader is between checks: its timer is pending (a check in progress has none). */
  const idle = () => eventually('the leader to finish its check', () => clock.pendingTimers() > 0, poll);
  return { clock, api, certDir, logs, provisioner, stop, run, idle };
}

function caBundles(api: FakeApi): string[] {
  const out: string[] = [];
  for (const obj of api.targets.values()) {
    if ('webhooks' in obj) for (const w of obj.webhooks ?? []) out.push(w.clientConfig.caBundle ?? '');
    else if ('spec' in obj) out.push(obj.spec.conversion?.webhook?.clientConfig?.caBundle ?? '');
  }
  return out;
}

describe('createCertProvisioner', () => {
  it('issues a CA and a serving certificate for the Service, keeps them in a TLS Secret and sets every caBundle', async () => {
    const { api, certDir, provisioner, logs, idle } = setup({
      dnsNames: ['extra.example.com'],
      ipAddresses: ['127.0.0.1', '0:0:0:0:0:0:0:1'],
    });
    await provisioner.ready();
    await idle();

    const secret = api.secret!;
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(secret.metadata).toMatchObject({ name: 'certs', namespace: 'ops' });
    expect(Object.keys(secret.data ?? {}).toSorted()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    const cert = new X509Certificate(text(secret, 'tls.crt'));
    const [ca] = certsOf(text(secret, 'ca.crt'));
    expect(cert.subject).toBe('CN=svc.ops.svc');
    expect(cert.subjectAltName).toBe(
      'DNS:svc.ops.svc, DNS:svc.ops.svc.cluster.local, DNS:extra.example.com, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1',
    );
    expect(provisioner.dnsNames).toEqual(['svc.ops.svc', 'svc.ops.svc.cluster.local', 'extra.example.com']);
    expect(provisioner.ipAddresses).toEqual(['127.0.0.1', '::1']);
    expect(ca!.ca).toBe(true);
    expect(cert.checkIssued(ca!) && cert.verify(ca!.publicKey)).toBe(true);
    // One year by default (backdated an hour), its CA ten years.
    expect(cert.validToDate.getTime() - cert.validFromDate.getTime()).toBe(365 * dayMs + 3600_000);
    expect(ca!.validToDate.getTime() - ca!.validFromDate.getTime()).toBe(10 * 365 * dayMs + 3600_000);

    // Every webhook of both configurations and the CRD's conversion webhook.
    const bundle = secret.data!['ca.crt'];
    expect(caBundles(api)).toEqual([bundle, bundle, bundle, bundle]);

    // The replica wrote the pair; the key is readable by the owner only.
    expect(readFileSync(join(certDir, 'tls.crt'), 'utf8')).toBe(text(secret, 'tls.crt'));
    expect(readFileSync(join(certDir, 'tls.key'), 'utf8')).toBe(text(secret, 'tls.key'));
    expect(statSync(join(certDir, 'tls.key')).mode & 0o777).toBe(0o600);

    // Nothing secret in the logs.
    const logged = JSON.stringify(logs);
    for (const value of Object.values(secret.data!)) expect(logged).not.toContain(value);
    expect(logged).not.toContain('PRIVATE KEY');
    expect(logs.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        'created a webhook CA',
        'issued a webhook serving certificate',
        'wrote the webhook serving certificate',
      ]),
    );
    expect(api.violations).toEqual([]);
  });

  it('renews the serving certificate with the same CA when a third of its validity is left, and the replica rewrites it', async () => {
    const { api, clock, certDir, provisioner, idle } = setup({ certValidityMs: 90 * dayMs });
    await provisioner.ready();
    await idle();
    const first = text(api.secret, 'tls.crt');
    const caBefore = text(api.secret, 'ca.crt');
    const writes = api.secretWrites;

    // Checks every minute change nothing until 30 days are left (60 days in).
    for (let day = 0; day < 59; day++) {
      clock.advance(dayMs);
      await idle();
    }
    expect(text(api.secret, 'tls.crt')).toBe(first);
    expect(api.secretWrites).toBe(writes);

    clock.advance(dayMs);
    await idle();
    await eventually(
      'the replica to write the renewed pair',
      () => readFileSync(join(certDir, 'tls.crt'), 'utf8') !== first,
      poll,
    );
    const renewed = text(api.secret, 'tls.crt');
    expect(renewed).not.toBe(first);
    expect(text(api.secret, 'ca.crt')).toBe(caBefore);
    expect(readFileSync(join(certDir, 'tls.crt'), 'utf8')).toBe(renewed);
    expect(readFileSync(join(certDir, 'tls.key'), 'utf8')).toBe(text(api.secret, 'tls.key'));
    const cert = new X509Certificate(renewed);
    expect(cert.validFromDate.getTime()).toBe(clock.now() - 3600_000);
    for (const b of caBundles(api)) expect(trusts(Buffer.from(b, 'base64').toString('utf8'), renewed)).toBe(true);
    expect(api.violations).toEqual([]);
  });

  it('rotates the CA ahead of its expiry: old and new CA in every caBundle first, the new CA signs only after propagation, the old leaves once expired', async () => {
    const propagationMs = 60_000;
    const { api, clock, provisioner, idle } = setup({
      caValidityMs: 30 * dayMs,
      caRenewBeforeMs: 10 * dayMs,
      certValidityMs: 6 * dayMs,
      renewBeforeMs: 2 * dayMs,
      caBundlePropagationMs: propagationMs,
    });
    await provisioner.ready();
    await idle();
    const firstCa = certsOf(text(api.secret, 'ca.crt'))[0]!;
    const bundleSizes = new Set<number>();
    let twoCasSeenAt: number | undefined;
    // 35 days in 6-hour steps: past the new CA (day 20) and the old CA's expiry (day 30).
    for (let t = 0; t < 35 * dayMs; t += 6 * 3600_000) {
      clock.advance(6 * 3600_000);
      await idle();
      const size = certsOf(text(api.secret, 'ca.crt')).length;
      bundleSizes.add(size);
      if (size === 2) twoCasSeenAt ??= clock.now();
    }
    expect(twoCasSeenAt).toBeDefined();
    expect(bundleSizes).toEqual(new Set([1, 2]));
    const cas = certsOf(text(api.secret, 'ca.crt'));
    expect(cas).toHaveLength(1);
    expect(cas[0]!.fingerprint256).not.toBe(firstCa.fingerprint256);
    const cert = new X509Certificate(text(api.secret, 'tls.crt'));
    expect(cert.checkIssued(cas[0]!)).toBe(true);
    // No served certificate was ever outside a caBundle, nor signed by a CA younger than the propagation time.
    expect(api.violations).toEqual([]);
  });

  it('sets a caBundle again when someone overwrote it, at the next check', async () => {
    const { api, clock, provisioner, logs, idle } = setup({ checkIntervalMs: 30_000 });
    await provisioner.ready();
    await idle();
    const bundle = api.secret!.data!['ca.crt'];
    const vwc = api.targets.get('ValidatingWebhookConfiguration/vwc') as {
      webhooks: { clientConfig: { caBundle?: string } }[];
    };
    vwc.webhooks[1]!.clientConfig.caBundle = Buffer.from('stale').toString('base64');
    const crdObj = api.targets.get('CustomResourceDefinition/widgets.example.com') as {
      spec: { conversion: { webhook: { clientConfig: { caBundle?: string } } } };
    };
    delete crdObj.spec.conversion.webhook.clientConfig.caBundle;

    clock.advance(29_000);
    await idle();
    expect(caBundles(api)).not.toEqual([bundle, bundle, bundle, bundle]);
    clock.advance(1_000);
    await idle();
    expect(caBundles(api)).toEqual([bundle, bundle, bundle, bundle]);
    expect(logs.filter((l) => l.msg === 'set the caBundle').map((l) => l.obj)).toEqual(
      expect.arrayContaining([
        { kind: 'ValidatingWebhookConfiguration', name: 'vwc' },
        { kind: 'CustomResourceDefinition', name: 'widgets.example.com' },
      ]),
    );
  });

  it('repairs the Secret when it changes, without waiting for the next check', async () => {
    const { api, provisioner, idle } = setup();
    await provisioner.ready();
    await idle();
    const ca = text(api.secret, 'ca.crt');
    const cert = text(api.secret, 'tls.crt');

    // tls.key lost: the same CA signs a new pair.
    const broken = structuredClone(api.secret!);
    delete broken.data!['tls.key'];
    api.put(broken);
    await eventually(
      'the pair to be repaired',
      () => !!api.secret?.data?.['tls.key'] && text(api.secret, 'tls.crt') !== cert,
      poll,
    );
    await idle();
    expect(text(api.secret, 'ca.crt')).toBe(ca);

    // The Secret deleted: a new CA, published, and a pair it signed.
    api.put(undefined);
    await eventually('the Secret to be made again', () => api.secret !== undefined, poll);
    await idle();
    expect(text(api.secret, 'ca.crt')).not.toBe(ca);
    const bundle = api.secret!.data!['ca.crt'];
    expect(caBundles(api)).toEqual([bundle, bundle, bundle, bundle]);
    expect(trusts(text(api.secret, 'ca.crt'), text(api.secret, 'tls.crt'))).toBe(true);
  });

  it('fills a Secret the manifests shipped empty, and leaves its other keys alone', async () => {
    const clock = new TestClock();
    const api = new FakeApi(clock);
    api.put({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'certs', namespace: 'ops' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': '', 'tls.key': '', note: 'aGk=' },
    });
    const p = provisionerWith(api, { namespace: 'ops', secretName: 'certs', serviceName: 'svc', clock });
    const stop = new AbortController();
    stops.push(stop);
    void p.leader.start(stop.signal);
    void p.replica.start(stop.signal);
    await p.ready();
    expect(api.secret!.data!['note']).toBe('aGk=');
    expect(trusts(text(api.secret, 'ca.crt'), text(api.secret, 'tls.crt'))).toBe(true);
  });

  it('sets a configuration that appears later, and leaves a CRD without a conversion webhook alone (saying so once)', async () => {
    const { api, clock, provisioner, logs, idle } = setup({ checkIntervalMs: 10_000 });
    api.targets.delete('ValidatingWebhookConfiguration/vwc');
    api.targets.set('CustomResourceDefinition/widgets.example.com', crd('widgets.example.com', 'None'));
    await provisioner.ready();
    await idle();
    for (let i = 0; i < 3; i++) {
      clock.advance(10_000);
      await idle();
    }
    const warnings = logs.filter((l) => l.level === 'warn').map((l) => l.msg);
    expect(warnings).toEqual([
      'caBundle not set: ValidatingWebhookConfiguration vwc does not exist (yet): its caBundle is set once it does',
      'caBundle not set: CustomResourceDefinition widgets.example.com has no conversion webhook (spec.conversion.strategy is not Webhook): nothing to set',
    ]);
    expect(api.targets.get('CustomResourceDefinition/widgets.example.com')).toEqual(crd('widgets.example.com', 'None'));

    api.targets.set('ValidatingWebhookConfiguration/vwc', validating('vwc'));
    clock.advance(10_000);
    await idle();
    const bundle = api.secret!.data!['ca.crt'];
    expect(
      (
        api.targets.get('ValidatingWebhookConfiguration/vwc') as { webhooks: { clientConfig: { caBundle?: string } }[] }
      ).webhooks.map((w) => w.clientConfig.caBundle),
    ).toEqual([bundle, bundle]);
  });

  it('reports a caBundle it cannot set with ERR_WEBHOOK_CA_BUNDLE and retries with backoff; a renewal by the same CA still happens', async () => {
    const { api, clock, provisioner, logs, idle } = setup({ certValidityMs: 3 * dayMs, checkIntervalMs: 60_000 });
    const forbidden = apiError(
      403,
      'Forbidden',
      'validatingwebhookconfigurations.admissionregistration.k8s.io "vwc" is forbidden: User "op" cannot patch resource',
    );
    api.failPatch = (t) => (t.kind === 'ValidatingWebhookConfiguration' ? forbidden : undefined);
    await provisioner.ready();
    await idle();
    const failures = () => logs.filter((l) => l.msg === 'webhook certificates not reconciled; retrying');
    expect(failures()).toHaveLength(1);
    expect(failures()[0]!.obj).toMatchObject({ code: 'ERR_WEBHOOK_CA_BUNDLE', retryInMs: 1000 });
    expect(JSON.stringify(failures()[0]!.obj)).toContain('cannot patch resource');
    clock.advance(1000);
    await idle();
    clock.advance(2000);
    await idle();
    expect(failures().map((l) => (l.obj as { retryInMs: number }).retryInMs)).toEqual([1000, 2000, 4000]);

    const first = text(api.secret, 'tls.crt');
    clock.advance(2 * dayMs);
    await idle();
    expect(text(api.secret, 'tls.crt')).not.toBe(first);
    // Only the configuration that could not be patched is wrong (and was all along).
    expect(new Set(api.violations)).toEqual(
      new Set(['ValidatingWebhookConfiguration/vwc does not trust the new serving certificate']),
    );
  });

  it('with no certDir, is ready once the Secret holds a pair and writes nothing', async () => {
    const { api, provisioner } = setup({ certDir: undefined });
    await provisioner.ready();
    expect(api.secret?.data?.['tls.crt']).toBeTruthy();
  });

  it('keeps trying to write a certDir it cannot write, and ready() stays pending', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'certs-'));
    dirs.push(parent);
    const blocker = join(parent, 'file');
    writeFileSync(blocker, 'not a folder');
    const { clock, provisioner, logs } = setup({ certDir: join(blocker, 'sub') });
    await eventually(
      'a write failure',
      () => logs.some((l) => l.msg === 'cannot write the webhook serving certificate; retrying in 5 s'),
      poll,
    );
    const stop = new AbortController();
    const waiting = provisioner.ready(stop.signal);
    stop.abort(new Error('gave up'));
    await expect(waiting).rejects.toThrow('gave up');
    const before = logs.length;
    clock.advance(5_000);
    await eventually(
      'another attempt',
      () => logs.slice(before).some((l) => l.msg === 'cannot write the webhook serving certificate; retrying in 5 s'),
      poll,
    );
  });

  it('stops both runnables when the signal aborts', async () => {
    const { provisioner, stop, run } = setup();
    await provisioner.ready();
    stop.abort();
    await expect(Promise.all([run.leader, run.replica])).resolves.toEqual([undefined, undefined]);
  });

  it('rejects unusable options with ERR_WEBHOOK_OPTIONS', () => {
    const base = {
      clientset: {} as CertProvisionerOptions['clientset'],
      namespace: 'ops',
      secretName: 'certs',
      serviceName: 'svc',
    };
    const bad: [Partial<CertProvisionerOptions>, string][] = [
      [{ serviceName: '' }, 'serviceName is required'],
      [{ certValidityMs: 1000, renewBeforeMs: 1000 }, 'renewBeforeMs (1000) must be less than certValidityMs (1000)'],
      [{ caValidityMs: 30 * dayMs }, 'caRenewBeforeMs (864000000) must be more than renewBeforeMs (10512000000)'],
      [{ checkIntervalMs: 0 }, 'checkIntervalMs must be a number of milliseconds >= 1, got 0'],
      [{ ipAddresses: ['svc.local'] }, 'ipAddresses: "svc.local" is not an IP address'],
    ];
    for (const [options, message] of bad) {
      expect(() => createCertProvisioner({ ...base, ...options })).toThrow(
        expect.objectContaining({
          code: 'ERR_WEBHOOK_OPTIONS',
          message: expect.stringContaining(`certificate provisioner: ${message}`),
        }),
      );
    }
  });
});
