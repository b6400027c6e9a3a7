import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// What `import 'kubeloop/manager'` loads, in a plain Node process from the built output (`npm run build`, which
// `npm test` runs first). The heavy dependencies that most operators never use load on first use, not at import: they
// are most of a manager's idle memory otherwise (S8 of the benchmarks, PERFORMANCE.md).
const root = resolve(import.meta.dirname, '../..');

/** The package folders under node_modules whose files `specifier` loads, and whether undici's index is among them. */
function loadedBy(specifier: string): { packages: string[]; undiciIndex: boolean } {
  const script = `
    import { registerHooks } from 'node:module';
    const urls = [];
    registerHooks({ load(url, context, next) { urls.push(url); return next(url, context); } });
    await import(${JSON.stringify(specifier)});
    const packages = new Set(urls.map((u) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(u)?.[1]).filter(Boolean));
    const undiciIndex = urls.some((u) => /node_modules\\/undici\\/index\\.js$/.test(u));
    console.log(JSON.stringify({ packages: [...packages].sort(), undiciIndex }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out) as { packages: string[]; undiciIndex: boolean };
}

describe('start-up imports', () => {
  it.each(['kubeloop/manager', 'kubeloop/client'])(
    '%s loads neither CEL, x509, ws, tar-stream, prom-client’s default metrics nor undici’s index',
    (specifier) => {
      const { packages, undiciIndex } = loadedBy(specifier);
      expect(packages).toContain('undici');
      for (const heavy of [
        '@bufbuild/cel',
        '@bufbuild/protobuf',
        '@peculiar/x509',
        'ws',
        'tar-stream',
        '@opentelemetry/api',
      ]) {
        expect(packages, heavy).not.toContain(heavy);
      }
      expect(undiciIndex).toBe(false);
    },
  );
});
