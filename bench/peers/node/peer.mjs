// The Node peers of kubeloop's benchmarks (bench/README.md), one process per measurement:
//
//   node --expose-gc bench/peers/node/peer.mjs <kl|cn|floor> <scenario> <conn.json> '<json parameters>'
//
// kl is kubeloop (dist/, as users run it), cn is @kubernetes/client-node 2.x, floor is raw undici + JSON.parse.
// Protocol (the same as bench/peers/go): prepare, print {"ready":true}, wait for the line "go", run the measured
// phase, print one JSON result line, then wait for stdin to close (so the harness can read /proc/<pid>/ first).
// protocol.mjs has the protocol and shared helpers; a scenario with a file of its own here (s2.mjs, s5.mjs, …)
// exports run(peer) and is loaded by name.
import { existsSync } from 'node:fs';
import {
  conn,
  cpuMs,
  descriptor,
  dist,
  finish,
  handlerSynced,
  heapAfterGC,
  kindPath,
  measured,
  nowMs,
  p,
  peer,
  percentile,
  quietManagerOptions,
  ready,
  scenario,
  tsAnnotation,
  until,
} from './protocol.mjs';

// ---------------------------------------------------------------------------------------------------------------
// kubeloop
const strategies = {
  'watch-list': { initialList: 'watch-list' },
  'list-500': { initialList: 'list', pageSize: 500 },
  'list-all': { initialList: 'list', pageSize: 0 },
};
// kubeloop's own building block, not public API: the manager's metadata-only informers use it. An A/B build from
// before cache/internal.ts existed (BENCH_KL_BUILDS) still exports it from the cache index.
const klInternal = existsSync(dist('cache/internal.js')) ? dist('cache/internal.js') : dist('cache/index.js');
const kl = {
  async informer(kind) {
    const { createSharedIndexInformer } = await import(dist('cache/index.js'));
    const { metadataListWatchFor, resolveResource } = await import(klInternal);
    const { createResourceClientFactory } = await import(dist('client/index.js'));
    // S1's metadata-only variant: PartialObjectMetadata from the server (what `.metadataOnly()` uses in a manager).
    const lw = p.metadata
      ? metadataListWatchFor(conn.config, resolveResource(descriptor(kind)), p.namespace)
      : createResourceClientFactory(conn.config).resource(descriptor(kind)).namespace(p.namespace);
    // Defaults: WatchList initial list, managedFields stripped; NODE_ENV=production (objects not frozen). S2 sets
    // the initial-list strategy.
    return createSharedIndexInformer(lw, strategies[p.strategy ?? 'watch-list']);
  },
  async s1() {
    // Every module is loaded before the measured phase, as the other peers' are.
    await import(dist('cache/index.js'));
    await import(klInternal);
    await import(dist('client/index.js'));
    const heap0 = heapAfterGC();
    const rssBeforeMB = process.memoryUsage().rss / 2 ** 20;
    await ready();
    const cpu0 = cpuMs();
    const t0 = performance.now();
    const informer = await kl.informer(p.kind);
    // The measured phase ends when a handler registered before the start has been handed every object.
    let seen = 0;
    const registration = informer.addEventHandler({ onAdd: () => seen++ });
    const controller = new AbortController();
    const running = informer.start(controller.signal);
    await handlerSynced(informer, registration);
    const ms = performance.now() - t0;
    const cpu = cpuMs() - cpu0;
    await measured();
    const size = informer.getIndexer().size;
    if (size !== p.n) throw new Error(`cached ${size} of ${p.n}`);
    if (seen !== p.n) throw new Error(`the handler saw ${seen} of ${p.n}`);
    const heap = heapAfterGC() - heap0;
    const result = { ms, cpuMs: cpu, heapPerObject: heap / p.n, rssBeforeMB, handlerSaw: seen };
    controller.abort();
    await running;
    await finish(result);
  },
  /** S2: S1 with the initial-list strategy of p.strategy. */
  s2: () => kl.s1(),
  async s3() {
    const informer = await kl.informer(p.kind);
    const w = watcher();
    // An add not from the initial list, or an update that changes no resourceVersion, is counted as a relist event.
    const registration = informer.addEventHandler({
      onAdd: (_obj, isInInitialList) => {
        if (!isInInitialList) w.relist();
      },
      onUpdate: (oldObj, newObj) => {
        if (oldObj.metadata.resourceVersion === newObj.metadata.resourceVersion) w.relist();
        else w.event(newObj.metadata.annotations?.[tsAnnotation]);
      },
    });
    const controller = new AbortController();
    informer.start(controller.signal);
    await informer.waitForSync();
    // Handlers have their own buffers: wait until this one has been handed the initial list too.
    while (!registration.hasSynced()) await new Promise((r) => setTimeout(r, 1));
    await w.run();
  },
  async s6() {
    const { createResourceClientFactory } = await import(dist('client/index.js'));
    const cms = createResourceClientFactory(conn.config).resource(descriptor('configmaps')).namespace(p.namespace);
    await rest(
      () => cms.get(p.name),
      (i) =>
        cms.patch(p.name, { metadata: { annotations: { 'bench.kubeloop.dev/n': String(i) } } }, { patchType: 'merge' }),
    );
  },
  async s8() {
    const t0 = performance.now();
    const { createManager, controllerFor } = await import(dist('manager/index.js'));
    const { ConfigMap, Secret, Service } = await import(dist('client/index.js'));
    const mgr = await createManager(await quietManagerOptions());
    for (const [name, r] of [
      ['configmaps', ConfigMap],
      ['secrets', Secret],
      ['services', Service],
    ]) {
      controllerFor(mgr)
        .for(r)
        .named(name)
        .complete({ reconcile: async () => ({}) });
    }
    const controller = new AbortController();
    mgr.start(controller.signal);
    for (;;) {
      const health = mgr.cache.health();
      if (health.length >= 3 && health.every((h) => h.synced)) break;
      await new Promise((r) => setTimeout(r, 1));
    }
    await idle(performance.now() - t0);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// @kubernetes/client-node
const cn = {
  async api() {
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(conn.kubeconfigPath);
    return { k8s, kc, core: kc.makeApiClient(k8s.CoreV1Api) };
  },
  async informer(kind) {
    const { k8s, kc, core } = await cn.api();
    const ns = p.namespace;
    const list =
      kind === 'pods'
        ? () => core.listNamespacedPod({ namespace: ns })
        : () => core.listNamespacedConfigMap({ namespace: ns });
    return k8s.makeInformer(kc, `/api/v1/namespaces/${ns}/${kindPath(kind)}`, list);
  },
  async s1() {
    await cn.api();
    const heap0 = heapAfterGC();
    await ready();
    const cpu0 = cpuMs();
    const t0 = performance.now();
    const informer = await cn.informer(p.kind);
    let seen = 0;
    informer.on('add', () => seen++);
    // start() resolves once the list is in the cache and the watch request is made; client-node calls the add
    // handlers synchronously while it stores the listed items, so they have all run by then (checked below).
    await informer.start();
    await until(() => seen >= p.n);
    const ms = performance.now() - t0;
    const cpu = cpuMs() - cpu0;
    await measured();
    const size = informer.list().length;
    if (size !== p.n) throw new Error(`cached ${size} of ${p.n}`);
    if (seen !== p.n) throw new Error(`the handler saw ${seen} of ${p.n}`);
    const heap = heapAfterGC() - heap0;
    await informer.stop();
    await finish({ ms, cpuMs: cpu, heapPerObject: heap / p.n, handlerSaw: seen });
  },
  async s3() {
    const informer = await cn.informer(p.kind);
    const w = watcher();
    let synced = false;
    informer.on('add', () => {
      if (synced) w.relist();
    });
    informer.on('update', (obj) => w.event(obj.metadata?.annotations?.[tsAnnotation]));
    await informer.start();
    synced = true;
    await w.run();
  },
  async s6() {
    const { k8s, core } = await cn.api();
    const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    await rest(
      () => core.readNamespacedConfigMap({ name: p.name, namespace: p.namespace }),
      (i) =>
        core.patchNamespacedConfigMap(
          {
            name: p.name,
            namespace: p.namespace,
            body: { metadata: { annotations: { 'bench.kubeloop.dev/n': String(i) } } },
          },
          merge,
        ),
    );
  },
  async s8() {
    const t0 = performance.now();
    const { k8s, kc, core } = await cn.api();
    const ns = p.namespace;
    const informers = [
      k8s.makeInformer(kc, `/api/v1/namespaces/${ns}/configmaps`, () =>
        core.listNamespacedConfigMap({ namespace: ns }),
      ),
      k8s.makeInformer(kc, `/api/v1/namespaces/${ns}/secrets`, () => core.listNamespacedSecret({ namespace: ns })),
      k8s.makeInformer(kc, `/api/v1/namespaces/${ns}/services`, () => core.listNamespacedService({ namespace: ns })),
    ];
    await Promise.all(informers.map((i) => i.start()));
    await idle(performance.now() - t0);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// the floor: raw undici and JSON.parse, nothing else
const metadataAccept = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
const floor = {
  async agent() {
    const { Agent, request } = await import('undici');
    const { config } = conn;
    const agent = new Agent({ connect: { ca: config.caData, cert: config.certData, key: config.keyData } });
    const get = async (path, init = {}) => {
      const res = await request(`${config.host}${path}`, {
        dispatcher: agent,
        headers: { accept: 'application/json' },
        ...init,
      });
      if (res.statusCode >= 300) throw new Error(`${path}: ${res.statusCode} ${await res.body.text()}`);
      return res;
    };
    return { agent, get };
  },
  /** Reads a watch body, one JSON.parse per line. */
  async lines(body, onEvent) {
    let pending = Buffer.alloc(0);
    for await (const chunk of body) {
      const buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
        onEvent(JSON.parse(buf.toString('utf8', start, nl)));
        start = nl + 1;
      }
      pending = buf.subarray(start);
    }
  },
  async s1() {
    const { get } = await floor.agent();
    const heap0 = heapAfterGC();
    await ready();
    const cpu0 = cpuMs();
    const t0 = performance.now();
    const res = await get(
      `/api/v1/namespaces/${p.namespace}/${kindPath(p.kind)}`,
      p.metadata ? { headers: { accept: metadataAccept } } : {},
    );
    const list = JSON.parse(await res.body.text());
    // Each item handed to a trivial handler, as an informer hands each object to its handlers.
    let seen = 0;
    const handler = () => seen++;
    for (const item of list.items) handler(item);
    const ms = performance.now() - t0;
    const cpu = cpuMs() - cpu0;
    await measured();
    if (seen !== p.n) throw new Error(`the handler saw ${seen} of ${p.n}`);
    const heap = heapAfterGC() - heap0;
    await finish({ ms, cpuMs: cpu, heapPerObject: heap / p.n, keep: list.items.length, handlerSaw: seen });
  },
  async s3() {
    const { get } = await floor.agent();
    const path = `/api/v1/namespaces/${p.namespace}/${kindPath(p.kind)}`;
    const list = JSON.parse(await (await get(path)).body.text());
    const w = watcher();
    const res = await get(
      `${path}?watch=true&allowWatchBookmarks=true&resourceVersion=${list.metadata.resourceVersion}`,
    );
    floor
      .lines(res.body, (e) => {
        if (e.type === 'MODIFIED') w.event(e.object.metadata.annotations?.[tsAnnotation]);
      })
      .catch(() => undefined);
    await w.run();
  },
  async s6() {
    const { get } = await floor.agent();
    const path = `/api/v1/namespaces/${p.namespace}/configmaps/${p.name}`;
    await rest(
      async () => JSON.parse(await (await get(path)).body.text()),
      async (i) =>
        JSON.parse(
          await (
            await get(path, {
              method: 'PATCH',
              headers: { accept: 'application/json', 'content-type': 'application/merge-patch+json' },
              body: JSON.stringify({ metadata: { annotations: { 'bench.kubeloop.dev/n': String(i) } } }),
            })
          ).body.text(),
        ),
    );
  },
  async s8() {
    const t0 = performance.now();
    const { get } = await floor.agent();
    await Promise.all(
      ['configmaps', 'secrets', 'services'].map(async (r) => {
        const path = `/api/v1/namespaces/${p.namespace}/${r}`;
        const list = JSON.parse(await (await get(path)).body.text());
        const res = await get(
          `${path}?watch=true&allowWatchBookmarks=true&resourceVersion=${list.metadata.resourceVersion}`,
        );
        floor.lines(res.body, () => undefined).catch(() => undefined);
      }),
    );
    await idle(performance.now() - t0);
  },
};

// ---------------------------------------------------------------------------------------------------------------
// shared measured phases

/** S3: counts update events and their lag from the writer's timestamp, until p.events arrived or p.timeoutMs. */
function watcher() {
  const lags = [];
  let relists = 0;
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  return {
    relist: () => relists++,
    event(ts) {
      const now = nowMs();
      if (ts === undefined) return;
      lags.push(now - Number(ts));
      if (lags.length >= p.events) resolveDone();
    },
    async run() {
      const heap0 = heapAfterGC();
      await ready();
      const cpu0 = cpuMs();
      const timer = setTimeout(resolveDone, p.timeoutMs);
      await done;
      clearTimeout(timer);
      const cpu = cpuMs() - cpu0;
      await measured();
      const sorted = lags.toSorted((a, b) => a - b);
      const heapDriftBytes = heapAfterGC() - heap0;
      await finish({
        events: sorted.length,
        cpuMs: cpu,
        lagP50Ms: percentile(sorted, 0.5),
        lagP99Ms: percentile(sorted, 0.99),
        relistEvents: peer === 'floor' ? null : relists,
        heapDriftBytes,
      });
    },
  };
}

/** S6: p.ops GETs or PATCHes of one object, p.concurrency at a time. */
async function rest(getOnce, patchOnce) {
  await getOnce(); // the connection is open before the clock starts, as for every peer
  await ready();
  const lat = new Float64Array(p.ops);
  let next = 0;
  const cpu0 = cpuMs();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: p.concurrency }, async () => {
      for (let i = next++; i < p.ops; i = next++) {
        const s = performance.now();
        await (p.op === 'patch' ? patchOnce(i) : getOnce());
        lat[i] = performance.now() - s;
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuMs() - cpu0;
  lat.sort();
  await finish({
    p50Ms: percentile(lat, 0.5),
    p99Ms: percentile(lat, 0.99),
    reqPerSec: p.ops / wall,
    cpuUsPerRequest: (cpu * 1000) / p.ops,
    cpuMs: cpu,
  });
}

/** S8: ready (synced) before "go"; the measured phase is an idle wait of p.settleMs. */
async function idle(readyMs) {
  await ready();
  const cpu0 = cpuMs();
  await new Promise((r) => setTimeout(r, p.settleMs));
  const idleCpuMs = cpuMs() - cpu0;
  await measured(); // before the forced GCs of the heap figure
  await finish({ readyMs, idleCpuMs, heapBytes: heapAfterGC() });
}

/** S4: kubeloop's workqueue, the same loop as the Go peer's (bench/workqueue has the full set). */
async function s4() {
  const wq = await import(dist('workqueue/index.js'));
  const keys = Array.from({ length: 1000 }, (_, i) => `namespace-${i % 10}/object-${i}`);
  const q = wq.createQueue();
  const round = () => {
    for (let r = 0; r < p.rounds; r++) {
      for (const k of keys) q.add(k);
      for (let k = q.tryGet(); k !== undefined; k = q.tryGet()) q.done(k);
    }
  };
  round();
  await ready();
  const cpu0 = cpuMs();
  const t0 = performance.now();
  round();
  const secs = (performance.now() - t0) / 1000;
  q.shutDown();
  const heap0 = heapAfterGC();
  const timers0 = process.getActiveResourcesInfo().filter((n) => n === 'Timeout').length;
  const dq = wq.createDelayingQueue();
  for (let i = 0; i < 100_000; i++) dq.addAfter(`namespace-${i % 100}/object-${i}`, 60_000 + (i % 540_000));
  const perItem = (heapAfterGC() - heap0) / 100_000;
  const timers = process.getActiveResourcesInfo().filter((n) => n === 'Timeout').length - timers0;
  dq.shutDown();
  await finish({
    cyclesPerSec: (p.rounds * keys.length) / secs,
    cpuMs: cpuMs() - cpu0,
    delayedHeapBytesPerItem: perItem,
    delayedTimers: timers,
  });
}

const peers = { kl, cn, floor };
const own = new URL(`./${scenario}.mjs`, import.meta.url);
if (existsSync(own)) await (await import(own.href)).run(peer);
else if (scenario === 's4') await s4();
else await peers[peer][scenario]();
