// Writes the soak's report: report.json (everything), report.md (for people) and memory.svg (heap and active handles
// of every replica process over the run, with the faults marked), drawn here without a chart library.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const colors = { 'replica-a': '#1f77b4', 'replica-b': '#d62728', 'replica-c': '#2ca02c' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Two panels sharing the time axis: heapUsed (MiB, after a full GC) and active handles, one line per process. */
export function memorySvg(report) {
  const W = 960;
  const panelH = 220;
  const m = { l: 60, r: 20, t: 30, b: 40 };
  const H = m.t + panelH * 2 + 60 + m.b;
  const tMax = Math.max(
    1,
    ...report.processes.flatMap((p) => p.series.map((s) => s.t)),
    ...report.timeline.map((e) => e.at),
  );
  const x = (t) => m.l + (t / tMax) * (W - m.l - m.r);
  const panels = [
    { key: 'heapMiB', label: 'heapUsed after GC (MiB)', top: m.t },
    { key: 'handles', label: 'active handles (process.getActiveResourcesInfo)', top: m.t + panelH + 60 },
  ];
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  for (const panel of panels) {
    const values = report.processes.flatMap((p) => p.series.map((s) => s[panel.key]));
    const vMax = Math.max(1, ...values) * 1.1;
    const y = (v) => panel.top + panelH - (v / vMax) * panelH;
    out.push(`<text x="${m.l}" y="${panel.top - 8}" font-size="13" font-weight="bold">${esc(panel.label)}</text>`);
    out.push(
      `<rect x="${m.l}" y="${panel.top}" width="${W - m.l - m.r}" height="${panelH}" fill="none" stroke="#999"/>`,
    );
    for (let i = 0; i <= 4; i++) {
      const v = (vMax * i) / 4;
      out.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`);
      out.push(
        `<text x="${m.l - 6}" y="${y(v) + 4}" text-anchor="end">${v < 10 ? v.toFixed(1) : Math.round(v)}</text>`,
      );
    }
    for (const e of report.timeline) {
      out.push(
        `<line x1="${x(e.at)}" x2="${x(e.at)}" y1="${panel.top}" y2="${panel.top + panelH}" stroke="#f0a030" stroke-dasharray="3,3"/>`,
      );
    }
    if (panel === panels[0]) {
      report.timeline.forEach((e, i) => {
        out.push(
          `<text x="${x(e.at) + 2}" y="${panel.top + 10 + (i % 4) * 11}" fill="#b06000" font-size="9">${esc(e.label)}</text>`,
        );
      });
    }
    for (const p of report.processes) {
      if (p.series.length === 0) continue;
      const pts = p.series.map((s) => `${x(s.t).toFixed(1)},${y(s[panel.key]).toFixed(1)}`).join(' ');
      out.push(
        `<polyline fill="none" stroke="${colors[p.replica] ?? '#555'}" stroke-width="1.5" points="${pts}"><title>${esc(`${p.replica} pid ${p.pid}`)}</title></polyline>`,
      );
    }
    const ticks = 10;
    for (let i = 0; i <= ticks; i++) {
      const t = (tMax * i) / ticks;
      out.push(`<text x="${x(t)}" y="${panel.top + panelH + 14}" text-anchor="middle">${(t / 60).toFixed(1)}</text>`);
    }
    out.push(
      `<text x="${W / 2}" y="${panel.top + panelH + 28}" text-anchor="middle">minutes since start (dashed: faults injected, and the final check)</text>`,
    );
  }
  let lx = W - m.r - 300;
  for (const [name, color] of Object.entries(colors)) {
    out.push(`<rect x="${lx}" y="8" width="12" height="4" fill="${color}"/><text x="${lx + 16}" y="13">${name}</text>`);
    lx += 95;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

const passText = (p) =>
  p === true ? '**pass**' : p === false ? '**FAIL**' : 'not judged (no process ran long enough)';
const kib = (b) => (b === null || b === undefined ? 'n/a' : `${(b / 1024).toFixed(1)} KiB/min`);

export function markdown(report) {
  const inv = report.invariants;
  const s = report.settings;
  const lines = [];
  lines.push('# Soak and chaos run', '');
  lines.push(
    `Started ${report.startedAt}, ran ${report.durationMin} min (faults scheduled for ${s.faultScheduleMin} min, then a final check). ` +
      `The WebApp sample operator (samples/webapp) in three replica processes with leader election (lease ${s.lease.durationMs} ms, renew deadline ${s.lease.renewDeadlineMs} ms, retry ${s.lease.retryPeriodMs} ms) against envtest (kube-apiserver v1.37.2 + etcd), ` +
      `all three talking to the API server through kubeloop/testing's fault proxy (HTTP layer, ${s.proxyProtocol ?? 'HTTP/1.1'} between the replicas and the proxy). A replica that exits is started again after ${s.restartDelayMs} ms. ` +
      `The driver makes about ${s.ratePerSec} changes/s (kept modest: the machine is shared, 2 cores, other work running), keeping about ${s.population} WebApps; ` +
      `it pauses after each fault while convergence is measured, and runs ${s.activeBetweenFaultsS} s between faults. Generated by \`npm run soak\` (bench/soak).`,
    '',
  );
  lines.push('## Invariants', '', '| invariant | result | figures |', '| --- | --- | --- |');
  const sr = inv.singleReconciler;
  lines.push(
    `| never two replicas reconciling the same key at once | ${passText(sr.pass)} | ${sr.reconciles} reconciles of ${sr.keys} keys by ${sr.leaderships} leaderships; ${sr.violationCount} violations; ${sr.overlapCount} overlapping pairs of intervals, ${sr.overlapCount - sr.violationCount} of them while one process was frozen (SIGSTOP), running at once 0 ms${sr.maxStaleTailMs !== null ? `, the frozen one stopping ${sr.maxStaleTailMs} ms after SIGCONT at most (bound ${sr.staleBoundMs} ms)` : ''} |`,
  );
  const cv = inv.convergence;
  lines.push(
    `| every WebApp converges after each fault and at the end | ${passText(cv.pass)} | ${report.faults.filter((f) => f.converged).length}/${report.faults.length} faults followed by convergence; final check ${cv.final.ok ? `converged in ${cv.final.ms} ms` : `not converged after ${cv.final.ms} ms (${cv.final.mismatches.length} mismatches)`} |`,
  );
  const lu = inv.lostUpdates;
  lines.push(
    `| no lost updates (owned objects reflect the driver's last spec at the final check) | ${passText(lu.pass)} | ${lu.updatesWritten} updates written; ${lu.staleAtFinalCheck.length} stale objects at the final check (${lu.staleAtFaultDeadlines} still stale at a fault's convergence deadline) |`,
  );
  const mem = inv.memory;
  lines.push(
    `| heap and open handles flat after warm-up | ${passText(mem.pass)} | max heap slope ${kib(mem.maxHeapBytesPerMin)}, max handle slope ${mem.maxHandlesPerMin ?? 'n/a'}/min over ${mem.judged.length} process roles judged |`,
  );
  const nc = inv.noCrash;
  lines.push(
    `| no unhandled rejection, uncaught exception or unexpected exit | ${passText(nc.pass)} | ${nc.crashes.length} crashes, ${nc.unexpectedExits.length} unexpected exits over ${nc.processes} processes; exits: ${
      Object.entries(nc.exitCounts)
        .map(([k, v]) => `${k} ×${v}`)
        .join(', ') || 'none'
    } |`,
    '',
  );
  lines.push(
    'How each is checked: every replica appends a record when a reconcile starts and ends (its identity, pid, and CLOCK_MONOTONIC time, the same clock in every process) to one shared file; an overlap is two processes with intervals on the same key that intersect (an interval of a process killed mid-reconcile lasts until its exit); it is a violation if both processes ran during the shared time (time while either was frozen by SIGSTOP does not count, it ran nothing), or if the frozen one, once continued, went on longer than the lease handover bound (retry period × 1.2 + 1 s) before its reconcile ended or it exited. ' +
      "Convergence: every live WebApp holds the driver's last spec, its status observed its generation, its Deployment (controlled by it) has that image, replica count and port and its Service that port; every deleted WebApp is gone (finalizer done) with its Deployment and Service; no other Deployment or Service of the operator exists. " +
      `Memory: ${mem.rule}.`,
    '',
  );
  lines.push(
    '## Faults survived',
    '',
    '| class | injected | followed by convergence | converged after it cleared (min / mean / max ms) | converged after it was injected (min / mean / max ms) |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const [c, v] of Object.entries(report.perClass)) {
    lines.push(
      `| ${c} | ${v.injected} | ${v.survived} | ${v.convergedMs.min ?? '–'} / ${v.convergedMs.mean ?? '–'} / ${v.convergedMs.max ?? '–'} | ${v.sinceInjectedMs.min ?? '–'} / ${v.sinceInjectedMs.mean ?? '–'} / ${v.sinceInjectedMs.max ?? '–'} |`,
    );
  }
  lines.push(
    '',
    "Each fault lasts its hold time (instantaneous ones too: the driver goes on changing WebApps meanwhile, so the operator has work to do while the fault plays out); from when it cleared, the driver pauses and the time until the whole namespace matches the driver's record is measured.",
    '',
    "Classes: `apiserver-restart` (envtest's restartApiServer(): stopped and started on the same port against the same etcd); `etcd-compaction` (etcd compacted to its current revision through its v3 HTTP/JSON gateway, then every proxied connection cut once so the watches resume from compacted revisions); `leader-sigkill`; `leader-sigstop` (frozen for the lease duration + 2 s, then SIGCONT); `proxy-stall` (every open connection between the replicas and the API server left silent and half-open; new ones pass); `proxy-drop` (every connection cut, and new ones refused, for the hold time); `storm-429` (half of all requests answered 429 with Retry-After: 1 for the hold time); `storm-5xx` (about half answered 503 or 500).",
    '',
  );
  lines.push('## Changes made by the driver', '');
  const ch = report.changes;
  lines.push(
    `${ch.created} WebApps created, ${ch.updated} updated (image and replicas), ${ch.deleted} deleted; ${ch.failed} writes failed during faults (read back before the name was used again: ${ch.resynced} read-backs); ${ch.liveAtEnd} WebApps alive at the end, ${ch.names} names used.`,
    '',
  );
  lines.push(
    '## Each fault',
    '',
    '| # | at (s) | class | cleared after (ms) | converged after it cleared (ms) | after it was injected (ms) | detail |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  report.faults.forEach((f, i) => {
    lines.push(
      `| ${i + 1} | ${f.at} | ${f.class} | ${f.clearedAfterMs} | ${f.converged ? f.convergedMs : '**not converged**'} | ${f.converged ? f.clearedAfterMs + f.convergedMs : '–'} | ${esc(JSON.stringify(f.detail))} |`,
    );
  });
  lines.push('', '## Memory', '', '![heap and handles of each replica process](memory.svg)', '');
  lines.push(
    '| replica | pid | alive (s) | samples | heapUsed MiB first / last / max | handles first / last / max | role (s): settled samples, heap slope (r²), handle slope |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const p of report.processes) {
    const roles = p.segments
      .map(
        (g) =>
          `${g.role} ${g.from}–${g.to}: ${g.settledSamples}${g.settledSamples > 1 ? `, ${kib(g.heapBytesPerMin)} (${g.heapR2}; second half ${kib(g.secondHalfHeapBytesPerMin)}), ${g.handlesPerMin}/min` : ''}`,
      )
      .join('; ');
    lines.push(
      `| ${p.replica} | ${p.pid} | ${p.from}–${p.to} | ${p.samples} | ${p.heapMiB ? `${p.heapMiB.first} / ${p.heapMiB.last} / ${p.heapMiB.max}` : '–'} | ${p.handles ? `${p.handles.first} / ${p.handles.last} / ${p.handles.max}` : '–'} | ${roles} |`,
    );
  }
  lines.push('');
  if (sr.overlapCount > 0) {
    lines.push(
      '## Overlapping reconciles',
      '',
      '```json',
      JSON.stringify(sr.overlaps.slice(0, 20), null, 2),
      '```',
      '',
    );
  }
  if (!cv.pass) {
    lines.push(
      '## Not converged',
      '',
      '```json',
      JSON.stringify({ final: cv.final, afterFaults: cv.notConverged }, null, 2).slice(0, 8000),
      '```',
      '',
    );
  }
  if (nc.crashes.length || nc.unexpectedExits.length) {
    lines.push(
      '## Crashes and unexpected exits',
      '',
      '```json',
      JSON.stringify({ crashes: nc.crashes, unexpectedExits: nc.unexpectedExits }, null, 2),
      '```',
      '',
    );
  }
  lines.push('## Process exits', '', '| replica | pid | at (s) | reason |', '| --- | --- | --- | --- |');
  for (const e of report.exits) lines.push(`| ${e.replica} | ${e.pid} | ${e.at} | ${esc(e.reason)} |`);
  lines.push('');
  return `${lines.join('\n')}\n`;
}

export function writeReport(outDir, report) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, 'report.md'), markdown(report));
  writeFileSync(join(outDir, 'memory.svg'), memorySvg(report));
}
