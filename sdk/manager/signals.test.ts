import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSignalHandler, SignalReceivedError } from './signals.js';

class FakeProcess extends EventEmitter {
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

describe('createSignalHandler', () => {
  it('aborts on the first SIGTERM with the signal as reason, and exits 1 on the second', () => {
    const proc = new FakeProcess();
    const signal = createSignalHandler(proc);
    expect(signal.aborted).toBe(false);
    proc.emit('SIGTERM', 'SIGTERM');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(SignalReceivedError);
    expect(signal.reason).toMatchObject({
      code: 'ERR_SIGNAL',
      signal: 'SIGTERM',
      message: 'received SIGTERM: shutting down',
    });
    expect(proc.exits).toEqual([]);
    proc.emit('SIGINT', 'SIGINT');
    expect(proc.exits).toEqual([1]);
  });

  it('SIGINT works the same', () => {
    const proc = new FakeProcess();
    const signal = createSignalHandler(proc);
    proc.emit('SIGINT', 'SIGINT');
    expect(signal.reason).toMatchObject({ signal: 'SIGINT' });
    proc.emit('SIGINT', 'SIGINT');
    expect(proc.exits).toEqual([1]);
  });
});

// setupSignalHandler acts on the real process: proven in a child process that receives real signals.
const childScript = `
import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    try { return next(specifier, context); } catch (err) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) return next(specifier.slice(0, -3) + '.ts', context);
      throw err;
    }
  },
});
const { setupSignalHandler } = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, 'signals.ts')).href)});
const signal = setupSignalHandler();
console.log(JSON.stringify({ same: setupSignalHandler() === signal, listeners: process.listenerCount('SIGTERM') }));
signal.addEventListener('abort', () => console.log(JSON.stringify({ aborted: signal.reason.message })));
setInterval(() => {}, 1000); // keeps running after the first signal, as a manager shutting down would
`;

describe('setupSignalHandler', () => {
  it('is idempotent; the first SIGTERM aborts, the second exits the process with code 1', async () => {
    const child = spawn(
      process.execPath,
      ['--experimental-transform-types', '--no-warnings', '--input-type=module', '-e', childScript],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async (): Promise<unknown> => JSON.parse((await lines.next()).value as string);
    try {
      expect(await next()).toEqual({ same: true, listeners: 1 });
      child.kill('SIGTERM');
      expect(await next()).toEqual({ aborted: 'received SIGTERM: shutting down' });
      child.kill('SIGTERM');
      expect(await exited).toBe(1);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
