/**
 * Every TypeScript snippet of the book compiles against the built package: each ```ts block of a hand-written page is
 * written to a module of its own under test-results/docs/snippets and type-checked by tsc with the repository's
 * compiler options, importing `kubeloop/*` through the package's self-reference, as a user's code would. A block marked
 * ```ts test is a vitest file: it is also run, by vitest in a child process, and must pass. Code included from files
 * (`<<< @/../samples/cronjob/src/x.ts#region`, the tutorial) must name a file of the repository's type-checked
 * sources and a region that file has: that code is type-checked by `npm run typecheck` and tested by its own tests.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  codeBlocks,
  fileIncludes,
  isCheckedSnippet,
  isTestSnippet,
  readPages,
  repoRoot,
  type CodeBlock,
} from './pages.js';

const run = promisify(execFile);
const snippetsDir = join(repoRoot, 'test-results', 'docs', 'snippets');
const runnableDir = join(repoRoot, 'test-results', 'docs', 'runnable');

/** `concepts/reconcile.md`, block at line 12 → `concepts-reconcile.L12.ts`. */
const fileNameOf = (block: CodeBlock): string =>
  `${block.page.replace(/\.md$/, '').replaceAll('/', '-')}.L${block.line}.ts`;

describe('the snippets of docs/', () => {
  const pages = readPages();
  const blocks = pages.filter((p) => !p.generated).flatMap(codeBlocks);
  const snippets = blocks.filter(isCheckedSnippet);

  it('are mostly compiled: fragments are rare', () => {
    const fragments = blocks.filter((b) => /^(ts|typescript)\s.*\bfragment\b/.test(b.info));
    expect(snippets.length).toBeGreaterThanOrEqual(10);
    expect(fragments.length).toBeLessThanOrEqual(Math.ceil(snippets.length / 5));
  });

  it('include files and regions that exist, from the type-checked samples', () => {
    const includes = pages.flatMap(fileIncludes);
    expect(includes.length).toBeGreaterThanOrEqual(10);
    const problems: string[] = [];
    for (const inc of includes) {
      const where = `docs/${inc.page}:${inc.line}`;
      const path = relative(repoRoot, inc.file).replaceAll('\\', '/');
      if (!existsSync(inc.file)) {
        problems.push(`${where}: ${path} does not exist`);
        continue;
      }
      if (!/^samples\/.*\.ts$/.test(path)) problems.push(`${where}: ${path} is not a TypeScript file under samples/`);
      const text = readFileSync(inc.file, 'utf8');
      if (
        inc.region &&
        !(text.includes(`// #region ${inc.region}\n`) && text.includes(`// #endregion ${inc.region}\n`))
      )
        problems.push(`${where}: ${path} has no region ${inc.region}`);
    }
    expect(problems).toEqual([]);
  });

  it('type-check against the built package', async () => {
    rmSync(snippetsDir, { recursive: true, force: true });
    mkdirSync(snippetsDir, { recursive: true });
    const where = new Map<string, CodeBlock>();
    for (const block of snippets) {
      const name = fileNameOf(block);
      where.set(name, block);
      // `export {}` makes each snippet a module of its own (top-level await, no clashes between snippets).
      writeFileSync(join(snippetsDir, name), `${block.code}\nexport {};\n`);
    }
    const tsconfig = {
      extends: '../../../tsconfig.json',
      compilerOptions: { noEmit: true, rootDir: '.', noUnusedLocals: false },
      include: ['*.ts'],
      exclude: [],
    };
    writeFileSync(join(snippetsDir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    const tsc = join(repoRoot, 'node_modules', '.bin', 'tsc');
    const output = await run(tsc, ['-p', join(snippetsDir, 'tsconfig.json'), '--pretty', 'false'], {
      cwd: repoRoot,
    }).then(
      () => '',
      (err: { stdout?: string; stderr?: string }) => `${err.stdout ?? ''}${err.stderr ?? ''}`,
    );
    // Name each error by its page and line, not by the generated file.
    const errors = output
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const m = /([^/\s]+\.L\d+\.ts)\((\d+),(\d+)\): (.*)$/.exec(l);
        const block = m && where.get(m[1] ?? '');
        return block && m ? `docs/${block.page}:${block.line + Number(m[2]) - 1}: ${m[4]}` : l;
      });
    expect(errors).toEqual([]);
  }, 120_000);

  it('marked test pass when run', async () => {
    const tests = snippets.filter(isTestSnippet);
    expect(tests.length).toBeGreaterThan(0);
    rmSync(runnableDir, { recursive: true, force: true });
    mkdirSync(runnableDir, { recursive: true });
    for (const block of tests)
      writeFileSync(join(runnableDir, fileNameOf(block).replace(/\.ts$/, '.test.ts')), block.code);
    // Decorators compiled the legacy way with metadata, as the repository's vitest.config.ts and tsc do.
    const config = `export default { oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } }, test: { include: ['*.test.ts'] } };\n`;
    writeFileSync(join(runnableDir, 'vitest.config.mjs'), config);
    const vitest = join(repoRoot, 'node_modules', 'vitest', 'vitest.mjs');
    const args = [vitest, 'run', '--root', runnableDir, '--config', join(runnableDir, 'vitest.config.mjs')];
    const outcome = await run(process.execPath, args, {
      cwd: runnableDir,
      env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' },
    }).then(
      (r) => ({ code: 0, output: r.stdout }),
      (err: { code?: number; stdout?: string; stderr?: string }) => ({
        code: err.code ?? 1,
        output: `${err.stdout ?? ''}${err.stderr ?? ''}`,
      }),
    );
    expect(outcome.code, outcome.output).toBe(0);
    expect(outcome.output).toMatch(/Tests\s+\S*\d+ passed/);
  }, 120_000);
});
