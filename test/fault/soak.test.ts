import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { faultClasses, runSoak, type SoakReport } from '../../bench/soak/soak.mjs';

// The short version of `npm run soak` (bench/soak): the WebApp sample operator in three replica processes with leader
// election against its own control plane, behind the fault proxy, while a driver changes WebApps and one fault of each
// class is injected; about 2 min (a stall alone takes about 30 s: the replicas’ HTTP/2 PINGs find it). Memory slopes need minutes and are judged by the long run only (here: not judged).
// Needs a built dist/ (`npm test` builds it first).

describe('soak: three WebApp replicas through one fault of each class (own control plane)', () => {
  let outDir: string | undefined;
  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('holds every invariant: one reconciler per key, convergence after each fault, no lost update, no crash', async ({
    annotate,
  }) => {
    outDir = await mkdtemp(join(tmpdir(), 'kubeloop-soak-report-'));
    const lines: string[] = [];
    const report: SoakReport = await runSoak({
      durationMs: 0, // one fault of each class, then the final check
      ratePerSec: 2,
      population: 10,
      warmupMs: 8_000,
      activeMs: 1_000,
      faultHoldMs: 3_000,
      convergeTimeoutMs: 45_000,
      memorySampleMs: 2_000,
      memoryWarmupMs: 20_000,
      outDir,
      progress: (line) => lines.push(line),
    });
    const summary = report.faults.map((f) => `${f.class} ${f.converged ? `${f.convergedMs} ms` : 'NOT converged'}`);
    await annotate(`converged after: ${summary.join(', ')}`);
    await annotate(
      `${report.changes.created} created, ${report.changes.updated} updated, ${report.changes.deleted} deleted; ` +
        `${String(report.invariants.singleReconciler['reconciles'])} reconciles`,
    );
    const failed = Object.entries(report.invariants).filter(([, v]) => v.pass === false);
    if (failed.length > 0)
      process.stderr.write(`${lines.join('\n')}\n${await readFile(join(outDir, 'report.md'), 'utf8')}`);

    expect(report.faults.map((f) => f.class)).toEqual(faultClasses);
    expect(report.changes.created).toBeGreaterThan(0);
    expect(report.changes.updated).toBeGreaterThan(0);
    expect(report.changes.deleted).toBeGreaterThan(0);
    // Intervals may overlap only while one process was frozen (SIGSTOP), ending within the handover bound once continued.
    const overlaps = report.invariants.singleReconciler['overlaps'] as { verdict: string }[];
    expect(overlaps.filter((o) => o.verdict === 'violation')).toEqual([]);
    expect(report.invariants.singleReconciler.pass).toBe(true);
    expect(report.faults.filter((f) => !f.converged)).toEqual([]);
    expect(report.invariants.convergence.pass).toBe(true);
    expect(report.invariants.lostUpdates.pass).toBe(true);
    expect(report.invariants.noCrash['crashes']).toEqual([]);
    expect(report.invariants.noCrash['unexpectedExits']).toEqual([]);
    expect(report.invariants.noCrash.pass).toBe(true);
    // The report's three files are written.
    const md = await readFile(join(outDir, 'report.md'), 'utf8');
    expect(md).toContain('## Invariants');
    expect(await readFile(join(outDir, 'memory.svg'), 'utf8')).toMatch(/^<svg [^>]*>[\s\S]*<polyline /);
    expect(JSON.parse(await readFile(join(outDir, 'report.json'), 'utf8'))).toMatchObject({ faults: report.faults });
  }, 300_000);
});
