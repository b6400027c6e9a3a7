// PERFORMANCE.md scenario S4, the workqueue: cycles/s of add/get/done over 1000 keys, rate-limited failure cycles/s,
// and for 100k delayed items the heap bytes per item and the timers in use. It prints figures and asserts nothing.
//
//   npm run build && node --expose-gc bench/workqueue/workqueue-bench.mjs [--quick]
//
// It measures the built package (dist/), as users run it. Without --expose-gc it re-runs itself with the flag.
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

if (typeof globalThis.gc !== 'function') {
  const child = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  process.exit(child.status ?? 1);
}

const wq = await import('../../dist/sdk/workqueue/index.js');
const quick = process.argv.includes('--quick');
const repetitions = quick ? 3 : 7;
const keyCount = 1000;
const keys = Array.from({ length: keyCount }, (_, i) => `namespace-${i % 10}/object-${i}`);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const spread = (values) => `min ${fmt(Math.min(...values))}, max ${fmt(Math.max(...values))}`;
const fmt = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(1));
const activeTimeouts = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
const results = {};

/** Runs `round` (which returns the cycles it did) `repetitions` times after a warm-up; cycles per second. */
async function measure(name, round, warmups = 2) {
  for (let i = 0; i < warmups; i++) await round();
  const rates = [];
  for (let i = 0; i < repetitions; i++) {
    globalThis.gc();
    const start = performance.now();
    const cycles = await round();
    rates.push(cycles / ((performance.now() - start) / 1000));
  }
  results[name] = { median: median(rates), min: Math.min(...rates), max: Math.max(...rates) };
  console.log(`  ${name.padEnd(70)} ${fmt(median(rates)).padStart(8)} cycles/s   (${spread(rates)})`);
}

const roundsPerRep = quick ? 300 : 2000; // × 1000 keys

console.log(
  `workqueue bench: node ${process.version}, ${cpus()[0]?.model ?? 'cpu'} × ${cpus().length}, ` +
    `${repetitions} repetitions (median), ${keyCount} keys`,
);

// ---------------------------------------------------------------------------------------------------------------
console.log('\nadd/get/done, 1000 keys (one cycle = add + get + done of one key)');
{
  const q = wq.createQueue();
  await measure('sync: add ×1000, then tryGet/done until empty', () => {
    for (let r = 0; r < roundsPerRep; r++) {
      for (let i = 0; i < keyCount; i++) q.add(keys[i]);
      for (let key = q.tryGet(); key !== undefined; key = q.tryGet()) q.done(key);
    }
    return roundsPerRep * keyCount;
  });
  q.shutDown();
}
{
  const q = wq.createQueue();
  await measure('async: add ×1000, then await get()/done until empty', async () => {
    for (let r = 0; r < roundsPerRep; r++) {
      for (let i = 0; i < keyCount; i++) q.add(keys[i]);
      while (q.len() > 0) q.done(await q.get());
    }
    return roundsPerRep * keyCount;
  });
  q.shutDown();
}
for (const workers of [1, 4, 16]) {
  // Workers wait in get() while a producer adds: the hand-off path a controller uses.
  const q = wq.createQueue();
  let processed = 0;
  let target = 0;
  let onTarget = () => {};
  const worker = async () => {
    for (let key = await q.get(); key !== undefined; key = await q.get()) {
      q.done(key);
      if (++processed === target) onTarget();
    }
  };
  const running = Array.from({ length: workers }, () => worker());
  await measure(
    `async: ${String(workers).padStart(2)} workers awaiting get(), producer adds ×1000 per round`,
    async () => {
      for (let r = 0; r < roundsPerRep; r++) {
        target = processed + keyCount;
        const roundDone = new Promise((resolve) => (onTarget = resolve));
        for (let i = 0; i < keyCount; i++) q.add(keys[i]);
        await roundDone;
      }
      return roundsPerRep * keyCount;
    },
  );
  q.shutDown();
  await Promise.all(running);
}
{
  // The same sync loop on a named queue whose provider counts: the cost of metrics.
  let sink = 0;
  const series = { inc: () => sink++, dec: () => sink--, set: (v) => (sink += v), observe: (v) => (sink += v) };
  const provider = {
    newQueueMetrics: () => ({
      depth: series,
      adds: series,
      latency: series,
      workDuration: series,
      unfinishedWorkSeconds: series,
      longestRunningProcessorSeconds: series,
      retries: series,
    }),
  };
  const q = wq.createQueue({ name: 'bench', metricsProvider: provider });
  await measure('sync, named queue with a (counting) metrics provider', () => {
    for (let r = 0; r < roundsPerRep / 4; r++) {
      for (let i = 0; i < keyCount; i++) q.add(keys[i]);
      for (let key = q.tryGet(); key !== undefined; key = q.tryGet()) q.done(key);
    }
    return (roundsPerRep / 4) * keyCount;
  });
  q.shutDown();
}

