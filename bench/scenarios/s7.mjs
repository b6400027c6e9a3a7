// S7 leader failover (PERFORMANCE.md): two replicas of one peer compete for a Lease; the harness SIGKILLs the leader
// (case "kill") or asks it to step down gracefully with ReleaseOnCancel (case "release") and measures the time until
// the other replica leads, and checks that there were never two leaders. KL is kubeloop's createLeaderElector +
// createLeaseLock (bench/peers/node/s7.mjs), GO-JSON client-go's tools/leaderelection with a LeaseLock
// (bench/peers/go/s7.go); both print the same JSON event lines with wall-clock times, read here.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export const id = 'S7';
export const peers = ['kl', 'go-json'];

/** The same timings for both peers: short, so that a full run stays within minutes. */
const timing = { leaseDurationMs: 4000, renewDeadlineMs: 3000, retryPeriodMs: 1000 };
const jitter = 1.2;
/** PERFORMANCE.md's bounds: client-go's worst case after a kill, and the bound after a graceful release. */
const killBoundMs = (t) => t.leaseDurationMs + 2 * t.retryPeriodMs * jitter;
const releaseBoundMs = (t) => t.retryPeriodMs * jitter + 500;
/** Clock granularity when comparing times from different processes on this machine (ms). */
const slackMs = 5;
const namespace = 'bench-s7';

export function plan() {
  // Repetitions come from the harness (quick 3, full 5, or --reps).
  return {
    cases: [
      { mode: 'kill', ...timing },
      { mode: 'release', ...timing },
    ],
  };
}

const nowMs = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/**
 * The wait between "B has seen A lead" and the kill or release: spread over [1, 3) s by a golden-ratio sequence
 * (1618, 2854, 2090, 1326, 2562 ms, …), the same for both peers in a repetition, so that the kill or release falls at
 * different points of A's renew cycle and B's retry cycle. (A wait of exactly 1000 ms would land just before B's
 * next attempt, a lucky phase for a 1 s retry period.)
 */
const phaseDelayMs = (rep) => Math.round(1000 + 2000 * (((rep + 0.5) * 0.6180339887) % 1));

/** A Lease MicroTime ("2026-01-01T00:00:00.123456Z") as ms since the epoch, keeping the microseconds. */
function microTimeMs(s) {
  if (!s) return NaN;
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(s);
  if (!m) return Date.parse(s);
  return Date.parse(`${m[1]}Z`) + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0);
}

/** ['A', 'A', '-', 'B'] → 'A×2 -×1 B×1': the holders the watch saw, in order ('-' is the released, empty holder). */
const runLengths = (xs) =>
  xs
    .reduce((acc, x) => (acc.at(-1)?.[0] === x ? (acc.at(-1)[1]++, acc) : [...acc, [x, 1]]), [])
    .map(([x, n]) => `${x}×${n}`)
    .join(' ');

/** One replica process; collects its event lines and lets the harness wait for one. */
function replica(ctx, peer, params) {
  const { cmd, argv, env } = ctx.peerCommand(peer, 's7', ctx.connFile, params);
  const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'], env });
  child.stdin.on('error', () => undefined); // writing to a killed replica
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
    if (process.env.BENCH_STDERR) process.stderr.write(d);
  });
  const events = [];
  let waiters = [];
  let exitInfo;
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      for (const w of waiters)
        w.reject(
          new Error(
            `${params.identity} exited ${code ?? signal} before ${w.what}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
          ),
        );
      waiters = [];
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
    events.push(msg);
    waiters = waiters.filter((w) => {
      if (!w.pred(msg)) return true;
      w.resolve(msg);
      return false;
    });
  });
  const waitFor = (what, pred, timeoutMs) => {
    const seen = events.find(pred);
    if (seen) return Promise.resolve(seen);
    if (exitInfo) return Promise.reject(new Error(`${params.identity} exited before ${what}`));
    return new Promise((resolve, reject) => {
      const w = { what, pred, resolve, reject };
      const timer = setTimeout(() => {
        waiters = waiters.filter((x) => x !== w);
        reject(new Error(`${params.identity}: no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      w.resolve = (v) => (clearTimeout(timer), resolve(v));
      w.reject = (e) => (clearTimeout(timer), reject(e));
      waiters.push(w);
    });
  };
  /** Ends the process: stdin closed (it exits), SIGKILL if it has not after 3 s. */
  const end = async () => {
    if (exitInfo) return;
    child.stdin.end();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  return { child, events, waitFor, exited, end };
}

