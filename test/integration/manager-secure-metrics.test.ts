import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientset, type Clientset } from '../../sdk/client/index.js';
import { createManager, type Manager } from '../../sdk/manager/index.js';
import { createCertificateAuthority } from '../../sdk/webhook/index.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';
import { managerRunner } from '../support/managers.js';
import { eventually, freePort } from '../support/wait.js';

const silent = pino({ level: 'silent' });
const run = managerRunner();

interface Answer {
  status: number;
  text: string;
  peer: PeerCertificate;
}

/** An HTTPS GET with an optional bearer token, trusting `ca` (or, without one, any certificate). */
function get(port: number, path: string, options: { token?: string; ca?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        servername: 'localhost',
        ...(options.ca ? { ca: options.ca } : { rejectUnauthorized: false }),
        headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      },
      (res) => {
        const peer = (res.socket as TLSSocket).getPeerCertificate();
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text, peer }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function serviceAccountToken(cs: Clientset, ns: string, name: string): Promise<string> {
  await cs.coreV1().serviceAccounts(ns).create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } });
  const issued = await cs
    .coreV1()
    .serviceAccounts(ns)
    .createToken(name, { spec: { expirationSeconds: 3600 } });
  return issued.status?.token ?? '';
}

describe('secure metrics: HTTPS, TokenReview and SubjectAccessReview against the API server', () => {
  const { config } = sharedCluster();
  const cs = createClientset(config);
  const role = uniqueName('metrics-reader');
  let ns: string;
  let reader: string;
  let stranger: string;

  beforeAll(async () => {
    ns = await createTestNamespace(config, 'secure-metrics');
    reader = await serviceAccountToken(cs, ns, 'prometheus');
    stranger = await serviceAccountToken(cs, ns, 'stranger');
    // kubebuilder's metrics-reader ClusterRole, bound to the prometheus ServiceAccount only.
    await cs
      .rbacAuthorizationV1()
      .clusterRoles()
      .create({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: role },
        rules: [{ nonResourceURLs: ['/metrics', '/debug/pprof/*'], verbs: ['get'] }],
      });
    await cs
      .rbacAuthorizationV1()
      .clusterRoleBindings()
      .create({
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: role },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects: [{ kind: 'ServiceAccount', name: 'prometheus', namespace: ns }],
      });
  });

  afterAll(async () => {
    await cs
      .rbacAuthorizationV1()
      .clusterRoleBindings()
      .delete(role)
      .catch(() => undefined);
    await cs
      .rbacAuthorizationV1()
      .clusterRoles()
      .delete(role)
      .catch(() => undefined);
  });

  async function startSecure(certDir: string, profiling = false): Promise<{ mgr: Manager; port: number }> {
    const port = await freePort();
    const mgr = await createManager({
      config,
      cache: { namespaces: [ns] },
      metrics: { bindAddress: `127.0.0.1:${port}`, secureServing: true, authorize: true, certDir, profiling },
      healthProbeBindAddress: '0',
      logger: silent,
    });
    run(mgr);
    await eventually('the metrics server listens', () =>
      get(port, '/metrics').then(
        () => true,
        () => false,
      ),
    );
    return { mgr, port };
  }

  it('answers 401 without a token, 403 to a ServiceAccount without the role, 200 with the metrics to one with it', async () => {
    // A certificate in certDir, as cert-manager would mount it: served, and verified here against its CA.
    const certDir = await mkdtemp(join(tmpdir(), 'metrics-certs-'));
    try {
      const ca = await createCertificateAuthority('metrics-ca');
      const leaf = await ca.sign({
        commonName: 'localhost',
        usage: 'server',
        dnsNames: ['localhost'],
        ipAddresses: ['127.0.0.1'],
      });
      await writeFile(join(certDir, 'tls.crt'), leaf.certPem);
      await writeFile(join(certDir, 'tls.key'), leaf.keyPem);
      const { port } = await startSecure(certDir);

      const anonymous = await get(port, '/metrics', { ca: ca.certPem });
      expect(anonymous.status).toBe(401);
      expect(anonymous.text).not.toContain('controller_runtime');

      const invalid = await get(port, '/metrics', { ca: ca.certPem, token: 'not-a-token' });
      expect(invalid.status).toBe(401);

      const denied = await get(port, '/metrics', { ca: ca.certPem, token: stranger });
      expect(denied.status).toBe(403);
      expect(denied.text).toBe(`Authorization denied for user system:serviceaccount:${ns}:stranger\n`);

      const allowed = await get(port, '/metrics', { ca: ca.certPem, token: reader });
      expect(allowed.status).toBe(200);
      expect(allowed.text).toContain('# TYPE rest_client_requests_total counter');
      expect(allowed.text).toContain('kubeloop_informer_synced');
      // Cached: the same answers again.
      expect((await get(port, '/metrics', { ca: ca.certPem, token: reader })).status).toBe(200);
      expect((await get(port, '/metrics', { ca: ca.certPem, token: stranger })).status).toBe(403);
      // Profiling is off by default: its paths do not exist.
      expect((await get(port, '/debug/pprof/profile?seconds=1', { ca: ca.certPem, token: reader })).status).toBe(404);
    } finally {
      await rm(certDir, { recursive: true, force: true });
    }
  });

  it('serves a self-signed certificate for localhost when certDir has none, as controller-runtime', async () => {
    const { port } = await startSecure(join(tmpdir(), uniqueName('no-certs')));
    const answer = await get(port, '/metrics', { token: reader });
    expect(answer.status).toBe(200);
    expect(answer.peer.subject.CN).toBe('localhost');
    expect(answer.peer.subjectaltname).toContain('IP Address:127.0.0.1');
  });

  it('takes a CPU profile behind the same authorization, as a .cpuprofile Chrome DevTools opens', async () => {
    const { port } = await startSecure(join(tmpdir(), uniqueName('no-certs')), true);
    expect((await get(port, '/debug/pprof/profile?seconds=1')).status).toBe(401);
    expect((await get(port, '/debug/pprof/profile?seconds=1', { token: stranger })).status).toBe(403);
    expect((await get(port, '/debug/pprof/profile?seconds=0', { token: reader })).status).toBe(400);

    const answer = await get(port, '/debug/pprof/profile?seconds=1', { token: reader });
    expect(answer.status).toBe(200);
    const profile = JSON.parse(answer.text) as {
      nodes: { id: number; callFrame: { functionName: string } }[];
      startTime: number;
      endTime: number;
      samples: number[];
      timeDeltas: number[];
    };
    expect(profile.nodes.length).toBeGreaterThan(0);
    expect(profile.nodes[0]!.callFrame.functionName).toBe('(root)');
    expect(profile.samples.length).toBe(profile.timeDeltas.length);
    const ids = new Set(profile.nodes.map((n) => n.id));
    expect(profile.samples.every((id) => ids.has(id))).toBe(true);
    expect(profile.endTime - profile.startTime).toBeGreaterThanOrEqual(1_000_000 * 0.9);
  });

  it('refuses authorization over plain HTTP, and a bind address given twice', async () => {
    await expect(
      createManager({ config, metrics: { bindAddress: ':0', authorize: true }, logger: silent }),
    ).rejects.toMatchObject({
      code: 'ERR_MANAGER_OPTIONS',
      message: 'metrics.authorize needs metrics.secureServing: bearer tokens are not accepted over plain HTTP',
    });
    await expect(
      createManager({ config, metricsBindAddress: ':0', metrics: { bindAddress: ':0' }, logger: silent }),
    ).rejects.toMatchObject({
      code: 'ERR_MANAGER_OPTIONS',
    });
  });
});
