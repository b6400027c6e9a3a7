// The soak's invariants, computed from the replicas' shared log (see test/fixtures/webapp-replica.ts), the harness's
// record of the processes it started, killed and froze, and the faults with their convergence.

/** Least squares: the slope of y over x, and the fit's r². */
export function leastSquares(points) {
  const n = points.length;
  if (n < 2) return { slope: 0, r2: 0, n };
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
    syy += (p.y - my) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, r2: sxx === 0 || syy === 0 ? 0 : (sxy * sxy) / (sxx * syy), n };
}

/**
 * Reconcile intervals per process and key: a start and the next end of the same process and key (a controller never
 * runs one key twice at once). A start without an end (the process was killed or exited) lasts until the process ended.
 */
export function reconcileIntervals(records, exitOf, endedAt) {
  const open = new Map();
  const intervals = [];
  for (const r of records) {
    if (r.ev !== 'start' && r.ev !== 'end') continue;
    const id = `${r.pid}|${r.key}`;
    if (r.ev === 'start') open.set(id, r);
    else {
      const s = open.get(id);
      if (!s) continue;
      open.delete(id);
      intervals.push({ key: r.key, r: r.r, pid: r.pid, start: s.t, end: r.t, ok: r.ok, aborted: r.aborted });
    }
  }
  for (const s of open.values())
    intervals.push({ key: s.key, r: s.r, pid: s.pid, start: s.t, end: exitOf(s.pid) ?? endedAt, unfinished: true });
  return intervals;
}

/** Pairs of intervals of different processes on the same key that overlap in time. */
export function overlaps(intervals) {
  const byKey = new Map();
  for (const i of intervals) {
    const list = byKey.get(i.key) ?? [];
    list.push(i);
    byKey.set(i.key, list);
  }
  const found = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.start - b.start);
    for (let i = 0; i < list.length; i++) {
      for (let j = i + 1; j < list.length && list[j].start < list[i].end; j++) {
        if (list[j].pid === list[i].pid) continue;
        found.push({
          key,
          first: list[i],
          second: list[j],
          overlapMs: Math.min(list[i].end, list[j].end) - list[j].start,
        });
      }
    }
  }
  return found;
}

const round = (x, d = 0) => Math.round(x * 10 ** d) / 10 ** d;

