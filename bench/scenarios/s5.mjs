// S5 reconcile throughput (PERFORMANCE.md): K Widgets (a small custom resource with a status subresource), one
// controller For(Widget) with W workers whose reconcile is a cached get plus a merge patch of the status subresource.
// Phase A: from "go" (the manager starts) until every Widget's first reconcile is done: reconciles/s, CPU per
// reconcile, queue latency. Phase B: the harness bumps spec.size of M Widgets at a fixed rate, a timestamp in an
// annotation; the peer reports change → observedGeneration (its status patch for that generation returned).
//
// The peers' sides: bench/peers/node/s5.mjs (kubeloop's Manager) and bench/peers/go/s5.go (controller-runtime).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const id = 'S5';
export const peers = ['kl', 'go-json'];

const group = 'bench.kubeloop.dev';
const Widget = { group, version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true };
const CRD = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
};
const tsAnnotation = 'bench.kubeloop.dev/ts';

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `widgets.${group}` },
  spec: {
    group,
    names: { kind: 'Widget', listKind: 'WidgetList', plural: 'widgets', singular: 'widget' },
    scope: 'Namespaced',
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { size: { type: 'integer' } } },
              status: { type: 'object', properties: { observedGeneration: { type: 'integer', format: 'int64' } } },
            },
          },
        },
      },
    ],
  },
};

/**
 * Cases: K Widgets × W workers; `changes` Widgets get a spec change in phase B, `rate` per second. Full mode runs
 * 10k Widgets with 4 and 16 workers only: phase A is bound by the API server (about 300–600 reconciles/s on this
 * machine whatever the client), so 10k with one worker costs about 35 s per peer run, and the full plan has to stay
 * within about 12 minutes at 5 repetitions (measured at reps=1: bench/README.md).
 */
export function plan(full) {
  const cases = [1, 4, 16].map((workers) => ({ k: 1000, workers, changes: 200, rate: 100 }));
  if (full) cases.push(...[4, 16].map((workers) => ({ k: 10_000, workers, changes: 200, rate: 100 })));
  // BENCH_S5_WORKERS=16 keeps only those cases (for A/B runs of two builds: BENCH_KL_BUILDS in run.mjs).
  const only = process.env.BENCH_S5_WORKERS?.split(',').map(Number);
  return cases.filter((c) => !only || only.includes(c.workers));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, deadlineMs, check) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** Installs the Widget CRD (once per harness run) and waits until it is established and served. */
async function installCrd(factory, log) {
  const { isAlreadyExists } = await import('../../dist/sdk/client/index.js');
  const crds = factory.resource(CRD);
  await crds.create(crd).catch((e) => {
    if (!isAlreadyExists(e)) throw e;
  });
  await until('the Widget CRD to be established', 60_000, async () => {
    const c = await crds.get(crd.metadata.name);
    return c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True') ? true : undefined;
  });
  await until('widgets to be served', 60_000, () =>
    factory
      .resource(Widget)
      .list({ limit: 1 })
      .then(() => true),
  );
  log('S5: Widget CRD established');
}

/**
 * K Widgets in a namespace of their own, 32 creates at a time; then each one's status is set to its generation, so
 * every run (of either peer) starts from the same state: status.observedGeneration = metadata.generation. (Phase B
 * leaves that true too: the peer waits until each changed Widget's status caught up.)
 */
async function seedWidgets(ctx, k) {
  const { factory, seed, log } = ctx;
  const { isAlreadyExists } = await import('../../dist/sdk/client/index.js');
  const namespace = `bench-widgets-${k}`;
  await seed(factory, 'configmaps', namespace, 0); // the namespace only
  const widgets = factory.resource(Widget).namespace(namespace);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      for (let i = next++; i < k; i = next++) {
        const name = `w-${i}`;
        const w = await widgets
          .create({ apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name }, spec: { size: i } })
          .catch((e) => (isAlreadyExists(e) ? widgets.get(name) : Promise.reject(e)));
        if (w.status?.observedGeneration !== w.metadata.generation) {
          await widgets.patch(
            name,
            { status: { observedGeneration: w.metadata.generation } },
            { patchType: 'merge', subresource: 'status' },
          );
        }
      }
    }),
  );
  log(`seeded ${k} widgets in ${namespace} in ${Math.round(performance.now() - t0)} ms`);
  return namespace;
}

