import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// What `import 'kubeloop/manager'` loads, in a plain Node process from the built output (`npm run build`, which
// `npm test` runs first). The heavy dependencies that most operators never use load on first use, not at import: they
// are most of a manager's idle memory otherwise (S8 of the benchmarks, PERFORMANCE.md).
const root = resolve(import.meta.dirname, '../..');

interface Loaded {
  /** The package folders under node_modules whose files were loaded. */
  packages: string[];
  /** undici's index among them. */
  undiciIndex: boolean;
  /** Node's bundled undici loaded. */
  nodeUndici: boolean;
}

/** What importing `specifier` loads. */
function loadedBy(specifier: string): Loaded {
  const script = `
    import { registerHooks } from 'node:module';
    const urls = [];
    registerHooks({ load(url, context, next) { urls.push(url); return next(url, context); } });
    await import(${JSON.stringify(specifier)});
    const packages = new Set(urls.map((u) => /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(u)?.[1]).filter(Boolean));
    const undiciIndex = urls.some((u) => /node_modules\\/undici\\/index\\.js$/.test(u));
    // Node's own bundled undici (what an ES import of node:http loads, for its lazy WebSocket export).
    const nodeUndici = process.moduleLoadList.some((m) => m.includes('deps/undici'));
    console.log(JSON.stringify({ packages: [...packages].sort(), undiciIndex, nodeUndici }));`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  return JSON.parse(out) as Loaded;
}

describe('start-up imports', () => {
  it.each(['kubeloop/manager', 'kubeloop/client'])(
    '%s loads neither CEL, x509, ws, tar-stream, js-yaml, prom-client’s default metrics, undici’s index nor Node’s undici',
    (specifier) => {
      const { packages, undiciIndex, nodeUndici } = loadedBy(specifier);
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
      expect(nodeUndici).toBe(false);
    },
  );
});
