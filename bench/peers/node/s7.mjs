// S7 leader failover (bench/scenarios/s7.mjs): one replica of a leader-elected process, kubeloop's
// createLeaderElector over createLeaseLock with releaseOnCancel. The harness runs two of these at once and does not
// use the ready/go protocol: the replica prints JSON lines with wall-clock times (ms since the epoch) as things
// happen, the same lines as bench/peers/go/s7.go:
//
//   {"event":"started","identity":…}      once the elector runs
//   {"event":"newLeader","id":…,"t":…}    each time the observed holder changes (onNewLeader)
//   {"event":"leading","t":…}             onStartedLeading
//   {"event":"stopped","t":…}             onStartedLeading's signal aborted (leader-only work would stop here)
//   {"event":"released","t":…}            start() resolved: after the release update (releaseOnCancel) and onStoppedLeading
//
// The line "release" on stdin aborts the elector's signal (a graceful stop); stdin closing ends the process.
import { createInterface } from 'node:readline';
import { conn, dist, emit, nowMs, p } from './protocol.mjs';

export async function run(peer) {
  if (peer !== 'kl') throw new Error(`s7: no ${peer} peer`);
  const { createLeaderElector, createLeaseLock } = await import(dist('leaderelection/index.js'));
  const stop = new AbortController();
  // protocol.mjs reads stdin too (for "go"/"ok", unused here); a second reader sees the same lines.
  const input = createInterface({ input: process.stdin });
  input.on('line', (line) => {
    if (line.trim() === 'release') stop.abort();
  });
  input.on('close', () => process.exit(0));
  const elector = createLeaderElector({
    lock: createLeaseLock({ client: conn.config, namespace: p.namespace, name: p.lease, identity: p.identity }),
    leaseDurationMs: p.leaseDurationMs,
    renewDeadlineMs: p.renewDeadlineMs,
    retryPeriodMs: p.retryPeriodMs,
    releaseOnCancel: true,
    name: p.lease,
    callbacks: {
      onStartedLeading(signal) {
        emit({ event: 'leading', t: nowMs() });
        return new Promise((resolve) => {
          signal.addEventListener(
            'abort',
            () => {
              emit({ event: 'stopped', t: nowMs() });
              resolve();
            },
            { once: true },
          );
        });
      },
      onNewLeader(id) {
        emit({ event: 'newLeader', id, t: nowMs() });
      },
    },
  });
  emit({ event: 'started', identity: p.identity, t: nowMs() });
  await elector.start(stop.signal);
  emit({ event: 'released', t: nowMs() });
  // Stay until the harness closes stdin.
  await new Promise(() => {});
}
