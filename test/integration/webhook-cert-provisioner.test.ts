// The built-in certificate provisioner against the real API server: the Secret it keeps, the caBundle it sets in a
// ValidatingWebhookConfiguration and in a CRD's conversion webhook, a renewal forced on a fake clock, and the API server
// calling the webhook server over TLS with the caBundle the provisioner set, before and after the renewal.
// The configuration and the CRD are this test's own: the webhook matches only objects labelled with this test's
// namespace, in that namespace, with failurePolicy Ignore, so nothing another test does can reach it.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createClientset,
  defineResource,
  isNotFound,
  typedClient,
  type Clientset,
  type ObjectOf,
  type Secret,
  type admissionregistrationv1,
  type apiextensionsv1,
} from '../../sdk/client/index.js';
import { connectToControlPlane } from '../../sdk/envtest/index.js';
import { createManager } from '../../sdk/manager/index.js';
import {
  allowed,
  createCertProvisioner,
  createWebhookServer,
  defineConversion,
  type AdmissionRequest,
  type CertProvisionerOptions,
  type WebhookLogger,
} from '../../sdk/webhook/index.js';
import { createFakeClock } from '../../sdk/workqueue/index.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';
import { eventually, freePort } from '../support/wait.js';

const secretName = 'webhook-server-cert';
const serviceName = 'webhook-service';

const text = (secret: Secret, key: string): string => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');

/** Every log line, to prove that none carries key material. */
function captureLog(lines: unknown[]): WebhookLogger {
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, ...obj, msg });
  const log: WebhookLogger = {
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    debug: at('debug'),
    child: () => log,
  };
  return log;
}

/** A TLS handshake with 127.0.0.1:port that verifies the served certificate against `caPem`: the certificate it saw. */
function handshake(port: number, caPem: string): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: caPem }, () => {
      const peer = socket.getPeerCertificate();
      socket.end();
      resolve(peer);
    });
    socket.once('error', reject);
  });
}

interface Fixture {
  ns: string;
  port: number;
  vwcName: string;
  crdName: string;
  group: string;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).toReversed()) await cleanup().catch(() => undefined);
});

/** A namespace, a ValidatingWebhookConfiguration and a CRD with webhook conversion, all pointing at 127.0.0.1:port. */
async function fixture(cs: Clientset, prefix: string): Promise<Fixture> {
  const { config } = sharedCluster();
  const ns = await createTestNamespace(config, prefix);
  const port = await freePort();
  const vwcName = `certs-${ns}`;
  const group = `${ns}.example.com`;
  const crdName = `gizmos.${group}`;
  const vwc: admissionregistrationv1.ValidatingWebhookConfiguration = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: vwcName },
    webhooks: ['one', 'two'].map((n) => ({
      name: `${n}.${group}`,
      clientConfig: { url: `https://127.0.0.1:${port}/validate-${n}` },
      rules: [{ apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'], operations: ['CREATE'] }],
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
      objectSelector: { matchLabels: { 'certs-test': ns } },
      failurePolicy: 'Ignore',
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      timeoutSeconds: 5,
    })),
  };
  await cs.admissionregistrationV1().validatingWebhookConfigurations().create(vwc);
  cleanups.push(() => cs.admissionregistrationV1().validatingWebhookConfigurations().delete(vwcName));
  const schema = {
    openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
  } as apiextensionsv1.CustomResourceValidation;
  const crd: apiextensionsv1.CustomResourceDefinition = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName },
    spec: {
      group,
      names: { kind: 'Gizmo', plural: 'gizmos', singular: 'gizmo', listKind: 'GizmoList' },
      scope: 'Namespaced',
      versions: [
        { name: 'v1', served: true, storage: true, schema },
        { name: 'v2', served: true, storage: false, schema },
      ],
      conversion: {
        strategy: 'Webhook',
        webhook: { conversionReviewVersions: ['v1'], clientConfig: { url: `https://127.0.0.1:${port}/convert` } },
      },
    },
  };
  const crds = cs.apiextensionsV1().customResourceDefinitions();
  await crds.create(crd);
  cleanups.push(() => crds.delete(crdName));
  await eventually(
    'the CRD to be established',
    async () => {
      const current = await crds.get(crdName);
      return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    },
    30_000,
  );
  return { ns, port, vwcName, crdName, group };
}

