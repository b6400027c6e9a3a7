// Turns bench/run.mjs's results into the report (markdown) and its charts (SVG, hand-rolled: no plotting dependency).
// Also usable alone, to re-render a results file: node bench/report.mjs bench/results/quick/results.json
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const labels = {
  kl: 'KL (kubeloop)',
  'go-json': 'GO-JSON (client-go)',
  'go-pb': 'GO-PB (client-go, protobuf)',
  cn: 'CN (@kubernetes/client-node)',
  floor: 'FLOOR (undici + JSON.parse)',
};
const short = { kl: 'KL', 'go-json': 'GO-JSON', 'go-pb': 'GO-PB', cn: 'CN', floor: 'FLOOR' };

const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).toSorted((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const fmt = (x) => {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(1)}k`;
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
};

/** Metrics per scenario: key, header, how to get it from one run, and whether lower is better. */
const metrics = {
  S1: [
    { key: 'ms', head: 'synced (ms)', get: (r) => r.ms },
    { key: 'cpu', head: 'client CPU /proc (ms)', get: (r) => r.procCpuMs },
    { key: 'cpuSelf', head: 'client CPU rusage (ms)', get: (r) => r.cpuMs },
    { key: 'rss', head: 'peak RSS (MB)', get: (r) => r.peakRssMB },
    { key: 'heap', head: 'settled heap/object (B)', get: (r) => r.heapPerObject },
  ],
  S3: [
    { key: 'cpuEv', head: 'CPU/event (µs)', get: (r) => (r.procCpuMs * 1000) / r.events },
    { key: 'p50', head: 'lag p50 (ms)', get: (r) => r.lagP50Ms },
    { key: 'p99', head: 'lag p99 (ms)', get: (r) => r.lagP99Ms },
    { key: 'relists', head: 'relist events', get: (r) => r.relistEvents ?? NaN, noRatio: true },
    { key: 'drift', head: 'heap drift (KB)', get: (r) => r.heapDriftBytes / 1024, noRatio: true },
    { key: 'events', head: 'events seen', get: (r) => r.events, noRatio: true },
  ],
  S4: [
    { key: 'cycles', head: 'add/get/done cycles/s', get: (r) => r.cyclesPerSec, higher: true },
    { key: 'bytes', head: 'heap B per delayed item', get: (r) => r.delayedHeapBytesPerItem },
    {
      key: 'timers',
      head: 'timers (Node) / goroutines (Go) for 100k delayed',
      get: (r) => r.delayedTimers ?? r.delayedGoroutines,
      noRatio: true,
    },
  ],
  S6: [
    { key: 'p50', head: 'p50 (ms)', get: (r) => r.p50Ms },
    { key: 'p99', head: 'p99 (ms)', get: (r) => r.p99Ms },
    { key: 'rps', head: 'req/s', get: (r) => r.reqPerSec, higher: true },
    { key: 'cpuReq', head: 'CPU/request (µs)', get: (r) => (r.procCpuMs * 1000) / (r.ops ?? 1) },
  ],
  S8: [
    { key: 'rss', head: 'RSS idle (MB)', get: (r) => r.rssMB },
    { key: 'peak', head: 'peak RSS (MB)', get: (r) => r.peakRssMB },
    { key: 'ready', head: 'create → synced (ms)', get: (r) => r.readyMs },
    { key: 'spawn', head: 'spawn → synced (ms)', get: (r) => r.spawnToReadyMs },
    { key: 'idleCpu', head: 'idle CPU, rusage (ms)', get: (r) => r.idleCpuMs },
  ],
};

const caseTitle = {
  S1: (c) =>
    `${c.n.toLocaleString('en')} ${c.kind}${c.metadata ? ', metadata only' : ''}${c.objectBytes ? ` (${c.objectBytes} B of JSON each, with managedFields)` : ''}`,
  S3: (c) => `${c.n.toLocaleString('en')} ${c.kind} cached, ${c.events} updates at ${c.rate}/s`,
  S4: (c) => `1000 keys × ${c.rounds} rounds; 100k delayed items`,
  S6: (c) =>
    `${c.ops} ${c.op.toUpperCase()}s of one ConfigMap, ${c.concurrency === 1 ? 'sequential' : `${c.concurrency} concurrent`}`,
  S8: (c) => `manager + 3 informers (ConfigMaps, Secrets, Services), empty namespace, ${c.settleMs} ms idle`,
};

const scenarioNames = {
  S1: 'S1 cold sync',
  S3: 'S3 watch ingest',
  S4: 'S4 workqueue',
  S6: 'S6 REST latency',
  S8: 'S8 idle footprint',
};

/** What is not the same between peers, per scenario. */
const differences = {
  S1: [
    'KL: `createSharedIndexInformer` with its defaults (WatchList initial list, managedFields stripped), `NODE_ENV=production` (objects not frozen), gzip requested (the server compresses large answers).',
    'GO-JSON / GO-PB: a client-go `SharedInformerFactory` for the namespace with `TransformStripManagedFields` (so both caches drop managedFields); the initial list is whatever client-go v0.37 does by default (`watchListClient` in the results says whether WatchList was on), no client throttling (QPS −1).',
    'CN: `makeInformer` (one LIST, then a watch); it keeps managedFields (no transform hook) and `start()` resolves when the list is cached and the watch request sent.',
    'FLOOR: one LIST + one `JSON.parse` of the whole answer; no cache, no watch, managedFields kept, no gzip. Its "heap/object" is the parsed list.',
    "Metadata only: KL `createSharedIndexInformer(metadataListWatchFor(...))` (PartialObjectMetadata, what a manager's `.metadataOnly()` uses); GO-JSON client-go's `metadatainformer` with `TransformStripManagedFields` (what controller-runtime's `OnlyMetadata` uses); FLOOR one LIST with `Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1`. CN has no metadata-only informer, and GO-PB is left out: client-go's metadata client always asks for protobuf (`metadata.ConfigFor` sets it), so GO-JSON's metadata-only runs are protobuf on the wire. kubeloop's metadata-only watch asks for protobuf too in builds after commit 4da4f5c (the full run of 2026-12-05 was made before: JSON there); FLOOR decodes JSON.",
    'Settled heap: Node `heapUsed` after two full GCs minus before the informer was created; Go `HeapAlloc` after two `runtime.GC()` the same way. Peak RSS is the whole process (runtime included) from VmHWM.',
  ],
  S3: [
    'The writer is this harness (kubeloop client, merge patches of one annotation holding the send time). Lag is receive time in the peer minus that timestamp, so it includes the API server and etcd write path, which is the same for everyone.',
    'CPU/event = the peer process\'s CPU (from /proc, between "synced" and the last event) ÷ events.',
    'KL and GO count an update whose resourceVersion did not change, or an add after the handler synced (KL: not `isInInitialList`), as a relist event; CN counts adds after `start()` resolved; FLOOR has no cache (n/a).',
    "FLOOR: a raw watch from the LIST's resourceVersion, one JSON.parse per line, no store.",
    'When the writer cannot reach the rate (the control plane and the writer share one core), the achieved rate is printed under the table: the case is then "as fast as this server goes", and the lag mostly measures the server\'s backlog, the same for every peer.',
    'Caveat: heap drift is the settled heap after the updates minus before, over a window of seconds; it shows retained growth, not a slow leak over hours.',
  ],
  S4: [
    "KL: `createQueue()`, add ×1000 then `tryGet`/`done` until empty; GO: client-go `workqueue.NewTyped[string]()`, `Add` ×1000 then `Get`/`Done` while `Len() > 0`. Same loop, same keys. bench/workqueue/workqueue-bench.mjs has kubeloop's full set (async workers, rate limiters, metrics).",
    'Delayed items: 100k `addAfter`/`AddAfter` of 1–10 min; heap includes the key strings in both.',
    'CN and FLOOR have no workqueue.',
  ],
  S6: [
    'Each peer GETs (or merge-PATCHes one annotation of) the same ConfigMap; one request before the clock starts opens the connection.',
    "GO: HTTP/2 (one connection, multiplexed), no client throttling (QPS −1; client-go's default of 5/s would dominate). KL and FLOOR: undici 8, which negotiates HTTP/2 by default (KL's watches use separate HTTP/1.1 connections). CN: the fetch-based stack of its generated client.",
    "CPU/request = the peer process's CPU from /proc over the measured phase ÷ requests.",
    'No 64-concurrent PATCHes: in a trial every peer got 35–45 req/s with p50 ≈ 1 s, because the API server serialises (and retries on conflict) concurrent updates of one object; those figures say nothing about the clients and cost minutes.',
  ],
  S8: [
    'KL: `createManager` (metrics and probe servers off, cache limited to the namespace) and three `controllerFor(...).for(...)` controllers with a no-op reconcile; synced = `mgr.cache.health()` all synced.',
    'GO: a controller-runtime v0.25 Manager (metrics and probes off, cache limited to the namespace) with three no-op controllers; synced = `WaitForCacheSync`.',
    'CN: three `makeInformer`s; FLOOR: three raw LIST + WATCH requests. Neither has a manager.',
    "Idle CPU is the process's own rusage over the idle wait only (before the forced GCs of the heap figure); /proc's 10 ms ticks are too coarse for it.",
    '"create → synced" is measured in the process from before the first import of the library (Node) or `NewManager` (Go); "spawn → synced" adds process start and module loading.',
  ],
};

/** The scenarios in files of their own under bench/scenarios/ (see run.mjs), by id: S2, S5, S7, … */
export async function loadScenarioModules() {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');
  const mods = {};
  if (!existsSync(dir)) return mods;
  for (const file of readdirSync(dir)
    .filter((f) => /^s\d+\.mjs$/.test(f))
    .sort()) {
    const mod = await import(join(dir, file));
    mods[mod.id] = mod;
  }
  return mods;
}
const plugins = await loadScenarioModules();
for (const [id, { report }] of Object.entries(plugins)) {
  metrics[id] = report.metrics;
  caseTitle[id] = report.caseTitle;
  scenarioNames[id] = report.name;
  differences[id] = report.differences;
  // Pseudo-peers of a scenario (S9's "no webhook" baseline): their names in tables and charts.
  Object.assign(labels, report.labels);
  Object.assign(short, report.short);
}
const scenarioOrder = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'S9', 'S10'];

function summarize(runs, defs, c) {
  const out = {};
  for (const [peer, rs] of Object.entries(runs)) {
    out[peer] = {};
    for (const m of defs) {
      const xs = rs.map((r) => m.get({ ...r, ops: c.ops }, c));
      out[peer][m.key] = {
        median: median(xs),
        min: Math.min(...xs.filter(Number.isFinite)),
        max: Math.max(...xs.filter(Number.isFinite)),
        n: xs.length,
      };
    }
  }
  return out;
}

function table(summary, defs) {
  const peers = Object.keys(summary);
  const head = ['peer', ...defs.flatMap((m) => (m.noRatio ? [m.head] : [m.head, 'KL ÷ peer']))];
  const rows = [
    `| ${head.join(' | ')} |`,
    `| --- | ${head
      .slice(1)
      .map(() => '---:')
      .join(' | ')} |`,
  ];
  for (const p of peers) {
    const cells = [labels[p] ?? p];
    for (const m of defs) {
      const s = summary[p][m.key];
      const spread = s.n > 1 && Number.isFinite(s.min) ? ` (${fmt(s.min)}–${fmt(s.max)})` : '';
      cells.push(`${fmt(s.median)}${spread}`);
      if (!m.noRatio) {
        const kl = summary.kl?.[m.key]?.median;
        const r = kl / s.median;
        cells.push(p === 'kl' || !Number.isFinite(r) ? '' : `${fmt(r)}×`);
      }
    }
    rows.push(`| ${cells.join(' | ')} |`);
  }
  return rows.join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// targets (PERFORMANCE.md), evaluated on medians of the same run

const ratio = (a, b) => a / b;

function targets(summaries) {
  const out = [];
  const line = (scenario, what, ok, figure) =>
    out.push({ scenario, what, status: ok === undefined ? 'n/a' : ok ? 'met' : 'missed', figure });
  for (const { c, s } of summaries.S1 ?? []) {
    const kl = s.kl;
    if (!kl) continue;
    const tag = caseTitle.S1(c).split(' (')[0];
    if (s['go-json']) {
      const r = ratio(kl.ms.median, s['go-json'].ms.median);
      line('S1', `${tag}: sync time ≤ 1.0× GO-JSON`, r <= 1.0, `${fmt(r)}×`);
      const h = ratio(kl.heap.median, s['go-json'].heap.median);
      line('S1', `${tag}: heap per object ≤ 1.2× GO-JSON`, h <= 1.2, `${fmt(h)}×`);
    }
    if (s.floor) {
      const r = ratio(kl.ms.median, s.floor.ms.median);
      line('S1', `${tag}: sync time ≤ 1.15× FLOOR`, r <= 1.15, `${fmt(r)}×`);
    }
    if (s.cn) {
      const r = s.cn.ms.median / kl.ms.median;
      line('S1', `${tag}: ≥ 3× faster than CN`, r >= 3, `${fmt(r)}× faster`);
      const m = s.cn.rss.median / kl.rss.median;
      line('S1', `${tag}: ≥ 2× less peak RSS than CN`, m >= 2, `${fmt(m)}× less`);
    }
  }
  for (const { c, s } of summaries.S3 ?? []) {
    const kl = s.kl;
    if (!kl) continue;
    const tag = `${c.rate}/s`;
    if (s['go-json']) {
      const r = ratio(kl.cpuEv.median, s['go-json'].cpuEv.median);
      line('S3', `${tag}: CPU per event ≤ 1.0× GO-JSON`, r <= 1.0, `${fmt(r)}×`);
      const d = kl.p99.median - s['go-json'].p99.median;
      line('S3', `${tag}: lag p99 ≤ GO-JSON + 5 ms`, d <= 5, `${d >= 0 ? '+' : ''}${fmt(d)} ms`);
    }
    if (s.cn) {
      const r = ratio(kl.cpuEv.median, s.cn.cpuEv.median);
      line('S3', `${tag}: CPU per event ≤ 0.5× CN`, r <= 0.5, `${fmt(r)}×`);
    }
    line('S3', `${tag}: no relists at steady state`, kl.relists.max === 0, `max ${fmt(kl.relists.max)} relist events`);
    line(
      'S3',
      `${tag}: no heap drift (settled heap after − before the updates)`,
      undefined,
      `median ${fmt(kl.drift.median)} KB (a short window: see the caveat)`,
    );
  }
  for (const { s } of summaries.S4 ?? []) {
    if (!s.kl) continue;
    line('S4', '≥ 2M cycles/s', s.kl.cycles.median >= 2e6, `${fmt(s.kl.cycles.median)} cycles/s`);
    line('S4', 'one timer for all delayed items', s.kl.timers.max <= 1, `${fmt(s.kl.timers.max)} timer(s)`);
  }
  for (const { c, s } of summaries.S6 ?? []) {
    if (!s.kl || !s['go-json']) continue;
    const tag = caseTitle.S6(c).replace(' of one ConfigMap', '');
    const d = s.kl.p50.median - s['go-json'].p50.median;
    line('S6', `${tag}: p50 ≤ client-go + 0.1 ms`, d <= 0.1, `${d >= 0 ? '+' : ''}${fmt(d)} ms`);
    const r = s.kl.rps.median / s['go-json'].rps.median;
    line('S6', `${tag}: req/s ≥ 0.9× client-go`, r >= 0.9, `${fmt(r)}×`);
  }
  for (const { s } of summaries.S8 ?? []) {
    if (!s.kl) continue;
    if (s['go-json']) {
      const r = s.kl.rss.median / s['go-json'].rss.median;
      line(
        'S8',
        'RSS ≤ 2× the controller-runtime binary',
        r <= 2,
        `${fmt(r)}× (${fmt(s.kl.rss.median)} vs ${fmt(s['go-json'].rss.median)} MB)`,
      );
    }
    line(
      'S8',
      'ready ≤ 0.5 s after the API server answers',
      s.kl.ready.median <= 500,
      `${fmt(s.kl.ready.median)} ms create → synced`,
    );
  }
  for (const [id, { report }] of Object.entries(plugins)) {
    if (summaries[id]) report.targets(summaries[id], (what, ok, figure) => line(id, what, ok, figure));
  }
  return out.toSorted((a, b) => scenarioOrder.indexOf(a.scenario) - scenarioOrder.indexOf(b.scenario));
}

/** The second round of targets (issue #22, "Performance, second round"), next to PERFORMANCE.md's. */
function secondRoundTargets(summaries) {
  const out = [];
  const line = (scenario, what, ok, figure) =>
    out.push({ scenario, what, status: ok === undefined ? 'n/a' : ok ? 'met' : 'missed', figure });
  const vs = (a, b, unit) => `(${fmt(a)} vs ${fmt(b)}${unit})`;
  for (const { c, s } of summaries.S1 ?? []) {
    const kl = s.kl;
    if (!kl) continue;
    const tag = caseTitle.S1(c).split(' (')[0];
    if (s.cn) {
      const r = ratio(kl.ms.median, s.cn.ms.median);
      line('S1', `${tag}: sync time ≤ 1.0× CN`, r <= 1.0, `${fmt(r)}× ${vs(kl.ms.median, s.cn.ms.median, ' ms')}`);
    }
    if (s.floor) {
      const limit = c.n >= 10_000 ? 1.2 : 1.4;
      const r = ratio(kl.ms.median, s.floor.ms.median);
      line(
        'S1',
        `${tag}: sync time ≤ ${limit}× FLOOR`,
        r <= limit,
        `${fmt(r)}× ${vs(kl.ms.median, s.floor.ms.median, ' ms')}`,
      );
    }
  }
  const s3 = (summaries.S3 ?? []).filter(({ s }) => s.kl && s['go-json']);
  const maxRate = Math.max(...s3.map(({ c }) => c.rate));
  for (const { c, s } of s3.filter((x) => x.c.rate === maxRate)) {
    const r = ratio(s.kl.cpuEv.median, s['go-json'].cpuEv.median);
    line(
      'S3',
      `${c.rate}/s (the highest rate of this run): CPU per event ≤ 1.0× GO-JSON`,
      r <= 1.0,
      `${fmt(r)}× ${vs(s.kl.cpuEv.median, s['go-json'].cpuEv.median, ' µs')}`,
    );
  }
  for (const { c, s } of summaries.S6 ?? []) {
    if (!s.kl || !s['go-json'] || c.op !== 'get') continue;
    const [kl, go] = [s.kl, s['go-json']];
    if (c.concurrency === 1) {
      const r = kl.rps.median / go.rps.median;
      line(
        'S6',
        'sequential GETs: req/s ≥ 0.85× client-go',
        r >= 0.85,
        `${fmt(r)}× ${vs(kl.rps.median, go.rps.median, '/s')}`,
      );
    } else if (c.concurrency === 64) {
      const d = kl.p50.median - go.p50.median;
      line(
        'S6',
        '64 concurrent GETs: p50 ≤ client-go + 2 ms',
        d <= 2,
        `${d >= 0 ? '+' : ''}${fmt(d)} ms ${vs(kl.p50.median, go.p50.median, ' ms')}`,
      );
    }
  }
  for (const { s } of summaries.S8 ?? []) {
    if (s.kl) line('S8', 'idle RSS ≤ 75 MB', s.kl.rss.median <= 75, `${fmt(s.kl.rss.median)} MB`);
  }
  for (const [id, { report }] of Object.entries(plugins)) {
    if (summaries[id] && report.secondRound)
      report.secondRound(summaries[id], (what, ok, figure) => line(id, what, ok, figure));
  }
  return out.toSorted((a, b) => scenarioOrder.indexOf(a.scenario) - scenarioOrder.indexOf(b.scenario));
}

// ---------------------------------------------------------------------------------------------------------------
// charts: small multiples of horizontal bars (median) with min–max whiskers

const colors = { kl: '#2b6cb0', 'go-json': '#2f855a', 'go-pb': '#68d391', cn: '#c05621', floor: '#718096' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

function barChart(title, unit, panels) {
  const width = 760;
  const labelW = 90;
  const barH = 16;
  const gap = 4;
  const plotW = width - labelW - 110;
  let y = 40;
  const parts = [];
  for (const panel of panels) {
    parts.push(`<text x="10" y="${y}" font-weight="bold">${esc(panel.title)}</text>`);
    y += 8;
    const max = Math.max(
      ...panel.bars.map((b) => (Number.isFinite(b.max) ? b.max : b.value)).filter(Number.isFinite),
      1e-9,
    );
    for (const b of panel.bars) {
      const w = Number.isFinite(b.value) ? (b.value / max) * plotW : 0;
      parts.push(
        `<text x="${labelW - 6}" y="${y + barH - 4}" text-anchor="end">${esc(short[b.peer] ?? b.peer)}</text>`,
      );
      parts.push(
        `<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${colors[b.peer] ?? '#999'}"/>`,
      );
      if (Number.isFinite(b.min) && Number.isFinite(b.max) && b.max > b.min) {
        const x1 = labelW + (b.min / max) * plotW;
        const x2 = labelW + (b.max / max) * plotW;
        const cy = y + barH / 2;
        parts.push(
          `<path d="M${x1.toFixed(1)} ${cy}H${x2.toFixed(1)}M${x1.toFixed(1)} ${cy - 4}v8M${x2.toFixed(1)} ${cy - 4}v8" stroke="#222" fill="none"/>`,
        );
      }
      const xr = labelW + Math.max(w, Number.isFinite(b.max) ? (b.max / max) * plotW : 0) + 6;
      parts.push(`<text x="${xr.toFixed(1)}" y="${y + barH - 4}">${esc(fmt(b.value))} ${esc(unit)}</text>`);
      y += barH + gap;
    }
    y += 18;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="20" font-size="15" font-weight="bold">${esc(title)}</text>
