// S10 scale curve (issue #22): S1's cold sync (until a handler registered before the start has synced) and then a
// steady watch, at N = 1k, 10k and 100k ConfigMaps and Pods (and 100k Pods metadata-only): sync time, client CPU,
// peak RSS, settled heap and RSS, each also per object; in the steady phase the harness merge-patches a timestamp
// annotation of `events` objects at `rate` per second, and the peer reports CPU per event, lag p50/p99 and its
// settled memory again. A peer that fails (client-node's LIST of 100k Pods is longer than V8's longest string) is
// recorded as "failed: <reason>" and the run goes on.
//
// The peers' sides: bench/peers/node/s10.mjs (KL, CN) and bench/peers/go/s10.go (GO-JSON).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const id = 'S10';
export const peers = ['kl', 'go-json', 'cn'];

const steady = { rate: 200, events: 1000 };

/**
 * Quick: 1k and 10k ConfigMaps. Full: 1k, 10k and 100k ConfigMaps and Pods, and 100k Pods metadata-only, 3
 * repetitions; `reps100k` (default 1) at 100k, whose cases must fit in about 25 minutes for every peer (seeding
 * included; the estimate is in bench/README.md). With BENCH_S10_CLEANUP=1 the 100k objects of a kind are deleted
 * once its cases are measured.
 */
export function plan(full) {
  const reps100k = Number(process.env.BENCH_S10_REPS_100K ?? 1);
  const cases = full
    ? [
        { kind: 'configmaps', n: 1000 },
        { kind: 'configmaps', n: 10_000 },
        { kind: 'configmaps', n: 100_000, reps: reps100k, drop: true },
        { kind: 'pods', n: 1000 },
        { kind: 'pods', n: 10_000 },
        { kind: 'pods', n: 100_000, reps: reps100k },
        { kind: 'pods', n: 100_000, metadata: true, reps: reps100k, drop: true },
      ]
    : [
        { kind: 'configmaps', n: 1000 },
        { kind: 'configmaps', n: 10_000 },
      ];
  // BENCH_S10_ONLY=configmaps-100000,pods-100000-meta keeps only those cases (a check of seeding and memory at 100k).
  const only = process.env.BENCH_S10_ONLY?.split(',');
  return cases.filter((c) => !only || only.includes(key(c))).map((c) => ({ ...steady, ...c }));
}

/** A case's name (BENCH_S10_ONLY's, and --merge's to replace a case of an earlier run). */
export const key = (c) => `${c.kind}-${c.n}${c.metadata ? '-meta' : ''}`;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const descriptor = (kind) =>
  kind === 'pods'
    ? { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true }
    : { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };

