import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Reflector } from '../../sdk/cache/index.js';
import {
  TransportError,
  createDynamicClient,
  execPluginHealth,
  inClusterConfig,
  restClientFor,
  type ConfigMap,
  type RestConfig,
  type Unstructured,
  type WatchEvent,
} from '../../sdk/client/index.js';
import { connectToControlPlane } from '../../sdk/envtest/index.js';
import { createManager } from '../../sdk/manager/index.js';
import { createCertificateAuthority } from '../../sdk/webhook/index.js';
import { createTestNamespace, sharedCluster, uniqueName, whoAmI } from '../support/cluster.js';
import { managerRunner } from '../support/managers.js';
import { eventually, freePort, httpGet } from '../support/wait.js';

/** The user name the API server sees for `config`. */
const userName = async (config: RestConfig): Promise<string> => (await whoAmI(config)).username;

/** The transport looks at certificate files at most once a second (client-go reads them at most once a second too). */
const afterTheNextLook = (): Promise<void> => new Promise((r) => setTimeout(r, 1100));

/** Replaces a file the way the kubelet and cert-manager do: a new file renamed over the old one. */
async function replaceFile(path: string, text: string): Promise<void> {
  await writeFile(`${path}.new`, text);
  await rename(`${path}.new`, path);
}

const core = { group: '', version: 'v1' };
const silent = pino({ level: 'silent' });

describe('certificate files rotated under a running client (client-go’s certificate and CA reloading)', () => {
  const { config, workDir } = sharedCluster();
  let dir: string;
  let ns: string;
  const bare = (): RestConfig => ({ host: config.host, serverName: config.serverName! });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubeloop-rotation-'));
    ns = await createTestNamespace(config, 'rotation');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a client certificate and key rotated to another user: the next request is that user, and old connections close', async () => {
    const env = await connectToControlPlane(workDir);
    const [first, second] = [uniqueName('first-user'), uniqueName('second-user')];
    const a = await env.addUser({ name: first, groups: ['system:masters'] });
    const b = await env.addUser({ name: second, groups: ['system:masters'] });
    const certFile = join(dir, 'client.crt');
    const keyFile = join(dir, 'client.key');
    await writeFile(certFile, a.certData!);
    await writeFile(keyFile, a.keyData!);
    const fromFiles: RestConfig = { ...bare(), caData: config.caData!, certFile, keyFile };
    expect(await userName(fromFiles)).toBe(first);

    // A watch on a pooled connection of the first user, open before the rotation.
    const watch = restClientFor(fromFiles, { groupVersion: core })
      .get()
      .namespace(ns)
      .resource('configmaps')
      .watch<ConfigMap>();
    const seen: WatchEvent<ConfigMap>[] = [];
    const watchEnded = (async () => {
      for await (const event of watch) seen.push(event);
    })().then(
      () => 'ended',
      (err: unknown) => `failed: ${(err as Error).message}`,
    );
    await createDynamicClient(config)
      .resource({ ...core, resource: 'configmaps' })
      .namespace(ns)
      .create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'before' } });
    await eventually('the watch to see the first ConfigMap', () =>
      seen.some((e) => e.object.metadata?.name === 'before'),
    );

    // Half-way through a rotation (the new certificate, the old key) the pair is not used: the old one stays.
    await replaceFile(certFile, b.certData!);
    await afterTheNextLook();
    expect(await userName(fromFiles)).toBe(first);

    await replaceFile(keyFile, b.keyData!);
    await afterTheNextLook();
    expect(await userName(fromFiles)).toBe(second);
    // The watch made with the old pair was cut, as client-go closes its connections when the certificate rotates.
    expect(await watchEnded).toMatch(/^failed: /);
    expect(await userName(fromFiles)).toBe(second);
  });

  it('a CA file: new connections verify against what it holds now; an empty or broken file keeps the CA in hand', async () => {
    const other = await createCertificateAuthority('not-the-cluster-ca');
    const caFile = join(dir, 'ca.crt');
    await writeFile(caFile, other.certPem);
    const fromFile: RestConfig = { ...bare(), caFile, certData: config.certData!, keyData: config.keyData! };
    await expect(userName(fromFile)).rejects.toThrow(/not signed by a trusted certificate authority/);

    await replaceFile(caFile, config.caData!);
    await afterTheNextLook();
    expect(await userName(fromFile)).toMatch(/admin/);

    for (const broken of ['', 'not a certificate\n']) {
      await replaceFile(caFile, broken);
      await afterTheNextLook();
      expect(await userName(fromFile)).toMatch(/admin/);
    }

    // Back to a CA that did not sign the server: the pooled connection verified with the right one is not reused.
    await replaceFile(caFile, other.certPem);
    await afterTheNextLook();
    const err = await userName(fromFile).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as Error).message).toMatch(/not signed by a trusted certificate authority/);
  });

  it('the in-cluster ca.crt, rotated by the kubelet, is used by new connections', async () => {
    const dyn = createDynamicClient(config);
    const sa = dyn.resource({ ...core, resource: 'serviceaccounts' }).namespace(ns);
    await sa.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'rotating' } });
    const { status } = await sa.createSubresource<{ status: { token: string } }>('rotating', 'token', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 3600 },
    });
    const saDir = join(dir, 'serviceaccount');
    await mkdir(saDir);
    await writeFile(join(saDir, 'token'), status.token);
    await writeFile(join(saDir, 'ca.crt'), (await createCertificateAuthority('old-cluster-ca')).certPem);
    const url = new URL(config.host);
    const inCluster = await inClusterConfig({
      serviceAccountDir: saDir,
      env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port },
    });
    expect(inCluster.caFile).toBe(join(saDir, 'ca.crt'));
    // The serving certificate names localhost, not the address: in a cluster it names the service IP.
    const pod: RestConfig = { ...inCluster, serverName: 'localhost' };
    await expect(userName(pod)).rejects.toThrow(/not signed by a trusted certificate authority/);

    await replaceFile(join(saDir, 'ca.crt'), config.caData!);
    await afterTheNextLook();
    expect(await userName(pod)).toBe(`system:serviceaccount:${ns}:rotating`);
  });
});

