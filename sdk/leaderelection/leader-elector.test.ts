import { describe, expect, it } from 'vitest';
import { ApiError } from '../client/index.js';
import {
  createLeaderElector,
  isLeadershipLost,
  isMicroTime,
  type LeaderCallbacks,
  type LeaderElectionClock,
  type LeaderElectionLogger,
  type LeaderElectionRecord,
  type LeaderElector,
  type LeaderElectorOptions,
  type LockCallOptions,
  type ResourceLock,
} from './index.js';

// ---------------------------------------------------------------------------------------------------------------------
// Fakes: a clock that moves only when told to (letting promises settle between timers), and an in-memory "API server"
// holding one record with a version, shared by the locks of several candidates.

const epochStart = Date.UTC(2026, 10, 25, 12, 0, 0);

/** Lets every pending promise chain settle (the fakes below never touch real timers or I/O). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface PendingTimer {
  dueAt: number;
  seq: number;
  callback: () => void;
}

class TestClock implements LeaderElectionClock {
  #now = 0;
  #seq = 0;
  #timers: PendingTimer[] = [];

  now(): number {
    return this.#now;
  }

  epochMs(): number {
    return epochStart + this.#now;
  }

  setTimer(callback: () => void, delayMs: number): { cancel(): void; unref(): void } {
    const timer: PendingTimer = { dueAt: this.#now + Math.max(0, delayMs), seq: this.#seq++, callback };
    this.#timers.push(timer);
    this.#timers.sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq);
    // A fake timer never holds the process: unref has nothing to do.
    return { cancel: () => void (this.#timers = this.#timers.filter((t) => t !== timer)), unref: () => undefined };
  }

  pendingTimers(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing due timers in order and letting promises settle after each. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await settle();
    for (let next = this.#timers[0]; next !== undefined && next.dueAt <= target; next = this.#timers[0]) {
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.dueAt);
      next.callback();
      await settle();
    }
    this.#now = target;
    await settle();
  }

  /** Advances in `stepMs` steps until `condition` holds; fails after `maxMs`. Resolves the time it took. */
  async until(condition: () => boolean, maxMs: number, stepMs = 1): Promise<number> {
    const from = this.#now;
    await settle();
    while (!condition()) {
      if (this.#now - from >= maxMs) throw new Error(`condition not met within ${maxMs} ms of fake time`);
      await this.advance(stepMs);
    }
    return this.#now - from;
  }
}

type Behaviour = 'ok' | 'fail' | 'hang' | 'hang-deaf';

class FakeServer {
  record: LeaderElectionRecord | undefined;
  version = 0;
  writes: { by: string; record: LeaderElectionRecord }[] = [];

  /** Someone outside the election writes the record (a force-take, or another holder renewing). */
  put(record: LeaderElectionRecord): void {
    this.record = structuredClone(record);
    this.version++;
  }
}

function apiError(code: number, reason: string, message: string): ApiError {
  return new ApiError(code, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });
}

class FakeLock implements ResourceLock {
  readonly identity: string;
  readonly server: FakeServer;
  readonly calls: string[] = [];
  /** What each verb does next; `once` entries are used up first. */
  behaviour: Record<'get' | 'create' | 'update', Behaviour> = { get: 'ok', create: 'ok', update: 'ok' };
  once: Partial<Record<'get' | 'create' | 'update', Behaviour>> = {};
  failWith: () => Error = () => new Error('connect ECONNREFUSED 127.0.0.1:6443');
  #version: number | undefined;

  constructor(server: FakeServer, identity: string) {
    this.server = server;
    this.identity = identity;
  }

  describe(): string {
    return 'ops/my-operator';
  }

