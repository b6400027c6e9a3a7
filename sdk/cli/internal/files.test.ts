import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyFileChanges } from './files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kubeloop-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('applyFileChanges', () => {
  it('creates, updates and removes files, and reports what it did', async () => {
    await writeFile(join(dir, 'keep.txt'), 'same');
    await writeFile(join(dir, 'old.txt'), 'old');
    await writeFile(join(dir, 'gone.txt'), 'bye');
    const report = await applyFileChanges([
      { path: join(dir, 'keep.txt'), text: 'same' },
      { path: join(dir, 'old.txt'), text: 'new' },
      { path: join(dir, 'gone.txt'), text: undefined },
      { path: join(dir, 'sub/new.txt'), text: 'fresh' },
    ]);
    expect(report.map((r) => r.action)).toEqual(['unchanged', 'updated', 'removed', 'created']);
    expect(await readFile(join(dir, 'old.txt'), 'utf8')).toBe('new');
    expect(await readFile(join(dir, 'sub/new.txt'), 'utf8')).toBe('fresh');
    expect((await readdir(dir)).toSorted()).toEqual(['keep.txt', 'old.txt', 'sub']);
  });

  it('puts everything back when one change fails, leaving no temporary file', async () => {
    await writeFile(join(dir, 'a.txt'), 'a0');
    await mkdir(join(dir, 'blocker'));
    await writeFile(join(dir, 'blocker/inside'), 'x');
    // Renaming a file onto a folder that is not empty fails after a.txt and b.txt were renamed into place.
    const attempt = applyFileChanges([
      { path: join(dir, 'a.txt'), text: 'a1' },
      { path: join(dir, 'b.txt'), text: 'b1' },
      { path: join(dir, 'blocker'), text: 'c1' },
    ]);
    await expect(attempt).rejects.toThrow(/EISDIR/);
    expect(await readFile(join(dir, 'a.txt'), 'utf8')).toBe('a0');
    expect((await readdir(dir)).toSorted()).toEqual(['a.txt', 'blocker']);
  });
});
