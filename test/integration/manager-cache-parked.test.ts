// Informers of custom resources whose CRD is absent (parked, then resumed), watches added after the manager started,
// and stopping an informer nothing needs (issue #14, item 5), against the real API server. removeInformer with
// readerFailOnMissingInformer is in manager-declared-indexes.test.ts.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  ConfigMap,
  createClientset,
  createDynamicClient,
  defineResource,
  isNotFound,
  type KubeObject,
} from '../../sdk/client/index.js';
import { controllerFor, createManager, type Manager } from '../../sdk/manager/index.js';
import { createTestNamespace, installCrd, sharedCluster, uniqueName } from '../support/cluster.js';
import { managerRunner } from '../support/managers.js';
import { eventually, freePort, httpGet } from '../support/wait.js';

const run = managerRunner();
const silent = pino({ level: 'silent' });
/** Short retries, so a CRD installed during a test is found within about a second. */
const backoff = { initialMs: 100, maxMs: 500 };
const crds = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };

describe('informers of absent CRDs, run-time watches and removeInformer against the real API server', () => {
  const { config } = sharedCluster();
  const dyn = createDynamicClient(config);

  async function deleteCrd(name: string): Promise<void> {
    await dyn
      .resource(crds)
      .delete(name)
      .catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
    await eventually(
      `CRD ${name} gone`,
      async () =>
        dyn
          .resource(crds)
          .get(name)
          .then(
            () => false,
            (err: unknown) => isNotFound(err),
          ),
      60_000,
    );
  }

  const waiting = (mgr: Manager, resource: string): boolean | undefined =>
    mgr.cache.health().find((h) => h.resource === resource)?.waitingForResource;

  it('parks a controller of a CRD not installed yet without blocking readiness, resumes it when installed, and again after the CRD is deleted and reinstalled', async () => {
    const ns = await createTestNamespace(config, 'parked');
    const group = `${uniqueName('parked')}.example.com`;
    const Gadget = defineResource<{ size: number }>({ group, version: 'v1', kind: 'Gadget', namespaced: true });
    const resource = `${group}/v1/gadgets`;
    const [metricsPort, probePort] = [await freePort(), await freePort()];
    const mgr = await createManager({
      config,
      cache: { namespaces: [ns], backoff },
      metricsBindAddress: `127.0.0.1:${metricsPort}`,
      healthProbeBindAddress: `127.0.0.1:${probePort}`,
      logger: silent,
    });
    const gadgets: string[] = [];
    const configMaps: string[] = [];
    controllerFor(mgr)
      .for(Gadget)
      .named('gadgets')
      .complete({ reconcile: async (req) => (gadgets.push(req.name), {}) });
    controllerFor(mgr)
      .for(ConfigMap)
      .named('config-maps')
      .complete({ reconcile: async (req) => (configMaps.push(req.name), {}) });
    let failed: unknown;
    const stop = new AbortController();
    const done = mgr.start(stop.signal).catch((err: unknown) => {
      failed = err;
    });
    try {
      // The Gadget informer waits for its resource; the ConfigMap controller runs, and the manager is ready.
      await eventually('the Gadget informer waiting for its resource', () => waiting(mgr, resource) === true);
      await createClientset(config)
        .coreV1()
        .configMaps(ns)
        .create({ metadata: { name: 'cm1' } });
      await eventually('the ConfigMap reconciled', () => configMaps.includes('cm1'));
      const ready = await httpGet(`http://127.0.0.1:${probePort}/readyz?verbose`);
      expect(ready.status).toBe(200);
      const gauge = await httpGet(`http://127.0.0.1:${metricsPort}/metrics`);
      expect(gauge.text).toContain(
        `kubeloop_informer_waiting_for_resource{resource="${resource}",namespace="${ns}"} 1`,
      );
      expect(mgr.cache.health().find((h) => h.resource === resource)).toMatchObject({
        synced: false,
        lastError: { statusCode: 404 },
      });

      // The CRD is installed: the informer lists, the controller's workers start and reconcile what exists.
      await installCrd(config, { group, plural: 'gadgets', kind: 'Gadget' });
      const gadgetsClient = dyn.resource({ group, version: 'v1', resource: 'gadgets' }).namespace(ns);
      await gadgetsClient.create({
        apiVersion: `${group}/v1`,
        kind: 'Gadget',
        metadata: { name: 'g1' },
        spec: { size: 1 },
      });
      await eventually('g1 reconciled', () => gadgets.includes('g1'), 30_000);
      expect(waiting(mgr, resource)).toBe(false);
      expect((await mgr.client.get(Gadget, { namespace: ns, name: 'g1' })).spec).toEqual({ size: 1 });

      // The CRD is deleted while watched: the informer parks again, the manager keeps running.
      await deleteCrd(`gadgets.${group}`);
      await eventually('the Gadget informer parked again', () => waiting(mgr, resource) === true, 30_000);
      // Deleting the CRD deleted its objects first; the cache heard of it before the watch ended.
      await eventually(
        'g1 gone from the cache',
        async () => (await mgr.client.list(Gadget, { namespace: ns })).items.length === 0,
      );
      // Reinstalled: a relist, and the controller hears of the new objects.
      await installCrd(config, { group, plural: 'gadgets', kind: 'Gadget' });
      await gadgetsClient.create({
        apiVersion: `${group}/v1`,
        kind: 'Gadget',
        metadata: { name: 'g2' },
        spec: { size: 2 },
      });
      await eventually('g2 reconciled', () => gadgets.includes('g2'), 30_000);
      expect(waiting(mgr, resource)).toBe(false);
      expect(mgr.cache.health().find((h) => h.resource === resource)!.relists).toBeGreaterThanOrEqual(1);
      expect(failed).toBeUndefined();
    } finally {
      stop.abort();
      await done;
      await deleteCrd(`gadgets.${group}`);
    }
  });

  it('adds a watch at run time for a CRD installed after the manager started, then removes it; a later read starts a fresh informer', async () => {
    const ns = await createTestNamespace(config, 'runtime-watch');
    const group = `${uniqueName('runtime')}.example.com`;
    const Gizmo = defineResource<{ size: number }>({ group, version: 'v1', kind: 'Gizmo', namespaced: true });
    const resource = `${group}/v1/gizmos`;
    const mgr = await createManager({
      config,
      cache: { namespaces: [ns], backoff },
      metricsBindAddress: '0',
      healthProbeBindAddress: '0',
      logger: silent,
    });
    run(mgr);
    await mgr.elected();
    try {
      // After start: the informer starts at once and waits for the CRD.
      const [informer] = mgr.cache.informers(Gizmo);
      const added: string[] = [];
      informer!.addEventHandler({ onAdd: (obj: KubeObject) => void added.push(obj.metadata?.name ?? '') });
      await eventually('the Gizmo informer waiting for its resource', () => waiting(mgr, resource) === true);
      await installCrd(config, { group, plural: 'gizmos', kind: 'Gizmo' });
      const gizmos = dyn.resource({ group, version: 'v1', resource: 'gizmos' }).namespace(ns);
      await gizmos.create({ apiVersion: `${group}/v1`, kind: 'Gizmo', metadata: { name: 'a' }, spec: { size: 1 } });
      await eventually('the handler hearing of a', () => added.includes('a'), 30_000);
      expect((await mgr.client.get(Gizmo, { namespace: ns, name: 'a' })).spec).toEqual({ size: 1 });

      // removeInformer: the watch ends, health and the objects gauge forget it.
      expect(await mgr.cache.removeInformer(Gizmo)).toBe(true);
      expect(informer!.isStopped).toBe(true);
      expect(mgr.cache.health().some((h) => h.resource === resource)).toBe(false);
      const objects = await mgr.metrics.registry.getSingleMetricAsString('kubeloop_informer_objects');
      expect(objects).not.toContain(resource);
      expect(await mgr.cache.removeInformer(Gizmo)).toBe(false);

      // A later read makes a fresh informer with a new list, which has what was created meanwhile.
      await gizmos.create({ apiVersion: `${group}/v1`, kind: 'Gizmo', metadata: { name: 'b' }, spec: { size: 2 } });
      expect((await mgr.client.get(Gizmo, { namespace: ns, name: 'b' })).spec).toEqual({ size: 2 });
      const [fresh] = mgr.cache.informers(Gizmo);
      expect(fresh).not.toBe(informer);
      expect(fresh!.getIndexer().listKeys().toSorted()).toEqual([`${ns}/a`, `${ns}/b`]);
      expect(mgr.cache.health().filter((h) => h.resource === resource)).toHaveLength(1);
      // The stopped informer heard nothing after it was removed.
      expect(added).toEqual(['a']);
    } finally {
      await deleteCrd(`gizmos.${group}`);
    }
  });
});
