import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// Imports every entry of package.json "exports" by the package's own name, in a plain Node process, from the built
// output (`npm run build`, which `npm test` runs first): what a user's `import 'kubeloop/client'` does.
const root = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, { types: string; default: string } | string>;
};
const entries = Object.entries(pkg.exports).filter(([, target]) => typeof target === 'object') as [
  string,
  { types: string; default: string },
][];

describe('package exports', () => {
  it.each(entries)('%s resolves to built JavaScript and declarations', (subpath, target) => {
    expect(Object.keys(target)[0]).toBe('types');
    expect(existsSync(resolve(root, target.types)), target.types).toBe(true);
    expect(existsSync(resolve(root, target.types.replace(/\.d\.ts$/, '.d.ts.map'))), 'declaration map').toBe(true);
    const specifier = subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m)));`,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(Array.isArray(JSON.parse(out))).toBe(true);
  });

  it('exports the error base class from the facade', () => {
    const out = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', "const m = await import('kubeloop'); console.log(typeof m.KubeloopError);"],
      { cwd: root, encoding: 'utf8' },
    );
    expect(out.trim()).toBe('function');
  });

  it('exports what a first operator needs from the facade', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('kubeloop'); console.log(['createManager', 'Reconciler', 'inject', 'CLIENT', 'defineResource', 'createOrUpdate', 'setupSignalHandler'].map((n) => typeof m[n]).join(','));",
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(out.trim()).toBe('function,function,function,symbol,function,function,function');
  });
});
