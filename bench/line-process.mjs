// A benchmark's child process speaking JSON lines (the protocol of bench/peers), and a free loopback port: shared by
// the S9 scenario and bench/webhook/server-bench.mjs.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

/**
 * A child process speaking JSON lines: `send` a line, `next()` the next message in order (rejects when the child exits
 * or after `timeoutMs`), `end()` closes its stdin and waits for it (killing it after 5 s). Its stderr is kept for error
 * messages, and shown with BENCH_STDERR=1.
 */
export function lineProcess(cmd, argv, env, name) {
  const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'], env });
  child.stdin.on('error', () => undefined);
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
    if (process.env.BENCH_STDERR) process.stderr.write(d);
  });
  const queue = [];
  let waiter;
  let exitInfo;
  const fail = () =>
    new Error(`${name} exited ${exitInfo.code ?? exitInfo.signal}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      waiter?.reject(fail());
      waiter = undefined;
      resolve(exitInfo);
    });
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    if (waiter) {
      const w = waiter;
      waiter = undefined;
      w.resolve(msg);
    } else queue.push(msg);
  });
  /** The next JSON line (in order). */
  const next = (timeoutMs = 120_000) => {
    if (queue.length) return Promise.resolve(queue.shift());
    if (exitInfo) return Promise.reject(fail());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter = undefined;
        reject(new Error(`${name}: no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      waiter = { resolve: (v) => (clearTimeout(timer), resolve(v)), reject: (e) => (clearTimeout(timer), reject(e)) };
    });
  };
  const send = (line) => child.stdin.write(`${typeof line === 'string' ? line : JSON.stringify(line)}\n`);
  const end = async () => {
    if (exitInfo) return;
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return { child, next, send, end };
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
