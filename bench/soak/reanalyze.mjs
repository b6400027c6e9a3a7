// node bench/soak/reanalyze.mjs <work folder kept by KUBELOOP_SOAK_KEEP=1> <out folder>
// Renders a soak's report again from its replicas' shared log and the harness's record (inputs.json), e.g. after a
// change to analyze.mjs or report.mjs.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { analyze } from './analyze.mjs';
import { writeReport } from './report.mjs';

const [workDir, outDir] = process.argv.slice(2);
if (!workDir || !outDir) {
  process.stderr.write('usage: node bench/soak/reanalyze.mjs <work folder> <out folder>\n');
  process.exit(2);
}
const inputs = JSON.parse(readFileSync(join(workDir, 'inputs.json'), 'utf8'));
inputs.wall0 = new Date(inputs.wall0);
const report = analyze({ ...inputs, log: readFileSync(join(workDir, 'replicas.ndjson'), 'utf8') });
writeReport(resolve(outDir), report);
process.stdout.write(`${resolve(outDir)}/report.md\n`);
