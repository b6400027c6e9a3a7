/** Writes generated files into a folder that holds nothing else: stale `.ts` files there are removed. */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { GeneratedFile } from './kubernetes.js';

export function writeGeneratedFiles(files: readonly GeneratedFile[], dir: string): void {
  mkdirSync(dir, { recursive: true });
  const keep = new Set(files.map((f) => f.path));
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (entry.endsWith('.ts') && !keep.has(entry)) rmSync(join(dir, entry));
  }
  for (const file of files) {
    mkdirSync(dirname(join(dir, file.path)), { recursive: true });
    writeFileSync(join(dir, file.path), file.content);
  }
}
