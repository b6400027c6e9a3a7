// S5 reconcile throughput, kubeloop's side (bench/scenarios/s5.mjs has the harness's; bench/peers/go/s5.go the Go
// peer's, which does the same thing step by step). A Manager with one controller For(Widget), W workers; reconcile =
// cached get + merge patch of the status subresource. Phase A: from "go" (the manager starts) until every Widget's
// first reconcile is done. Phase B: the harness bumps spec.size of p.changes Widgets; each status patch that moves
// observedGeneration to a new generation records now − the change's timestamp annotation.
import { writeFileSync } from 'node:fs';
import {
  cpuMs,
  dist,
  finish,
  measured,
  nowMs,
  p,
  percentile,
  quietManagerOptions,
  ready,
  tsAnnotation,
} from './protocol.mjs';

export async function run(peer) {
  if (peer !== 'kl') throw new Error(`s5 has no ${peer} peer`);
  const { createManager, controllerFor } = await import(dist('manager/index.js'));
  const { defineResource } = await import(dist('client/index.js'));
  const Widget = defineResource({
    group: 'bench.kubeloop.dev',
    version: 'v1',
    kind: 'Widget',
    plural: 'widgets',
    namespaced: true,
  });

  const mgr = await createManager(await quietManagerOptions());
  const client = mgr.client;

  // Queue latency: an extra handler on the same informer records when each key was added.
  const added = new Map(); // key → add time
  const startedFirst = new Map(); // key → first reconcile start, when it came before the extra handler saw the add
  const queueLat = [];
  const [informer] = mgr.cache.informers(Widget);
  informer.addEventHandler({
    onAdd(obj) {
      const now = nowMs();
      const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
      const s = startedFirst.get(key);
      if (s !== undefined) queueLat.push(s - now);
      else added.set(key, now);
    },
  });

  let phase = 'A';
  let t0 = 0; // go
  let firstStart = 0;
  let cpuFirst = 0;
  let reconciles = 0; // completed in phase A
  let staleAtStart = 0;
  const firstDone = new Set();
  let lastFirstDone = 0;
  let cpuLastFirstDone = 0;
  let reconcilesAtEnd = 0;
  let errors = 0;
  let resolveA;
  const phaseA = new Promise((r) => (resolveA = r));
  // phase B
  const changeLat = [];
  let phaseBReconciles = 0;
  let resolveB;
  const phaseB = new Promise((r) => (resolveB = r));

  const reconcile = async (req) => {
    const start = nowMs();
    const key = `${req.namespace}/${req.name}`;
    const inA = phase === 'A'; // a reconcile counts in the phase it started in (as in the Go peer)
    if (inA) {
      if (firstStart === 0) {
        firstStart = start;
        cpuFirst = cpuMs();
      }
      const a = added.get(key);
      if (a !== undefined) {
        queueLat.push(start - a);
        added.delete(key);
      } else if (!firstDone.has(key) && !startedFirst.has(key)) startedFirst.set(key, start);
    }
    const w = await client.get(Widget, req);
    const generation = w.metadata.generation;
    const observed = w.status?.observedGeneration;
    await client.status().patch(w, { status: { observedGeneration: generation } }, { patchType: 'merge' });
    if (inA) {
      reconciles++;
      if (!firstDone.has(key)) {
        if (observed !== generation) staleAtStart++;
        firstDone.add(key);
        if (firstDone.size === p.k) {
          lastFirstDone = nowMs();
          cpuLastFirstDone = cpuMs();
          reconcilesAtEnd = reconciles;
          resolveA();
        }
      }
    } else {
      phaseBReconciles++;
      const ts = w.metadata.annotations?.[tsAnnotation];
      if (observed !== generation && ts !== undefined) {
        changeLat.push(nowMs() - Number(ts));
        if (changeLat.length >= p.changes) resolveB();
      }
    }
    return {};
  };
  controllerFor(mgr)
    .for(Widget)
    .named('widgets')
    .withOptions({ maxConcurrentReconciles: p.workers })
    .complete({
      reconcile: (req) =>
        reconcile(req).catch((e) => {
          errors++;
          throw e;
        }),
    });

  await ready();
  t0 = nowMs();
  const cpu0 = cpuMs();
  const controller = new AbortController();
  const running = mgr.start(controller.signal);
  await phaseA;
  await measured();
  const cpuPhaseA = cpuMs() - cpu0;
  await new Promise((r) => setTimeout(r, 200)); // late extra reconciles (there should be none) land in phase A
  const extraReconciles = reconciles - reconcilesAtEnd;

  phase = 'B';
  writeFileSync(p.signalFile, '');
  const timer = setTimeout(resolveB, p.phaseBMs);
  await phaseB;
  clearTimeout(timer);

  const windowMs = lastFirstDone - firstStart;
  const cpu = cpuLastFirstDone - cpuFirst;
  const q = queueLat.toSorted((a, b) => a - b);
  const ch = changeLat.toSorted((a, b) => a - b);
  const result = {
    k: p.k,
    workers: p.workers,
    reconciles: reconcilesAtEnd,
    extraReconciles,
    staleAtStart,
    errors,
    windowMs,
    reconcilesPerSec: reconcilesAtEnd / (windowMs / 1000),
    cpuMs: cpu,
    cpuUsPerReconcile: (cpu * 1000) / reconcilesAtEnd,
    cpuPhaseAMs: cpuPhaseA,
    firstReconcileMs: firstStart - t0,
    queueSamples: q.length,
    queueP50Ms: percentile(q, 0.5),
    queueP99Ms: percentile(q, 0.99),
    changes: ch.length,
    phaseBReconciles,
    changeP50Ms: ch.length ? percentile(ch, 0.5) : null,
    changeP99Ms: ch.length ? percentile(ch, 0.99) : null,
  };
  controller.abort();
  await Promise.race([running, new Promise((r) => setTimeout(r, 2000))]);
  await finish(result);
}
