// The protocol every Node peer speaks with bench/run.mjs (see peer.mjs), and the helpers the scenarios share. A
// scenario of its own file (bench/peers/node/<scenario>.mjs, exporting run(peer)) imports what it needs from here.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const root = resolve(fileURLToPath(import.meta.url), '../../../..');
// BENCH_KL_DIST runs kubeloop's peer from another build of dist/sdk (a patched copy, to measure a change first).
export const dist = (p) => join(process.env.BENCH_KL_DIST ?? join(root, 'dist/sdk'), p);
export const [peer, scenario, connFile, paramsJson] = process.argv.slice(2);
export const conn = JSON.parse(readFileSync(connFile, 'utf8'));
export const p = JSON.parse(paramsJson);
export const tsAnnotation = 'bench.kubeloop.dev/ts';

const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
export const emit = (v) => process.stdout.write(`${JSON.stringify(v)}\n`);
// With BENCH_PROFILE_WINDOW=<file>, a V8 CPU profile of the measured phase alone (from "go" to the end of the
// measured phase) is written there: `--cpu-prof` would also hold module loading and the forced GCs of heap figures.
let session;
export async function ready(extra = {}) {
  emit({ ready: true, ...extra });
  const { value } = await lines.next();
  if (value !== 'go') throw new Error(`expected go, got ${value}`);
  if (process.env.BENCH_PROFILE_WINDOW) {
    const { Session } = await import('node:inspector/promises');
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
  }
}
async function stopProfile() {
  if (!session) return;
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(process.env.BENCH_PROFILE_WINDOW, JSON.stringify(profile));
  session = undefined;
}
/** Waits for the line `want` on stdin (a scenario whose harness side drives the measured phase, as S9's). */
export async function line(want) {
  const { value } = await lines.next();
  if (value !== want) throw new Error(`expected ${want}, got ${value}`);
}
/** The measured phase is over: the harness reads the process's CPU from /proc before heap figures are taken. */
export async function measured() {
  await stopProfile();
  emit({ measured: true });
  const { value } = await lines.next();
  if (value !== 'ok') throw new Error(`expected ok, got ${value}`);
}
export async function finish(result) {
  await stopProfile();
  emit({ ...result, facts: { node: process.version, ...result.facts } });
  for (;;) if ((await lines.next()).done) break;
  process.exit(0);
}
export const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
export const heapAfterGC = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};
export const nowMs = () => performance.timeOrigin + performance.now();
export const percentile = (sorted, q) => (sorted.length ? sorted[Math.floor(q * (sorted.length - 1))] : 0);
export const kindPath = (kind) => (kind === 'pods' ? 'pods' : 'configmaps');
export const descriptor = (kind) =>
  kind === 'pods'
    ? { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true }
    : { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };

/** kubeloop's Manager options of the manager scenarios: cache limited to the namespace, metrics and probes off. */
export async function quietManagerOptions() {
  const { default: pino } = await import('pino');
  return {
    config: conn.config,
    cache: { namespaces: [p.namespace] },
    metricsBindAddress: '0',
    healthProbeBindAddress: '0',
    logger: pino({ level: 'warn' }, process.stderr),
  };
}

/** Resolves once `done()` is true, checking at every turn of the event loop; throws after `timeoutMs`. */
export async function until(done, timeoutMs = 30_000) {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error('timed out waiting for the handler');
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * kubeloop: resolves once `registration` has synced (the informer synced and this handler was handed every object of
 * the initial list). The registration has no promise of its own: the informer's sync is awaited, then the handler's
 * buffer is polled at every turn of the event loop (it is usually drained by then).
 */
export async function handlerSynced(informer, registration) {
  await informer.waitForSync();
  await until(() => registration.hasSynced());
}
