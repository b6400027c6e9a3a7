/**
 * Runs npm for a new project and shows that it is working: a line every few seconds with the time spent (a spinner
 * on a terminal), npm's own output kept for the error message when it fails.
 */
import { spawn } from 'node:child_process';
import { CliError } from './errors.js';
import type { Output } from './output.js';

export interface RunNpmOptions {
  cwd: string;
  args: readonly string[];
  /** What the progress line says: `installing dependencies`. */
  activity: string;
  out: Output;
  /** Environment of npm. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** How often a progress line is written when the output is not a terminal. Default: 5000. */
  progressEveryMs?: number;
}

const spinner = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Runs `npm <args>` in `cwd`. Resolves when npm exits 0. Errors (`ERR_CLI_INSTALL`): npm cannot be started, exits
 * non-zero (the message ends with the last lines npm printed), or this process receives SIGINT/SIGTERM meanwhile
 * (npm is stopped first).
 */
export async function runNpm(options: RunNpmOptions): Promise<void> {
  const { out } = options;
  const started = Date.now();
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const child = spawn(npm, [...options.args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (chunk: Buffer): void => {
    log = (log + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);

  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = signal;
    child.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const seconds = (): number => Math.round((Date.now() - started) / 1000);
  let frame = 0;
  const tick = out.isTTY
    ? setInterval(
        () => out.progressLine(`${spinner[frame++ % spinner.length]} ${options.activity} with npm… ${seconds()} s`),
        100,
      )
    : setInterval(
        () => out.progress(`  … still ${options.activity} (${seconds()} s)`),
        options.progressEveryMs ?? 5000,
      );
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (c) => resolve(c));
    }).catch((err: unknown) => {
      throw new CliError('ERR_CLI_INSTALL', `cannot run npm: ${(err as Error).message}. Is npm on the PATH?`, {
        cause: err,
      });
    });
    if (interrupted) throw new CliError('ERR_CLI_INSTALL', `interrupted by ${interrupted} while ${options.activity}`);
    if (code !== 0) {
      const tail = log.trim().split('\n').slice(-25).join('\n');
      throw new CliError(
        'ERR_CLI_INSTALL',
        `npm ${options.args.join(' ')} failed (exit code ${code}) after ${seconds()} s; its output ends:\n${tail}`,
      );
    }
  } finally {
    clearInterval(tick);
    if (out.isTTY) out.progressLine('');
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
