// S2 initial-list strategy (PERFORMANCE.md): one informer's cold sync over the same N objects via WatchList
// (sendInitialEvents), a LIST in pages of 500, and one LIST; peak client RSS against the RSS the process settles at.
// Peers: kubeloop (`initialList` / `pageSize`) and client-go (the WatchListClient feature on, or off with the
// reflector's LIST forced to the same page size and resourceVersion).
export const id = 'S2';
export const peers = ['kl', 'go-json'];

const strategyNames = { 'watch-list': 'WatchList', 'list-500': 'LIST in pages of 500', 'list-all': 'one LIST' };

export function plan(full) {
  return {
    strategies: Object.keys(strategyNames),
    sizes: full
      ? [
          { kind: 'configmaps', n: 10_000 },
          { kind: 'pods', n: 10_000 },
          { kind: 'configmaps', n: 50_000, reps: 3 },
        ]
      : [
          { kind: 'configmaps', n: 10_000 },
          { kind: 'pods', n: 1000 },
        ],
  };
}

export async function run({ plan: { sizes, strategies }, reps, cases, ensureSeeded, interleave, log, save }) {
  for (const { kind, n, reps: r } of sizes) {
    const { namespace, bytes } = await ensureSeeded(kind, n);
    for (const strategy of strategies) {
      log(`S2 initial list: ${n} ${kind}, ${strategyNames[strategy]}`);
      const out = await interleave('s2', { namespace, kind, n, strategy, tag: `${kind}-${n}-${strategy}-` }, r ?? reps);
      cases.push({ kind, n, strategy, objectBytes: bytes, ...out });
      save();
    }
  }
}

/** What the process settles at: its RSS before the informer plus the settled heap of the cache (after full GCs). */
const settled = (r, c) => r.rssBeforeMB + (r.heapPerObject * c.n) / 2 ** 20;
const growth = (r, c) => r.peakRssMB - settled(r, c);

export const report = {
  name: 'S2 initial list strategy',
  metrics: [
    { key: 'ms', head: 'synced (ms)', get: (r) => r.ms },
    { key: 'cpu', head: 'client CPU /proc (ms)', get: (r) => r.procCpuMs },
    { key: 'peak', head: 'peak RSS (MB)', get: (r) => r.peakRssMB },
    { key: 'settled', head: 'settled: RSS before + cache heap (MB)', get: settled },
    { key: 'growth', head: 'peak − settled (MB)', get: growth, noRatio: true },
  ],
  caseTitle: (c) => `${c.n.toLocaleString('en')} ${c.kind}, ${strategyNames[c.strategy]}`,
  headline: ['ms', 'peak'],
  differences: [
    'KL: `createSharedIndexInformer` with `initialList: "watch-list"`, or `initialList: "list"` with `pageSize: 500` or `0`; managedFields stripped (default), `NODE_ENV=production`.',
    'GO-JSON: a client-go `SharedInformerFactory` with `TransformStripManagedFields`; WatchList is the `WatchListClient` feature gate (`KUBE_FEATURE_WatchListClient`), and for the LIST strategies the feature is off and `WithTweakListOptions` forces the reflector\'s LIST to `resourceVersion=""` (a consistent read, as kubeloop lists) and `limit` 500 or none.',
    'Peak RSS is VmHWM over the whole process life. "Settled" is what the process keeps once synced: its RSS just before the informer was created plus the settled heap the cache holds (Node `heapUsed`, Go `HeapAlloc`, after two full GCs, minus before). Their difference is how much more memory the initial list needs than the cache it leaves, which is what the target bounds. (VmRSS after the sync is no measure of that: neither V8 nor Go hands freed pages back at once, so it stays at the peak.)',
  ],
  targets(list, line) {
    for (const { c, s } of list) {
      if (c.strategy !== 'watch-list' || !s.kl) continue;
      const g = s.kl.growth;
      line(
        `${c.n.toLocaleString('en')} ${c.kind}: with WatchList, peak RSS ≤ settled + 64 MB`,
        g.max <= 64,
        `+${g.median.toFixed(1)} MB median, +${g.max.toFixed(1)} MB worst`,
      );
    }
  },
  extra(list, { fmt }) {
    if (!list?.length) return [];
    const rows = [
      '### kubeloop across strategies\n',
      '| case | strategy | synced (ms) | client CPU (ms) | peak RSS (MB) | settled (MB) | peak − settled (MB) |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const { c, s } of list) {
      if (!s.kl) continue;
      rows.push(
        `| ${c.n.toLocaleString('en')} ${c.kind} | ${strategyNames[c.strategy]} | ${fmt(s.kl.ms.median)} | ${fmt(s.kl.cpu.median)} | ${fmt(s.kl.peak.median)} | ${fmt(s.kl.settled.median)} | ${fmt(s.kl.growth.median)} |`,
      );
    }
    return [...rows, ''];
  },
  charts(list, { barChart }) {
    const panels = list.map(({ c, s }) => ({
      title: report.caseTitle(c),
      bars: Object.entries(s).map(([peer, m]) => ({ peer, value: m.peak.median, min: m.peak.min, max: m.peak.max })),
    }));
    return { 's2-peak-rss.svg': barChart('S2 initial list: client peak RSS (median, min–max)', 'MB', panels) };
  },
};
