import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { createClientset, isNotFound, type Clientset } from '../../sdk/client/index.js';
import { startControlPlane, type ControlPlane } from '../../sdk/envtest/index.js';
import type { InjectedReport } from '../fixtures/operator-process.js';
import { eventually, type EventuallyOptions } from '../support/wait.js';

const poll: EventuallyOptions = { intervalMs: 10 };

// Operator processes as users run them: test/fixtures/operator-process.ts compiled by tsc (its own tsconfig, legacy
// decorators with emitted metadata, `kubeloop/*` imported by package name) into a temporary folder laid out like an
// installed project, run with node, stopped by SIGTERM or killed by SIGKILL. Needs a built dist/ (`npm test` builds
// it first).

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const timing = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 } as const;
/** client-go's jitter: a candidate retries within retryPeriodMs × 1.2. */
const retryMaxMs = timing.retryPeriodMs * 1.2;
/** Process start-up, request latency and event-loop lag on a shared 2-core machine. */
const slackMs = 1000;
/** How often the test writes the watched ConfigMap and reads the Lease. */
const pollMs = 100;
const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** Prints a measured figure on standard output and records it as an annotation of the test. */
async function figure(annotate: (message: string) => Promise<unknown>, message: string): Promise<void> {
  process.stdout.write(`[manager-leader-election] ${message}\n`);
  await annotate(message);
}

/** One line of the fixture's standard output. */
interface OperatorEvent {
  event: 'synced' | 'leading' | 'injected' | 'reconcile' | 'reconcile-start' | 'reconcile-end' | 'stopped' | 'failed';
  identity: string;
  /** Date.now() in the operator process: the same clock as the test's. */
  t: number;
  name?: string;
  n?: string | null;
  report?: InjectedReport;
  error?: string;
  /** `reconcile-end`: whether the reconcile's signal was aborted while it ran. */
  aborted?: boolean;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  t: number;
}

interface OperatorProcess {
  readonly identity: string;
  readonly child: ChildProcess;
  readonly events: OperatorEvent[];
  readonly stderrTail: string[];
  readonly exited: Promise<Exit>;
  exit: Exit | undefined;
}

const first = (p: OperatorProcess, event: OperatorEvent['event']): OperatorEvent | undefined =>
  p.events.find((e) => e.event === event);
const reconciles = (p: OperatorProcess): OperatorEvent[] => p.events.filter((e) => e.event === 'reconcile');

