/**
 * Writing a set of files as one change: every new text is written beside its target first, then all are renamed into
 * place; if anything fails, what was already changed is put back. A command either makes all of its changes or none.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** A file to write (`text`) or remove (`text: undefined`), by absolute path. */
export interface FileChange {
  path: string;
  text: string | undefined;
}

async function currentText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Applies the changes that differ from what is on disk; returns them with what each did. On failure, the files
 * touched so far get their old text back (or are removed if they were new), and the error is rethrown.
 */
export async function applyFileChanges(
  changes: readonly FileChange[],
): Promise<{ path: string; action: 'created' | 'updated' | 'removed' | 'unchanged' }[]> {
  const before = await Promise.all(changes.map((c) => currentText(c.path)));
  const suffix = `.kubeloop-${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  const staged: string[] = [];
  const report = changes.map((c, i) => ({
    path: c.path,
    action: (c.text === before[i]
      ? 'unchanged'
      : c.text === undefined
        ? 'removed'
        : before[i] === undefined
          ? 'created'
          : 'updated') as 'created' | 'updated' | 'removed' | 'unchanged',
  }));
  const todo = changes
    .map((c, i) => ({ ...c, before: before[i], action: report[i]!.action }))
    .filter((c) => c.action !== 'unchanged');
  try {
    for (const c of todo) {
      if (c.text === undefined) continue;
      await mkdir(dirname(c.path), { recursive: true });
      await writeFile(c.path + suffix, c.text);
      staged.push(c.path + suffix);
    }
  } catch (err) {
    await Promise.all(staged.map((p) => rm(p, { force: true })));
    throw err;
  }
  const done: typeof todo = [];
  try {
    for (const c of todo) {
      if (c.text === undefined) await rm(c.path, { force: true });
      else await rename(c.path + suffix, c.path);
      done.push(c);
    }
  } catch (err) {
    for (const c of done.toReversed()) {
      if (c.before === undefined) await rm(c.path, { force: true });
      else await writeFile(c.path, c.before);
    }
    await Promise.all(staged.map((p) => rm(p, { force: true })));
    throw err;
  }
  return report;
}
