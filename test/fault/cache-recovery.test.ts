import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createResourceClientFactory,
  hasErrorCode,
  type KubeObject,
  type ResourceDescriptor,
  type RestConfig,
} from '../../sdk/client/index.js';
import {
  createSharedIndexInformer,
  isDeletedFinalStateUnknown,
  type CacheLogger,
  type DeepReadonly,
  type DeletedFinalStateUnknown,
  type ListerWatcher,
  type SharedIndexInformer,
} from '../../sdk/cache/index.js';
// The metadata-only ListerWatcher a manager's metadata-only informers use (a protobuf watch), for the same faults.
import { metadataListWatchFor, resolveResource } from '../../sdk/cache/internal.js';
// The client's own watch decoder and watchdog, over a connection of the test's choosing (see the half-open test).
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

/** name → resourceVersion of what the server holds now, by a fresh LIST. */
async function serverState(config: RestConfig, ns: string): Promise<Map<string, string>> {
  const list = await createResourceClientFactory(config).resource(ConfigMap).namespace(ns).list();
  return new Map(list.items.map((cm) => [cm.metadata!.name!, cm.metadata!.resourceVersion!]));
}

function cacheState<T extends KubeObject>(informer: SharedIndexInformer<T>): Map<string, string> {
  return new Map(
    informer
      .getIndexer()
      .list()
      .map((cm) => [cm.metadata!.name!, cm.metadata!.resourceVersion!]),
  );
}

async function cacheMatchesServer<T extends KubeObject>(
  config: RestConfig,
  ns: string,
  informer: SharedIndexInformer<T>,
): Promise<boolean> {
  const server = await serverState(config, ns);
  const cache = cacheState(informer);
  return server.size === cache.size && [...server].every(([name, rv]) => cache.get(name) === rv);
}

/** Records what each key went through; `deleted` says how each deletion arrived. */
function journal<T extends KubeObject>() {
  const events = new Map<string, string[]>();
  const deleted = new Map<string, 'final' | 'tombstone'>();
  const note = (name: string, what: string): void => void events.set(name, [...(events.get(name) ?? []), what]);
  return {
    events,
    deleted,
    handler: {
      onAdd: (o: DeepReadonly<T>) => note(o.metadata!.name!, 'add'),
      onUpdate: (_: DeepReadonly<T>, o: DeepReadonly<T>) => note(o.metadata!.name!, 'update'),
      onDelete: (o: DeepReadonly<T> | DeletedFinalStateUnknown<DeepReadonly<T>>) => {
        const tomb = isDeletedFinalStateUnknown(o);
        const name = (tomb ? o.obj : o).metadata!.name!;
        deleted.set(name, tomb ? 'tombstone' : 'final');
        note(name, tomb ? 'tombstone' : 'delete');
      },
    },
  };
}

/**
 * Lists straight to the API server, watches through the proxy (which can stall): both with kubeloop's client. Watches
 * use HTTP/1.1 connections of their own, so a stalled connection takes only its own watch down. `metadata`: the
 * metadata-only ListerWatcher (a protobuf watch) instead of whole ConfigMaps (JSON).
 */
function proxiedWatches(
  config: RestConfig,
  viaProxy: RestConfig,
  ns: string,
  metadata: boolean,
): { lw: ListerWatcher<KubeObject>; close: () => Promise<void> } {
  if (metadata) {
    const direct = metadataListWatchFor(config, resolveResource(ConfigMap), ns);
    const proxied = metadataListWatchFor(viaProxy, resolveResource(ConfigMap), ns);
    return { lw: { list: (o) => direct.list(o), watch: (o) => proxied.watch(o) }, close: async () => undefined };
  }
  const direct = createResourceClientFactory(config).resource(ConfigMap).namespace(ns);
  const proxied = createResourceClientFactory(viaProxy).resource(ConfigMap).namespace(ns);
  const lw: ListerWatcher<ConfigMap> = {
    list: (o) => direct.list(o),
    watch: (o) => proxied.watch(o),
  };
  return { lw: lw as ListerWatcher<KubeObject>, close: async () => undefined };
}