${parts.join('\n')}
</svg>
`;
}

function panelsFor(summaries, scenario, key) {
  return (summaries[scenario] ?? []).map(({ c, s }) => ({
    title: caseTitle[scenario](c).split(' (')[0],
    bars: Object.entries(s).map(([peer, m]) => ({ peer, value: m[key].median, min: m[key].min, max: m[key].max })),
  }));
}

export function renderReport(results) {
  const summaries = {};
  const md = [];
  const f = results.facts;
  md.push(`# kubeloop benchmarks: ${results.mode} mode\n`);
  md.push(
    `Generated by \`npm run bench${results.mode === 'full' ? ' -- --full' : ''}\` (bench/run.mjs) on ${f.date}; ${results.reps} repetitions per peer, interleaved` +
      ` (A B C … then … C B A), medians with (min–max). Ratios are **KL ÷ peer** from the same run: below 1 means kubeloop` +
      ` is lower (for times, CPU and memory: better); for req/s and cycles/s above 1 is better.\n`,
  );
  md.push('| fact | value |\n| --- | --- |');
  for (const [k, v] of Object.entries(f)) md.push(`| ${k} | ${esc(v ?? '?')} |`);
  md.push(
    `| pinning | ${results.pin ? `control plane and the harness on CPU ${results.pin.server}, the measured client on CPU ${results.pin.client} (taskset)` : 'none'} |`,
  );
  if (results.durationS) md.push(`| duration | ${results.durationS} s |`);
  for (const m of results.merged ?? [])
    md.push(
      `| re-run | ${m.scenarios.join(', ')} on ${m.facts.date} (kubeloop ${m.facts.kubeloop}) with \`--merge\` |`,
    );
  md.push('');
  for (const scenario of scenarioOrder) {
    const cases = results.scenarios[scenario];
    if (!cases) continue;
    md.push(`## ${scenarioNames[scenario]}\n`);
    summaries[scenario] = [];
    for (const c of cases) {
      const s = summarize(c.runs, metrics[scenario], c);
      summaries[scenario].push({ c, s });
      md.push(`### ${caseTitle[scenario](c)}\n`);
      md.push(table(s, metrics[scenario]));
      if (scenario === 'S3') {
        const w = Object.values(c.runs)
          .flat()
          .map((r) => r.writer?.achievedRate)
          .filter(Number.isFinite);
        if (w.length) md.push(`\nWriter: achieved ${fmt(median(w))} updates/s (median over runs).`);
      }
      if (scenario === 'S1' || scenario === 'S3') {
        const wl = Object.values(c.runs['go-json'] ?? []).map((r) => r.facts?.watchListClient);
        if (wl.length) md.push(`\nclient-go WatchListClient feature: ${wl[0] ? 'on' : 'off'}.`);
      }
      for (const note of plugins[scenario]?.report.notes?.(c) ?? []) md.push(`\n${note}`);
      if (c.errors?.length) md.push(`\nFailed runs: ${c.errors.map(esc).join('; ')}`);
      md.push('');
    }
    for (const line of plugins[scenario]?.report.extra?.(summaries[scenario], { fmt, median }) ?? []) md.push(line);
    md.push('What differs between peers:\n');
    for (const d of differences[scenario]) md.push(`- ${d}`);
    md.push('');
  }
  // Headline: KL ÷ each peer for the main figure of each case, placed after the facts.
  const builtinHeadline = {
    S1: ['ms', 'cpu', 'rss'],
    S3: ['cpuEv', 'p99'],
    S4: ['cycles'],
    S6: ['p50', 'rps', 'cpuReq'],
    S8: ['rss', 'ready'],
  };
  const headline = Object.fromEntries(
    scenarioOrder.map((id) => [id, builtinHeadline[id] ?? plugins[id]?.report.headline ?? []]),
  );
  const peerOrder = ['go-json', 'go-pb', 'cn', 'floor'];
  const summaryRows = [
    '## Summary: KL ÷ peer (medians of this run)\n',
    `| scenario, case | figure | ${peerOrder.map((p) => short[p]).join(' | ')} |`,
    `| --- | --- | ${peerOrder.map(() => '---:').join(' | ')} |`,
  ];
  for (const [scenario, keys] of Object.entries(headline)) {
    for (const { c, s } of summaries[scenario] ?? []) {
      if (!s.kl) continue;
      for (const key of keys) {
        const m = metrics[scenario].find((x) => x.key === key);
        const kl = s.kl[key].median;
        const cells = peerOrder.map((p) =>
          s[p] && Number.isFinite(s[p][key]?.median) ? `${fmt(kl / s[p][key].median)}×` : '—',
        );
        summaryRows.push(
          `| ${scenario} ${caseTitle[scenario](c).split(' (')[0]} | ${m.head}${m.higher ? ' (higher is better)' : ''} | ${cells.join(' | ')} |`,
        );
      }
    }
  }
  const factsEnd = md.indexOf('') + 1;
  md.splice(factsEnd, 0, ...summaryRows, '');
  const t = targets(summaries);
  const t2 = secondRoundTargets(summaries);
  const count = (list) =>
    `${list.filter((x) => x.status === 'met').length} met, ${list.filter((x) => x.status === 'missed').length} missed`;
  const secondRound = t2.length
    ? [
        '## Targets, second round (issue #22)\n',
        '| scenario | target | figure | status |\n| --- | --- | --- | --- |',
        ...t2.map((x) => `| ${x.scenario} | ${x.what} | ${x.figure} | ${x.status} |`),
        '',
      ]
    : [];
  const summary = [
    `# kubeloop benchmarks: summary (${results.mode} mode)\n`,
    `Ratios of kubeloop to each peer, medians of one run of \`npm run bench${results.mode === 'full' ? ' -- --full' : ''}\` on ${f.date.slice(0, 10)}` +
      ` (${f.cpu}, kubeloop ${f.kubeloop})` +
      (results.merged?.length
        ? `; re-run with \`--merge\`: ${results.merged.map((m) => `${m.scenarios.join(', ')} (kubeloop ${m.facts.kubeloop})`).join('; ')}`
        : '') +
      `; every figure, its spread and what differs between peers are in [report.md](report.md).` +
      ` Targets: ${count(t)}${t2.length ? `; second round: ${count(t2)}` : ''}.\n`,
    '## Targets (PERFORMANCE.md)\n',
    '| scenario | target | figure | status |\n| --- | --- | --- | --- |',
    ...t.map((x) => `| ${x.scenario} | ${x.what} | ${x.figure} | ${x.status} |`),
    '',
    ...secondRound,
    ...summaryRows,
    '',
  ].join('\n');
  if (t.length) {
    md.push('## Targets (PERFORMANCE.md), this run\n');
    md.push('| scenario | target | figure | status |\n| --- | --- | --- | --- |');
    for (const x of t) md.push(`| ${x.scenario} | ${x.what} | ${x.figure} | ${x.status} |`);
    md.push('');
  }
  md.push(...secondRound);
  const charts = {};
  if (summaries.S1) {
    charts['s1-sync.svg'] = barChart(
      'S1 cold sync: time to synced (median, min–max)',
      'ms',
      panelsFor(summaries, 'S1', 'ms'),
    );
    charts['s1-peak-rss.svg'] = barChart(
      'S1 cold sync: client peak RSS (median, min–max)',
      'MB',
      panelsFor(summaries, 'S1', 'rss'),
    );
  }
  if (summaries.S3)
    charts['s3-cpu-per-event.svg'] = barChart(
      'S3 watch ingest: client CPU per event',
      'µs',
      panelsFor(summaries, 'S3', 'cpuEv'),
    );
  if (summaries.S6) charts['s6-p50.svg'] = barChart('S6 REST latency: p50', 'ms', panelsFor(summaries, 'S6', 'p50'));
  if (summaries.S8) charts['s8-rss.svg'] = barChart('S8 idle footprint: RSS', 'MB', panelsFor(summaries, 'S8', 'rss'));
  for (const [id, { report }] of Object.entries(plugins)) {
    if (summaries[id] && report.charts)
      Object.assign(
        charts,
        report.charts(summaries[id], { barChart, short, panels: (key) => panelsFor(summaries, id, key) }),
      );
  }
  if (Object.keys(charts).length) {
    md.push('## Charts\n');
    for (const name of Object.keys(charts)) md.push(`![${name}](${name})\n`);
  }
  return { markdown: `${md.join('\n')}\n`, summary, charts };
}

/** Writes report.md, summary.md and the charts of `results` into `dir`. */
export function writeReport(dir, results) {
  const { markdown, summary, charts } = renderReport(results);
  writeFileSync(join(dir, 'report.md'), markdown);
  writeFileSync(join(dir, 'summary.md'), summary);
  for (const [name, svg] of Object.entries(charts)) writeFileSync(join(dir, name), svg);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  writeReport(dirname(file), JSON.parse(readFileSync(file, 'utf8')));
}
