// S2 initial-list strategy, kubeloop's side: one informer's cold sync with WatchList, a LIST in pages of 500, or one
// LIST; the harness reads peak RSS (VmHWM); the peer reports its RSS before the informer and the settled heap.
import { conn, cpuMs, descriptor, dist, finish, heapAfterGC, measured, p, ready } from './protocol.mjs';

const strategies = {
  'watch-list': { initialList: 'watch-list' },
  'list-500': { initialList: 'list', pageSize: 500 },
  'list-all': { initialList: 'list', pageSize: 0 },
};

export async function run(peer) {
  if (peer !== 'kl') throw new Error(`s2 is kubeloop's scenario (and the Go peer's), not ${peer}'s`);
  const { createSharedIndexInformer } = await import(dist('cache/index.js'));
  const { createResourceClientFactory } = await import(dist('client/index.js'));
  const heap0 = heapAfterGC();
  const rssBeforeMB = process.memoryUsage().rss / 2 ** 20;
  await ready();
  const cpu0 = cpuMs();
  const t0 = performance.now();
  const lw = createResourceClientFactory(conn.config).resource(descriptor(p.kind)).namespace(p.namespace);
  const informer = createSharedIndexInformer(lw, strategies[p.strategy]);
  const controller = new AbortController();
  const running = informer.start(controller.signal);
  await informer.waitForSync();
  const ms = performance.now() - t0;
  const cpu = cpuMs() - cpu0;
  await measured();
  const size = informer.getIndexer().size;
  if (size !== p.n) throw new Error(`cached ${size} of ${p.n}`);
  const heap = heapAfterGC() - heap0;
  const result = { ms, cpuMs: cpu, heapPerObject: heap / p.n, rssBeforeMB };
  controller.abort();
  await running;
  await finish(result);
}