/** Both kinds of watch the fault tests below run: whole objects in JSON, and metadata only in protobuf. */
const watchKinds = [
  ['whole objects, JSON', false],
  ['metadata only, protobuf', true],
] as const;

describe('informer recovery (own control plane)', () => {
  let env: ControlPlane;
  let proxy: FaultProxy;
  let viaProxy: RestConfig;

  beforeAll(async () => {
    env = await startControlPlane({ kubernetesVersion: '1.37.2' });
    proxy = await startFaultProxy({ target: env.config });
    viaProxy = proxy.config;
  });
  afterAll(async () => {
    await proxy?.close();
    await env?.stop();
  });

  it('recovers from restartApiServer() mid-watch while objects change, with no missed final state', async () => {
    const ns = await createTestNamespace(env.config, 'restart');
    const client = createResourceClientFactory(env.config).resource(ConfigMap).namespace(ns);
    for (let i = 0; i < 30; i++)
      await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `pre-${i}` }, data: { v: '0' } });

    const controller = new AbortController();
    const informer = createSharedIndexInformer<ConfigMap>(client, { name: 'restart' });
    const j = journal();
    informer.addEventHandler(j.handler);
    const running = informer.start(controller.signal);
    await informer.waitForSync();

    // A writer that creates, updates and deletes until told to stop; failures (during the restart) are tolerated.
    const live = new Set([...Array(30).keys()].map((i) => `pre-${i}`));
    const deletedByWriter = new Set<string>();
    const stopWriter = new AbortController();
    let created = 0;
    let failures = 0;
    const writer = (async () => {
      for (let step = 0; !stopWriter.signal.aborted; step++) {
        try {
          const names = [...live];
          if (step % 3 === 0 || names.length < 5) {
            const name = `new-${created++}`;
            await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: '0' } });
            live.add(name);
          } else if (step % 3 === 1) {
            const name = names[step % names.length]!;
            const cm = await client.get(name);
            await client.update({ ...cm, data: { v: String(step) } });
          } else {
            const name = names[step % names.length]!;
            await client.delete(name);
            live.delete(name);
            deletedByWriter.add(name);
          }
        } catch {
          failures++;
          await sleep(100);
        }
        await sleep(15);
      }
    })();

    await sleep(1000);
    await env.restartApiServer();
    await sleep(1500);
    stopWriter.abort();
    await writer;

    await eventually('the cache to equal a fresh LIST', () => cacheMatchesServer(env.config, ns, informer), 30_000);
    expect(deletedByWriter.size).toBeGreaterThan(5);
    // Every deleted object the informer had seen got an onDelete, and nothing after it. (One created and deleted
    // while the informer was cut off never reached the cache, so it has nothing to report.)
    let seenThenDeleted = 0;
    for (const name of deletedByWriter) {
      const events = j.events.get(name);
      if (!events) continue;
      seenThenDeleted++;
      expect(j.deleted.has(name), `onDelete for ${name}: ${events.join(', ')}`).toBe(true);
      expect(events.at(-1), `nothing after the deletion of ${name}`).toMatch(/delete|tombstone/);
    }
    expect(seenThenDeleted).toBeGreaterThan(5);
    const health = informer.health();
    expect(health).toMatchObject({ synced: true, lastError: undefined });
    controller.abort();
    await running;
    expect(failures).toBeGreaterThan(0); // the writer did run into the restart
  });

  for (const [what, metadata] of watchKinds) {
    it(`reports objects deleted while it was cut off as tombstones after the relist a restart forces (${what})`, async () => {
      const ns = await createTestNamespace(env.config, 'tombstones');
      const client = createResourceClientFactory(env.config).resource(ConfigMap).namespace(ns);
      for (let i = 0; i < 15; i++)
        await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { v: '0' } });

      const controller = new AbortController();
      const lw: ListerWatcher<KubeObject> = metadata
        ? metadataListWatchFor(viaProxy, resolveResource(ConfigMap), ns)
        : createResourceClientFactory(viaProxy).resource(ConfigMap).namespace(ns);
      const informer = createSharedIndexInformer<KubeObject>(lw, { name: 'tombstones' });
      const j = journal<KubeObject>();
      informer.addEventHandler(j.handler);
      const running = informer.start(controller.signal);
      await informer.waitForSync();
      expect(informer.health().relists).toBe(0);

      proxy.setMode('drop');
      for (let i = 0; i < 5; i++) await client.delete(`cm-${i}`);
      for (let i = 5; i < 10; i++) await client.update({ ...(await client.get(`cm-${i}`)), data: { v: '1' } });
      await client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'born-offline' } });
      // A restarted API server's watch cache starts after these changes: resuming from before them is 410 Gone.
      await env.restartApiServer();
      proxy.setMode('pass');

      await eventually('the cache to equal a fresh LIST', () => cacheMatchesServer(env.config, ns, informer), 30_000);
      await eventually('five deletions', () => j.deleted.size === 5, 30_000);
      for (let i = 0; i < 5; i++) expect(j.deleted.get(`cm-${i}`)).toBe('tombstone');
      expect(j.events.get('born-offline')).toEqual(['add']);
      expect(informer.health().relists).toBe(1);
      expect(informer.getIndexer().list()[0]?.kind).toBe(metadata ? 'PartialObjectMetadata' : 'ConfigMap');
      controller.abort();
      await running;
    });
  }

  for (const [what, metadata] of watchKinds) {
    it(`detects a half-open watch with its inactivity watchdog and recovers within the configured bound (${what})`, async () => {
      const ns = await createTestNamespace(env.config, 'half-open');
      const client = createResourceClientFactory(env.config).resource(ConfigMap).namespace(ns);
      await client.create({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'ticker', annotations: { v: '0' } },
      });

      const inactivityTimeoutMs = 2000;
      const backoffMaxFirstMs = 800 * 2; // the default first delay, 800 ms, with up to 100% jitter
      const stalls: number[] = [];
      // A new kind of failure is logged as a warning, a repeat at debug level: listen to both.
      const onLog = (o: object): void => {
        if (hasErrorCode((o as { err?: unknown }).err, 'ERR_KUBE_WATCH_STALLED')) stalls.push(Date.now());
      };
      const logger: CacheLogger = { debug: onLog, warn: onLog, error: () => undefined };
      const { lw, close } = proxiedWatches(env.config, viaProxy, ns, metadata);
      const controller = new AbortController();
      const informer = createSharedIndexInformer<KubeObject>(lw, {
        name: 'half-open',
        inactivityTimeoutMs,
        logger,
      });
      const running = informer.start(controller.signal);
      await informer.waitForSync();

      // Keep the watch busy (one change every 250 ms) so a healthy watch never trips the 2 s watchdog.
      const stopTicker = new AbortController();
      let last = 0;
      const ticker = (async () => {
        while (!stopTicker.signal.aborted) {
          const cm = await client.get('ticker');
          // An annotation, which a metadata-only watch sees too.
          await client.update({ ...cm, metadata: { ...cm.metadata, annotations: { v: String(++last) } } });
          await sleep(250);
        }
      })();
      const current = (): string | undefined =>
        informer.getIndexer().getByKey(`${ns}/ticker`)?.metadata?.annotations?.['v'];
      await eventually('the watch to follow the ticker', () => Number(current()) >= 3, 30_000);
      expect(stalls).toEqual([]);

      expect(proxy.stall()).toBeGreaterThanOrEqual(1);
      const stalledAt = Date.now();
      const wanted = last + 1;
      await eventually('a change made after the stall', () => Number(current()) >= wanted, 15_000);
      const recoveredMs = Date.now() - stalledAt;
      stopTicker.abort();
      await ticker;

      expect(stalls).toHaveLength(1);
      expect(stalls[0]! - stalledAt).toBeGreaterThanOrEqual(inactivityTimeoutMs - 300);
      expect(stalls[0]! - stalledAt).toBeLessThanOrEqual(inactivityTimeoutMs + 500);
      expect(recoveredMs).toBeLessThanOrEqual(inactivityTimeoutMs + backoffMaxFirstMs + 1500);
      expect(informer.health()).toMatchObject({ synced: true, relists: 0, lastError: undefined });
      controller.abort();
      await running;
      await close();
    });
  }
});
