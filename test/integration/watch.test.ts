import { describe, expect, it } from 'vitest';
import { createDynamicClient, type KubeObject, type Unstructured, type WatchEvent } from '../../sdk/client/index.js';
import { connectionStats } from '../../sdk/client/transport/dispatchers.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';
import { eventually } from '../support/wait.js';

const configMaps = { group: '', version: 'v1', resource: 'configmaps' };

/** Watch streams still open on kubeloop's connections (each stream has a connection of its own while it is open). */
function openStreams(): number {
  return connectionStats().streams.running;
}

describe('watch against the real API server', () => {
  const { config } = sharedCluster();
  const dyn = createDynamicClient(config);

  it('delivers ADDED, MODIFIED and DELETED in order, and bookmarks when asked', async () => {
    const ns = await createTestNamespace(config, 'watch');
    const cms = dyn.resource(configMaps).namespace(ns);
    const list = await cms.list();
    const events: WatchEvent<Unstructured>[] = [];
    const watch = cms.watch({ resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true });
    const consumed = (async () => {
      for await (const ev of watch) {
        events.push(ev);
        if (ev.type === 'DELETED') break;
      }
    })();
    const name = uniqueName('w');
    await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: '1' } });
    await cms.patch(name, { data: { v: '2' } }, { patchType: 'merge' });
    await cms.delete(name);
    await consumed;
    const own = events.filter((e) => e.type !== 'BOOKMARK');
    expect(own.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    expect(own.map((e) => (e.object as { data?: { v?: string } }).data?.v)).toEqual(['1', '2', '2']);
    expect(own.every((e) => e.object.kind === 'ConfigMap' && e.object.apiVersion === 'v1')).toBe(true);
  });

  it('sends the initial state then an initial-events-end bookmark with sendInitialEvents (WatchList)', async () => {
    const ns = await createTestNamespace(config, 'watchlist');
    const cms = dyn.resource(configMaps).namespace(ns);
    for (const n of ['a', 'b', 'c']) await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n } });
    const seen: string[] = [];
    let end: KubeObject | undefined;
    for await (const ev of cms.watch({
      sendInitialEvents: true,
      resourceVersionMatch: 'NotOlderThan',
      allowWatchBookmarks: true,
    })) {
      if (ev.type === 'ADDED') seen.push(ev.object.metadata?.name ?? '');
      if (ev.type === 'BOOKMARK' && ev.object.metadata?.annotations?.['k8s.io/initial-events-end'] === 'true') {
        end = ev.object;
        break;
      }
    }
    expect(seen.toSorted()).toEqual(['a', 'b', 'c']);
    expect(end?.metadata?.resourceVersion).toBeTruthy();
  });

  it('stops on abort through a signal and through break, leaving no sockets behind', async () => {
    const ns = await createTestNamespace(config, 'abort');
    const cms = dyn.resource(configMaps).namespace(ns);
    const controller = new AbortController();
    const iteration = (async () => {
      for await (const _ of cms.watch({ signal: controller.signal })) {
        // nothing arrives in an empty namespace
      }
    })();
    setTimeout(() => controller.abort(new Error('stop watching')), 200);
    await expect(iteration).rejects.toThrow('stop watching');

    await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'one' } });
    let count = 0;
    for await (const _ of cms.watch()) {
      count++;
      break;
    }
    expect(count).toBe(1);
  });

  it('closes the streams of 200 abandoned watches (no leaked sockets)', async () => {
    const ns = await createTestNamespace(config, 'leak');
    const cms = dyn.resource(configMaps).namespace(ns);
    await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'seed' } });
    const before = openStreams();
    const watches = Array.from({ length: 200 }, () => cms.watch());
    // Start each and read its first event, then abandon it in three different ways.
    const iterators = await Promise.all(
      watches.map(async (w) => {
        const iterator = w[Symbol.asyncIterator]();
        await iterator.next();
        return iterator;
      }),
    );
    expect(openStreams()).toBeGreaterThanOrEqual(before + 200); // the watches really are open
    await Promise.all(
      watches.map(async (w, i) => {
        if (i % 3 === 0) w.close();
        else if (i % 3 === 1) await iterators[i]!.return?.(undefined);
        else await w[Symbol.asyncDispose]();
      }),
    );
    await eventually('the closed watches to release their streams', () => openStreams() <= before, {
      timeoutMs: 10_000,
      intervalMs: 50,
    });
    expect(openStreams()).toBe(before);
  });
});
