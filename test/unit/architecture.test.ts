import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The dependency direction of ARCHITECTURE.md, enforced: which sdk package may import which, and only through the
// other package's index.ts. A forbidden import fails this test with the file and the import named.
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
  for (const match of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]/g)) specifiers.push(match[1]!);
  for (const match of text.matchAll(/(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g)) specifiers.push(match[1]!);
  for (const match of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) specifiers.push(match[1]!);
  return specifiers;
}

function violations(root: string): string[] {
  const found: string[] = [];
  for (const file of sourceFiles(root)) {
    const from = relative(root, file).split('/')[0]!;
    if (from.endsWith('.ts')) continue; // the facade, sdk/index.ts, may re-export any package
    for (const spec of importsOf(file)) {
      if (!spec.startsWith('.')) {
        if (spec.startsWith('kubeloop')) found.push(`${relative(root, file)} imports ${spec}: use a relative import`);
        continue;
      }
      const target = relative(root, resolve(dirname(file), spec));
      // Tests beside the code may use the shared test helpers (test/support: waiting, free ports); nothing else may.
      if (file.endsWith('.test.ts') && resolve(dirname(file), spec).startsWith(`${resolve(root, '../test/support')}/`)) continue;
      if (target.startsWith('..')) {
        found.push(`${relative(root, file)} imports ${spec}, outside sdk/`);
        continue;
      }
      const to = target.split('/')[0]!;
      if (to === from) continue;
      if (!(allowed[from] ?? []).includes(to)) {
        found.push(`${relative(root, file)} imports ${spec}: ${from} may not depend on ${to}`);
      } else if (target !== `${to}/index.js`) {
        found.push(`${relative(root, file)} imports ${spec}: go through ${to}/index.ts, not its internals`);
      }
    }
  }
  return found.toSorted();
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

  it('notices a forbidden import and an import of internals', () => {
    const root = mkdtempSync(join(tmpdir(), 'arch-'));
    try {
      for (const pkg of ['client', 'manager', 'cache']) mkdirSync(join(root, pkg));
      writeFileSync(join(root, 'client', 'index.ts'), "import { createManager } from '../manager/index.js';\n");
      writeFileSync(join(root, 'manager', 'index.ts'), 'export const createManager = 1;\n');
      writeFileSync(join(root, 'cache', 'index.ts'), "export { ConfigError } from '../client/errors.js';\n");
      expect(violations(root)).toEqual([
        'cache/index.ts imports ../client/errors.js: go through client/index.ts, not its internals',
        'client/index.ts imports ../manager/index.js: client may not depend on manager',
      ]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
