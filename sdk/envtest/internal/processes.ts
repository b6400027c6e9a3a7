import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EnvtestError } from '../errors.js';

/**
 * Child processes of the control plane, and the three guards that keep them from outliving the process that started
 * them: the kernel's parent-death signal (through util-linux `setpriv`, where present), exit and signal handlers, and
 * a reaper that removes what a crashed run left behind (its owner file names a dead process).
 */

const live = new Set<ChildProcess>();
let guardsInstalled = false;
const setprivPath = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

function killAllNow(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

function installGuards(): void {
  if (guardsInstalled) return;
  guardsInstalled = true;
  process.once('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllNow();
      // If nobody else handles the signal, restore the default behaviour (terminate) and re-raise it.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.once(signal, onSignal);
  }
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  readonly exited: Promise<string>;
  hasExited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

export function startProcess(name: string, command: string, args: string[], logFile: string): ManagedProcess {
  installGuards();
  const fd = openSync(logFile, 'a');
  const [file, argv] = setprivPath
    ? [setprivPath, ['--pdeathsig', 'SIGKILL', '--', command, ...args]]
    : [command, args];
  const child = spawn(file, argv, { stdio: ['ignore', fd, fd], env: { ...process.env } });
  closeSync(fd);
  live.add(child);
  let done = false;
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => {
      done = true;
      live.delete(child);
      resolve(`error: ${err.message}`);
    });
    child.once('exit', (code, signal) => {
      done = true;
      live.delete(child);
      resolve(signal ? `signal ${signal}` : `exit code ${code}`);
    });
  });
  return {
    name,
    pid: child.pid ?? -1,
    logFile,
    exited,
    hasExited: () => done,
    async stop(graceMs = 10_000) {
      if (done) return;
      child.kill('SIGTERM');
      const timer = sleep(graceMs).then(() => 'timeout');
      if ((await Promise.race([exited, timer])) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** The last lines of a log file, for error messages. */
export function logTail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export const workDirPrefix = 'kubeloop-envtest-';
const ownerFile = 'owner.json';

interface Owner {
  pid: number;
  children: { pid: number; command: string }[];
}

export function writeOwner(dir: string, children: ManagedProcess[], commands: string[]): void {
  const owner: Owner = {
    pid: process.pid,
    children: children.map((c, i) => ({ pid: c.pid, command: commands[i] ?? '' })),
  };
  writeFileSync(join(dir, ownerFile), JSON.stringify(owner));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills processes and removes work folders left by control planes whose owning process died without cleaning up. */
export function reapOrphans(root = tmpdir()): number {
  let reaped = 0;
  let entries: string[];
  try {
    entries = readdirSync(root).filter((e) => e.startsWith(workDirPrefix));
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const dir = join(root, entry);
    let owner: Owner;
    try {
      owner = JSON.parse(readFileSync(join(dir, ownerFile), 'utf8')) as Owner;
    } catch {
      continue; // being created right now, or not ours
    }
    if (alive(owner.pid)) continue;
    for (const child of owner.children) {
      // Only kill a pid that still runs the binary we started: pids are reused.
      let cmdline = '';
      try {
        cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
      } catch {
        // not running, or no /proc
      }
      if (child.command && cmdline.includes(child.command)) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
    reaped++;
  }
  return reaped;
}

/** Polls `check` until it returns true, or throws the last error once `timeoutMs` has passed. */
export async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  abortIf: () => string | undefined,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    const fatal = abortIf();
    if (fatal) throw new EnvtestError(`${what}: ${fatal}`);
    try {
      if (await check()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline)
      throw new EnvtestError(`${what}: not ready after ${timeoutMs} ms${last ? ` (${last})` : ''}`);
    await sleep(delay);
  }
}
