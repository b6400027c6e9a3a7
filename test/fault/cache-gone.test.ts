import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResourceClientFactory, type KubeObject, type ResourceDescriptor } from '../../sdk/client/index.js';
import { createSharedIndexInformer, isDeletedFinalStateUnknown, type ListerWatcher } from '../../sdk/cache/index.js';
import { startControlPlane, type ControlPlane } from '../../sdk/envtest/index.js';
import { createTestNamespace } from '../support/cluster.js';
import { startFaultProxy, type FaultProxy } from '../../sdk/testing/index.js';
import { eventually } from '../support/wait.js';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}
const ConfigMap: ResourceDescriptor<ConfigMap> = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  plural: 'configmaps',
  namespaced: true,
};

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function etcd(env: ControlPlane, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await request(`${env.etcdUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });
  const json = (await res.body.json()) as Record<string, unknown>;
  if (res.statusCode !== 200) throw new Error(`etcd ${path}: HTTP ${res.statusCode} ${JSON.stringify(json)}`);
  return json;
}

// Without the API server's watch cache, watches are served by etcd itself, so compacting etcd makes an older
// resourceVersion too old for real: the server answers 410 Gone (in the stream) to the resumed watch.
describe('410 Gone after an etcd compaction (own control plane, watch cache off)', () => {
  let env: ControlPlane;
  let proxy: FaultProxy;

  beforeAll(async () => {
    env = await startControlPlane({ kubernetesVersion: '1.37.2', apiServerFlags: ['--watch-cache=false'] });
    proxy = await startFaultProxy({ target: env.config });
  });
  afterAll(async () => {
    await proxy?.close();
    await env?.stop();
  });

  it('relists once, not in a loop, and reports what vanished as tombstones', async () => {
    const ns = await createTestNamespace(env.config, 'gone');
    const direct = createResourceClientFactory(env.config).resource(ConfigMap).namespace(ns);
    for (let i = 0; i < 10; i++)
      await direct.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { v: '0' } });

    const calls: string[] = [];
    const viaProxy = createResourceClientFactory(proxy.config).resource(ConfigMap).namespace(ns);
    const lw: ListerWatcher<ConfigMap> = {
      list: (o) => {
        calls.push('list');
        return viaProxy.list(o);
      },
      watch: (o) => {
        calls.push(o.sendInitialEvents ? 'watch-list' : `watch from ${o.resourceVersion}`);
        return viaProxy.watch(o);
      },
    };
    const deleted = new Map<string, string>();
    const controller = new AbortController();
    const informer = createSharedIndexInformer<ConfigMap>(lw, { name: 'gone' });
    informer.addEventHandler({
      onDelete: (o) => {
        if (isDeletedFinalStateUnknown(o)) deleted.set(o.key, `tombstone v=${o.obj.data?.['v']}`);
        else deleted.set(`${o.metadata?.namespace}/${o.metadata?.name}`, 'final');
      },
    });
    const running = informer.start(controller.signal);
    await informer.waitForSync();
    const syncedRv = Number(informer.lastSyncResourceVersion());
    await eventually(
      'a watch',
      () => calls.some((c) => c.startsWith('watch from')) || calls.at(-1) === 'watch-list',
      30_000,
    );

    // Cut the informer off, change things, and compact etcd past the informer's resourceVersion.
    proxy.setMode('drop');
    for (let i = 0; i < 3; i++) await direct.delete(`cm-${i}`);
    for (let i = 3; i < 6; i++) await direct.update({ ...(await direct.get(`cm-${i}`)), data: { v: '1' } });
    const status = await etcd(env, '/v3/maintenance/status', {});
    const revision = String((status['header'] as { revision: string }).revision);
    expect(Number(revision)).toBeGreaterThan(syncedRv);
    await etcd(env, '/v3/kv/compaction', { revision, physical: true });
    const callsBefore = calls.length;
    proxy.setMode('pass');

    await eventually('the relist', () => informer.health().relists === 1 && informer.health().watching, 30_000);
    await eventually('seven objects', () => informer.getIndexer().size === 7, 30_000);
    await sleep(2000);
    expect(informer.health().relists).toBe(1);
    const after = calls.slice(callsBefore);
    expect(after.filter((c) => c === 'list' || c === 'watch-list')).toHaveLength(1);
    for (let i = 0; i < 3; i++) expect(deleted.get(`${ns}/cm-${i}`)).toBe('tombstone v=0');
    for (let i = 3; i < 6; i++) expect(informer.getIndexer().getByKey(`${ns}/cm-${i}`)?.data?.['v']).toBe('1');
    expect(informer.health().lastError).toBeUndefined();
    controller.abort();
    await running;
  });
});
