import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../errors.js';
import { createTokenFileSource } from './token-file.js';

let dir: string;
let counter = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'token-file-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function tokenFile(content: string): Promise<string> {
  const file = join(dir, `token-${++counter}`);
  await writeFile(file, content);
  return file;
}

/** A clock the test moves by hand. */
function fakeClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('createTokenFileSource', () => {
  it('reads and trims the token', async () => {
    const source = createTokenFileSource(await tokenFile('  abc.def\n\n'));
    expect(await source.token()).toBe('abc.def');
  });

  it('keeps the token for refreshMs, then re-reads the file', async () => {
    const file = await tokenFile('first');
    const clock = fakeClock();
    const source = createTokenFileSource(file, { refreshMs: 1000, now: clock.now });
    expect(await source.token()).toBe('first');
    await writeFile(file, 'second');
    clock.advance(999);
    expect(await source.token()).toBe('first');
    clock.advance(1);
    expect(await source.token()).toBe('second');
  });

  it('re-reads at once after invalidate()', async () => {
    const file = await tokenFile('first');
    const source = createTokenFileSource(file, { refreshMs: 60_000 });
    expect(await source.token()).toBe('first');
    await writeFile(file, 'rotated');
    expect(await source.token()).toBe('first');
    source.invalidate();
    expect(await source.token()).toBe('rotated');
  });

  it('shares one read between concurrent callers', async () => {
    const source = createTokenFileSource(await tokenFile('shared'));
    const a = source.token();
    const b = source.token();
    expect(a).toBe(b);
    expect(await Promise.all([a, b])).toEqual(['shared', 'shared']);
  });

  it('notices a rewritten file within checkMs, before refreshMs is up', async () => {
    let clock = 1_000_000;
    const file = await tokenFile('first');
    const source = createTokenFileSource(file, { now: () => clock, refreshMs: 60_000, checkMs: 1000 });
    expect(await source.token()).toBe('first');
    await writeFile(file, 'second-token-longer');
    clock += 500;
    expect(await source.token()).toBe('first'); // not looked at yet
    clock += 600;
    expect(await source.token()).toBe('second-token-longer');
  });

  it('names a missing file without showing any token', async () => {
    const file = join(dir, 'absent');
    const err = await createTokenFileSource(file)
      .token()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/cannot read the bearer token file: no such file/);
    expect((err as ConfigError).file).toBe(file);
  });

  it('refuses an empty file', async () => {
    await expect(createTokenFileSource(await tokenFile(' \n')).token()).rejects.toThrow(
      /the bearer token file is empty/,
    );
  });

  it('keeps the previous token when a periodic re-read fails, and reports it', async () => {
    const sub = join(dir, `rotating-${++counter}`);
    await mkdir(sub);
    const file = join(sub, 'token');
    await writeFile(file, 'still-good');
    const clock = fakeClock();
    const errors: Error[] = [];
    const source = createTokenFileSource(file, {
      refreshMs: 10,
      now: clock.now,
      onRefreshError: (e) => errors.push(e),
    });
    expect(await source.token()).toBe('still-good');
    await rm(file);
    clock.advance(10);
    expect(await source.token()).toBe('still-good');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/no such file/);
    expect(errors[0]?.message).not.toContain('still-good');
    // after invalidate() there is nothing to fall back on
    source.invalidate();
    await expect(source.token()).rejects.toThrow(/cannot read the bearer token file/);
  });
});
