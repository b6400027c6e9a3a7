import { AlreadyStartedError, formatMicroTime, isAlreadyExists, isConflict, type Logger } from '../client/index.js';
import { deadlineController, raceAbort, realLeaderElectionClock, sleep, type LeaderElectionClock } from './clock.js';
import { LeaderElectionError } from './errors.js';
import {
  noopLeaderElectionMetricsProvider,
  type LeaderElectionMetrics,
  type LeaderElectionMetricsProvider,
} from './metrics.js';
import type { LeaderElectionRecord, ResourceLock } from './resource-lock.js';

/**
 * The retry wait is `retryPeriodMs` stretched by a random factor in [1, jitterFactor): candidates that failed together
 * do not retry together. `renewDeadlineMs` must exceed `retryPeriodMs × jitterFactor`.
 */
export const jitterFactor = 1.2;

/** client-go's and controller-runtime's defaults. */
export const leaderElectionDefaults = Object.freeze({
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
});

/**
 * What the elector tells its user. Callbacks run on the elector's own flow: a callback that throws (or an
 * `onStoppedLeading`/`onNewLeader` that rejects) is logged and does not stop the elector — except
 * `onStartedLeading`, whose failure ends leadership (see {@link LeaderElector}).
 */
export interface LeaderCallbacks {
  /**
   * This candidate now leads. Start the leader-only work here and stop it when `signal` aborts: the signal aborts as
   * soon as leadership ends — with a {@link LeaderElectionError} `ERR_LEADER_ELECTION_LOST` as its reason when the
   * lease could not be renewed in time (test it with `isLeadershipLost(signal.reason)`), or with the reason of the
   * signal given to `start()` when the elector was stopped.
   *
   * Return a promise that settles once the work has stopped: with `releaseOnCancel` the lease is released only after
   * it settles (or after `leaseDurationMs`, when the lease would have expired anyway), so a successor never starts
   * while this work is still stopping. A promise that rejects while leading ends leadership, and `start()` rejects
   * with that error. A promise that resolves while leading changes nothing: the elector keeps the lease.
   */
  onStartedLeading(signal: AbortSignal): void | Promise<void>;
  /**
   * Leadership ended (lost, stopped or given up) and, with `releaseOnCancel`, the release was attempted. Called once
   * per `start()`, and only if `onStartedLeading` was called.
   */
  onStoppedLeading?(): void;
  /**
   * Another (or this) candidate was seen taking the lease: called with its identity each time the observed holder
   * changes to a non-empty identity, including this candidate's own when it acquires.
   */
  onNewLeader?(identity: string): void;
}

/** The levels of kubeloop/client's structural {@link Logger} the elector writes (a pino logger fits). */
export type LeaderElectionLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** Options of {@link createLeaderElector}. Durations are milliseconds; each must be a finite number > 0. */
export interface LeaderElectorOptions {
  /** The lock candidates compete for, usually `createLeaseLock(...)`. Required. */
  lock: ResourceLock;
  /**
   * How long other candidates wait, after they last saw the lease renewed, before they take it over; written to the
   * Lease as `leaseDurationSeconds` (whole seconds, rounded up). Must exceed `renewDeadlineMs`. Default: 15000.
   */
  leaseDurationMs?: number;
  /**
   * How long the leader keeps trying to renew before it gives leadership up, counted from the start of its last
   * successful renewal; a request that hangs counts against it. Must exceed `retryPeriodMs × 1.2`. Default: 10000.
   */
  renewDeadlineMs?: number;
  /** The wait between attempts to acquire (jittered by up to ×1.2) or to renew. Default: 2000. */
  retryPeriodMs?: number;
  /**
   * Timeout of each request to the lock (a read or a write), so that a hung connection leaves time to retry within the
   * renew deadline. Must be less than `renewDeadlineMs`. Default: `renewDeadlineMs / 2`.
   */
  requestTimeoutMs?: number;
  /**
   * When leadership ends (the `start()` signal aborts, or the lease was lost), give the lease up: write an empty
   * holder and `leaseDurationSeconds: 1`, so a successor takes over at its next retry instead of waiting for expiry.
   * Only safe if the leader-only work has stopped: return its promise from `onStartedLeading`. Default: false.
   */
  releaseOnCancel?: boolean;
  /** The `name` label of the metrics and logs. Default: `lock.describe()` (`<namespace>/<name>` for a Lease). */
  name?: string;
  /** Required; `onStartedLeading` is the only required callback. */
  callbacks: LeaderCallbacks;
  /** Where `leader_election_master_status{name}` goes. Default: {@link noopLeaderElectionMetricsProvider}. */
  metricsProvider?: LeaderElectionMetricsProvider;
  /** Time source and timers (tests pass a fake clock). Default: {@link realLeaderElectionClock}. */
  clock?: LeaderElectionClock;
  /** Receives progress (debug/info) and failures (warn). Default: none, nothing is logged. */
  logger?: LeaderElectionLogger;
}