/** Starts a provisioner's leader and replica runnables (stopped after the test) and waits for the first pair. */
async function startProvisioner(options: CertProvisionerOptions): Promise<{ stop: AbortController }> {
  const provisioner = createCertProvisioner(options);
  const stop = new AbortController();
  const runs = [provisioner.leader.start(stop.signal), provisioner.replica.start(stop.signal)];
  cleanups.push(async () => {
    stop.abort();
    await Promise.all(runs);
  });
  await provisioner.ready(AbortSignal.timeout(30_000));
  return { stop };
}

/** The hub (v1) and a spoke (v2) of the test's Gizmo kind, converted by renaming spec.size. */
function gizmos(group: string) {
  const v1 = defineResource<{ size?: number }>({
    group,
    version: 'v1',
    kind: 'Gizmo',
    plural: 'gizmos',
    namespaced: true,
  });
  const v2 = defineResource<{ sizeInches?: number }>({
    group,
    version: 'v2',
    kind: 'Gizmo',
    plural: 'gizmos',
    namespaced: true,
  });
  const conversion = defineConversion({
    hub: v1,
    spokes: [
      {
        resource: v2,
        toHub: (o: ObjectOf<typeof v2>): ObjectOf<typeof v1> => ({ ...o, spec: { size: o.spec?.sizeInches } }),
        fromHub: (o: ObjectOf<typeof v1>): ObjectOf<typeof v2> => ({ ...o, spec: { sizeInches: o.spec?.size } }),
      },
    ],
  });
  return { v1, v2, conversion };
}

