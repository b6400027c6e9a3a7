// S10 scale curve, the Node peers' side (bench/scenarios/s10.mjs has the harness's; bench/peers/go/s10.go the Go
// peer's, the same steps). A cold sync as S1's (until a handler registered before the start has been handed every
// object), the settled memory after it, then a steady watch: the harness merge-patches a timestamp annotation of
// p.events objects at a fixed rate, starting when this peer creates p.signalFile; CPU per event and lag; then the
// settled memory again.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
  percentile,
  ready,
  tsAnnotation,
  until,
} from './protocol.mjs';

const statusMB = (name) =>
  Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024;

/** The update events of the steady phase: lag from the writer's timestamp, until p.events arrived. */
function updates() {
  const lags = [];
  let resolveDone;
  const done = new Promise((r) => (resolveDone = r));
  return {
    lags,
    done,
    event(ts) {
      const now = nowMs();
      if (ts === undefined) return;
      lags.push(now - Number(ts));
      if (lags.length >= p.events) resolveDone();
    },
  };
}

const peers = {
  /** kubeloop: createSharedIndexInformer with its defaults (as S1), or the metadata-only informer. */
  async kl(u) {
    const { createSharedIndexInformer } = await import(dist('cache/index.js'));
    // Not public API (the manager's metadata-only informers use it); an older build (BENCH_KL_BUILDS) exports it from
    // the cache index.
    const internal = existsSync(dist('cache/internal.js')) ? dist('cache/internal.js') : dist('cache/index.js');
    const { metadataListWatchFor, resolveResource } = await import(internal);
    const { createResourceClientFactory } = await import(dist('client/index.js'));
    return async () => {
      const lw = p.metadata
        ? metadataListWatchFor(conn.config, resolveResource(descriptor(p.kind)), p.namespace)
        : createResourceClientFactory(conn.config).resource(descriptor(p.kind)).namespace(p.namespace);
      const informer = createSharedIndexInformer(lw, { initialList: 'watch-list' });
      let adds = 0;
      const registration = informer.addEventHandler({
        onAdd: () => adds++,
        onUpdate: (oldObj, newObj) => {
          if (oldObj.metadata.resourceVersion !== newObj.metadata.resourceVersion)
            u.event(newObj.metadata.annotations?.[tsAnnotation]);
        },
      });
      informer.start(new AbortController().signal);
      await handlerSynced(informer, registration);
      return { adds: () => adds, keep: informer };
    };
  },
  /** @kubernetes/client-node: makeInformer (one LIST, then a watch), add handlers called during the list. */
  async cn(u) {
    if (p.metadata) throw new Error('client-node has no metadata-only informer');
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(conn.kubeconfigPath);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    return async () => {
      const ns = p.namespace;
      const list =
        p.kind === 'pods'
          ? () => core.listNamespacedPod({ namespace: ns })
          : () => core.listNamespacedConfigMap({ namespace: ns });
      const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${ns}/${kindPath(p.kind)}`, list);
      let adds = 0;
      let failure;
      informer.on('add', () => adds++);
      informer.on('update', (obj) => u.event(obj.metadata?.annotations?.[tsAnnotation]));
      informer.on('error', (e) => (failure ??= e));
      await informer.start();
      await until(() => adds >= p.n || failure !== undefined, 60_000);
      if (failure) throw failure;
      return { adds: () => adds, keep: informer };
    };
  },
};

export async function run(peer) {
  if (!peers[peer]) throw new Error(`s10 has no ${peer} peer`);
  // A failure (client-node's LIST of 100k Pods is longer than V8's longest string) is one line the harness records.
  await measure(peer).catch((e) => {
    process.stderr.write(`failed: ${String(e?.message ?? e).split('\n')[0]}\n`);
    process.exit(1);
  });
}

async function measure(peer) {
  const u = updates();
  const sync = await peers[peer](u);
  const heap0 = heapAfterGC();
  const rssBeforeMB = statusMB('VmRSS');
  await ready();
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const { adds, keep } = await sync();
  const ms = performance.now() - t0;
  const cpu = cpuMs() - cpu0;
  const peakSyncMB = statusMB('VmHWM');
  await measured();
  if (adds() !== p.n) throw new Error(`the handler saw ${adds()} of ${p.n}`);
  const settledHeapBytes = heapAfterGC() - heap0;
  const settledRssMB = statusMB('VmRSS');

  // The steady watch.
  writeFileSync(p.signalFile, '');
  const cpu1 = cpuMs();
  let timer;
  await Promise.race([u.done, new Promise((r) => (timer = setTimeout(r, p.steadyTimeoutMs)))]);
  clearTimeout(timer);
  const steadyCpuMs = cpuMs() - cpu1;
  const sorted = u.lags.toSorted((a, b) => a - b);
  const steadyHeapBytes = heapAfterGC() - heap0;
  const steadyRssMB = statusMB('VmRSS');
  await finish({
    ms,
    cpuMs: cpu,
    handlerSaw: adds(),
    rssBeforeMB,
    peakSyncMB,
    settledHeapBytes,
    settledRssMB,
    events: sorted.length,
    steadyCpuMs,
    lagP50Ms: percentile(sorted, 0.5),
    lagP99Ms: percentile(sorted, 0.99),
    steadyHeapBytes,
    steadyRssMB,
    kept: keep !== undefined,
  });
}
