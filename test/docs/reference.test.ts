/** The generated reference pages (error codes, CLI, API) are what the code gives today: regeneration changes nothing. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { readPages, repoRoot } from './pages.js';
import { errorCodes } from '../../sdk/client/index.js';

const run = promisify(execFile);

describe('docs/reference', () => {
  it('is up to date with the error codes, the CLI, the metrics registry and the API reports', async () => {
    const result = await run(process.execPath, [join(repoRoot, 'scripts', 'docs-reference.mjs'), '--check'], {
      cwd: repoRoot,
    }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code?: number; stderr?: string }) => ({ code: err.code ?? 1, stderr: err.stderr ?? '' }),
    );
    expect(result).toEqual({ code: 0, stderr: '' });
  }, 60_000);

  it('lists every error code and every command', () => {
    const pages = new Map(readPages().map((p) => [p.path, p.text]));
    const errors = pages.get('reference/errors.md') ?? '';
    for (const code of Object.keys(errorCodes)) expect(errors).toContain(`| \`${code}\` |`);
    const cli = pages.get('reference/cli.md') ?? '';
    for (const command of ['init', 'create api', 'create webhook', 'generate manifests', 'generate types']) {
      expect(cli).toContain(`## kubeloop ${command}\n`);
    }
    expect(cli).toContain('`--watch-namespaces <list>`');
    const metrics = pages.get('reference/metrics.md') ?? '';
    for (const series of ['controller_runtime_reconcile_total', 'workqueue_depth', 'kubeloop_informer_objects']) {
      expect(metrics).toContain(`| \`${series}\` |`);
    }
  });
});