export async function run(ctx) {
  const { factory, log, interleave, reps, cases, save, ensureSeeded, dropSeeded, write } = ctx;
  const signalDir = mkdtempSync(join(tmpdir(), 'kubeloop-bench-s10-'));
  try {
    for (const c of ctx.plan) {
      // 100k objects: 64 creates at a time (the API server's CPU is the limit either way).
      const { namespace, bytes, seedMs } = await ensureSeeded(c.kind, c.n, c.n >= 100_000 ? 64 : 32);
      const client = factory.resource(descriptor(c.kind)).namespace(namespace);
      const prefix = c.kind === 'pods' ? 'pod' : 'cm';
      // The rolling set: the first `events` objects, each patched once per run.
      const names = Array.from({ length: Math.min(c.n, c.events) }, (_, i) => `${prefix}-${i}`);
      const signalFile = join(signalDir, `steady-${c.kind}-${c.n}`);
      const steadyTimeoutMs = Math.ceil((c.events / c.rate) * 1000) + 20_000;
      // The whole process: a 100k sync takes tens of seconds, its forced GCs seconds more.
      const timeoutMs = (c.n >= 100_000 ? 600_000 : 120_000) + steadyTimeoutMs;
      log(`S10 scale: ${c.n} ${c.kind}${c.metadata ? ', metadata only' : ''}; then ${c.events} updates at ${c.rate}/s`);
      const onGo = async (_peer, exited) => {
        rmSync(signalFile, { force: true });
        const deadline = Date.now() + timeoutMs;
        while (!existsSync(signalFile)) {
          // A peer that failed its sync never signals: stop waiting when it exits (the harness records its failure).
          if (Date.now() > deadline || exited.aborted) return { sent: 0, errors: 0, achievedRate: NaN, noSignal: true };
          await sleep(5);
        }
        rmSync(signalFile, { force: true });
        return write(client, names, c.rate, c.events);
      };
      const params = {
        namespace,
        kind: c.kind,
        n: c.n,
        events: c.events,
        signalFile,
        steadyTimeoutMs,
        timeoutMs,
        tag: `${c.kind}-${c.n}-${c.metadata ? 'meta-' : ''}`,
        ...(c.metadata && { metadata: true, skip: ['cn'] }),
      };
      const out = await interleave('s10', params, c.reps ?? reps, onGo);
      const { drop: _drop, ...shown } = c;
      cases.push({ ...shown, objectBytes: bytes, seedMs, ...out });
      save();
      // Deleting 100k objects takes as long as creating them (200 s for ConfigMaps here), and S10 is the last
      // scenario: the control plane's teardown removes them by default. BENCH_S10_CLEANUP=1 deletes them.
      if (c.drop && process.env.BENCH_S10_CLEANUP === '1') {
        const t0 = performance.now();
        await dropSeeded(c.kind, c.n);
        cases.at(-1).dropMs = Math.round(performance.now() - t0);
        save();
      }
    }
  } finally {
    rmSync(signalDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// report

const MiB = 2 ** 20;
const caseName = (c) => `${c.n.toLocaleString('en')} ${c.kind}${c.metadata ? ', metadata only' : ''}`;
const seriesName = (c) => `${c.kind}${c.metadata ? ' (metadata)' : ''}`;
/** "failed: <reason>" for a peer of a case without a single run, from the harness's error lines. */
function failures(c) {
  const out = {};
  for (const [peer, rs] of Object.entries(c.runs)) {
    if (rs.length) continue;
    const e = (c.errors ?? []).find((x) => x.startsWith(`${peer}: `));
    const reason = e === undefined ? 'no result' : (/failed: ([^|]*)/.exec(e)?.[1]?.trim() ?? e.slice(peer.length + 2));
    out[peer] = `failed: ${reason}`;
  }
  return out;
}

const metrics = [
  { key: 'ms', head: 'synced (ms)', get: (r) => r.ms },
  { key: 'msObj', head: 'sync µs/object', get: (r, c) => (r.ms * 1000) / c.n },
  { key: 'cpuObj', head: 'sync CPU µs/object (/proc)', get: (r, c) => (r.procCpuMs * 1000) / c.n },
  { key: 'peak', head: 'peak RSS (MB)', get: (r) => r.peakRssMB },
  { key: 'peakObj', head: 'peak RSS − before, B/object', get: (r, c) => ((r.peakRssMB - r.rssBeforeMB) * MiB) / c.n },
  { key: 'heapObj', head: 'settled heap B/object', get: (r, c) => r.settledHeapBytes / c.n },
  {
    key: 'rssObj',
    head: 'settled RSS − before, B/object',
    get: (r, c) => ((r.settledRssMB - r.rssBeforeMB) * MiB) / c.n,
  },
  { key: 'cpuEv', head: 'steady CPU/event (µs)', get: (r) => (r.steadyCpuMs * 1000) / r.events },
  { key: 'p50', head: 'lag p50 (ms)', get: (r) => r.lagP50Ms },
  { key: 'p99', head: 'lag p99 (ms)', get: (r) => r.lagP99Ms },
  { key: 'steadyHeapObj', head: 'heap after steady B/object', get: (r, c) => r.steadyHeapBytes / c.n },
  { key: 'steadyRss', head: 'RSS after steady (MB)', get: (r) => r.steadyRssMB, noRatio: true },
  { key: 'events', head: 'events seen', get: (r) => r.events, noRatio: true },
];

const colors = { kl: '#2b6cb0', 'go-json': '#2f855a', cn: '#c05621', floor: '#718096' };
const dashes = { configmaps: '', pods: '6 3', 'pods (metadata)': '2 3', 'configmaps (metadata)': '2 3' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** One panel of lines on a log x axis (N) and a linear y axis from 0; series = [{ peer, name, points: [[n, y]] }]. */
function linePanel(title, unit, series, y0, short) {
  const left = 70;
  const plotW = 470;
  const plotH = 220;
  const top = y0 + 30;
  const xs = series.flatMap((s) => s.points.map(([n]) => n));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y)).filter(Number.isFinite);
  if (!xs.length) return { svg: '', height: 0 };
  const lx0 = Math.floor(Math.log10(Math.min(...xs)));
  const lx1 = Math.max(Math.ceil(Math.log10(Math.max(...xs))), lx0 + 1);
  const ymax = Math.max(...ys, 1e-9) * 1.1;
  const x = (n) => left + ((Math.log10(n) - lx0) / (lx1 - lx0)) * plotW;
  const y = (v) => top + plotH - (v / ymax) * plotH;
  const parts = [`<text x="10" y="${y0 + 16}" font-weight="bold">${esc(`${title}, ${unit}`)}</text>`];
  parts.push(`<path d="M${left} ${top}V${top + plotH}H${left + plotW}" stroke="#222" fill="none"/>`);
  for (let e = lx0; e <= lx1; e++) {
    const n = 10 ** e;
    parts.push(`<path d="M${x(n).toFixed(1)} ${top + plotH}v5" stroke="#222"/>`);
    parts.push(
      `<text x="${x(n).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle">${n >= 1000 ? `${n / 1000}k` : n}</text>`,
    );
  }
  for (let k = 0; k <= 4; k++) {
    const v = (ymax * k) / 4;
    parts.push(`<path d="M${left - 5} ${y(v).toFixed(1)}H${left + plotW}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${esc(fmtShort(v))}</text>`);
  }
  parts.push(
    `<text x="${left + plotW / 2}" y="${top + plotH + 34}" text-anchor="middle">N (objects, log scale)</text>`,
  );
  let ly = top;
  for (const s of series) {
    const pts = s.points.filter(([, v]) => Number.isFinite(v)).toSorted((a, b) => a[0] - b[0]);
    if (!pts.length) continue;
    const d = pts.map(([n, v], i) => `${i ? 'L' : 'M'}${x(n).toFixed(1)} ${y(v).toFixed(1)}`).join('');
    const color = colors[s.peer] ?? '#999';
    const dash = dashes[s.name] ? ` stroke-dasharray="${dashes[s.name]}"` : '';
    parts.push(`<path d="${d}" stroke="${color}" stroke-width="2" fill="none"${dash}/>`);
    for (const [n, v] of pts)
      parts.push(`<circle cx="${x(n).toFixed(1)}" cy="${y(v).toFixed(1)}" r="3" fill="${color}"/>`);
    parts.push(
      `<path d="M${left + plotW + 15} ${ly + 6}h24" stroke="${color}" stroke-width="2"${dash}/><text x="${left + plotW + 45}" y="${ly + 10}">${esc(`${short[s.peer] ?? s.peer} ${s.name}`)}</text>`,
    );
    ly += 16;
  }
  return { svg: parts.join('\n'), height: Math.max(plotH + 70, ly - y0 + 10) };
}
function fmtShort(v) {
  if (v >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function scaleChart(list, short) {
  const series = (key) => {
    const by = new Map();
    for (const { c, s } of list) {
      for (const [peer, m] of Object.entries(s)) {
        const name = seriesName(c);
        const k = `${peer}|${name}`;
        if (!by.has(k)) by.set(k, { peer, name, points: [] });
        by.get(k).points.push([c.n, m[key].median]);
      }
    }
    return [...by.values()];
  };
  const a = linePanel('Cold sync time per object (median)', 'µs/object', series('msObj'), 30, short);
  const b = linePanel(
    'Settled heap per object after the sync (median)',
    'B/object',
    series('heapObj'),
    30 + a.height,
    short,
  );
  const height = 30 + a.height + b.height;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="760" height="${height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="20" font-size="15" font-weight="bold">S10 scale curve: per-object cost against N (solid: ConfigMaps, dashed: Pods, dotted: metadata only)</text>
${a.svg}
${b.svg}
</svg>
`;
}

export const report = {
  name: 'S10 scale curve',
  metrics,
  caseTitle: (c) =>
    `${caseName(c)}${c.objectBytes ? ` (${c.objectBytes} B of JSON each, with managedFields)` : ''}; then ${c.events} updates at ${c.rate}/s`,
  headline: ['msObj', 'cpuObj', 'heapObj', 'cpuEv'],
  differences: [
    "Cold sync as S1: go → a handler registered before the start has been handed every object (KL `registration.hasSynced()`, GO-JSON `reg.HasSynced()` polled every 0.2 ms, CN `start()` resolved and its add handler ran N times); each peer counts the adds its handler saw and the run fails unless it is N. KL: `createSharedIndexInformer` with its defaults (WatchList, managedFields stripped), or the metadata-only informer; GO-JSON: a `SharedInformerFactory` with `TransformStripManagedFields`, or `metadatainformer` with it (client-go's metadata client always asks for protobuf: that case is protobuf on the wire); CN: `makeInformer` (one LIST, managedFields kept, no metadata-only informer).",
    'Per object: sync time and the /proc CPU of go → synced ÷ N; peak RSS (VmHWM, over the whole process life, which the sync dominates) and settled RSS (VmRSS after the forced GCs) minus the RSS before the informer, ÷ N; settled heap (Node `heapUsed` after two full GCs, Go `HeapAlloc` after two `runtime.GC()`, minus before) ÷ N. Neither V8 nor Go hands freed pages back at once, so settled RSS stays near the peak.',
    "Steady watch: once synced (and its memory read), the peer creates a file; the harness (on the control plane's CPU) then merge-patches the timestamp annotation of the first `events` objects, one each, at `rate` per second. CPU/event = the peer's rusage from the signal to the last event ÷ events; lag = receive time − the annotation's time (API server and etcd included, the same for every peer). Then the settled heap and RSS again.",
    "The 100k cases run 1 repetition by default (`BENCH_S10_REPS_100K`), the others the run's; the 100k objects are seeded 64 creates at a time, and left for the control plane's teardown (`BENCH_S10_CLEANUP=1` deletes them once measured, one DeleteCollection per shard label). CN is expected to fail at 100k Pods: one LIST answer of about 700 MB is longer than V8's longest string; the failure is recorded (\"failed: …\") and the run goes on.",
  ],
  notes(c) {
    const w = Object.values(c.runs)
      .flat()
      .map((r) => r.writer?.achievedRate)
      .filter(Number.isFinite);
    const f = Object.entries(failures(c)).map(([peer, why]) => `${peer} ${why}`);
    return [
      `Seeded in ${c.seedMs === undefined ? 'an earlier scenario' : `${(c.seedMs / 1000).toFixed(1)} s`}; writer achieved ${w.map((x) => x.toFixed(0)).join('/')} updates/s.${c.dropMs ? ` Deleted in ${(c.dropMs / 1000).toFixed(1)} s.` : ''}${f.length ? ` ${f.join('; ')}.` : ''}`,
    ];
  },
  secondRound(list, line) {
    const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
    const at = (kind, metadata, n) => list.find(({ c }) => c.kind === kind && !!c.metadata === !!metadata && c.n === n);
    for (const { c, s } of list) {
      if (!s.kl || !s.kl.heapObj.n) continue;
      if (c.n === 100_000) {
        const base = at(c.kind, c.metadata, 10_000) ?? (c.metadata ? at(c.kind, false, 10_000) : undefined);
        if (base?.s.kl?.msObj.n) {
          for (const [key, what] of [
            ['msObj', 'time'],
            ['cpuObj', 'CPU'],
          ]) {
            const r = s.kl[key].median / base.s.kl[key].median;
            line(
              `${caseName(c)}: ${what} per object ≤ 1.2× 10k's${base.c.metadata === c.metadata ? '' : ' (full objects)'}`,
              r <= 1.2,
              `${f(r)}× (${f(s.kl[key].median)} vs ${f(base.s.kl[key].median)} µs)`,
            );
          }
        }
      }
      const go = s['go-json'];
      if (go?.heapObj.n) {
        const r = s.kl.heapObj.median / go.heapObj.median;
        line(
          `${caseName(c)}: settled heap per object ≤ GO-JSON's`,
          r <= 1.0,
          `${f(r)}× (${s.kl.heapObj.median.toFixed(0)} vs ${go.heapObj.median.toFixed(0)} B)`,
        );
      }
    }
  },
  targets() {},
  extra(list, { fmt }) {
    if (!list?.length) return [];
    const rows = [
      '### Per object, all peers\n',
      '| case | peer | sync µs/object | sync CPU µs/object | peak RSS B/object | settled heap B/object | settled RSS B/object | steady CPU/event (µs) | lag p50/p99 (ms) |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const { c, s } of list) {
      const failed = failures(c);
      for (const [peer, m] of Object.entries(s)) {
        if (failed[peer]) {
          rows.push(`| ${caseName(c)} | ${peer} | ${esc(failed[peer])} | | | | | | |`);
          continue;
        }
        rows.push(
          `| ${caseName(c)} | ${peer} | ${fmt(m.msObj.median)} | ${fmt(m.cpuObj.median)} | ${fmt(m.peakObj.median)} | ${fmt(m.heapObj.median)} | ${fmt(m.rssObj.median)} | ${fmt(m.cpuEv.median)} | ${fmt(m.p50.median)} / ${fmt(m.p99.median)} |`,
        );
      }
    }
    return [...rows, ''];
  },
  charts(list, { short }) {
    return { 's10-scale.svg': scaleChart(list, short) };
  },
};
