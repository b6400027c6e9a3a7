// createInformer (client-go's NewInformer: reflector → DeltaFIFO → store and one handler) and the DeltaFIFO under a
// reflector, against the real API server.
import { describe, expect, it } from 'vitest';
import { ApiError, ConfigMap, createClientset, type Watch, type WatchOptions } from '../../sdk/client/index.js';
import {
  createDeltaFIFO,
  createIndexer,
  createInformer,
  isDeletedFinalStateUnknown,
  Reflector,
  type DeepReadonly,
  type DeletedFinalStateUnknown,
  type Deltas,
  type ListerWatcher,
} from '../../sdk/cache/index.js';
import { createTestNamespace, sharedCluster } from '../support/cluster.js';
import { eventually } from '../support/wait.js';

/** Handler calls as lines: `add a v=0 initial`, `update a 0->1`, `delete b`, `tombstone ns/b`. */
function recorder() {
  const lines: string[] = [];
  return {
    lines,
    handler: {
      onAdd: (cm: DeepReadonly<ConfigMap>, isInInitialList: boolean) =>
        void lines.push(`add ${cm.metadata?.name} v=${cm.data?.['v']}${isInInitialList ? ' initial' : ''}`),
      onUpdate: (oldCm: DeepReadonly<ConfigMap>, cm: DeepReadonly<ConfigMap>) =>
        void lines.push(
          `update ${cm.metadata?.name} ${oldCm.data?.['v']}->${cm.data?.['v']}${oldCm === cm ? ' resync' : ''}`,
        ),
      onDelete: (cm: DeepReadonly<ConfigMap> | DeletedFinalStateUnknown<DeepReadonly<ConfigMap>>) =>
        void lines.push(
          isDeletedFinalStateUnknown(cm)
            ? `tombstone ${cm.key} v=${cm.obj.data?.['v']}`
            : `delete ${cm.metadata?.name}`,
        ),
    },
  };
}

/**
 * A lister-watcher over the real one that can take the watch down: `cut()` closes the open watch and answers the
 * next watches with 410 Gone (as after an etcd compaction) once `restore()` is called, so the reflector relists.
 */
function cuttable(inner: ListerWatcher<ConfigMap>) {
  let open: Watch<ConfigMap> | undefined;
  let outage: { restored: Promise<void>; restore: () => void } | undefined;
  let cutWatches = 0;
  const lw: ListerWatcher<ConfigMap> = {
    list: (options) => inner.list(options),
    watch: (options: WatchOptions) => {
      const current = outage;
      if (!current) return (open = inner.watch(options));
      cutWatches++;
      const gone = ApiError.fromStatus({
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        code: 410,
        reason: 'Expired',
        message: 'too old resource version',
      });
      return {
        [Symbol.asyncIterator]: () => ({
          next: async (): Promise<IteratorResult<never>> => {
            await current.restored;
            throw gone;
          },
        }),
        close: () => undefined,
        [Symbol.asyncDispose]: async () => undefined,
      };
    },
  };
  return {
    lw,
    get cutWatches() {
      return cutWatches;
    },
    cut() {
      let restore!: () => void;
      const restored = new Promise<void>((resolve) => (restore = resolve));
      outage = { restored, restore };
      open?.close();
    },
    restore() {
      outage?.restore();
      outage = undefined;
    },
  };
}