let sizeSeq = Date.now() % 1_000_000_000;
/** Phase B's writer: bumps spec.size (so the generation) of `names`, `rate` per second, the send time in an annotation. */
function bump(widgets, names, rate) {
  return new Promise((resolveWrite) => {
    const t0 = performance.now();
    let sent = 0;
    let inflight = 0;
    let errors = 0;
    const total = names.length;
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
      while (sent < due && inflight < 64) {
        const name = names[sent++];
        inflight++;
        const ts = (performance.timeOrigin + performance.now()).toFixed(3);
        widgets
          .patch(
            name,
            { metadata: { annotations: { [tsAnnotation]: ts } }, spec: { size: sizeSeq++ } },
            { patchType: 'merge' },
          )
          .catch(() => errors++)
          .finally(() => {
            inflight--;
            if (sent === total && inflight === 0)
              resolveWrite({ sent, errors, achievedRate: sent / ((performance.now() - t0) / 1000) });
          });
      }
      if (sent < total) setTimeout(tick, 2);
    };
    tick();
  });
}

export async function run(ctx) {
  const { factory, log, interleave, reps, cases, save } = ctx;
  await installCrd(factory, log);
  const signalDir = mkdtempSync(join(tmpdir(), 'kubeloop-bench-s5-'));
  const seeded = {};
  try {
    for (const c of ctx.plan) {
      seeded[c.k] ??= await seedWidgets(ctx, c.k);
      const namespace = seeded[c.k];
      const widgets = factory.resource(Widget).namespace(namespace);
      // M distinct Widgets spread over the K, the same ones in every run.
      const stride = Math.max(1, Math.floor(c.k / c.changes));
      const names = Array.from({ length: Math.min(c.changes, c.k) }, (_, i) => `w-${i * stride}`);
      // The peer creates this file when phase A is over (and removes nothing): the writer starts then.
      const signalFile = join(signalDir, `phase-b-${c.k}-${c.workers}`);
      const phaseBMs = Math.ceil((names.length / c.rate) * 1000) + 15_000;
      const timeoutMs = 120_000 + phaseBMs; // phase A at 10k with one worker takes seconds; this is only a backstop
      log(
        `S5 reconcile throughput: ${c.k} widgets, ${c.workers} worker(s); then ${names.length} spec changes at ${c.rate}/s`,
      );
      const onGo = async () => {
        rmSync(signalFile, { force: true });
        const deadline = Date.now() + timeoutMs;
        while (!existsSync(signalFile)) {
          if (Date.now() > deadline) return { sent: 0, errors: 0, achievedRate: NaN, noSignal: true };
          await sleep(5);
        }
        rmSync(signalFile, { force: true });
        return bump(widgets, names, c.rate);
      };
      const params = {
        namespace,
        k: c.k,
        workers: c.workers,
        changes: names.length,
        phaseBMs,
        signalFile,
        timeoutMs,
        tag: `${c.k}-${c.workers}-`,
      };
      const out = await interleave('s5', params, reps, onGo);
      cases.push({ ...c, changes: names.length, ...out });
      save();
    }
  } finally {
    rmSync(signalDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// report

const workersLabel = (w) => `${w} worker${w === 1 ? '' : 's'}`;
export const report = {
  name: 'S5 reconcile throughput',
  metrics: [
    { key: 'rps', head: 'reconciles/s', get: (r) => r.reconcilesPerSec, higher: true },
    { key: 'cpuRec', head: 'CPU/reconcile, rusage (µs)', get: (r) => r.cpuUsPerReconcile },
    {
      key: 'cpuProc',
      head: 'CPU/reconcile incl. start and sync, /proc (µs)',
      get: (r) => (r.procCpuMs * 1000) / r.reconciles,
    },
    { key: 'qP50', head: 'queue p50 (ms)', get: (r) => r.queueP50Ms },
    { key: 'qP99', head: 'queue p99 (ms)', get: (r) => r.queueP99Ms },
    { key: 'syncMs', head: 'go → first reconcile (ms)', get: (r) => r.firstReconcileMs },
    { key: 'chP50', head: 'change → observedGeneration p50 (ms)', get: (r) => r.changeP50Ms },
    { key: 'chP99', head: 'change → observedGeneration p99 (ms)', get: (r) => r.changeP99Ms },
  ],
  caseTitle: (c) => `${c.k.toLocaleString('en')} widgets, ${workersLabel(c.workers)}`,
  headline: ['rps', 'cpuRec', 'qP99', 'chP99'],
  differences: [
    'Workload, the same in both: one controller For(Widget) (a namespaced custom resource `bench.kubeloop.dev/v1`, spec `{size}`, status subresource `{observedGeneration}`) in a Manager whose cache is limited to the namespace, metrics and probes off, W workers; reconcile = get the Widget from the manager\'s cache (a deep copy in both) + a merge patch `{"status":{"observedGeneration":<metadata.generation>}}` of the status subresource, done even when the value is already there.',
    "Every run starts from the same state: the harness seeds the Widgets once per K and sets each one's status to its generation, so phase A's K patches change nothing and the API server writes nothing (a no-op patch does not bump resourceVersion, so no follow-up events and exactly K reconciles; `reconciles` in results.json says so, `staleAtStart` counts Widgets that were not caught up). Phase B's patches do change the status, and each is followed by one more (no-op) reconcile caused by that status change, in both peers.",
    'Reconciles/s = reconciles completed ÷ (last of the K first reconciles done − first reconcile start); CPU/reconcile = the process\'s rusage over that same window ÷ reconciles (the /proc column is "go" → end of phase A, so it includes the manager\'s start, the list and the cache sync). Queue latency = reconcile start − the time an extra event handler on the same informer saw the add (registered before the manager starts, in both); handlers are delivered independently, so a few samples can be slightly negative.',
    "KL: `createManager` + `controllerFor(mgr).for(Widget).withOptions({ maxConcurrentReconciles: W })`, the manager's cached `client`, `client.status().patch(obj, body, { patchType: \"merge\" })`; a `defineResource` descriptor (no discovery); its workqueue is client-go's FIFO; its first status patch opens the HTTP/2 connection for writes inside the window (the list and watch use HTTP/1.1 connections of their own; the TLS handshake was ≈ 20 ms of CPU in a profile, ≈ 20 µs per reconcile at 1k), where client-go's one HTTP/2 connection is already open from the list; no client throttling (kubeloop's default); managedFields stripped in the cache (its default); `NODE_ENV=production`.",
    "GO-JSON: controller-runtime v0.25.2 `NewControllerManagedBy(mgr).For(&Widget{}).WithOptions(controller.Options{MaxConcurrentReconciles: W})`, `mgr.GetClient()` Get + `Status().Patch(ctx, w, client.RawPatch(types.MergePatchType, body))`; Widget is a small hand-written typed struct with a hand-written DeepCopyObject (as kubebuilder would generate), JSON on the wire; the RESTMapper discovers the group once at start (outside the throughput window); controller-runtime's default queue (v0.25: its priority queue, initial-list adds at low priority — all equal in phase A); QPS −1 (no throttling); `TransformStripManagedFields` as the cache's default transform so both caches drop managedFields; controller-runtime's zap logger at info, as in S8 (a few lines at start, none per reconcile; kubeloop: pino at warn).",
    "\"go → first reconcile\" includes the manager's start, the list of K Widgets and the wait for the cache: controller-runtime's RESTMapper discovers the group first and its cache-sync wait polls every 100 ms (client-go's WaitForCacheSync), which is most of GO's ≈ 200 ms at 1k; kubeloop waits on a promise.",
    "Phase B: the harness (on the control plane's CPU) merge-patches `spec.size` and the annotation `bench.kubeloop.dev/ts` (the send time) of M distinct Widgets at a fixed rate, starting when the peer says phase A is over (a file it creates); change → observedGeneration = the time the peer's status patch for that new generation returned − the annotation's time, so it includes the API server's write path and the watch delivery, the same for both.",
  ],
  notes(c) {
    const w = Object.values(c.runs)
      .flat()
      .map((r) => r.writer?.achievedRate)
      .filter(Number.isFinite);
    const counts = Object.entries(c.runs).map(
      ([p, rs]) =>
        `${p} ${rs.map((r) => `${r.reconciles}${r.staleAtStart ? ` (${r.staleAtStart} stale)` : ''}`).join('/')}`,
    );
    const seen = Object.entries(c.runs).map(([p, rs]) => `${p} ${rs.map((r) => r.changes).join('/')}`);
    return [
      `Phase A reconciles per run: ${counts.join('; ')}. Phase B: ${c.changes} changes at ${c.rate}/s${w.length ? ` (writer achieved ${w.map((x) => x.toFixed(0)).join('/')}/s)` : ''}; changes seen per run: ${seen.join('; ')}.`,
    ];
  },
  targets(list, line) {
    const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
    for (const { c, s } of list) {
      if (!s.kl || !s['go-json']) continue;
      const tag = `${c.k.toLocaleString('en')} widgets, ${workersLabel(c.workers)}`;
      const r = s.kl.rps.median / s['go-json'].rps.median;
      line(
        `${tag}: reconciles/s ≥ 1.0× controller-runtime`,
        r >= 1.0,
        `${f(r)}× (${s.kl.rps.median.toFixed(0)} vs ${s['go-json'].rps.median.toFixed(0)}/s)`,
      );
      const cpu = s.kl.cpuRec.median / s['go-json'].cpuRec.median;
      line(
        `${tag}: CPU per reconcile ≤ 1.5× GO-JSON`,
        cpu <= 1.5,
        `${f(cpu)}× (${s.kl.cpuRec.median.toFixed(0)} vs ${s['go-json'].cpuRec.median.toFixed(0)} µs)`,
      );
    }
  },
  /** Issue #22's second round: throughput at every worker count, and CPU per reconcile within 2× client-go's. */
  secondRound(list, line) {
    const f = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
    for (const { c, s } of list) {
      if (!s.kl || !s['go-json']) continue;
      const tag = `${c.k.toLocaleString('en')} widgets, ${workersLabel(c.workers)}`;
      const r = s.kl.rps.median / s['go-json'].rps.median;
      line(
        `${tag}: reconciles/s ≥ 1.0× controller-runtime`,
        r >= 1.0,
        `${f(r)}× (${s.kl.rps.median.toFixed(0)} vs ${s['go-json'].rps.median.toFixed(0)}/s)`,
      );
      const cpu = s.kl.cpuRec.median / s['go-json'].cpuRec.median;
      line(
        `${tag}: CPU per reconcile ≤ 2.0× GO-JSON`,
        cpu <= 2.0,
        `${f(cpu)}× (${s.kl.cpuRec.median.toFixed(0)} vs ${s['go-json'].cpuRec.median.toFixed(0)} µs)`,
      );
    }
  },
  charts(list, { barChart, panels }) {
    return {
      's5-reconciles.svg': barChart(
        'S5 reconcile throughput: reconciles/s (median, min–max; higher is better)',
        '/s',
        panels('rps'),
      ),
    };
  },
};