describe('webhook certificate provisioner against a real API server', () => {
  const { config } = sharedCluster();
  const cs = createClientset(config);

  it('keeps a CA and serving pair in a Secret, sets both caBundles, renews on a fake clock, and the API server trusts each certificate', async () => {
    const { ns, port, vwcName, crdName, group } = await fixture(cs, 'certs');
    const certDir = await mkdtemp(join(tmpdir(), 'certs-'));
    cleanups.push(() => rm(certDir, { recursive: true, force: true }));
    const clock = createFakeClock({ startMs: Math.floor(Date.now() / 1000) * 1000 });
    const logs: unknown[] = [];
    const { stop } = await startProvisioner({
      clientset: cs,
      namespace: ns,
      secretName,
      serviceName,
      ipAddresses: ['127.0.0.1'],
      validatingWebhookConfigurations: [vwcName],
      crds: [crdName],
      certDir,
      // An hour, renewed with 20 minutes left: a renewal 41 minutes on the fake clock is a certificate valid in real time.
      certValidityMs: 3600_000,
      clock,
      log: captureLog(logs),
    });

    // The Secret: kubernetes.io/tls, a certificate for the Service's names (and the IP), signed by the CA in ca.crt.
    let secret = await cs.coreV1().secrets(ns).get(secretName);
    expect(secret.type).toBe('kubernetes.io/tls');
    expect(Object.keys(secret.data ?? {}).toSorted()).toEqual(['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    const ca = new X509Certificate(text(secret, 'ca.crt'));
    const firstPem = text(secret, 'tls.crt');
    const first = new X509Certificate(firstPem);
    expect(first.subjectAltName).toBe(
      `DNS:${serviceName}.${ns}.svc, DNS:${serviceName}.${ns}.svc.cluster.local, IP Address:127.0.0.1`,
    );
    expect(first.checkIssued(ca) && first.verify(ca.publicKey)).toBe(true);
    expect(first.checkHost(`${serviceName}.${ns}.svc`)).toBe(`${serviceName}.${ns}.svc`);
    const bundle = secret.data!['ca.crt'];

    // Both caBundles, every webhook of the configuration.
    const vwcs = cs.admissionregistrationV1().validatingWebhookConfigurations();
    const crds = cs.apiextensionsV1().customResourceDefinitions();
    await eventually('both caBundles to be set', async () => {
      const vwc = await vwcs.get(vwcName);
      const crd = await crds.get(crdName);
      return (
        vwc.webhooks?.every((w) => w.clientConfig.caBundle === bundle) &&
        crd.spec.conversion?.webhook?.clientConfig?.caBundle === bundle
      );
    });

    // The replica's certDir holds the pair.
    expect(await readFile(join(certDir, 'tls.crt'), 'utf8')).toBe(text(secret, 'tls.crt'));
    expect(await readFile(join(certDir, 'tls.key'), 'utf8')).toBe(text(secret, 'tls.key'));

    // The API server calls the webhook server over TLS, trusting it through the caBundles the provisioner set.
    const seen: AdmissionRequest[] = [];
    const server = createWebhookServer({ host: '127.0.0.1', port, certDir, certPollIntervalMs: 200 });
    for (const n of ['one', 'two']) {
      server.register(`/validate-${n}`, (req) => {
        seen.push(req);
        return allowed();
      });
    }
    const { v1, v2, conversion } = gizmos(group);
    server.registerConversion(conversion);
    const serving = server.start(stop.signal);
    cleanups.push(async () => {
      stop.abort();
      await serving;
    });
    await server.listening();
    const configMaps = cs.coreV1().configMaps(ns);
    const probe = async (name: string): Promise<boolean> => {
      await configMaps.create({
        metadata: { name: `${name}-${seen.length}-${Date.now()}`, labels: { 'certs-test': ns } },
      });
      return seen.filter((r) => r.name?.startsWith(name)).length >= 2; // both webhooks of the configuration
    };
    // The API server loads the configuration from its informer: failurePolicy Ignore lets writes through until then.
    await eventually('the API server to call both webhooks', () => probe('before'), 30_000);
    await typedClient(config, v1)
      .namespace(ns)
      .create({ apiVersion: `${group}/v1`, kind: 'Gizmo', metadata: { name: 'g' }, spec: { size: 3 } });
    expect(
      (
        await eventually(
          'the conversion webhook to answer',
          () =>
            typedClient(config, v2)
              .namespace(ns)
              .get('g')
              .catch(() => undefined),
          30_000,
        )
      ).spec,
    ).toEqual({ sizeInches: 3 });

    // Up to the renewal point (40 minutes in) on the fake clock nothing changes; past it, a new certificate from the
    // same CA, which the caBundles still trust. Time moves a minute per poll: whenever the leader is waiting, a check
    // falls due. (A check in progress while time jumps schedules its successor from the new time.)
    const start = clock.now();
    for (let minute = 1; minute < 40; minute++) {
      clock.advance(60_000);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(text(await cs.coreV1().secrets(ns).get(secretName), 'tls.crt')).toBe(firstPem);
    secret = await eventually('the renewal', async () => {
      clock.advance(60_000);
      const current = await cs.coreV1().secrets(ns).get(secretName);
      return text(current, 'tls.crt') !== firstPem ? current : undefined;
    });
    const renewed = new X509Certificate(text(secret, 'tls.crt'));
    expect(renewed.serialNumber).not.toBe(first.serialNumber);
    expect(secret.data!['ca.crt']).toBe(bundle);
    // Issued past the renewal point on the fake clock (notBefore is an hour back), which is still valid in real time.
    expect(renewed.validFromDate.getTime()).toBeGreaterThanOrEqual(start + 40 * 60_000 - 3600_000);
    expect(renewed.validFromDate.getTime()).toBeLessThanOrEqual(clock.now() - 3600_000);
    expect(renewed.checkIssued(ca) && renewed.verify(ca.publicKey)).toBe(true);
    await eventually(
      'the replica to write the renewed pair',
      async () => (await readFile(join(certDir, 'tls.crt'), 'utf8')) === text(secret, 'tls.crt'),
    );

    // What the server serves now is the renewed certificate, verified with the caBundle read back from each object.
    const vwcBundle = Buffer.from((await vwcs.get(vwcName)).webhooks![0]!.clientConfig.caBundle!, 'base64').toString(
      'utf8',
    );
    const crdBundle = Buffer.from(
      (await crds.get(crdName)).spec.conversion!.webhook!.clientConfig!.caBundle!,
      'base64',
    ).toString('utf8');
    for (const caBundle of [vwcBundle, crdBundle]) {
      const peer = await eventually('the server to serve the renewed certificate', async () => {
        const p = await handshake(port, caBundle);
        return p.serialNumber.toLowerCase() === renewed.serialNumber.toLowerCase() ? p : undefined;
      });
      expect(checkServerIdentity(`${serviceName}.${ns}.svc`, peer)).toBeUndefined();
    }
    await eventually('the API server to call both webhooks again', () => probe('after'), 30_000);
    expect((await typedClient(config, v2).namespace(ns).get('g')).spec).toEqual({ sizeInches: 3 });

    // No log line carries key material.
    const logged = JSON.stringify(logs);
    for (const value of Object.values(secret.data!)) expect(logged).not.toContain(value);
    expect(logged).not.toContain('PRIVATE KEY');
  });

  it('sets the caBundle again when someone overwrites it (at the next check) and repairs a Secret whose key is lost (at once)', async () => {
    const { ns, vwcName, crdName } = await fixture(cs, 'certs-repair');
    const clock = createFakeClock({ startMs: Math.floor(Date.now() / 1000) * 1000 });
    await startProvisioner({
      clientset: cs,
      namespace: ns,
      secretName,
      serviceName,
      validatingWebhookConfigurations: [vwcName],
      crds: [crdName],
      clock,
    });
    const secrets = cs.coreV1().secrets(ns);
    const vwcs = cs.admissionregistrationV1().validatingWebhookConfigurations();
    let secret = await secrets.get(secretName);
    const bundle = secret.data!['ca.crt'];
    await eventually('the caBundle to be set', async () =>
      (await vwcs.get(vwcName)).webhooks?.every((w) => w.clientConfig.caBundle === bundle),
    );

    // `kubectl apply` of the manifests puts an empty caBundle back.
    await vwcs.patch(vwcName, [{ op: 'remove', path: '/webhooks/1/clientConfig/caBundle' }], { patchType: 'json' });
    await eventually('the caBundle to be set again at a check', async () => {
      clock.advance(60_000);
      return (await vwcs.get(vwcName)).webhooks?.every((w) => w.clientConfig.caBundle === bundle);
    });

    // tls.key replaced by a key of another certificate: the watch sees it, and the same CA signs a new pair without
    // waiting for a check.
    const cert = secret.data!['tls.crt'];
    await secrets.patch(secretName, [{ op: 'replace', path: '/data/tls.key', value: secret.data!['ca.key'] }], {
      patchType: 'json',
    });
    secret = await eventually('the pair to be repaired', async () => {
      const current = await secrets.get(secretName);
      return current.data?.['tls.crt'] !== cert ? current : undefined;
    });
    expect(secret.data!['ca.crt']).toBe(bundle);
    const repaired = new X509Certificate(text(secret, 'tls.crt'));
    expect(repaired.checkPrivateKey(createPrivateKey(text(secret, 'tls.key')))).toBe(true);
  });

  it('wires into the manager: createManager({ webhook: { certProvisioner } }) starts the webhook server once the first pair is written', async () => {
    const { ns, port, vwcName, crdName } = await fixture(cs, 'certs-mgr');
    const certDir = join(await mkdtemp(join(tmpdir(), 'certs-')), 'serving-certs');
    cleanups.push(() => rm(join(certDir, '..'), { recursive: true, force: true }));
    const mgr = await createManager({
      config,
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: pino({ level: 'silent' }),
      leaderElection: {
        enabled: true,
        id: `certs-${ns}`,
        namespace: ns,
        leaseDurationMs: 2000,
        renewDeadlineMs: 1500,
        retryPeriodMs: 200,
      },
      webhook: {
        host: '127.0.0.1',
        port,
        certDir,
        certProvisioner: {
          namespace: ns,
          secretName,
          serviceName,
          ipAddresses: ['127.0.0.1'],
          validatingWebhookConfigurations: [vwcName],
          crds: [crdName],
        },
      },
    });
    mgr.webhookServer.register('/validate-one', () => allowed());
    const stop = new AbortController();
    const running = mgr.start(stop.signal);
    cleanups.push(async () => {
      stop.abort();
      await running.catch(() => undefined);
    });
    await mgr.webhookServer.listening();

    const secret = await cs.coreV1().secrets(ns).get(secretName);
    expect(await readFile(join(certDir, 'tls.crt'), 'utf8')).toBe(text(secret, 'tls.crt'));
    const peer = await handshake(port, text(secret, 'ca.crt'));
    expect(peer.serialNumber.toLowerCase()).toBe(
      new X509Certificate(text(secret, 'tls.crt')).serialNumber.toLowerCase(),
    );
    expect(checkServerIdentity(`${serviceName}.${ns}.svc`, peer)).toBeUndefined();
    await eventually('the caBundles to be set', async () => {
      const vwc = await cs.admissionregistrationV1().validatingWebhookConfigurations().get(vwcName);
      const crd = await cs.apiextensionsV1().customResourceDefinitions().get(crdName);
      return (
        vwc.webhooks?.every((w) => w.clientConfig.caBundle === secret.data!['ca.crt']) &&
        crd.spec.conversion?.webhook?.clientConfig?.caBundle === secret.data!['ca.crt']
      );
    });
  });

  it('works with exactly the RBAC rules its doc lists, narrowed by resourceNames', async () => {
    const { ns, vwcName, crdName } = await fixture(cs, 'certs-rbac-ok');
    const name = uniqueName('cert-provisioner');
    const user = await (await connectToControlPlane(sharedCluster().workDir)).addUser({ name });
    const rbac = cs.rbacAuthorizationV1();
    await rbac.roles(ns).create({
      metadata: { name },
      rules: [
        {
          apiGroups: [''],
          resources: ['secrets'],
          verbs: ['get', 'list', 'watch', 'update'],
          resourceNames: [secretName],
        },
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      ],
    });
    await rbac.roleBindings(ns).create({
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'User', name }],
    });
    await rbac.clusterRoles().create({
      metadata: { name },
      rules: [
        {
          apiGroups: ['admissionregistration.k8s.io'],
          resources: ['validatingwebhookconfigurations'],
          verbs: ['get', 'patch'],
          resourceNames: [vwcName],
        },
        {
          apiGroups: ['apiextensions.k8s.io'],
          resources: ['customresourcedefinitions'],
          verbs: ['get', 'patch'],
          resourceNames: [crdName],
        },
      ],
    });
    cleanups.push(() => rbac.clusterRoles().delete(name));
    await rbac.clusterRoleBindings().create({
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [{ kind: 'User', name }],
    });
    cleanups.push(() => rbac.clusterRoleBindings().delete(name));

    const lines: unknown[] = [];
    const certDir = await mkdtemp(join(tmpdir(), 'certs-'));
    cleanups.push(() => rm(certDir, { recursive: true, force: true }));
    await startProvisioner({
      clientset: createClientset(user),
      namespace: ns,
      secretName,
      serviceName,
      validatingWebhookConfigurations: [vwcName],
      crds: [crdName],
      certDir,
      log: captureLog(lines),
    });
    const secret = await cs.coreV1().secrets(ns).get(secretName);
    await eventually('both caBundles to be set', async () => {
      const vwc = await cs.admissionregistrationV1().validatingWebhookConfigurations().get(vwcName);
      const crd = await cs.apiextensionsV1().customResourceDefinitions().get(crdName);
      return (
        vwc.webhooks?.every((w) => w.clientConfig.caBundle === secret.data!['ca.crt']) &&
        crd.spec.conversion?.webhook?.clientConfig?.caBundle === secret.data!['ca.crt']
      );
    });
    expect(lines.filter((l) => (l as { level: string }).level !== 'info')).toEqual([]);
  });

  it('logs what RBAC forbids and retries, creating nothing', async () => {
    const ns = await createTestNamespace(config, 'certs-rbac');
    // A user the API server knows and RBAC grants nothing.
    const user = await (await connectToControlPlane(sharedCluster().workDir)).addUser({ name: uniqueName('nobody') });
    const lines: unknown[] = [];
    const provisioner = createCertProvisioner({
      clientset: createClientset(user),
      namespace: ns,
      secretName,
      serviceName,
      log: captureLog(lines),
    });
    const stop = new AbortController();
    const leader = provisioner.leader.start(stop.signal);
    cleanups.push(async () => {
      stop.abort();
      await leader;
    });
    const failure = await eventually(
      'a logged failure',
      () =>
        lines.find((l) => (l as { msg?: string }).msg === 'webhook certificates not reconciled; retrying') as
          | { error: string }
          | undefined,
      30_000,
    );
    expect(failure.error).toContain(`secrets "${secretName}" is forbidden: User`);
    expect(failure.error).toContain(`cannot get resource "secrets" in API group "" in the namespace "${ns}"`);
    expect(
      await cs
        .coreV1()
        .secrets(ns)
        .get(secretName)
        .catch((err: unknown) => (isNotFound(err) ? 'absent' : err)),
    ).toBe('absent');
  });
});
