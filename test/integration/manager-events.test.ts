import { describe, expect, it } from 'vitest';
import { createClientset, type ConfigMap, type eventsv1 } from '../../sdk/client/index.js';
import { connectToControlPlane } from '../../sdk/envtest/index.js';
import { createEventRecorder } from '../../sdk/manager/events.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';

function recordingLog(): {
  warnings: { obj: object; msg: string }[];
  debug(): void;
  warn(obj: object, msg: string): void;
} {
  const warnings: { obj: object; msg: string }[] = [];
  return { warnings, debug: () => {}, warn: (obj, msg) => warnings.push({ obj, msg }) };
}

describe('EventRecorder against the real API server', () => {
  const { config } = sharedCluster();
  const cs = createClientset(config);

  async function configMap(ns: string, name: string): Promise<ConfigMap> {
    return cs
      .coreV1()
      .configMaps(ns)
      .create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } });
  }

  it('records an events.k8s.io/v1 Event that reads back with every field, and as a core/v1 Event', async () => {
    const ns = await createTestNamespace(config, 'events');
    const cm = await configMap(ns, 'settings');
    const log = recordingLog();
    const rec = createEventRecorder({ config, component: 'example.com/widget-controller', instance: 'replica-a', log });
    rec.event(cm, 'Warning', 'InvalidSetting', 'key a must be a word', 'Validate');
    await rec.flush();
    await rec.shutdown();

    const events = (await cs.eventsV1().events(ns).list()).items;
    expect(events).toHaveLength(1);
    const ev = events[0]!;
    expect(ev).toMatchObject({
      reportingController: 'example.com/widget-controller',
      reportingInstance: 'replica-a',
      type: 'Warning',
      reason: 'InvalidSetting',
      action: 'Validate',
      note: 'key a must be a word',
      regarding: { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name: 'settings', uid: cm.metadata?.uid },
    });
    expect(ev.metadata?.name).toMatch(/^settings\.[0-9a-f]+$/);
    expect(ev.eventTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(ev.series).toBeUndefined();
    // What `kubectl describe configmap settings` reads.
    const core = (await cs.coreV1().events(ns).list()).items;
    expect(core[0]).toMatchObject({
      involvedObject: { kind: 'ConfigMap', name: 'settings' },
      message: 'key a must be a word',
      reason: 'InvalidSetting',
    });
    expect(log.warnings).toEqual([]);
  });

  it('aggregates repeats into one Event whose series.count grows (create, then PATCH)', async () => {
    const ns = await createTestNamespace(config, 'events-series');
    const cm = await configMap(ns, 'flaky');
    const rec = createEventRecorder({ config, component: 'widget-operator', log: recordingLog() });
    try {
      rec.event(cm, 'Warning', 'SyncFailed', 'the upstream answered 503');
      await rec.flush();
      rec.event(cm, 'Warning', 'SyncFailed', 'the upstream answered 503');
      await rec.flush();
      let events: eventsv1.Event[] = (await cs.eventsV1().events(ns).list()).items;
      expect(events).toHaveLength(1);
      expect(events[0]?.series).toMatchObject({ count: 2, lastObservedTime: expect.stringMatching(/Z$/) });
      const firstName = events[0]?.metadata?.name;

      for (let i = 0; i < 3; i++) rec.event(cm, 'Warning', 'SyncFailed', 'the upstream answered 503');
      rec.event(cm, 'Normal', 'Synced', 'recovered');
      await rec.flush();
      events = (await cs.eventsV1().events(ns).list()).items;
      expect(events).toHaveLength(2);
      const failed = events.find((e) => e.reason === 'SyncFailed');
      expect(failed?.metadata?.name).toBe(firstName);
      expect(failed?.series?.count).toBe(5);
      expect(events.find((e) => e.reason === 'Synced')?.series).toBeUndefined();
      expect((await cs.coreV1().events(ns).list()).items.find((e) => e.reason === 'SyncFailed')?.series?.count).toBe(5);

      // Deleted behind the recorder's back (as TTL expiry does): the next repeat re-creates it, with its series.
      await cs.eventsV1().events(ns).delete(firstName!);
      rec.event(cm, 'Warning', 'SyncFailed', 'the upstream answered 503');
      await rec.flush();
      const again = (await cs.eventsV1().events(ns).list()).items.find((e) => e.reason === 'SyncFailed');
      expect(again?.metadata?.name).toBe(firstName);
      expect(again?.series?.count).toBe(6);
    } finally {
      await rec.shutdown();
    }
  });

  it('records Events about cluster-scoped objects in default', async () => {
    const name = uniqueName('events-node-like');
    const nsObj = await cs.coreV1().namespaces().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    const rec = createEventRecorder({ config, component: 'widget-operator', log: recordingLog() });
    rec.event(nsObj, 'Normal', 'Adopted', `adopted namespace ${name}`);
    await rec.shutdown();
    const found = (await cs.eventsV1().events('default').list()).items.filter((e) => e.regarding?.name === name);
    expect(found).toHaveLength(1);
    expect(found[0]?.regarding).toMatchObject({ kind: 'Namespace', name, uid: nsObj.metadata?.uid });
    await cs.eventsV1().events('default').delete(found[0]!.metadata!.name!);
  });

  it('drops and logs an Event the server forbids, without throwing into the caller', async () => {
    const ns = await createTestNamespace(config, 'events-rbac');
    const cm = await configMap(ns, 'c');
    const access = await connectToControlPlane(sharedCluster().workDir);
    const nobody = await access.addUser({ name: uniqueName('no-events') });
    const log = recordingLog();
    const rec = createEventRecorder({ config: nobody, component: 'widget-operator', log });
    expect(() => rec.event(cm, 'Normal', 'Hello', 'not allowed')).not.toThrow();
    await rec.flush();
    await rec.shutdown();
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]?.msg).toBe('the API server rejected an event; dropped');
    expect(log.warnings[0]?.obj).toMatchObject({ err: { statusCode: 403, reason: 'Forbidden' } });
    expect((await cs.eventsV1().events(ns).list()).items).toEqual([]);
  });
});