export function analyze({
  options,
  t0,
  wall0,
  endedAt,
  log,
  incarnations,
  faults,
  timeline,
  changes,
  final,
  faultClasses,
}) {
  const records = log
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .sort((a, b) => a.t - b.t);
  const exitOf = (pid) => incarnations.find((i) => i.pid === pid)?.exit?.t;
  const rel = (t) => round((t - t0) / 1000, 1);

  // 1. Never two replicas reconciling the same key at once. A process frozen by SIGSTOP runs nothing: the time two
  // intervals share while either process is frozen is not running at once. What matters then is the lease handover
  // bound: once continued, the stale leader must stop within a retry period (× 1.2 jitter) and 1 s of slack (the
  // bound of test/fault/manager-leader-election.test.ts) — its reconcile must end, or its process exit, by then.
  const staleBoundMs = options.retryPeriodMs * 1.2 + 1000;
  const intervals = reconcileIntervals(records, exitOf, endedAt);
  const frozenOf = (pid) => incarnations.find((i) => i.pid === pid)?.frozen ?? [];
  /** [from, to) minus the frozen windows of the given processes: the milliseconds both really ran. */
  const running = (from, to, pids) => {
    let parts = [[from, to]];
    for (const f of pids.flatMap(frozenOf)) {
      const fTo = f.to ?? endedAt;
      parts = parts.flatMap(([x, y]) =>
        fTo <= x || f.from >= y ? [[x, y]] : [...(f.from > x ? [[x, f.from]] : []), ...(fTo < y ? [[fTo, y]] : [])],
      );
    }
    return parts.reduce((sum, [x, y]) => sum + (y - x), 0);
  };
  const found = overlaps(intervals).map((o) => {
    const shared = [o.second.start, Math.min(o.first.end, o.second.end)];
    const runningMs = running(shared[0], shared[1], [o.first.pid, o.second.pid]);
    // A frozen process's reconcile that outlived the freeze: how long after SIGCONT it went on.
    const thaw = frozenOf(o.first.pid).find((f) => f.from < o.first.end && (f.to ?? endedAt) > o.first.start);
    const staleTailMs = thaw?.to !== undefined ? Math.max(0, o.first.end - thaw.to) : undefined;
    const ok = runningMs <= 0 && staleTailMs !== undefined && staleTailMs <= staleBoundMs;
    return {
      key: o.key,
      overlapMs: round(o.overlapMs, 1),
      runningAtOnceMs: round(runningMs, 1),
      ...(staleTailMs !== undefined && { staleTailMs: round(staleTailMs, 1) }),
      verdict: ok
        ? 'handover: one of the two was frozen meanwhile, and stopped within the bound once continued'
        : 'violation',
      first: {
        replica: o.first.r,
        pid: o.first.pid,
        from: rel(o.first.start),
        to: rel(o.first.end),
        unfinished: !!o.first.unfinished,
        ...(thaw && { frozen: [rel(thaw.from), rel(thaw.to ?? endedAt)] }),
      },
      second: { replica: o.second.r, pid: o.second.pid, from: rel(o.second.start), to: rel(o.second.end) },
    };
  });
  const leaders = records.filter((r) => r.ev === 'leading');
  const violations = found.filter((f) => f.verdict === 'violation');
  const singleReconciler = {
    pass: violations.length === 0,
    reconciles: intervals.length,
    keys: new Set(intervals.map((i) => i.key)).size,
    leaderships: leaders.length,
    staleBoundMs,
    overlaps: found.slice(0, 50),
    overlapCount: found.length,
    violationCount: violations.length,
    maxStaleTailMs: found.some((f) => f.staleTailMs !== undefined)
      ? Math.max(...found.filter((f) => f.staleTailMs !== undefined).map((f) => f.staleTailMs))
      : null,
  };

  // 2. Convergence after every fault and at the end; 3. no lost updates.
  const staleKinds = new Set(['deployment-stale', 'service-stale', 'status-behind', 'webapp-spec-differs']);
  const convergence = {
    pass: final.ok && faults.every((f) => f.converged),
    final: { ok: final.ok, ms: final.ms, mismatches: final.mismatches },
    notConverged: faults
      .filter((f) => !f.converged)
      .map((f) => ({ class: f.class, at: rel(f.injectedAt), mismatches: f.mismatches })),
  };
  // Delayed at a fault's deadline is a convergence failure; lost is still stale at the final check, after the driver
  // stopped and every fault cleared.
  const delayed = faults.flatMap((f) => (f.mismatches ?? []).filter((m) => staleKinds.has(m.kind)));
  const lost = final.mismatches.filter((m) => staleKinds.has(m.kind));
  const lostUpdates = {
    pass: final.ok || lost.length === 0,
    updatesWritten: changes.updated,
    staleAtFinalCheck: lost.slice(0, 20),
    staleAtFaultDeadlines: delayed.length,
  };

  // 4. Memory and handles: least-squares slopes per process and role (a follower's heap is not a leader's: becoming
  // leader starts the controllers, their queues and code), on the samples after memoryWarmupMs in that role.
  const minMinutes = 2;
  const processes = incarnations.map((inc) => {
    const samples = records.filter((r) => r.ev === 'mem' && r.pid === inc.pid);
    const end = inc.exit?.t ?? endedAt;
    const leadingAt = records.find((r) => r.ev === 'leading' && r.pid === inc.pid)?.t;
    const roles = [{ role: 'follower', from: inc.startedAt, to: leadingAt ?? end }];
    if (leadingAt !== undefined) roles.push({ role: 'leader', from: leadingAt, to: end });
    const segments = roles.map(({ role, from, to }) => {
      const settled = samples.filter((s) => s.t >= from + options.memoryWarmupMs && s.t < to);
      const heap = leastSquares(settled.map((s) => ({ x: (s.t - t0) / 60_000, y: s.heapUsed })));
      const handles = leastSquares(settled.map((s) => ({ x: (s.t - t0) / 60_000, y: s.handles })));
      const secondHalf = leastSquares(
        settled.slice(Math.floor(settled.length / 2)).map((s) => ({ x: (s.t - t0) / 60_000, y: s.heapUsed })),
      );
      return {
        role,
        from: rel(from),
        to: rel(to),
        settledSamples: settled.length,
        settledMinutes: settled.length > 1 ? round((settled.at(-1).t - settled[0].t) / 60_000, 2) : 0,
        heapBytesPerMin: round(heap.slope),
        heapR2: round(heap.r2, 3),
        secondHalfHeapBytesPerMin: round(secondHalf.slope),
        handlesPerMin: round(handles.slope, 3),
      };
    });
    return {
      replica: inc.identity,
      pid: inc.pid,
      from: rel(inc.startedAt),
      to: rel(end),
      samples: samples.length,
      segments,
      heapMiB: samples.length
        ? {
            first: round(samples[0].heapUsed / 2 ** 20, 2),
            last: round(samples.at(-1).heapUsed / 2 ** 20, 2),
            max: round(Math.max(...samples.map((s) => s.heapUsed)) / 2 ** 20, 2),
          }
        : null,
      handles: samples.length
        ? { first: samples[0].handles, last: samples.at(-1).handles, max: Math.max(...samples.map((s) => s.handles)) }
        : null,
      lastByType: samples.at(-1)?.byType ?? null,
      series: samples.map((s) => ({
        t: rel(s.t),
        heapMiB: round(s.heapUsed / 2 ** 20, 3),
        rssMiB: round(s.rss / 2 ** 20, 1),
        handles: s.handles,
      })),
    };
  });
  const judged = processes.flatMap((p) =>
    p.segments.filter((g) => g.settledMinutes >= minMinutes).map((g) => ({ replica: p.replica, pid: p.pid, ...g })),
  );
  const heapLimit = 256 * 1024; // bytes per minute
  const handlesLimit = 0.5; // per minute
  const memory = {
    pass:
      judged.length === 0
        ? null
        : judged.every((p) => p.heapBytesPerMin <= heapLimit && p.handlesPerMin <= handlesLimit),
    rule: `slope of heapUsed after a full GC ≤ ${heapLimit / 1024} KiB/min and of active handles ≤ ${handlesLimit}/min, least squares over each process's samples in one role (follower, then leader once it leads) after the first ${options.memoryWarmupMs / 1000} s in that role, for roles held with ≥ ${minMinutes} min of such samples`,
    judged,
    maxHeapBytesPerMin: judged.length ? Math.max(...judged.map((p) => p.heapBytesPerMin)) : null,
    maxHandlesPerMin: judged.length ? Math.max(...judged.map((p) => p.handlesPerMin)) : null,
  };

  // 5. No unhandled rejection, uncaught exception or unexpected exit.
  const crashes = records
    .filter((r) => r.ev === 'crash')
    .map((r) => ({ replica: r.r, pid: r.pid, at: rel(r.t), kind: r.kind, error: r.error }));
  const failedOf = (pid) => records.find((r) => r.ev === 'failed' && r.pid === pid);
  const exits = incarnations
    .filter((i) => i.exit)
    .map((i) => {
      const failed = failedOf(i.pid);
      let reason;
      if (i.exit.signal === 'SIGKILL') reason = 'SIGKILL (injected)';
      else if (i.exit.code === 0 && !failed) reason = 'stopped (end of run)';
      else if (i.exit.code === 1 && failed && /lost|ERR_LEADER_ELECTION/i.test(failed.error))
        reason = 'lease lost (exit 1, restarted)';
      else reason = `unexpected: code ${i.exit.code} signal ${i.exit.signal}${failed ? `: ${failed.error}` : ''}`;
      return {
        replica: i.identity,
        pid: i.pid,
        at: rel(i.exit.t),
        code: i.exit.code,
        signal: i.exit.signal,
        reason,
        error: failed?.error,
      };
    });
  const exitCounts = {};
  for (const e of exits)
    exitCounts[e.reason.startsWith('unexpected') ? 'unexpected' : e.reason] =
      (exitCounts[e.reason.startsWith('unexpected') ? 'unexpected' : e.reason] ?? 0) + 1;
  const unexpected = exits.filter((e) => e.reason.startsWith('unexpected'));
  const noCrash = {
    pass: crashes.length === 0 && unexpected.length === 0,
    crashes,
    unexpectedExits: unexpected,
    exitCounts,
    processes: incarnations.length,
  };

  // Faults: survived per class (converged afterwards), convergence times.
  const perClass = Object.fromEntries(
    faultClasses.map((c) => {
      const fs = faults.filter((f) => f.class === c);
      const times = fs.filter((f) => f.converged).map((f) => f.convergedMs);
      const sinceInjected = fs
        .filter((f) => f.converged)
        .map((f) => Math.round(f.clearedAt - f.injectedAt) + f.convergedMs);
      const stats = (xs) => ({
        min: xs.length ? Math.min(...xs) : null,
        max: xs.length ? Math.max(...xs) : null,
        mean: xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length) : null,
      });
      return [
        c,
        {
          injected: fs.length,
          survived: fs.filter((f) => f.converged).length,
          convergedMs: stats(times),
          sinceInjectedMs: stats(sinceInjected),
        },
      ];
    }),
  );
  const totalMs = endedAt - t0;
  return {
    startedAt: wall0.toISOString(),
    durationMin: round(totalMs / 60_000, 2),
    settings: {
      faultScheduleMin: round(options.durationMs / 60_000, 2),
      ratePerSec: options.ratePerSec,
      population: options.population,
      warmupS: options.warmupMs / 1000,
      activeBetweenFaultsS: options.activeMs / 1000,
      faultHoldS: options.faultHoldMs / 1000,
      lease: {
        durationMs: options.leaseDurationMs,
        renewDeadlineMs: options.renewDeadlineMs,
        retryPeriodMs: options.retryPeriodMs,
      },
      restartDelayMs: options.restartDelayMs,
      proxyProtocol: options.http2 ? 'HTTP/2' : 'HTTP/1.1',
      memorySampleS: options.memorySampleMs / 1000,
    },
    changes,
    faults: faults.map((f) => ({
      class: f.class,
      at: rel(f.injectedAt),
      clearedAfterMs: Math.round(f.clearedAt - f.injectedAt),
      converged: f.converged,
      convergedMs: f.convergedMs,
      detail: f.detail,
      ...(f.mismatches && { mismatches: f.mismatches }),
    })),
    perClass,
    invariants: { singleReconciler, convergence, lostUpdates, memory, noCrash },
    exits,
    processes,
    timeline: timeline.map((e) => ({ at: rel(e.t), label: e.label })),
  };
}
