// npm run soak -- --duration=10            # faults for 10 minutes (the default), report → bench/results/soak/
// npm run soak -- --duration=2 --rate=1 --out=/tmp/soak
//
// The soak and chaos run of soak.mjs: the WebApp operator in three replicas with leader election against envtest,
// a driver changing WebApps, faults of every class on a schedule, invariants checked. Exits 1 when an invariant
// failed (the report is written either way).
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaults, runSoak } from './soak.mjs';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rate: { type: 'string', default: String(defaults.ratePerSec) },
    population: { type: 'string', default: String(defaults.population) },
    out: { type: 'string', default: join(root, 'bench/results/soak') },
    verbose: { type: 'boolean', default: false },
    http1: { type: 'boolean', default: false },
  },
});
const number = (name, v, min) => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`--${name} must be a number ≥ ${min}, got ${JSON.stringify(v)}\n`);
    process.exit(2);
  }
  return n;
};
const report = await runSoak({
  durationMs: number('duration', values.duration, 0) * 60_000,
  ratePerSec: number('rate', values.rate, 0.1),
  population: number('population', values.population, 1),
  outDir: resolve(values.out),
  replicaStderr: values.verbose,
  http2: !values.http1,
});
const inv = report.invariants;
for (const [name, v] of Object.entries(inv))
  process.stdout.write(`${name}: ${v.pass === null ? 'not judged' : v.pass ? 'pass' : 'FAIL'}\n`);
process.exit(Object.values(inv).some((v) => v.pass === false) ? 1 : 0);
