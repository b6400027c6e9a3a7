import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === 'kubeloop' && pkg.version) return pkg.version;
      } catch {
        // keep looking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return '0.0.0';
    dir = parent;
  }
}

/** kubeloop's version, from its package.json. */
export const kubeloopVersion = packageVersion();

/** `kubeloop/<version> (<os>/<arch>) node/<version>`, the default User-Agent. */
export const defaultUserAgent = `kubeloop/${kubeloopVersion} (${process.platform}/${process.arch}) node/${process.version}`;