describe('exec credential plugins under load, hung and aborted', () => {
  const { config } = sharedCluster();
  const run = managerRunner();
  let dir: string;
  let ns: string;
  let token: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kubeloop-exec-'));
    ns = await createTestNamespace(config, 'exec');
    const sa = createDynamicClient(config)
      .resource({ ...core, resource: 'serviceaccounts' })
      .namespace(ns);
    await sa.create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'plugin-bot' } });
    token = (
      await sa.createSubresource<{ status: { token: string } }>('plugin-bot', 'token', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 3600 },
      })
    ).status.token;
    const rbac = restClientFor(config, { groupVersion: { group: 'rbac.authorization.k8s.io', version: 'v1' } });
    await rbac
      .post()
      .namespace(ns)
      .resource('roles')
      .body({
        metadata: { name: 'read-configmaps' },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'] }],
      })
      .do()
      .into();
    await rbac
      .post()
      .namespace(ns)
      .resource('rolebindings')
      .body({
        metadata: { name: 'read-configmaps' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-configmaps' },
        subjects: [{ kind: 'ServiceAccount', name: 'plugin-bot', namespace: ns }],
      })
      .do()
      .into();
    // A plugin that counts its runs and gives its token once the test creates its gate file.
    await writeFile(
      join(dir, 'plugin.mjs'),
      [
        "import { appendFileSync, existsSync } from 'node:fs';",
        'appendFileSync(process.env.COUNT_FILE, "run\\n");',
        'while (!existsSync(process.env.GATE_FILE)) await new Promise((r) => setTimeout(r, 10));',
        "process.stdout.write(JSON.stringify({ apiVersion: 'client.authentication.k8s.io/v1', kind: 'ExecCredential', status: { token: process.env.PLUGIN_TOKEN } }));",
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A config whose plugin waits for `release()`; runs counts its runs. */
  function gatedPlugin(
    name: string,
    more: Partial<RestConfig> = {},
  ): { config: RestConfig; runs: () => Promise<number>; release: () => Promise<void> } {
    const countFile = join(dir, `${name}.count`);
    const gate = join(dir, `${name}.gate`);
    return {
      config: {
        host: config.host,
        caData: config.caData!,
        serverName: config.serverName!,
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: process.execPath,
          args: [join(dir, 'plugin.mjs')],
          env: [
            { name: 'COUNT_FILE', value: countFile },
            { name: 'GATE_FILE', value: gate },
            { name: 'PLUGIN_TOKEN', value: token },
          ],
          interactiveMode: 'Never',
        },
        ...more,
      },
      runs: async () => (await readFile(countFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).length,
      release: () => writeFile(gate, ''),
    };
  }

  it('concurrent requests, from one config and from an equal one, share one plugin run', async () => {
    const plugin = gatedPlugin('shared');
    const requests = [
      ...Array.from({ length: 4 }, () => userName(plugin.config)),
      ...Array.from({ length: 4 }, () => userName({ ...plugin.config })),
    ];
    await eventually('the plugin to start', async () => (await plugin.runs()) === 1);
    await plugin.release();
    expect(new Set(await Promise.all(requests))).toEqual(new Set([`system:serviceaccount:${ns}:plugin-bot`]));
    expect(await plugin.runs()).toBe(1);
  });

  it('a hung plugin: requests give up at their timeout or signal, informers and /readyz show it, naming the command only', async () => {
    const probePort = await freePort();
    const mgr = await createManager({
      config,
      metricsBindAddress: '0',
      healthProbeBindAddress: `127.0.0.1:${probePort}`,
      logger: silent,
    });
    run(mgr);
    await eventually(
      'the manager ready',
      async () => (await httpGet(`http://127.0.0.1:${probePort}/readyz`)).status === 200,
    );

    const plugin = gatedPlugin('hung', { timeoutMs: 300 });
    const err = await userName(plugin.config).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect((err as Error).message).toMatch(
      /timed out after 300 ms waiting for the exec plugin .*node.* to give a credential/,
    );

    // An aborted request rejects at once with its signal's reason, while the plugin still runs.
    const abort = new AbortController();
    const aborted = restClientFor(plugin.config, { groupVersion: core })
      .get()
      .resource('namespaces')
      .do({ signal: abort.signal })
      .into();
    const reason = new Error('the caller went away');
    abort.abort(reason);
    await expect(aborted).rejects.toBe(reason);

    // A watch has no timeout of its own: it waits for a credential as long as the config's timeoutMs (else 60 s).
    const watch = restClientFor(plugin.config, { groupVersion: core })
      .get()
      .namespace(ns)
      .resource('configmaps')
      .watch();
    const watchErr = await watch[Symbol.asyncIterator]()
      .next()
      .catch((e: unknown) => e);
    expect(watchErr).toBeInstanceOf(TransportError);
    expect((watchErr as Error).message).toMatch(
      /gave up after 300 ms waiting for the exec plugin .*node.* to give a credential/,
    );

    // An informer listing with that config records the timeout as its last error.
    const reflector = new Reflector<Unstructured>({
      listerWatcher: createDynamicClient(plugin.config)
        .resource({ ...core, resource: 'configmaps' })
        .namespace(ns),
      store: { replace() {}, add() {}, update() {}, delete() {} },
      initialList: 'list',
      listTimeoutMs: 300,
    });
    const stopReflector = new AbortController();
    const reflecting = reflector.start(stopReflector.signal);
    const failed = await eventually('the informer to record the timeout', () => reflector.health().lastError);
    expect(failed).toMatchObject({ during: 'list', code: 'ERR_KUBE_TRANSPORT' });
    expect(failed.message).toMatch(/waiting for the exec plugin .*node.* to give a credential/);

    const stuck = execPluginHealth().find((h) => h.stuck);
    expect(stuck).toMatchObject({ command: process.execPath, running: true });
    const ready = await httpGet(`http://127.0.0.1:${probePort}/readyz?verbose`);
    expect(ready.status).toBe(503);
    expect(ready.text).toMatch(
      /\[-\]credentials failed: exec plugin .*node has run for \d+ s without giving a credential \(\d+ requests timed out waiting for it\)/,
    );
    expect(ready.text).not.toContain(token);
    expect(ready.text).not.toContain('plugin.mjs');

    // The plugin ends: the run every waiter shared gives its credential; nothing is stuck any more.
    await plugin.release();
    await eventually('the informer to sync', () => reflector.health().synced);
    expect(await userName(plugin.config)).toBe(`system:serviceaccount:${ns}:plugin-bot`);
    expect(await plugin.runs()).toBe(1);
    expect(execPluginHealth().some((h) => h.stuck)).toBe(false);
    expect((await httpGet(`http://127.0.0.1:${probePort}/readyz/credentials`)).status).toBe(200);
    stopReflector.abort();
    await reflecting;
  });
});