describe('createInformer and the DeltaFIFO against the real API server', () => {
  const { config } = sharedCluster();
  const cs = createClientset(config);

  it('createInformer lists, then tells its handler of adds, updates and deletes with the store in step', async () => {
    const ns = await createTestNamespace(config, 'fifo-informer');
    const cms = cs.coreV1().configMaps(ns);
    for (const name of ['a', 'b', 'c']) await cms.create({ metadata: { name }, data: { v: '0' } });
    const rec = recorder();
    const storeAtCall: string[] = [];
    const informer = createInformer({
      listWatch: cms,
      objectType: ConfigMap,
      handler: {
        ...rec.handler,
        onUpdate: (oldCm, cm) => {
          storeAtCall.push(
            `${cm.metadata?.name}=${informer.getStore().getByKey(`${ns}/${cm.metadata?.name}`)?.data?.['v']}`,
          );
          rec.handler.onUpdate(oldCm, cm);
        },
      },
    });
    const controller = new AbortController();
    const running = informer.start(controller.signal);
    expect(await informer.waitForSync(AbortSignal.timeout(20_000))).toBe(true);
    expect(rec.lines.toSorted()).toEqual(['add a v=0 initial', 'add b v=0 initial', 'add c v=0 initial']);
    const a = informer.getStore().getByKey(`${ns}/a`);
    expect(a?.metadata?.managedFields).toBeUndefined();
    expect(Object.isFrozen(a)).toBe(true);

    rec.lines.length = 0;
    await cms.create({ metadata: { name: 'd' }, data: { v: '1' } });
    let b = await cms.get('b');
    for (const v of ['1', '2']) b = await cms.update({ ...b, data: { v } });
    await cms.delete('c');
    await eventually('four calls', () => rec.lines.length === 4);
    expect(rec.lines).toEqual(['add d v=1', 'update b 0->1', 'update b 1->2', 'delete c']);
    expect(storeAtCall).toEqual(['b=1', 'b=2']);

    const server = await cms.list();
    expect(informer.getStore().listKeys().toSorted()).toEqual(
      server.items.map((cm) => `${ns}/${cm.metadata?.name}`).toSorted(),
    );
    expect(informer.lastSyncResourceVersion()).not.toBe('');
    expect(informer.health()).toMatchObject({ synced: true, watching: true, relists: 0, lastError: undefined });
    controller.abort();
    await running;
    expect(informer.health().watching).toBe(false);
  });

  it('createInformer resyncs every period, and reports a deletion missed while the watch was down as a tombstone', async () => {
    const ns = await createTestNamespace(config, 'fifo-relist');
    const cms = cs.coreV1().configMaps(ns);
    for (const name of ['a', 'gone']) await cms.create({ metadata: { name }, data: { v: '0' } });
    const link = cuttable(cms);
    const rec = recorder();
    const informer = createInformer({
      listWatch: link.lw,
      handler: rec.handler,
      resyncPeriodMs: 1000,
      backoff: { initialMs: 10, maxMs: 20 },
    });
    const controller = new AbortController();
    const running = informer.start(controller.signal);
    expect(await informer.waitForSync(AbortSignal.timeout(20_000))).toBe(true);
    await eventually('a resync of both objects', () => rec.lines.filter((l) => l.endsWith('resync')).length >= 2, 5000);
    expect(
      rec.lines
        .filter((l) => l.endsWith('resync'))
        .toSorted()
        .slice(0, 2),
    ).toEqual(['update a 0->0 resync', 'update gone 0->0 resync']);

    link.cut();
    await eventually('the reflector to watch again', () => link.cutWatches > 0);
    await cms.delete('gone');
    await cms.update({ ...(await cms.get('a')), data: { v: '1' } });
    rec.lines.length = 0;
    link.restore();
    await eventually('the relist', () => rec.lines.some((l) => l.startsWith('tombstone')));
    expect(rec.lines.filter((l) => !l.endsWith('resync'))).toEqual(['update a 0->1', `tombstone ${ns}/gone v=0`]);
    expect(informer.getStore().listKeys()).toEqual([`${ns}/a`]);
    expect(informer.health().relists).toBe(1);
    controller.abort();
    await running;
  });

  it('a DeltaFIFO is a reflector’s store: Replaced for the list, then each watch event as a delta', async () => {
    const ns = await createTestNamespace(config, 'fifo-reflector');
    const cms = cs.coreV1().configMaps(ns);
    await cms.create({ metadata: { name: 'a' }, data: { v: '0' } });
    const store = createIndexer<ConfigMap>();
    const fifo = createDeltaFIFO<ConfigMap>({ knownObjects: store, emitDeltaTypeReplaced: true });
    const controller = new AbortController();
    const reflecting = new Reflector<ConfigMap>({ listerWatcher: cms, store: fifo }).start(controller.signal);
    const seen: string[] = [];
    const apply = (deltas: Deltas<ConfigMap>): void => {
      for (const d of deltas) {
        const obj = isDeletedFinalStateUnknown(d.object) ? d.object.obj : d.object;
        seen.push(`${d.type} ${obj.metadata?.name} v=${obj.data?.['v']}`);
        if (d.type === 'Deleted') store.deleteByKey(fifo.keyOf(d.object));
        else store.add(d.object);
      }
    };
    await fifo.pop(apply);
    expect(fifo.hasSynced()).toBe(true);
    expect(seen).toEqual(['Replaced a v=0']);

    let a = await cms.update({ ...(await cms.get('a')), data: { v: '1' } });
    a = await cms.update({ ...a, data: { v: '2' } });
    await cms.create({ metadata: { name: 'b' }, data: { v: '0' } });
    await cms.delete('a');
    // Nothing popped meanwhile: a's changes gather in one entry, ahead of b's.
    await eventually('the watch events', () => fifo.length === 2 && fifo.getByKey(`${ns}/a`)?.length === 3);
    expect(fifo.listKeys()).toEqual([`${ns}/a`, `${ns}/b`]);
    while (fifo.length > 0) await fifo.pop(apply);
    expect(seen.slice(1)).toEqual(['Updated a v=1', 'Updated a v=2', 'Deleted a v=2', 'Added b v=0']);
    expect(store.listKeys()).toEqual([`${ns}/b`]);

    controller.abort();
    fifo.close();
    await reflecting;
    await expect(fifo.pop(apply)).rejects.toMatchObject({ code: 'ERR_KUBE_FIFO_CLOSED' });
  });
});