/**
 * Competes for a lock and runs `onStartedLeading` while it holds it: client-go's LeaderElector.
 *
 * Guarantees:
 * - Acquires only when the lock is held by nobody, by this identity, or has expired **by this candidate's own
 *   observation**: `leaseDurationSeconds` after the moment it first saw the current record. The holder's `renewTime`
 *   is never compared with the local clock, so clock skew between candidates does not matter (clock *rate* does).
 * - `leaseTransitions` grows by one each time the holder changes; `acquireTime` is kept while the same holder renews.
 * - The leader stops leading (the `onStartedLeading` signal aborts, `isLeader()` turns false, the gauge drops to 0)
 *   at most `renewDeadlineMs` after the start of its last successful renewal, whether the requests since failed or
 *   hung; and at once when it sees another holder in the lock. Because `leaseDurationMs > renewDeadlineMs`, another
 *   candidate — which waits `leaseDurationMs` from when it saw that renewal — can only take over later.
 * - `start()` resolves once leadership has ended (after the wait for `onStartedLeading`'s promise, the release if
 *   asked for, and `onStoppedLeading`), or once its signal aborts before leadership was acquired.
 *
 * Recovery: failed or timed-out attempts to acquire are retried every `retryPeriodMs` (jittered) forever, whatever the
 * error (403 Forbidden included: RBAC may be granted later); failed renewals are retried every `retryPeriodMs` until
 * the deadline. Once leadership is lost, the elector is done: make a new one (or restart the process) to compete
 * again, as controller-runtime does.
 *
 * Errors: `start()` rejects only with the error `onStartedLeading` threw or rejected with (after stepping down), or
 * with `ERR_KUBE_ALREADY_STARTED` (AlreadyStartedError) on a second call. Lock failures are never thrown: each is logged as a
 * {@link LeaderElectionError} `ERR_LEADER_ELECTION_LOCK` naming the lock, the identity, the verb and the server's
 * answer (at `warn` when a new kind of failure appears, `debug` while it repeats, `debug` for lost races).
 *
 * Caveats:
 * - No fencing: a leader that is paused (a long GC, a stopped VM) for longer than the lease can act after a successor
 *   started. Keep leader-only work idempotent.
 * - Unlike client-go, `onStoppedLeading` is called only after `onStartedLeading` was, and the wait between attempts
 *   is `retryPeriodMs × [1, 1.2)` (client-go waits up to `retryPeriodMs × 2.2`), which is what the failover bounds
 *   below assume.
 * - Failover after a leader dies: within `leaseDurationMs + 2 × retryPeriodMs × 1.2` (plus request latency); after a
 *   graceful release: within `retryPeriodMs × 1.2`.
 */
export interface LeaderElector {
  /** The `name` of the metrics and logs. */
  readonly name: string;
  /** Competes for the lock and leads while it holds it; see {@link LeaderElector}. Call once. */
  start(signal?: AbortSignal): Promise<void>;
  /** True between `onStartedLeading` and the end of leadership. */
  isLeader(): boolean;
  /** The identity last seen holding the lock, or undefined if none was seen (or it was released). */
  getLeader(): string | undefined;
}

interface ResolvedOptions {
  lock: ResourceLock;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  requestTimeoutMs: number;
  releaseOnCancel: boolean;
  name: string;
  callbacks: LeaderCallbacks;
  metrics: LeaderElectionMetrics;
  clock: LeaderElectionClock;
  logger: LeaderElectionLogger | undefined;
}

function configError(message: string): LeaderElectionError {
  return new LeaderElectionError('ERR_LEADER_ELECTION_CONFIG', `createLeaderElector: ${message}`);
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw configError(`${name} must be a finite number of milliseconds greater than 0, got ${String(value)}`);
  }
  return value;
}