/** Watches one Lease from the harness: every state of it, with the time it was seen. */
function watchLease(ctx, lease) {
  const controller = new AbortController();
  const seen = [];
  const client = ctx.factory
    .resource({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true })
    .namespace(namespace);
  const done = (async () => {
    try {
      for await (const ev of client.watch({ fieldSelector: `metadata.name=${lease}`, signal: controller.signal })) {
        const spec = ev.object?.spec ?? {};
        seen.push({
          type: ev.type,
          at: nowMs(),
          holder: spec.holderIdentity ?? '',
          renewTime: spec.renewTime,
          leaseDurationSeconds: spec.leaseDurationSeconds,
        });
      }
    } catch (e) {
      if (!controller.signal.aborted) seen.push({ type: 'WATCH_ERROR', at: nowMs(), error: e.message });
    }
  })();
  return {
    seen,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

/** One repetition of one case for one peer: A leads, B is a candidate, A is killed or released, B leads. */
async function once(ctx, peer, c, rep) {
  const t = { leaseDurationMs: c.leaseDurationMs, renewDeadlineMs: c.renewDeadlineMs, retryPeriodMs: c.retryPeriodMs };
  const lease = `s7-${c.mode}-${peer}-${rep}-${Date.now().toString(36)}`;
  const idA = `${peer}-a-${rep}`;
  const idB = `${peer}-b-${rep}`;
  const watch = watchLease(ctx, lease);
  const base = { namespace, lease, ...t };
  const a = replica(ctx, peer, { ...base, identity: idA, tag: `${c.mode}-a-${rep}` });
  let b;
  try {
    await a.waitFor('leading', (e) => e.event === 'leading', 30_000);
    b = replica(ctx, peer, { ...base, identity: idB, tag: `${c.mode}-b-${rep}` });
    const bSawA = await b.waitFor(`newLeader ${idA}`, (e) => e.event === 'newLeader' && e.id === idA, 30_000);
    await sleep(phaseDelayMs(rep));
    const t0 = nowMs();
    if (c.mode === 'kill') a.child.kill('SIGKILL');
    else a.child.stdin.write('release\n');
    const led = await b.waitFor('leading', (e) => e.event === 'leading', t.leaseDurationMs + 15_000);
    const released =
      c.mode === 'release' ? await a.waitFor('released', (e) => e.event === 'released', 10_000) : undefined;
    await sleep(300); // the watch sees B's acquisition
    await watch.stop();

    // Never two leaders.
    const problems = [];
    const bEarly = b.events.find((e) => e.event === 'leading' && e.t < t0);
    if (bEarly)
      problems.push(`B led ${Math.round(t0 - bEarly.t)} ms before A was ${c.mode === 'kill' ? 'killed' : 'released'}`);
    if (b.events.filter((e) => e.event === 'leading').length > 1) problems.push('B started leading twice');
    const holders = watch.seen.filter((s) => s.type === 'ADDED' || s.type === 'MODIFIED');
    const lastA = holders.findLast((s, i) => s.holder === idA && holders.slice(i + 1).some((x) => x.holder === idB));
    let afterFreeMs = NaN;
    let expiryAfterKillMs = NaN;
    let releaseMs;
    if (c.mode === 'kill') {
      // B may take over only leaseDuration after A's last renewal (A's own stamp, read by the harness's watch).
      const expiresAt = microTimeMs(lastA?.renewTime) + t.leaseDurationMs;
      expiryAfterKillMs = expiresAt - t0;
      afterFreeMs = led.t - expiresAt;
      if (!lastA) problems.push('the watch did not see A hold the lease before B');
      else if (led.t < expiresAt - slackMs)
        problems.push(`B led ${Math.round(expiresAt - led.t)} ms before A's last renewal expired`);
    } else {
      const stopped = a.events.find((e) => e.event === 'stopped');
      if (!stopped) problems.push('A never reported that it stopped leading');
      else if (stopped.t > led.t + slackMs)
        problems.push(`A stopped leading ${Math.round(stopped.t - led.t)} ms after B started`);
      // A's holderIdentity must be cleared (released) before B's appears: never A → B directly while A is alive.
      const flip = holders.findIndex((s, i) => i > 0 && s.holder === idB && holders[i - 1].holder === idA);
      if (flip >= 0) problems.push('the Lease went from A to B without being released');
      const freed = holders.find((s) => s.holder === '' && s.leaseDurationSeconds === 1);
      if (freed) afterFreeMs = led.t - microTimeMs(freed.renewTime);
      releaseMs = released.t - t0;
    }
    return {
      failoverMs: led.t - t0,
      twoLeaders: problems.length,
      problems,
      afterFreeMs,
      expiryAfterKillMs,
      releaseMs,
      phaseDelayMs: phaseDelayMs(rep),
      aLeadingToKillMs: t0 - a.events.find((e) => e.event === 'leading').t,
      bSawAToKillMs: t0 - bSawA.t,
      leaseStates: holders.length,
      holders: runLengths(
        holders.map((h) => (h.holder === idA ? 'A' : h.holder === idB ? 'B' : h.holder === '' ? '-' : h.holder)),
      ),
      watchErrors: watch.seen.filter((s) => s.type === 'WATCH_ERROR').map((s) => s.error),
    };
  } finally {
    await watch.stop();
    await Promise.all([a.end(), b?.end()]);
  }
}

export async function run(ctx) {
  await ctx.seed(ctx.factory, 'configmaps', namespace, 0); // the namespace
  const order = ctx.peerNames.filter((p) => peers.includes(p));
  for (const c of ctx.plan.cases) {
    ctx.log(`S7 leader failover: ${caseTitle(c)}, ${ctx.reps} repetitions`);
    const out = { ...c, runs: Object.fromEntries(order.map((p) => [p, []])), errors: [] };
    ctx.cases.push(out);
    for (let i = 0; i < ctx.reps; i++) {
      for (const p of i % 2 ? order.toReversed() : order) {
        try {
          const r = await once(ctx, p, c, i);
          out.runs[p].push(r);
          ctx.log(
            `  ${p} ${c.mode} #${i}: new leader after ${Math.round(r.failoverMs)} ms${r.twoLeaders ? `; TWO LEADERS: ${r.problems.join('; ')}` : ''}`,
          );
        } catch (e) {
          out.errors.push(`${p} #${i}: ${e.message}`);
          ctx.log(`  ${p} ${c.mode} #${i}: ${e.message}`);
        }
        ctx.save();
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// report

const secs = (ms) => `${ms / 1000} s`;
function caseTitle(c) {
  const what = c.mode === 'kill' ? 'SIGKILL of the leader' : 'graceful release by the leader';
  return `${what} (lease ${secs(c.leaseDurationMs)}, renew ${secs(c.renewDeadlineMs)}, retry ${secs(c.retryPeriodMs)})`;
}

export const report = {
  name: 'S7 leader failover',
  metrics: [
    { key: 'failover', head: 'failover: kill/release → new leader (ms)', get: (r) => r.failoverMs },
    { key: 'afterFree', head: 'new leader after the lease expired / was released (ms)', get: (r) => r.afterFreeMs },
    { key: 'release', head: 'release → released (ms)', get: (r) => r.releaseMs ?? NaN, noRatio: true },
    { key: 'twoLeaders', head: 'two-leader violations', get: (r) => r.twoLeaders, noRatio: true },
  ],
  caseTitle,
  headline: ['failover'],
  differences: [
    'Both peers: two replica processes of the same peer (both pinned to the client CPU), one fresh Lease per run in the namespace `bench-s7`, lease 4 s / renew deadline 3 s / retry period 1 s, release on cancel. The harness waits until A leads and B has reported A as leader (so B is a candidate that has read the Lease), then waits the same 1–3 s for both peers (varies with the repetition, so that the kill falls at different points of the renew and retry cycles) before it kills or releases A.',
    'KL: `createLeaderElector` + `createLeaseLock` from `dist/`, `releaseOnCancel: true`; "release" aborts the `start()` signal. GO-JSON: client-go v0.37.2 `leaderelection.NewLeaderElector(...).Run(ctx)` with a `resourcelock.LeaseLock`, `ReleaseOnCancel: true`, QPS −1; "release" cancels the context.',
    'Retry waits differ by design: KL waits `retryPeriod × [1, 1.2)` between attempts to acquire; client-go waits `wait.JitterUntil(retryPeriod, 1.2)`, that is `retryPeriod × [1, 2.2)`. Both renew every retry period, and both consider a lease expired `leaseDuration` after they first saw its current record, on their own clock. client-go renews once more right after acquiring (its renew loop polls immediately; the watch sees two B writes), KL first renews a retry period later.',
    'KL waits for `onStartedLeading`\'s promise before it releases (here it settles at once); client-go does not wait for `OnStartedLeading`. Both release with a GET then an UPDATE (empty holder, `leaseDurationSeconds: 1`); "released" is printed when `start()` resolves / `Run` returns, after the release and `onStoppedLeading`.',
    'Times are wall-clock ms since the epoch read in each process (`performance.timeOrigin + performance.now()` in Node, `time.Now()` in Go) and compared across processes on one machine; failover = B\'s "leading" (printed in `onStartedLeading`, after the winning update returned) − the harness\'s time just before the kill or the release line.',
    `Two-leader checks, per run: B led before the kill/release; B led twice; after a kill, B led before A's last renewTime (A's own stamp, seen by the harness's watch of the Lease) + leaseDuration; after a release, A's leading signal/context ended after B led, or the harness's watch saw the holder go from A to B without the empty holder between. ${slackMs} ms of slack for clock reads.`,
  ],
  notes(c) {
    const lines = [];
    for (const [peer, rs] of Object.entries(c.runs)) {
      if (!rs.length) continue;
      const each = rs.map(
        (r) =>
          `${Math.round(r.failoverMs)}${c.mode === 'kill' ? ` (expiry +${Math.round(r.expiryAfterKillMs)}, then +${Math.round(r.afterFreeMs)})` : ''}`,
      );
      lines.push(
        `${peer} runs, failover ms${c.mode === 'kill' ? ' (lease expiry after the kill, then the takeover after expiry)' : ''}: ${each.join(', ')}.`,
      );
      for (const r of rs) if (r.problems?.length) lines.push(`${peer}: ${r.problems.join('; ')}.`);
    }
    lines.push(
      c.mode === 'kill'
        ? `Bound (client-go's worst case, leaseDuration + 2 × retryPeriod × 1.2): ${killBoundMs(c)} ms. ` +
            "The takeover after expiry is B's lag in seeing A's last renewal (B counts leaseDuration from its own first sight of it) plus its wait for its next attempt after that: each is at most one retry wait, retryPeriod × [1, 1.2) for KL, × [1, 2.2) for client-go."
        : `Bound (retryPeriod × 1.2 + 0.5 s): ${releaseBoundMs(c)} ms.`,
    );
    return lines;
  },
  targets(list, line) {
    for (const { c, s } of list) {
      const kl = s.kl;
      if (!kl) continue;
      const tag = c.mode === 'kill' ? 'after SIGKILL' : 'after graceful release';
      const go = s['go-json'];
      if (go) {
        line(
          `${tag}: median failover ≤ client-go's`,
          kl.failover.median <= go.failover.median,
          `${Math.round(kl.failover.median)} vs ${Math.round(go.failover.median)} ms`,
        );
      }
      const bound = c.mode === 'kill' ? killBoundMs(c) : releaseBoundMs(c);
      const boundText = c.mode === 'kill' ? 'leaseDuration + 2 × retryPeriod × 1.2' : 'retryPeriod × 1.2 + 0.5 s';
      line(
        `${tag}: every failover ≤ ${boundText} = ${bound} ms`,
        kl.failover.max <= bound,
        `worst ${Math.round(kl.failover.max)} ms (n = ${kl.failover.n})${go ? `; client-go's worst ${Math.round(go.failover.max)} ms` : ''}`,
      );
      line(
        `${tag}: never two leaders`,
        kl.twoLeaders.max === 0,
        `${kl.twoLeaders.max === 0 ? 'none' : `violations in some runs (max ${kl.twoLeaders.max})`}${go ? `; client-go: ${go.twoLeaders.max === 0 ? 'none' : `max ${go.twoLeaders.max}`}` : ''}`,
      );
    }
  },
  charts(list, { barChart, panels }) {
    return {
      's7-failover.svg': barChart(
        'S7 leader failover: time to a new leader (median, min–max)',
        'ms',
        panels('failover'),
      ),
    };
  },
};
