import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The dependency direction of ARCHITECTURE.md, enforced: which sdk package may import which, and only through the
// other package's index.ts (its public entry, in package.json `exports`) or internal.ts (names other sdk packages need
// but users do not; never in `exports`). A forbidden import fails this test with the file and the import named.
const allowed: Record<string, string[]> = {
  // The one Clock, a leaf shared by workqueue (which must not depend on Kubernetes code) and leaderelection; not an
  // entry of the package.
  clock: [],
  client: [],
  workqueue: ['clock'],
  cache: ['client'],
  leaderelection: ['client', 'clock'],
  manager: ['client', 'cache', 'workqueue', 'leaderelection', 'webhook'],
  envtest: ['client', 'webhook'],
  webhook: ['client'],
  testing: ['client', 'cache', 'workqueue', 'manager', 'webhook'],
  cli: ['client', 'manager', 'webhook'],
};
const sdk = resolve(import.meta.dirname, '../../sdk');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers: string[] = [];
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g))
    specifiers.push(match[1]!);
  for (const match of text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) specifiers.push(match[1]!);
  for (const match of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) specifiers.push(match[1]!);
  return specifiers;
}

function violations(root: string): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(root)) {
    const from = relative(root, file).split('/')[0]!;
    // A public entry (the facade sdk/index.ts, or a package's index.ts) never re-exports an internal.ts.
    const publicEntry = from.endsWith('.ts') || relative(root, file) === `${from}/index.ts`;
    for (const spec of importsOf(file)) {
      if (publicEntry && /(^|\/)internal\.js$/.test(spec)) {
        found.push(`${relative(root, file)} imports ${spec}: a public entry may not re-export internals`);
        continue;
      }
      if (from.endsWith('.ts')) continue; // the facade, sdk/index.ts, may re-export any package's index
      if (!spec.startsWith('.')) {
        if (spec.startsWith('kubeloop')) found.push(`${relative(root, file)} imports ${spec}: use a relative import`);
        continue;
      }
      const target = relative(root, resolve(dirname(file), spec));
      // Tests beside the code may use the shared test helpers (test/support: waiting, free ports); nothing else may.
      if (file.endsWith('.test.ts') && resolve(dirname(file), spec).startsWith(`${resolve(root, '../test/support')}/`))
        continue;
      if (target.startsWith('..')) {
        found.push(`${relative(root, file)} imports ${spec}, outside sdk/`);
        continue;
      }
      const to = target.split('/')[0]!;
      if (to === from) continue;
      if (!(allowed[from] ?? []).includes(to)) {
        found.push(`${relative(root, file)} imports ${spec}: ${from} may not depend on ${to}`);
      } else if (target !== `${to}/index.js` && target !== `${to}/internal.js`) {
        found.push(
          `${relative(root, file)} imports ${spec}: go through ${to}/index.ts or ${to}/internal.ts, not its other files`,
        );
      }
    }
  }
  return found.toSorted();
}

/** The entry points package.json publishes: `./cache` → `cache/index.d.ts`, and so on. */
function publishedEntries(): string[] {
  const pkg = JSON.parse(readFileSync(resolve(sdk, '../package.json'), 'utf8')) as { exports: Record<string, unknown> };
  return Object.values(pkg.exports).flatMap((target) =>
    typeof target === 'object' && target !== null ? Object.values(target as Record<string, string>) : [String(target)],
  );
}

describe('architecture', () => {
  it('keeps the dependency direction of ARCHITECTURE.md and goes through each package index', () => {
    expect(violations(sdk)).toEqual([]);
  });

  it('has one index.ts per sdk package', () => {
    for (const pkg of Object.keys(allowed)) {
      expect(readdirSync(join(sdk, pkg)), pkg).toContain('index.ts');
    }
  });

  it('lets only tests beside the code import the shared test helpers', () => {
    const parent = mkdtempSync(join(tmpdir(), 'arch-'));
    const root = join(parent, 'sdk');
    try {
      mkdirSync(join(root, 'cache'), { recursive: true });
      writeFileSync(join(root, 'cache', 'index.ts'), "import { eventually } from '../../test/support/wait.js';\n");
      writeFileSync(join(root, 'cache', 'store.test.ts'), "import { eventually } from '../../test/support/wait.js';\n");
      writeFileSync(join(root, 'cache', 'other.test.ts'), "import { fixture } from '../../test/fixtures/x.js';\n");
      expect(violations(root)).toEqual([
        'cache/index.ts imports ../../test/support/wait.js, outside sdk/',
        'cache/other.test.ts imports ../../test/fixtures/x.js, outside sdk/',
      ]);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it('keeps every internal.ts out of package.json exports', () => {
    const internals = Object.keys(allowed).filter((pkg) => readdirSync(join(sdk, pkg)).includes('internal.ts'));
    expect(internals.length).toBeGreaterThan(0);
    for (const pkg of internals) {
      expect(
        publishedEntries().filter((target) => target.includes(`/${pkg}/internal.`)),
        pkg,
      ).toEqual([]);
    }
  });

  it('lets a package import another through its index.ts or internal.ts, in the allowed direction, and nothing else', () => {
    const root = mkdtempSync(join(tmpdir(), 'arch-'));
    try {
      for (const pkg of ['client', 'cache', 'manager']) mkdirSync(join(root, pkg));
      writeFileSync(join(root, 'index.ts'), "export { createManager } from './manager/internal.js';\n");
      writeFileSync(join(root, 'client', 'index.ts'), "export { restConfigOf } from './internal.js';\n");
      writeFileSync(join(root, 'client', 'internal.ts'), "import { createManager } from '../manager/internal.js';\n");
      writeFileSync(
        join(root, 'cache', 'list-watch.ts'),
        "import { loadConfig } from '../client/index.js';\n" +
          "import { restConfigOf } from '../client/internal.js';\n" +
          "import { linkOf } from '../client/rest/links.js';\n" +
          "import { helper } from '../client/internal/helper.js';\n",
      );
      writeFileSync(join(root, 'manager', 'cache.ts'), "import { resolveResource } from '../cache/internal.js';\n");
      expect(violations(root)).toEqual([
        'cache/list-watch.ts imports ../client/internal/helper.js: go through client/index.ts or client/internal.ts, not its other files',
        'cache/list-watch.ts imports ../client/rest/links.js: go through client/index.ts or client/internal.ts, not its other files',
        'client/index.ts imports ./internal.js: a public entry may not re-export internals',
        'client/internal.ts imports ../manager/internal.js: client may not depend on manager',
        'index.ts imports ./manager/internal.js: a public entry may not re-export internals',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('notices a forbidden import and an import of internals', () => {
    const root = mkdtempSync(join(tmpdir(), 'arch-'));
    try {
      for (const pkg of ['client', 'manager', 'cache']) mkdirSync(join(root, pkg));
      writeFileSync(join(root, 'client', 'index.ts'), "import { createManager } from '../manager/index.js';\n");
      writeFileSync(join(root, 'manager', 'index.ts'), 'export const createManager = 1;\n');
      writeFileSync(join(root, 'cache', 'index.ts'), "export { ConfigError } from '../client/errors.js';\n");
      expect(violations(root)).toEqual([
        'cache/index.ts imports ../client/errors.js: go through client/index.ts or client/internal.ts, not its other files',
        'client/index.ts imports ../manager/index.js: client may not depend on manager',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