/** Checks the options and fills in the defaults. Throws `ERR_LEADER_ELECTION_CONFIG` naming the option at fault. */
function resolveOptions(options: LeaderElectorOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw configError('options are required');
  const { lock, callbacks } = options;
  if (typeof lock !== 'object' || lock === null)
    throw configError('lock is required (for example createLeaseLock(...))');
  if (typeof lock.identity !== 'string' || lock.identity === '')
    throw configError('lock.identity must be a non-empty string');
  if (typeof callbacks !== 'object' || callbacks === null) throw configError('callbacks is required');
  if (typeof callbacks.onStartedLeading !== 'function')
    throw configError('callbacks.onStartedLeading must be a function');
  for (const name of ['onStoppedLeading', 'onNewLeader'] as const) {
    if (callbacks[name] !== undefined && typeof callbacks[name] !== 'function') {
      throw configError(`callbacks.${name} must be a function when given`);
    }
  }
  const leaseDurationMs = positive('leaseDurationMs', options.leaseDurationMs, leaderElectionDefaults.leaseDurationMs);
  const renewDeadlineMs = positive('renewDeadlineMs', options.renewDeadlineMs, leaderElectionDefaults.renewDeadlineMs);
  const retryPeriodMs = positive('retryPeriodMs', options.retryPeriodMs, leaderElectionDefaults.retryPeriodMs);
  if (leaseDurationMs <= renewDeadlineMs) {
    throw configError(`leaseDurationMs (${leaseDurationMs}) must be greater than renewDeadlineMs (${renewDeadlineMs})`);
  }
  if (renewDeadlineMs <= retryPeriodMs * jitterFactor) {
    throw configError(
      `renewDeadlineMs (${renewDeadlineMs}) must be greater than retryPeriodMs × ${jitterFactor} (JitterFactor) = ` +
        `${retryPeriodMs * jitterFactor}`,
    );
  }
  const requestTimeoutMs = positive('requestTimeoutMs', options.requestTimeoutMs, renewDeadlineMs / 2);
  if (requestTimeoutMs >= renewDeadlineMs) {
    throw configError(`requestTimeoutMs (${requestTimeoutMs}) must be less than renewDeadlineMs (${renewDeadlineMs})`);
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    throw configError('name must be a non-empty string when given');
  }
  const name = options.name ?? lock.describe();
  return {
    lock,
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    requestTimeoutMs,
    releaseOnCancel: options.releaseOnCancel ?? false,
    name,
    callbacks,
    metrics: (options.metricsProvider ?? noopLeaderElectionMetricsProvider).newLeaderElectionMetrics(name),
    clock: options.clock ?? realLeaderElectionClock,
    logger: options.logger,
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A record's identity for change detection: two reads that give the same key mean the holder did not renew. */
function recordKey(record: LeaderElectionRecord): string {
  return JSON.stringify([
    record.holderIdentity,
    record.leaseDurationSeconds,
    record.acquireTime ?? null,
    record.renewTime ?? null,
    record.leaseTransitions,
  ]);
}

class Elector implements LeaderElector {
  readonly name: string;
  readonly #o: ResolvedOptions;
  readonly #leaseDurationSeconds: number;
  #started = false;
  #leading = false;
  /** The record last read or written, the moment (clock.now()) it was first seen, and its key. */
  #observed: LeaderElectionRecord | undefined;
  #observedKey = '';
  #observedAt = 0;
  #reportedLeader = '';
  /** The message of the last lock failure logged at warn, so a repeating failure is not logged at warn again. */
  #lastWarned: string | undefined;
  /** The last lock failure of the current attempt, for the message when leadership is lost. */
  #lastFailure: string | undefined;

  constructor(options: ResolvedOptions) {
    this.#o = options;
    this.name = options.name;
    this.#leaseDurationSeconds = Math.max(1, Math.ceil(options.leaseDurationMs / 1000));
  }

  isLeader(): boolean {
    return this.#leading;
  }

  getLeader(): string | undefined {
    const holder = this.#observed?.holderIdentity;
    return holder === undefined || holder === '' ? undefined : holder;
  }

  async start(signal: AbortSignal = new AbortController().signal): Promise<void> {
    if (this.#started) {
      throw new AlreadyStartedError(
        `leader elector ${this.name}`,
        `leader elector ${this.name}: start() may be called only once`,
      );
    }
    this.#started = true;
    this.#o.metrics.masterStatus.set(0);
    const acquiredAt = await this.#acquire(signal);
    if (acquiredAt === undefined) return;
    if (signal.aborted) {
      // Acquired in the same moment the signal aborted: never lead, but give the lease back if asked to.
      if (this.#o.releaseOnCancel) await this.#release();
      return;
    }
    await this.#lead(acquiredAt, signal);
  }

  async #lead(acquiredAt: number, signal: AbortSignal): Promise<void> {
    const { callbacks, clock, metrics } = this.#o;
    const leading = new AbortController();
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });

    this.#leading = true;
    metrics.masterStatus.set(1);
    this.#log('info', {}, 'became leader');
    let workFailure: { error: unknown } | undefined;
    const work = this.#runWork(leading.signal).catch((err: unknown) => {
      if (leading.signal.aborted) {
        if (err !== leading.signal.reason)
          this.#log('debug', { err }, 'onStartedLeading rejected after leadership ended');
        return;
      }
      workFailure = { error: err };
      stop.abort(err);
    });

    const lost = await this.#renew(acquiredAt, stop.signal);
    signal.removeEventListener('abort', onAbort);
    this.#leading = false;
    metrics.masterStatus.set(0);
    leading.abort(lost ?? (workFailure ? workFailure.error : signal.reason));
    if (lost) this.#log('warn', { err: lost }, 'lost leadership');
    else if (workFailure) this.#log('error', { err: workFailure.error }, 'onStartedLeading failed; stepping down');
    else this.#log('info', {}, 'stopped leading');

    // Wait for the work to stop, but at most leaseDurationMs: by then the lease has expired anyway, and waiting longer
    // would only delay onStoppedLeading.
    const workBound = deadlineController(clock, this.#o.leaseDurationMs, 'work still running', []);
    await raceAbort(work, workBound.signal)
      .catch(() =>
        this.#log('warn', { waitedMs: this.#o.leaseDurationMs }, 'onStartedLeading has not settled; going on'),
      )
      .finally(() => workBound.dispose());
    if (this.#o.releaseOnCancel) await this.#release();
    this.#callback('onStoppedLeading', () => callbacks.onStoppedLeading?.());
    if (workFailure) throw workFailure.error;
  }

  #runWork(signal: AbortSignal): Promise<void> {
    try {
      return Promise.resolve(this.#o.callbacks.onStartedLeading(signal));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** Tries until the lock is ours; resolves the clock time at which the successful attempt began, or undefined. */
  async #acquire(signal: AbortSignal): Promise<number | undefined> {
    const { clock, retryPeriodMs } = this.#o;
    this.#log('debug', {}, 'trying to acquire the lease');
    for (;;) {
      if (signal.aborted) return undefined;
      const began = clock.now();
      const acquired = await this.#tryAcquireOrRenew(signal);
      this.#reportTransition();
      if (acquired) return began;
      const waitMs = retryPeriodMs * (1 + Math.random() * (jitterFactor - 1));
      if (!(await sleep(clock, waitMs, signal))) return undefined;
    }
  }

  /**
   * Renews every `retryPeriodMs` while `stop` has not aborted. Resolves undefined when stopped, or the error that says
   * why leadership was lost.
   */
  async #renew(lastRenewedAt: number, stop: AbortSignal): Promise<LeaderElectionError | undefined> {
    const { clock, renewDeadlineMs, retryPeriodMs, lock } = this.#o;
    for (;;) {
      if (!(await sleep(clock, retryPeriodMs, stop))) return undefined;
      const deadlineAt = lastRenewedAt + renewDeadlineMs;
      const bound = deadlineController(clock, deadlineAt - clock.now(), 'renew deadline', [stop]);
      let renewedAt: number | undefined;
      let otherHolder: string | undefined;
      this.#lastFailure = undefined;
      try {
        while (clock.now() < deadlineAt && !bound.signal.aborted) {
          const began = clock.now();
          const renewed = await this.#tryAcquireOrRenew(bound.signal);
          this.#reportTransition();
          if (renewed && !bound.signal.aborted) {
            renewedAt = began;
            break;
          }
          const holder = this.#observed?.holderIdentity ?? '';
          if (holder !== '' && holder !== lock.identity) {
            otherHolder = holder;
            break;
          }
          if (!(await sleep(clock, Math.min(retryPeriodMs, deadlineAt - clock.now()), bound.signal))) break;
        }
      } finally {
        bound.dispose();
      }
      if (stop.aborted) return undefined;
      if (renewedAt !== undefined) {
        lastRenewedAt = renewedAt;
        continue;
      }
      const why =
        otherHolder !== undefined
          ? `the lease is now held by "${otherHolder}"`
          : `it was not renewed within renewDeadlineMs (${renewDeadlineMs} ms)` +
            (this.#lastFailure ? `; last failure: ${this.#lastFailure}` : '');
      return new LeaderElectionError(
        'ERR_LEADER_ELECTION_LOST',
        `leader election ${this.name}: lost the lease ${lock.describe()}: ${why}`,
      );
    }
  }

  /** One attempt, client-go's tryAcquireOrRenew: true when the lock now names this identity with a fresh renewTime. */
  async #tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { lock } = this.#o;
    const identity = lock.identity;
    const stamp = formatMicroTime(this.#epochMs());
    const desired: LeaderElectionRecord = {
      holderIdentity: identity,
      leaseDurationSeconds: this.#leaseDurationSeconds,
      acquireTime: stamp,
      renewTime: stamp,
      leaseTransitions: 0,
    };

    // Fast path: the leader writes over the version it wrote last, without reading first.
    const observed = this.#observed;
    if (observed?.holderIdentity === identity && this.#observedValid()) {
      const record = keepAcquisition(desired, observed);
      try {
        await this.#call('update', signal, (s) => lock.update(record, { signal: s }));
        this.#setObserved(record);
        return true;
      } catch (err) {
        if (signal.aborted) return this.#failed('update', err, signal);
        this.#log('debug', { err }, 'optimistic renewal failed; reading the lease');
      }
    }

    let current: LeaderElectionRecord | undefined;
    try {
      current = await this.#call('get', signal, (s) => lock.get({ signal: s }));
    } catch (err) {
      return this.#failed('get', err, signal);
    }
    if (current === undefined) {
      try {
        await this.#call('create', signal, (s) => lock.create(desired, { signal: s }));
      } catch (err) {
        return this.#failed('create', err, signal);
      }
      this.#setObserved(desired);
      return this.#succeeded();
    }

    this.#observeRead(current);
    const holder = current.holderIdentity;
    if (holder !== '' && holder !== identity && this.#observedValid()) {
      this.#log('debug', { holder }, 'the lease is held by another candidate and has not expired');
      return false;
    }
    const record =
      holder === identity
        ? keepAcquisition(desired, current)
        : { ...desired, leaseTransitions: current.leaseTransitions + 1 };
    try {
      await this.#call('update', signal, (s) => lock.update(record, { signal: s }));
    } catch (err) {
      return this.#failed('update', err, signal);
    }
    this.#setObserved(record);
    return this.#succeeded();
  }

  /** Gives the lease up if this identity still holds it: empty holder, `leaseDurationSeconds: 1`. */
  async #release(): Promise<void> {
    const { lock, renewDeadlineMs, clock } = this.#o;
    const bound = deadlineController(
      clock,
      renewDeadlineMs,
      `releasing took longer than renewDeadlineMs (${renewDeadlineMs} ms)`,
      [],
    );
    try {
      let current: LeaderElectionRecord | undefined;
      try {
        current = await this.#call('get', bound.signal, (s) => lock.get({ signal: s }));
      } catch (err) {
        this.#failed('get', err, bound.signal);
        return;
      }
      if (current === undefined || current.holderIdentity !== lock.identity) {
        this.#log('debug', { holder: current?.holderIdentity }, 'not releasing: the lease is no longer ours');
        if (current !== undefined) this.#observeRead(current);
        this.#reportTransition();
        return;
      }
      const stamp = formatMicroTime(this.#epochMs());
      const record: LeaderElectionRecord = {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: stamp,
        renewTime: stamp,
        leaseTransitions: current.leaseTransitions,
      };
      try {
        await this.#call('update', bound.signal, (s) => lock.update(record, { signal: s }));
      } catch (err) {
        this.#failed('update', err, bound.signal);
        return;
      }
      this.#setObserved(record);
      this.#reportTransition();
      this.#log('info', {}, 'released the lease');
    } finally {
      bound.dispose();
    }
  }

  /** Runs one lock call with its own request timeout, abandoned (not awaited) when `signal` aborts. */
  async #call<T>(verb: string, signal: AbortSignal, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const { requestTimeoutMs, clock, lock } = this.#o;
    const timeout = deadlineController(
      clock,
      requestTimeoutMs,
      `${verb} of ${lock.describe()} took longer than requestTimeoutMs (${requestTimeoutMs} ms)`,
      [signal],
    );
    try {
      return await raceAbort((async () => fn(timeout.signal))(), timeout.signal);
    } finally {
      timeout.dispose();
    }
  }

  #succeeded(): true {
    this.#lastWarned = undefined;
    return true;
  }

  /** Logs a failed lock call (unless the attempt was cut short on purpose) and returns false. */
  #failed(verb: string, err: unknown, signal: AbortSignal): false {
    const { lock, name } = this.#o;
    if (signal.aborted && err === signal.reason) {
      // Cut short on purpose (stopped, or the renew deadline passed): not a failure of the lock worth a warning.
      this.#lastFailure = `${verb} was still pending (${messageOf(err)})`;
      return false;
    }
    const forbidden = typeof err === 'object' && err !== null && (err as { statusCode?: unknown }).statusCode === 403;
    const error = new LeaderElectionError(
      'ERR_LEADER_ELECTION_LOCK',
      `leader election ${name}: cannot ${verb} the lease ${lock.describe()} as "${lock.identity}": ${messageOf(err)}` +
        (forbidden ? ' (grant get, create and update on this lease to these credentials with RBAC)' : ''),
      { cause: err },
    );
    this.#lastFailure = messageOf(err);
    if (isConflict(err) || isAlreadyExists(err)) {
      this.#log('debug', { err: error }, 'another candidate wrote the lease first');
    } else if (error.message !== this.#lastWarned) {
      this.#lastWarned = error.message;
      this.#log('warn', { err: error }, error.message);
    } else {
      this.#log('debug', { err: error }, 'lease call failed again');
    }
    return false;
  }

  /** Remembers a record this elector wrote: it was seen now. */
  #setObserved(record: LeaderElectionRecord): void {
    this.#observed = record;
    this.#observedKey = recordKey(record);
    this.#observedAt = this.#o.clock.now();
  }

  /** Remembers a record read from the lock; the observation time moves only if the record changed. */
  #observeRead(record: LeaderElectionRecord): void {
    const key = recordKey(record);
    if (key === this.#observedKey) return;
    this.#observed = record;
    this.#observedKey = key;
    this.#observedAt = this.#o.clock.now();
  }

  /** The observed record is still valid: it changed less than its leaseDurationSeconds ago, on this clock. */
  #observedValid(): boolean {
    const record = this.#observed;
    if (record === undefined) return false;
    return this.#observedAt + record.leaseDurationSeconds * 1000 > this.#o.clock.now();
  }

  #reportTransition(): void {
    const holder = this.#observed?.holderIdentity ?? '';
    if (holder === this.#reportedLeader) return;
    this.#reportedLeader = holder;
    if (holder === '') return;
    this.#log('debug', { leader: holder }, 'new leader observed');
    this.#callback('onNewLeader', () => this.#o.callbacks.onNewLeader?.(holder));
  }

  #callback(name: string, call: () => unknown): void {
    try {
      const result = call();
      if (result instanceof Promise) {
        result.catch((err: unknown) => this.#log('error', { err, callback: name }, `${name} rejected`));
      }
    } catch (err) {
      this.#log('error', { err, callback: name }, `${name} threw`);
    }
  }

  #epochMs(): number {
    return this.#o.clock.epochMs?.() ?? Date.now();
  }

  #log(level: keyof LeaderElectionLogger, obj: object, msg: string): void {
    this.#o.logger?.[level]({ leaderElection: this.name, identity: this.#o.lock.identity, ...obj }, msg);
  }
}

