#!/usr/bin/env node
// Lists the hand-written functions longer than a limit (default 80 lines), longest first.
//
//   node scripts/largest-functions.mjs [--max 80] [--tests] [paths…]   (paths default to sdk)
//
// The counting is oxlint's max-lines-per-function (every line from the function's first to its last, comments and
// blank lines included; an outer function's count includes its inner functions). Generated code
// (sdk/client/generated) is left out; test files are left out unless --tests is given.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let max = 80;
let tests = false;
const paths = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--max') max = Number(args[++i]);
  else if (args[i] === '--tests') tests = true;
  else paths.push(args[i]);
}
if (!Number.isInteger(max) || max < 1) {
  console.error('usage: largest-functions.mjs [--max LINES] [--tests] [paths…]');
  process.exit(2);
}

const config = {
  categories: { correctness: 'off', suspicious: 'off' },
  plugins: ['typescript'],
  rules: { 'max-lines-per-function': ['error', { max, IIFEs: true }] },
};
const ignored = ['sdk/client/generated/**', ...(tests ? [] : ['**/*.test.ts', '**/*.test-d.ts'])];
const dir = mkdtempSync(join(tmpdir(), 'largest-functions-'));
const configFile = join(dir, 'oxlintrc.json');
writeFileSync(configFile, JSON.stringify(config));
const run = spawnSync(
  join(root, 'node_modules', '.bin', 'oxlint'),
  [
    '-c',
    configFile,
    '--format',
    'json',
    ...ignored.map((p) => `--ignore-pattern=${p}`),
    ...(paths.length > 0 ? paths : ['sdk']),
  ],
  { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
);
rmSync(dir, { recursive: true, force: true });
if (run.error !== undefined || run.stdout.trim() === '') {
  console.error(run.error?.message ?? run.stderr);
  process.exit(2);
}

const rows = JSON.parse(run.stdout)
  .diagnostics.filter((d) => d.code === 'eslint(max-lines-per-function)')
  .map((d) => ({
    lines: Number(/\((\d+)\)/.exec(d.message)?.[1]),
    where: `${d.filename}:${d.labels[0]?.span.line ?? '?'}`,
    name: /`([^`]+)`/.exec(d.message)?.[1] ?? '(anonymous)',
  }))
  .toSorted((a, b) => b.lines - a.lines || a.where.localeCompare(b.where));
for (const row of rows) console.log(`${String(row.lines).padStart(5)}  ${row.where}  ${row.name}`);
console.log(`${rows.length} function(s) over ${max} lines`);