// ---------------------------------------------------------------------------------------------------------------
console.log(
  '\nrate-limited failures, 1000 keys, fake clock (one cycle = get + addRateLimited + done + the delayed add)',
);
for (const [label, makeLimiter] of [
  ['exponential 5 ms..1000 s (one fire per round)', () => wq.createExponentialFailureRateLimiter()],
  [
    'defaultControllerRateLimiter (bucket spreads keys: one fire per key)',
    (clock) => wq.defaultControllerRateLimiter({ clock }),
  ],
]) {
  const clock = wq.createFakeClock();
  const q = wq.createRateLimitingQueue({ clock, rateLimiter: makeLimiter(clock) });
  for (const key of keys) q.add(key);
  let round = 0;
  const rounds = roundsPerRep / 10;
  await measure(label, () => {
    for (let r = 0; r < rounds; r++) {
      for (let key = q.tryGet(); key !== undefined; key = q.tryGet()) {
        q.addRateLimited(key);
        q.done(key);
      }
      while (q.len() < keyCount) clock.step();
      // Every 10th round the keys succeed: forget resets their backoff, as a controller does.
      if (++round % 10 === 0) for (const key of keys) q.forget(key);
    }
    return rounds * keyCount;
  });
  q.shutDown();
}

// ---------------------------------------------------------------------------------------------------------------
console.log('\n100k delayed items (addAfter with distinct pseudo-random delays of 1..10 min)');
{
  const n = 100_000;
  const delayedKeys = Array.from({ length: n }, (_, i) => `namespace-${i % 100}/object-${i}`);
  let seed = 1;
  const delays = Array.from({ length: n }, () => {
    seed = (Math.imul(seed, 1_664_525) + 1_013_904_223) >>> 0;
    return 60_000 + (seed % 540_000);
  });
  const settle = () => {
    globalThis.gc();
    globalThis.gc();
    return process.memoryUsage().heapUsed;
  };
  const bytes = [];
  const timers = [];
  const rates = [];
  let timersAfterShutdown = 0;
  for (let rep = 0; rep < repetitions; rep++) {
    const timersBefore = activeTimeouts();
    const before = settle();
    const q = wq.createDelayingQueue();
    const start = performance.now();
    for (let i = 0; i < n; i++) q.addAfter(delayedKeys[i], delays[i]);
    rates.push(n / ((performance.now() - start) / 1000));
    const after = settle();
    bytes.push((after - before) / n);
    timers.push(activeTimeouts() - timersBefore);
    q.shutDown();
    timersAfterShutdown = Math.max(timersAfterShutdown, activeTimeouts() - timersBefore);
  }
  results.delayed = {
    items: n,
    heapBytesPerItem: median(bytes),
    activeTimers: median(timers),
    timersAfterShutdown,
    addAfterPerSecond: median(rates),
  };
  console.log(
    `  heap bytes per delayed item (keys excluded)   ${median(bytes).toFixed(1).padStart(8)}   (min ${Math.min(...bytes).toFixed(1)}, max ${Math.max(...bytes).toFixed(1)})`,
  );
  console.log(`  active timers while 100k items wait           ${String(median(timers)).padStart(8)}`);
  console.log(`  active timers after shutDown()                ${String(timersAfterShutdown).padStart(8)}`);
  console.log(`  addAfter calls per second                     ${fmt(median(rates)).padStart(8)}   (${spread(rates)})`);

  // For scale: what one setTimeout per item would cost.
  const before = settle();
  const timersBefore = activeTimeouts();
  const handles = delayedKeys.map((key, i) => setTimeout(() => key, delays[i]));
  const after = settle();
  const naiveTimers = activeTimeouts() - timersBefore;
  for (const handle of handles) clearTimeout(handle);
  results.naiveSetTimeout = { heapBytesPerItem: (after - before) / n, activeTimers: naiveTimers };
  console.log(
    `  for comparison, one setTimeout per item:     ${((after - before) / n).toFixed(1).padStart(8)} bytes/item, ${naiveTimers} timers`,
  );
}

console.log(`\n${JSON.stringify({ scenario: 'S4', node: process.version, repetitions, results })}`);