/** The new record keeps the holder's acquireTime and transition count: a renewal, not an acquisition. */
function keepAcquisition(desired: LeaderElectionRecord, current: LeaderElectionRecord): LeaderElectionRecord {
  const record: LeaderElectionRecord = { ...desired, leaseTransitions: current.leaseTransitions };
  if (current.acquireTime === undefined) delete record.acquireTime;
  else record.acquireTime = current.acquireTime;
  return record;
}

/**
 * Makes a {@link LeaderElector}.
 *
 * ```ts
 * const elector = createLeaderElector({
 *   lock: createLeaseLock({ client: cs, namespace: 'ops', name: 'my-operator', identity: podName }),
 *   releaseOnCancel: true,
 *   callbacks: { onStartedLeading: (signal) => runControllers(signal), onStoppedLeading: () => process.exit(1) },
 * });
 * await elector.start(signal);
 * ```
 *
 * Errors: `ERR_LEADER_ELECTION_CONFIG` naming the option at fault: a duration that is not a finite number > 0,
 * `leaseDurationMs <= renewDeadlineMs`, `renewDeadlineMs <= retryPeriodMs × 1.2`, `requestTimeoutMs >=
 * renewDeadlineMs`, a missing lock or identity, a missing `onStartedLeading`.
 */
export function createLeaderElector(options: LeaderElectorOptions): LeaderElector {
  return new Elector(resolveOptions(options));
}