  async #behave(verb: 'get' | 'create' | 'update', signal: AbortSignal | undefined): Promise<void> {
    this.calls.push(verb);
    const behaviour = this.once[verb] ?? this.behaviour[verb];
    delete this.once[verb];
    if (behaviour === 'fail') throw this.failWith();
    if (behaviour === 'hang-deaf') return new Promise<never>(() => {});
    if (behaviour === 'hang') {
      return new Promise<never>((_, reject) => {
        signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      });
    }
  }

  async get(options: LockCallOptions = {}): Promise<LeaderElectionRecord | undefined> {
    await this.#behave('get', options.signal);
    if (this.server.record === undefined) return undefined;
    this.#version = this.server.version;
    return structuredClone(this.server.record);
  }

  async create(record: LeaderElectionRecord, options: LockCallOptions = {}): Promise<void> {
    await this.#behave('create', options.signal);
    if (this.server.record !== undefined) throw apiError(409, 'AlreadyExists', 'leases "my-operator" already exists');
    this.server.put(record);
    this.server.writes.push({ by: this.identity, record: structuredClone(record) });
    this.#version = this.server.version;
  }

  async update(record: LeaderElectionRecord, options: LockCallOptions = {}): Promise<void> {
    await this.#behave('update', options.signal);
    if (this.#version !== this.server.version) {
      throw apiError(
        409,
        'Conflict',
        'Operation cannot be fulfilled on leases "my-operator": the object has been modified',
      );
    }
    this.server.put(record);
    this.server.writes.push({ by: this.identity, record: structuredClone(record) });
    this.#version = this.server.version;
  }
}

interface LogLine {
  level: keyof LeaderElectionLogger;
  obj: Record<string, unknown>;
  msg: string;
}

function recordingLogger(): LeaderElectionLogger & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: keyof LeaderElectionLogger) =>
    (obj: object, msg: string): void =>
      void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** One candidate: its lock, elector, and what its callbacks saw (times on the fake clock). */
interface Candidate {
  lock: FakeLock;
  elector: LeaderElector;
  stop: AbortController;
  done: Promise<void>;
  started: number[];
  stopped: number[];
  newLeaders: string[];
  /** The signal onStartedLeading got, and when it aborted. */
  leading: AbortSignal | undefined;
  abortedAt: number | undefined;
  gauge: number[];
  logger: ReturnType<typeof recordingLogger>;
}

/** The record of a holder that renewed at second `i` of the test. */
function renewedBy(holderIdentity: string, i: number): LeaderElectionRecord {
  return {
    holderIdentity,
    leaseDurationSeconds: 2,
    renewTime: `2026-11-25T12:00:${String(i).padStart(2, '0')}.000000Z`,
    leaseTransitions: 0,
  };
}

const short = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 } as const;

function candidate(
  clock: TestClock,
  server: FakeServer,
  identity: string,
  options: Partial<LeaderElectorOptions> & {
    work?: (signal: AbortSignal) => void | Promise<void>;
    start?: boolean;
  } = {},
): Candidate {
  const lock = new FakeLock(server, identity);
  const logger = recordingLogger();
  const c: Candidate = {
    lock,
    elector: undefined as unknown as LeaderElector,
    stop: new AbortController(),
    done: Promise.resolve(),
    started: [],
    stopped: [],
    newLeaders: [],
    leading: undefined,
    abortedAt: undefined,
    gauge: [],
    logger,
  };
  const callbacks: LeaderCallbacks = {
    onStartedLeading: (signal) => {
      c.started.push(clock.now());
      c.leading = signal;
      signal.addEventListener('abort', () => (c.abortedAt = clock.now()), { once: true });
      return options.work?.(signal);
    },
    onStoppedLeading: () => void c.stopped.push(clock.now()),
    onNewLeader: (id) => void c.newLeaders.push(id),
  };
  c.elector = createLeaderElector({
    lock,
    ...short,
    clock,
    logger,
    metricsProvider: { newLeaderElectionMetrics: () => ({ masterStatus: { set: (v) => void c.gauge.push(v) } }) },
    callbacks,
    ...options,
  });
  if (options.start !== false) c.done = c.elector.start(c.stop.signal);
  return c;
}

// ---------------------------------------------------------------------------------------------------------------------

