/**
 * kubeloop/leaderelection: leader election over `coordination.k8s.io/v1` Lease objects, with client-go's semantics,
 * so that of several replicas of an operator exactly one does the leader-only work at a time.
 *
 * - {@link createLeaseLock} makes a {@link ResourceLock} over one Lease: reads and writes with `resourceVersion`
 *   preconditions, so of two candidates writing at once only one succeeds.
 * - {@link createLeaderElector} competes for the lock, calls `onStartedLeading(signal)` once it holds it, renews it
 *   every `retryPeriodMs`, and aborts that signal as soon as it cannot prove it still holds it (`renewDeadlineMs`
 *   after its last renewal). Other candidates take over `leaseDurationMs` after they last saw it renewed, measured on
 *   their own clocks; with `releaseOnCancel`, a stopping leader hands the lease over at once.
 * - `leader_election_master_status{name}` is reported through a {@link LeaderElectionMetricsProvider}; nothing is
 *   recorded by default.
 *
 * ```ts
 * const cs = createClientset(await loadConfig());
 * const lock = createLeaseLock({ client: cs, namespace: 'ops', name: 'my-operator', identity: podName });
 * const elector = createLeaderElector({ lock, leaseDurationMs: 15000, renewDeadlineMs: 10000, retryPeriodMs: 2000,
 *   releaseOnCancel: true, callbacks: { onStartedLeading: (signal) => runControllers(signal), onNewLeader(id) {} } });
 * await elector.start(signal);   // resolves when leadership ends or the signal aborts
 * ```
 */
export {
  createLeaderElector,
  jitterFactor,
  leaderElectionDefaults,
  type LeaderElector,
  type LeaderElectorOptions,
  type LeaderCallbacks,
  type LeaderElectionLogger,
} from './leader-elector.js';
export { createLeaseLock, LeaseLock, leaseToRecord, recordToLeaseSpec, type LeaseLockOptions } from './lease-lock.js';
export type { ResourceLock, LeaderElectionRecord, LockCallOptions } from './resource-lock.js';
export {
  noopLeaderElectionMetricsProvider,
  type LeaderElectionMetricsProvider,
  type LeaderElectionMetrics,
  type LeaderElectionGauge,
} from './metrics.js';
export { realLeaderElectionClock, type LeaderElectionClock, type LeaderElectionTimer } from './clock.js';
export { formatMicroTime, isMicroTime } from '../client/index.js';
export { LeaderElectionError, isLeadershipLost, type LeaderElectionErrorCode } from './errors.js';
