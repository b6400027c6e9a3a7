// Summarises V8 CPU profiles (from `npm run bench -- --cpu-prof`): self time per function and per file, summed over
// the given profiles, and the inclusive time of kubeloop's own functions.
//
//   node bench/profile-summary.mjs /tmp/kubeloop-bench-profiles-123/kl-s1-configmaps-10000-*.cpuprofile [--top=30]
import { readFileSync } from 'node:fs';

const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const top = Number(process.argv.find((a) => a.startsWith('--top='))?.slice(6) ?? 30);
const self = new Map();
const byFile = new Map();
const inclusive = new Map();
let total = 0;

const shortUrl = (url) => url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/').replace(/^node:/, 'node:');
for (const file of files) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hits = new Map();
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = (prof.timeDeltas[i] ?? 0) / 1000;
    hits.set(prof.samples[i], (hits.get(prof.samples[i]) ?? 0) + dt);
  }
  // Samples under the inspector's own calls (BENCH_PROFILE_WINDOW starting the profiler) are not the workload.
  const underInspector = (id) => {
    for (let cur = id; cur !== undefined; cur = parent.get(cur))
      if (nodes.get(cur).callFrame.url === 'node:inspector') return true;
    return false;
  };
  for (const [id, ms] of hits) {
    if (underInspector(id)) continue;
    const n = nodes.get(id);
    const { functionName, url, lineNumber } = n.callFrame;
    const key = `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
    if (functionName === '(idle)' || functionName === '(program)') continue;
    total += ms;
    self.set(key, (self.get(key) ?? 0) + ms);
    const f = shortUrl(url) || functionName;
    byFile.set(f, (byFile.get(f) ?? 0) + ms);
    // inclusive time of dist/ frames (each frame counted once per sample stack)
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = nodes.get(cur).callFrame;
      if (!cf.url.includes('/dist/')) continue;
      const k = `${cf.functionName || '(anonymous)'} ${shortUrl(cf.url)}:${cf.lineNumber + 1}`;
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + ms);
    }
  }
}
const print = (title, map) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, ms] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${k}\n`);
  }
};
process.stdout.write(`${files.length} profiles, ${total.toFixed(0)} ms of samples (idle and program excluded)\n`);
print('self time by function', self);
print('self time by file', byFile);
print('inclusive time of kubeloop (dist/) functions', inclusive);