describe('createLeaderElector: options', () => {
  const lock = new FakeLock(new FakeServer(), 'me');
  const callbacks = { onStartedLeading() {} };

  it.each([
    [{ leaseDurationMs: 0 }, 'leaseDurationMs must be a finite number of milliseconds greater than 0, got 0'],
    [{ renewDeadlineMs: -5 }, 'renewDeadlineMs must be a finite number of milliseconds greater than 0, got -5'],
    [{ retryPeriodMs: Number.NaN }, 'retryPeriodMs must be a finite number of milliseconds greater than 0, got NaN'],
    [{ leaseDurationMs: 10_000 }, 'leaseDurationMs (10000) must be greater than renewDeadlineMs (10000)'],
    [
      { leaseDurationMs: 2000, renewDeadlineMs: 3000, retryPeriodMs: 100 },
      'leaseDurationMs (2000) must be greater than renewDeadlineMs (3000)',
    ],
    [
      { renewDeadlineMs: 2400 },
      'renewDeadlineMs (2400) must be greater than retryPeriodMs × 1.2 (JitterFactor) = 2400',
    ],
    [{ requestTimeoutMs: 10_000 }, 'requestTimeoutMs (10000) must be less than renewDeadlineMs (10000)'],
    [{ requestTimeoutMs: 0 }, 'requestTimeoutMs must be a finite number of milliseconds greater than 0, got 0'],
    [{ name: '' }, 'name must be a non-empty string when given'],
  ] satisfies [Partial<LeaderElectorOptions>, string][])('refuses %o, naming the option', (bad, message) => {
    expect(() => createLeaderElector({ lock, callbacks, ...bad })).toThrow(`createLeaderElector: ${message}`);
    expect(() => createLeaderElector({ lock, callbacks, ...bad })).toThrow(
      expect.objectContaining({ code: 'ERR_LEADER_ELECTION_CONFIG' }),
    );
  });

  it('refuses a lock without identity and a missing onStartedLeading', () => {
    expect(() => createLeaderElector({ lock: new FakeLock(new FakeServer(), ''), callbacks })).toThrow(
      'lock.identity must be a non-empty string',
    );
    const noStart = { onNewLeader() {} } as unknown as LeaderCallbacks;
    expect(() => createLeaderElector({ lock, callbacks: noStart })).toThrow(
      'callbacks.onStartedLeading must be a function',
    );
  });

  it("accepts client-go's defaults and names itself after the lock", () => {
    const names: string[] = [];
    const elector = createLeaderElector({
      lock,
      callbacks,
      metricsProvider: { newLeaderElectionMetrics: (name) => (names.push(name), { masterStatus: { set() {} } }) },
    });
    expect(elector.name).toBe('ops/my-operator');
    expect(names).toEqual(['ops/my-operator']);
    expect(elector.isLeader()).toBe(false);
    expect(elector.getLeader()).toBeUndefined();
  });

  it('can be started once', async () => {
    const clock = new TestClock();
    const c = candidate(clock, new FakeServer(), 'me');
    await expect(c.elector.start()).rejects.toMatchObject({ code: 'ERR_KUBE_ALREADY_STARTED' });
    c.stop.abort();
    await clock.advance(1);
    await c.done;
  });
});