/** Runs `body` every `intervalMs` until stopped; resolves `stop()` once the iteration in flight is done. */
function every(intervalMs: number, body: () => Promise<void>): { stop(): Promise<void> } {
  const controller = new AbortController();
  const loop = (async () => {
    while (!controller.signal.aborted) {
      await body();
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      controller.abort();
      await loop;
    },
  };
}

describe('a manager in three operator processes with leader election on one Lease (own control plane)', () => {
  let env: ControlPlane;
  let clientset: Clientset;
  let workDir: string;
  let program: string;
  const processes: OperatorProcess[] = [];
  const loops: { stop(): Promise<void> }[] = [];

  beforeAll(async () => {
    const dist = join(repoRoot, 'dist/sdk/manager/index.d.ts');
    if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`npm run build\` first (npm test does)`);
    // The layout of an operator's project that installed kubeloop: package.json of an ES module package, and
    // node_modules holding kubeloop (resolved through its package.json exports to dist/) and reflect-metadata.
    workDir = await mkdtemp(join(tmpdir(), 'kubeloop-operator-process-'));
    const out = join(workDir, 'out');
    try {
      const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
      await promisify(execFile)(
        process.execPath,
        [tsc, '-p', join(repoRoot, 'test/fixtures/tsconfig.json'), '--outDir', out],
        { cwd: repoRoot },
      );
    } catch (err) {
      const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
      throw new Error(`tsc could not compile test/fixtures/operator-process.ts:\n${stdout}${stderr}`, { cause: err });
    }
    await writeFile(
      join(out, 'package.json'),
      JSON.stringify({ name: 'operator-process', private: true, type: 'module' }),
    );
    await mkdir(join(out, 'node_modules'));
    await symlink(repoRoot, join(out, 'node_modules/kubeloop'), 'dir');
    await symlink(join(repoRoot, 'node_modules/reflect-metadata'), join(out, 'node_modules/reflect-metadata'), 'dir');
    program = join(out, 'operator-process.js');
    env = await startControlPlane({ kubernetesVersion: '1.37.2' });
    clientset = createClientset(env.config);
  });

  afterAll(async () => {
    await Promise.allSettled(loops.map((l) => l.stop()));
    for (const p of processes) if (p.exit === undefined) p.child.kill('SIGKILL');
    await Promise.allSettled(processes.map((p) => p.exited));
    await env?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  function startOperator(
    identity: string,
    namespace: string,
    lease: string,
    extraEnv: Record<string, string> = {},
  ): OperatorProcess {
    const argv = [
      program,
      identity,
      namespace,
      lease,
      String(timing.leaseDurationMs),
      String(timing.renewDeadlineMs),
      String(timing.retryPeriodMs),
    ];
    // Killed by the kernel if this worker dies without running afterAll (as envtest does for its processes).
    const [file, args] = setpriv
      ? [setpriv, ['--pdeathsig', 'SIGKILL', '--', process.execPath, ...argv]]
      : [process.execPath, argv];
    const child = spawn(file, args, {
      env: { ...process.env, KUBECONFIG: env.kubeconfigPath, LOG_LEVEL: 'info', ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const events: OperatorEvent[] = [];
    const stderrTail: string[] = [];
    const p: OperatorProcess = {
      identity,
      child,
      events,
      stderrTail,
      exit: undefined,
      exited: new Promise<Exit>((resolve) => {
        child.once('exit', (code, signal) => {
          p.exit = { code, signal, t: Date.now() };
          resolve(p.exit);
        });
      }),
    };
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        events.push(JSON.parse(line) as OperatorEvent);
      } catch {
        stderrTail.push(`(stdout, not JSON) ${line}`);
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 40) stderrTail.shift();
    });
    processes.push(p);
    return p;
  }

  function dumpOnFailure(procs: OperatorProcess[]): void {
    onTestFailed(() => {
      for (const p of procs) {
        process.stderr.write(`--- ${p.identity}: exit ${JSON.stringify(p.exit)}; last events:\n`);
        for (const e of p.events.slice(-10)) process.stderr.write(`${JSON.stringify(e)}\n`);
        process.stderr.write(`--- ${p.identity}: standard error (tail):\n${p.stderrTail.join('\n')}\n`);
      }
    });
  }

  async function createNamespace(prefix: string): Promise<string> {
    const name = `${prefix}-${Date.now().toString(36)}`;
    await clientset.coreV1().namespaces().create({ metadata: { name } });
    return name;
  }

  async function leaseHolder(namespace: string, name: string): Promise<string | undefined> {
    try {
      return (await clientset.coordinationV1().leases(namespace).get(name)).spec?.holderIdentity ?? '';
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  it('gives a reconciler compiled by tsc every client by @inject(TOKEN), and a SIGTERM stops it with code 0 and the lease released', async () => {
    const ns = await createNamespace('di');
    const op = startOperator('di-check', ns, 'di-operator');
    dumpOnFailure([op]);
    await clientset
      .coreV1()
      .configMaps(ns)
      .create({ metadata: { name: 'probe' } });

    const injected = await eventually('the injected report', () => first(op, 'injected'), {
      ...poll,
      timeoutMs: 30_000,
    });
    expect(injected.report).toEqual({
      client: true,
      clientset: true,
      dynamic: true,
      discoveryGitVersion: 'v1.37.2',
      logger: true,
      paramtypes: 5,
    } satisfies InjectedReport);
    await eventually('a reconcile of probe', () => reconciles(op).find((e) => e.name === 'probe'), {
      ...poll,
      timeoutMs: 10_000,
    });
    expect(await leaseHolder(ns, 'di-operator')).toBe('di-check');

    op.child.kill('SIGTERM');
    const exit = await op.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(first(op, 'stopped')).toBeDefined();
    expect(first(op, 'failed')).toBeUndefined();
    expect(await leaseHolder(ns, 'di-operator')).toBe(''); // released, and nobody else competes
  });

  it('lets one process reconcile at a time; after a SIGKILL another leads once the lease expires, after a SIGTERM at once', async ({
    annotate,
  }) => {
    const ns = await createNamespace('ha');
    const lease = 'ha-operator';
    const cms = clientset.coreV1().configMaps(ns);
    await cms.create({ metadata: { name: 'hot' }, data: { n: '0' } });

    const procs = ['op-a', 'op-b', 'op-c'].map((identity) => startOperator(identity, ns, lease));
    dumpOnFailure(procs);

    // A writer touches the ConfigMap every pollMs; the Lease's holder is sampled as often.
    let written = 0;
    const writeErrors: string[] = [];
    loops.push(
      every(pollMs, async () => {
        try {
          await cms.patch('hot', { data: { n: String(written + 1) } }, { patchType: 'merge' });
          written++;
        } catch (err) {
          writeErrors.push(String(err));
        }
      }),
    );
    const holders: { t: number; holder: string }[] = [];
    loops.push(
      every(pollMs, async () => {
        const holder = await leaseHolder(ns, lease).catch(() => undefined);
        if (holder !== undefined) holders.push({ t: Date.now(), holder });
      }),
    );

    const leaderOf = (candidates: OperatorProcess[]): OperatorProcess | undefined =>
      candidates.find((p) => first(p, 'leading'));
    /** Distinct writes a process reconciled since `t` (its own annotation patch causes a reconcile of the same write). */
    const changesReconciledAfter = (p: OperatorProcess, t: number): number =>
      new Set(
        reconciles(p)
          .filter((e) => e.t >= t)
          .map((e) => e.n),
      ).size;

    // Phase 1: every process runs with a synced cache; one leads and reconciles the writer's changes.
    await eventually('every process to sync its cache', () => procs.every((p) => first(p, 'synced')), {
      ...poll,
      timeoutMs: 60_000,
    });
    const allSynced = Math.max(...procs.map((p) => first(p, 'synced')!.t));
    const leader1 = await eventually('a leader', () => leaderOf(procs), { ...poll, timeoutMs: 30_000 });
    expect(await leaseHolder(ns, lease)).toBe(leader1.identity);
    await eventually(
      `${leader1.identity} to reconcile 10 changes after all synced`,
      () => changesReconciledAfter(leader1, allSynced) >= 10,
      { ...poll, timeoutMs: 10_000 },
    );

    // Phase 2: SIGKILL the leader: a successor waits for the lease to expire.
    const rest = procs.filter((p) => p !== leader1);
    expect(rest.filter((p) => first(p, 'leading')).map((p) => p.identity)).toEqual([]);
    const killedAt = Date.now();
    leader1.child.kill('SIGKILL');
    const failoverBoundMs = timing.leaseDurationMs + 2 * retryMaxMs + slackMs;
    const leader2 = await eventually('a leader after the SIGKILL', () => leaderOf(rest), {
      ...poll,
      timeoutMs: failoverBoundMs + 10_000,
    });
    const failoverMs = first(leader2, 'leading')!.t - killedAt;
    await figure(
      annotate,
      `SIGKILL of ${leader1.identity}: ${leader2.identity} led after ${failoverMs} ms (bound ${failoverBoundMs} ms)`,
    );
    expect(failoverMs).toBeLessThanOrEqual(failoverBoundMs);
    // Not before the lease, last renewed at most one retry period before the kill, could have expired.
    expect(failoverMs).toBeGreaterThanOrEqual(timing.leaseDurationMs - retryMaxMs - slackMs);
    expect(await leader1.exited).toMatchObject({ signal: 'SIGKILL' });
    expect(await leaseHolder(ns, lease)).toBe(leader2.identity);
    const leading2 = first(leader2, 'leading')!.t;
    await eventually(
      `${leader2.identity} to reconcile 5 changes`,
      () => changesReconciledAfter(leader2, leading2) >= 5,
      { ...poll, timeoutMs: 10_000 },
    );

    // Phase 3: SIGTERM the new leader: it stops its controllers, releases the lease and exits 0; the last process
    // takes over at its next retry.
    const leader3 = rest.find((p) => p !== leader2)!;
    const termAt = Date.now();
    leader2.child.kill('SIGTERM');
    const handoverBoundMs = retryMaxMs + slackMs;
    await eventually('a leader after the SIGTERM', () => leaderOf([leader3]), {
      ...poll,
      timeoutMs: timing.leaseDurationMs + handoverBoundMs + 10_000,
    });
    const handoverMs = first(leader3, 'leading')!.t - termAt;
    const exit2 = await leader2.exited;
    await figure(
      annotate,
      `SIGTERM of ${leader2.identity}: ${leader3.identity} led after ${handoverMs} ms (bound ${handoverBoundMs} ms); ${leader2.identity} exited after ${exit2.t - termAt} ms`,
    );
    expect(handoverMs).toBeLessThanOrEqual(handoverBoundMs);
    expect(exit2).toMatchObject({ code: 0, signal: null });
    expect(first(leader2, 'stopped')).toBeDefined();
    expect(['', leader3.identity]).toContain(await leaseHolder(ns, lease));
    const leading3 = first(leader3, 'leading')!.t;
    await eventually(
      `${leader3.identity} to reconcile 5 changes`,
      () => changesReconciledAfter(leader3, leading3) >= 5,
      { ...poll, timeoutMs: 10_000 },
    );
    await eventually(
      `a sample of the Lease naming ${leader3.identity}`,
      () => holders.at(-1)?.holder === leader3.identity,
      { ...poll, timeoutMs: 10_000 },
    );
    await Promise.all(loops.splice(0).map((l) => l.stop()));
    // The server's record: the last leader reconciled the last write and annotated the object.
    await eventually(
      `${leader3.identity} to reconcile the last write`,
      () => reconciles(leader3).some((e) => e.n === String(written)),
      { ...poll, timeoutMs: 10_000 },
    );
    await eventually(
      `the annotation reconciled-by: ${leader3.identity}`,
      async () => (await cms.get('hot')).metadata?.annotations?.['reconciled-by'] === leader3.identity,
      { ...poll, timeoutMs: 10_000 },
    );

    // Exactly one process reconciled at any time: each only while it led, and never while another did.
    expect(procs.flatMap((p) => p.events.filter((e) => e.event === 'failed'))).toEqual([]);
    const leaders = [leader1, leader2, leader3];
    for (const p of leaders) {
      const led = first(p, 'leading')!.t;
      const until = p === leader1 ? killedAt : p === leader2 ? exit2.t : Date.now();
      const outside = reconciles(p).filter((e) => e.t < led || e.t > until);
      expect(outside, `reconciles of ${p.identity} outside its leadership [${led}, ${until}]`).toEqual([]);
    }
    const lastOf = (p: OperatorProcess): number => Math.max(...reconciles(p).map((e) => e.t));
    const firstOf = (p: OperatorProcess): number => Math.min(...reconciles(p).map((e) => e.t));
    expect(lastOf(leader1)).toBeLessThan(firstOf(leader2));
    expect(lastOf(leader2)).toBeLessThan(firstOf(leader3));
    // The Lease named the same succession (empty while released).
    const named = holders.map((h) => h.holder).filter((h) => h !== '');
    expect(named.filter((h, i) => h !== named[i - 1])).toEqual([leader1.identity, leader2.identity, leader3.identity]);
    expect(writeErrors).toEqual([]);
    await figure(
      annotate,
      `${written} writes; reconciles: ${leaders.map((p) => `${p.identity} ${reconciles(p).length}`).join(', ')}`,
    );
  });

  // A reconcile that outlives the lease duration (it waits slowMs without heeding its signal): on a graceful stop, the
  // old leader keeps renewing the lease until the reconcile has ended, and only then releases it; the successor's first
  // reconcile of the key starts after that. Before, the lease was left to expire while the reconcile still ran.
  it('hands the lease over on a SIGTERM only after the reconcile in flight ended', async ({ annotate }) => {
    const ns = await createNamespace('handover');
    const lease = 'handover-operator';
    const slowMs = 2 * timing.leaseDurationMs;
    await clientset
      .coreV1()
      .configMaps(ns)
      .create({ metadata: { name: 'slow' } });
    const procs = ['ho-a', 'ho-b'].map((identity) =>
      startOperator(identity, ns, lease, { SLOW_RECONCILE_MS: String(slowMs) }),
    );
    dumpOnFailure(procs);
    await eventually('both processes to sync', () => procs.every((p) => first(p, 'synced')), {
      ...poll,
      timeoutMs: 60_000,
    });
    const old = await eventually('a leader reconciling slow', () => procs.find((p) => first(p, 'reconcile-start')), {
      ...poll,
      timeoutMs: 30_000,
    });
    const successor = procs.find((p) => p !== old)!;

    const termAt = Date.now();
    old.child.kill('SIGTERM');
    const exit = await old.exited;
    const start = await eventually(
      `${successor.identity} to reconcile slow`,
      () => first(successor, 'reconcile-start'),
      { ...poll, timeoutMs: 30_000 },
    );
    const end = first(old, 'reconcile-end');
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(end, `${old.identity} ended its reconcile before exiting`).toMatchObject({ name: 'slow', aborted: true });
    expect(start.t, 'the successor started reconciling after the old reconcile ended').toBeGreaterThan(end!.t);
    // The successor took over at its next retry after the release, not after an expiry.
    const handoverMs = first(successor, 'leading')!.t - end!.t;
    await figure(
      annotate,
      `SIGTERM of ${old.identity} ${end!.t - termAt} ms before its reconcile ended; ${successor.identity} led ${handoverMs} ms after that ` +
        `and started reconciling ${start.t - end!.t} ms after it (lease ${timing.leaseDurationMs} ms, reconcile ${slowMs} ms)`,
    );
    expect(handoverMs).toBeLessThanOrEqual(retryMaxMs + slackMs);
    successor.child.kill('SIGTERM');
    expect(await successor.exited).toMatchObject({ code: 0 });
  });

  // A leader frozen (SIGSTOP) past its lease loses it to another replica; when it runs again it must stop at once:
  // its reconciles' signals abort and start() rejects without the graceful wait, so the process exits (code 1) while
  // its signal-ignoring reconcile still had seconds to run.
  it('stops a leader at once when it finds its lease lost, without waiting for its reconciles', async ({
    annotate,
  }) => {
    const ns = await createNamespace('lost');
    const lease = 'lost-operator';
    const slowMs = 5 * timing.leaseDurationMs;
    await clientset
      .coreV1()
      .configMaps(ns)
      .create({ metadata: { name: 'slow' } });
    const procs = ['lo-a', 'lo-b'].map((identity) =>
      startOperator(identity, ns, lease, { SLOW_RECONCILE_MS: String(slowMs) }),
    );
    dumpOnFailure(procs);
    await eventually('both processes to sync', () => procs.every((p) => first(p, 'synced')), {
      ...poll,
      timeoutMs: 60_000,
    });
    const stale = await eventually('a leader reconciling slow', () => procs.find((p) => first(p, 'reconcile-start')), {
      ...poll,
      timeoutMs: 30_000,
    });
    const successor = procs.find((p) => p !== stale)!;

    stale.child.kill('SIGSTOP');
    await eventually(`${successor.identity} to lead`, () => first(successor, 'leading'), {
      ...poll,
      timeoutMs: timing.leaseDurationMs + 10_000,
    });
    const contAt = Date.now();
    stale.child.kill('SIGCONT');
    const exit = await stale.exited;
    await figure(
      annotate,
      `${stale.identity} exited ${exit.t - contAt} ms after SIGCONT (its reconcile had ${slowMs} ms to run)`,
    );
    expect(exit).toMatchObject({ code: 1 });
    expect(first(stale, 'failed')?.error).toMatch(/ERR_LEADER_ELECTION_LOST|lost the lease/);
    expect(first(stale, 'reconcile-end'), 'the stale reconcile did not run to its end').toBeUndefined();
    // Its renew deadline passed while it was frozen: the loss is seen at its first overdue timer, within a retry period
    // (and slack). Before, it went on for leaseDurationMs waiting for its reconciles (2020 ms measured here).
    expect(exit.t - contAt).toBeLessThanOrEqual(timing.retryPeriodMs + slackMs);
    successor.child.kill('SIGTERM');
    await successor.exited;
  });
});