describe('LeaderElector: acquiring', () => {
  it('creates a missing lease with MicroTime stamps and leads', async () => {
    const clock = new TestClock();
    const server = new FakeServer();
    const c = candidate(clock, server, 'me', { leaseDurationMs: 1500, renewDeadlineMs: 1000 });
    await clock.advance(0);
    expect(c.started).toEqual([0]);
    expect(c.elector.isLeader()).toBe(true);
    expect(c.elector.getLeader()).toBe('me');
    expect(c.newLeaders).toEqual(['me']);
    expect(c.gauge).toEqual([0, 1]);
    expect(server.record).toEqual({
      holderIdentity: 'me',
      leaseDurationSeconds: 2, // 1500 ms, rounded up to whole seconds
      acquireTime: '2026-11-25T12:00:00.000000Z',
      renewTime: '2026-11-25T12:00:00.000000Z',
      leaseTransitions: 0,
    });
    c.stop.abort();
    await clock.advance(1);
    await c.done;
    expect(c.gauge).toEqual([0, 1, 0]);
  });

  it('renews every retryPeriodMs by writing over its last version, keeping acquireTime and leaseTransitions', async () => {
    const clock = new TestClock();
    const server = new FakeServer();
    const c = candidate(clock, server, 'me');
    await clock.advance(0);
    c.lock.calls.length = 0;
    await clock.advance(short.retryPeriodMs * 3);
    expect(c.lock.calls).toEqual(['update', 'update', 'update']);
    expect(server.record).toMatchObject({
      holderIdentity: 'me',
      acquireTime: '2026-11-25T12:00:00.000000Z',
      renewTime: '2026-11-25T12:00:00.900000Z',
      leaseTransitions: 0,
    });
    expect(server.writes.map((w) => w.record.renewTime).every(isMicroTime)).toBe(true);
    c.stop.abort();
    await c.done;
  });

  it('waits for a held lease to expire by its own observation, ignoring the holder’s (skewed) renewTime', async () => {
    const clock = new TestClock();
    const server = new FakeServer();
    server.put({
      holderIdentity: 'ghost',
      leaseDurationSeconds: 2,
      acquireTime: '2099-01-01T00:00:00.000000Z', // a holder whose clock runs decades ahead
      renewTime: '2099-01-01T00:00:00.000000Z',
      leaseTransitions: 4,
    });
    const c = candidate(clock, server, 'me');
    await clock.advance(0);
    expect(c.elector.getLeader()).toBe('ghost');
    expect(c.newLeaders).toEqual(['ghost']);
    const took = await clock.until(() => c.elector.isLeader(), 10_000);
    // First seen at 0; expired 2 s later on this clock; taken at the first retry after that.
    expect(took).toBeGreaterThanOrEqual(2000);
    expect(took).toBeLessThanOrEqual(2000 + short.retryPeriodMs * 1.2);
    expect(server.record).toMatchObject({ holderIdentity: 'me', leaseTransitions: 5 });
    expect(server.record?.acquireTime).not.toBe('2099-01-01T00:00:00.000000Z');
    expect(c.newLeaders).toEqual(['ghost', 'me']);
    c.stop.abort();
    await c.done;
  });

  it('never takes a lease whose holder keeps renewing, however long it waits', async () => {
    const clock = new TestClock();
    const server = new FakeServer();
    server.put(renewedBy('other', 0));
    const c = candidate(clock, server, 'me');
    for (let i = 1; i <= 30; i++) {
      await clock.advance(1000);
      server.put(renewedBy('other', i));
    }
    expect(c.started).toEqual([]);
    expect(c.lock.calls.filter((v) => v === 'update')).toEqual([]);
    expect(c.lock.calls.filter((v) => v === 'get').length).toBeGreaterThanOrEqual(30_000 / (short.retryPeriodMs * 1.2));
    c.stop.abort();
    await c.done;
    expect(c.stopped).toEqual([]);
  });

  it('takes a released lease (empty holder) at once and counts the transition', async () => {
    const clock = new TestClock();
    const server = new FakeServer();
    server.put({ holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 7 });
    const c = candidate(clock, server, 'me');
    await clock.advance(0);
    expect(c.elector.isLeader()).toBe(true);
    expect(server.record).toMatchObject({ holderIdentity: 'me', leaseTransitions: 8 });
    c.stop.abort();
    await c.done;
  });

  it('resumes a lease that already names its own identity (a restart) without a transition', async () => {
    const clock = new TestClock();
    const server = new FakeServer();
    server.put({
      holderIdentity: 'me',
      leaseDurationSeconds: 2,
      acquireTime: '2026-11-25T11:00:00.000000Z',
      leaseTransitions: 2,
    });
    const c = candidate(clock, server, 'me');
    await clock.advance(0);
    expect(c.elector.isLeader()).toBe(true);
    expect(server.record).toMatchObject({
      holderIdentity: 'me',
      acquireTime: '2026-11-25T11:00:00.000000Z',
      leaseTransitions: 2,
    });
    c.stop.abort();
    await c.done;
  });

  it('resolves without any callback when stopped before acquiring', async () => {
    const clock = new TestClock();
    const server = new FakeServer();
    server.put({ holderIdentity: 'other', leaseDurationSeconds: 60, leaseTransitions: 0 });
    const c = candidate(clock, server, 'me');
    await clock.advance(5000);
    c.stop.abort();
    await c.done;
    expect(c.started).toEqual([]);
    expect(c.stopped).toEqual([]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('reports a Forbidden lease once at warn with a clear message, keeps retrying, and acquires once allowed', async () => {
    const clock = new TestClock();
    const server = new FakeServer();
    const c = candidate(clock, server, 'me', { start: false });
    c.lock.behaviour.get = 'fail';
    c.lock.failWith = () =>
      apiError(
        403,
        'Forbidden',
        'leases.coordination.k8s.io "my-operator" is forbidden: User "op" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "ops"',
      );
    c.done = c.elector.start(c.stop.signal);
    await clock.advance(10_000);
    const warnings = c.logger.lines.filter((l) => l.level === 'warn');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain('cannot get the lease ops/my-operator as "me"');
    expect(warnings[0]!.msg).toContain('User "op" cannot get resource "leases"');
    expect(warnings[0]!.msg).toContain('grant get, create and update on this lease');
    expect(warnings[0]!.obj['err']).toMatchObject({ code: 'ERR_LEADER_ELECTION_LOCK', cause: { statusCode: 403 } });
    expect(c.lock.calls.length).toBeGreaterThanOrEqual(10_000 / (short.retryPeriodMs * 1.2));
    expect(c.started).toEqual([]);

    c.lock.behaviour.get = 'ok';
    await clock.until(() => c.elector.isLeader(), short.retryPeriodMs * 1.2 + 1);
    c.stop.abort();
    await expect(c.done).resolves.toBeUndefined();
  });

  it('times out a hung request after requestTimeoutMs and retries', async () => {
    const clock = new TestClock();
    const server = new FakeServer();
    const c = candidate(clock, server, 'me', { start: false, requestTimeoutMs: 500 });
    c.lock.once.get = 'hang';
    c.done = c.elector.start(c.stop.signal);
    const took = await clock.until(() => c.elector.isLeader(), 5000);
    expect(took).toBeGreaterThanOrEqual(500 + short.retryPeriodMs);
    expect(took).toBeLessThanOrEqual(500 + short.retryPeriodMs * 1.2 + 1);
    const warning = c.logger.lines.find((l) => l.level === 'warn');
    expect(warning?.msg).toContain('get of ops/my-operator took longer than requestTimeoutMs (500 ms)');
    c.stop.abort();
    await c.done;
  });
});

/** Leads, then makes every call behave as `behaviour`; resolves the candidate and when its last renewal began. */
async function leadThenBreak(behaviour: Behaviour, options: Partial<LeaderElectorOptions> = {}) {
  const clock = new TestClock();
  const server = new FakeServer();
  const c = candidate(clock, server, 'me', options);
  await clock.advance(short.retryPeriodMs * 2 + 50);
  expect(c.elector.isLeader()).toBe(true);
  const lastRenewal = short.retryPeriodMs * 2;
  c.lock.behaviour = { get: behaviour, create: behaviour, update: behaviour };
  return { clock, server, c, lastRenewal };
}

describe('LeaderElector: losing', () => {
  it('stops leading renewDeadlineMs after its last renewal when renewals fail', async () => {
    const { clock, c, lastRenewal } = await leadThenBreak('fail');
    await clock.until(() => !c.elector.isLeader(), 5000);
    expect(c.abortedAt! - lastRenewal).toBeLessThanOrEqual(short.renewDeadlineMs);
    expect(c.abortedAt! - lastRenewal).toBeGreaterThan(short.renewDeadlineMs - short.retryPeriodMs);
    expect(isLeadershipLost(c.leading?.reason)).toBe(true);
    expect(String(c.leading?.reason)).toMatch(
      /lost the lease ops\/my-operator: it was not renewed within renewDeadlineMs \(1500 ms\); last failure: connect ECONNREFUSED/,
    );
    await c.done;
    expect(c.stopped).toHaveLength(1);
    expect(c.gauge).toEqual([0, 1, 0]);
    // The elector is done: no timer left behind, no more calls.
    expect(clock.pendingTimers()).toBe(0);
    const calls = c.lock.calls.length;
    await clock.advance(10_000);
    expect(c.lock.calls.length).toBe(calls);
  });

  it.each(['hang', 'hang-deaf'] as const)(
    'counts a renewal that hangs (%s) against the renew deadline',
    async (behaviour) => {
      const { clock, c, lastRenewal } = await leadThenBreak(behaviour, { requestTimeoutMs: 1000 });
      await clock.until(() => !c.elector.isLeader(), 5000);
      // Deadline exactly: the hung call is abandoned when the deadline passes, even one that ignores its signal.
      expect(c.abortedAt! - lastRenewal).toBeLessThanOrEqual(short.renewDeadlineMs);
      expect(c.abortedAt! - lastRenewal).toBeGreaterThan(short.renewDeadlineMs - short.retryPeriodMs);
      expect(isLeadershipLost(c.leading?.reason)).toBe(true);
      await c.done;
      expect(c.stopped).toHaveLength(1);
    },
  );

  it('keeps leading when one hung renewal times out and the retry succeeds within the deadline', async () => {
    const { clock, c } = await leadThenBreak('ok', { requestTimeoutMs: 600 });
    c.lock.once.update = 'hang';
    await clock.advance(short.leaseDurationMs * 3);
    expect(c.elector.isLeader()).toBe(true);
    expect(c.started).toHaveLength(1);
    const timedOut = c.logger.lines.find((l) => l.msg.startsWith('optimistic renewal failed'));
    expect(timedOut?.obj['err']).toMatchObject({
      name: 'TimeoutError',
      message: expect.stringContaining('requestTimeoutMs (600 ms)'),
    });
    c.stop.abort();
    await c.done;
  });

  it('stops leading at once when it sees another holder in the lease', async () => {
    const { clock, server, c } = await leadThenBreak('ok');
    const at = clock.now();
    server.put({ holderIdentity: 'usurper', leaseDurationSeconds: 2, leaseTransitions: 1 });
    await clock.until(() => !c.elector.isLeader(), short.retryPeriodMs + 1);
    expect(c.abortedAt! - at).toBeLessThanOrEqual(short.retryPeriodMs);
    expect(String(c.leading?.reason)).toContain('the lease is now held by "usurper"');
    expect(c.elector.getLeader()).toBe('usurper');
    await c.done;
  });

  it('steps down when onStartedLeading rejects, and start() rejects with that error', async () => {
    const clock = new TestClock();
    const server = new FakeServer();
    const boom = new Error('controllers failed');
    const c = candidate(clock, server, 'me', { releaseOnCancel: true, work: () => Promise.reject(boom) });
    const outcome = c.done.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await clock.advance(1);
    expect(await outcome).toBe(boom);
    expect(c.leading?.reason).toBe(boom);
    expect(c.elector.isLeader()).toBe(false);
    expect(server.record).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(c.stopped).toHaveLength(1);
  });
});

describe('LeaderElector: stopping and releasing', () => {
  it('with releaseOnCancel, aborts the work first, then writes an empty holder with leaseDurationSeconds 1', async () => {
    const clock = new TestClock();
    const server = new FakeServer();
    const c = candidate(clock, server, 'me', { releaseOnCancel: true });
    await clock.advance(1000);
    const transitions = server.record?.leaseTransitions;
    const reason = new Error('SIGTERM');
    c.stop.abort(reason);
    await c.done;
    expect(c.leading?.reason).toBe(reason);
    expect(server.record).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 1,
      acquireTime: '2026-11-25T12:00:01.000000Z',
      renewTime: '2026-11-25T12:00:01.000000Z',
      leaseTransitions: transitions,
    });
    expect(c.elector.getLeader()).toBeUndefined();
    expect(c.stopped).toHaveLength(1);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('releases only after the promise onStartedLeading returned has settled', async () => {
    const clock = new TestClock();
    const server = new FakeServer();
    const finish = { resolve: (): void => {} };
    const c = candidate(clock, server, 'me', {
      releaseOnCancel: true,
      work: (signal) =>
        new Promise<void>((resolve) => signal.addEventListener('abort', () => (finish.resolve = resolve))),
    });
    await clock.advance(500);
    c.stop.abort();
    await clock.advance(1000);
    expect(c.leading?.aborted).toBe(true);
    expect(server.record?.holderIdentity).toBe('me');
    expect(c.stopped).toEqual([]);
    finish.resolve();
    await clock.advance(0);
    await c.done;
    expect(server.record?.holderIdentity).toBe('');
    expect(c.stopped).toEqual([1500]);
  });

  it('gives up waiting for the work after leaseDurationMs, when the lease would have expired anyway', async () => {
    const clock = new TestClock();
    const server = new FakeServer();
    const c = candidate(clock, server, 'me', { releaseOnCancel: true, work: () => new Promise<void>(() => {}) });
    await clock.advance(500);
    c.stop.abort();
    await clock.advance(short.leaseDurationMs - 1);
    expect(server.record?.holderIdentity).toBe('me');
    await clock.advance(1);
    await c.done;
    expect(server.record?.holderIdentity).toBe('');
    expect(c.logger.lines.some((l) => l.level === 'warn' && l.msg.includes('has not settled'))).toBe(true);
  });

  it('does not release a lease another candidate holds by then', async () => {
    const clock = new TestClock();
    const server = new FakeServer();
    const c = candidate(clock, server, 'me', { releaseOnCancel: true });
    await clock.advance(500);
    c.lock.behaviour.update = 'fail';
    await clock.until(() => !c.elector.isLeader(), 5000);
    server.put({ holderIdentity: 'successor', leaseDurationSeconds: 2, leaseTransitions: 1 });
    c.lock.behaviour.update = 'ok';
    await c.done;
    expect(server.record).toMatchObject({ holderIdentity: 'successor' });
  });

  it('without releaseOnCancel, leaves the lease to expire', async () => {
    const clock = new TestClock();
    const server = new FakeServer();
    const c = candidate(clock, server, 'me');
    await clock.advance(500);
    c.stop.abort();
    await c.done;
    expect(server.record?.holderIdentity).toBe('me');
    expect(c.stopped).toHaveLength(1);
  });
});

/** Runs both, sampling every fake millisecond that never both lead; resolves how long b took to take over. */
async function runPair(releaseOnCancel: boolean) {
  const clock = new TestClock();
  const server = new FakeServer();
  const a = candidate(clock, server, 'a', { releaseOnCancel });
  await clock.advance(0);
  const b = candidate(clock, server, 'b', { releaseOnCancel });
  let both = 0;
  const sample = async (ms: number): Promise<void> => {
    for (let i = 0; i < ms; i++) {
      await clock.advance(1);
      if (a.elector.isLeader() && b.elector.isLeader()) both++;
    }
  };
  await sample(5000);
  expect(a.elector.isLeader()).toBe(true);
  expect(b.elector.isLeader()).toBe(false);
  expect(b.elector.getLeader()).toBe('a');
  const stoppedAt = clock.now();
  a.stop.abort();
  let tookOver: number | undefined;
  for (let i = 0; i < 10_000 && tookOver === undefined; i += 1) {
    await sample(1);
    if (b.elector.isLeader()) tookOver = clock.now() - stoppedAt;
  }
  await a.done;
  await sample(3000);
  expect(both).toBe(0);
  expect(b.started[0]!).toBeGreaterThan(a.abortedAt!);
  b.stop.abort();
  await b.done;
  return { tookOver: tookOver!, server, b };
}

describe('LeaderElector: two candidates', () => {
  it('hands over within retryPeriodMs × 1.2 after a graceful release', async () => {
    const { tookOver, server, b } = await runPair(true);
    expect(tookOver).toBeLessThanOrEqual(short.retryPeriodMs * 1.2);
    expect(b.newLeaders).toEqual(['a', 'b']);
    expect(server.record?.leaseTransitions).toBe(1);
  });

  it('takes over within leaseDurationMs + 2 × retryPeriodMs × 1.2 after the leader dies without releasing', async () => {
    const { tookOver, server } = await runPair(false);
    expect(tookOver).toBeLessThanOrEqual(short.leaseDurationMs + 2 * short.retryPeriodMs * 1.2);
    // Never before the lease, as b last saw it renewed, has expired: a renewed at most retryPeriodMs before stopping.
    expect(tookOver).toBeGreaterThanOrEqual(short.leaseDurationMs - short.retryPeriodMs);
    expect(server.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });
});
