// tsyringe needs the Reflect polyfill loaded before it.
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { container as rootContainer, type DependencyContainer, type InjectionToken } from 'tsyringe';
import {
  ArgumentError,
  objectKey,
  splitObjectKey,
  type KubeObject,
  type RestConfig,
  type ResourceDescriptor,
  type Unstructured,
} from '../client/index.js';
import {
  createPriorityQueue,
  defaultControllerRateLimiter,
  realClock,
  type FakeClock,
  type PriorityQueue,
  type RateLimiter,
  type WallClock,
} from '../workqueue/index.js';
import {
  CLIENT,
  CLIENTSET,
  CLOCK,
  DYNAMIC_CLIENT,
  EVENT_RECORDER,
  LOGGER,
  REST_CONFIG,
  applyReconcileOutcome,
  isTerminalError,
  type Reconcile,
  type ReconcileRequest,
  type ReconcileResult,
  type ReconcilerClass,
} from '../manager/index.js';
import { constructReconciler, ownedResource, reconcilerOptionsOf } from '../manager/internal.js';
import { createRecordingEventRecorder, type RecordedEvent, type RecordingEventRecorder } from './events.js';
import { createFakeClient, type FakeClient } from './fake-client.js';
import { isWriteAction, type FakeAction, type Interceptor } from './interceptors.js';
import { createCapturingLogger, type CapturedLog } from './logger.js';

/** The RestConfig a reconciler under test gets for `REST_CONFIG`: it names a host that never answers. */
export const fakeRestConfig: RestConfig = Object.freeze({ host: 'https://fake-apiserver.invalid' });

/** Options of {@link reconcileOnce} and {@link reconcileUntilStable}. */
export interface ReconcileTestOptions {
  /** The key to reconcile. */
  request: ReconcileRequest;
  /** Objects to start from, of any kind, as `createFakeClient`'s `objects`: added to `client` (or to a new fake client). Default: none. */
  objects?: readonly (KubeObject | Unstructured)[];
  /**
   * Custom resources the fake serves, besides built-in ones. Default: the reconciler's `@Reconciler` `for`, `owns`
   * and `watches` resources. Ignored when `client` is given.
   */
  resources?: readonly ResourceDescriptor[];
  /** A fake client to run against (to carry state across calls, or to add interceptors first). Default: a new one. */
  client?: FakeClient;
  /** Interceptors added to the client for this run (and left there). Default: none. */
  interceptors?: readonly Interceptor[];
  /**
   * The reconciler's `CLOCK`, and the fake client's timestamps when no `client` is given: a fake clock
   * (`createFakeClock({ startTime })`) drives its `wallTime()` and timers. Default: the real clock.
   */
  clock?: WallClock;
  /** More injection tokens and their values, for the reconciler's own dependencies: `[[BILLING_API, api]]`. */
  services?: Iterable<readonly [InjectionToken<unknown>, unknown]>;
  /** The parent of the DI container the reconciler is built in. Default: tsyringe's root container. */
  container?: DependencyContainer;
  /** `LOGGER` and the reconcile's `ctx.log`. Default: a logger that captures into `logs`. */
  logger?: Logger;
  /** The reconcile's `ctx.signal`. Default: one that never aborts. */
  signal?: AbortSignal;
}

/** What one reconcile did. */
export interface ReconcileOnceResult {
  /** What `reconcile` returned; undefined when it threw. */
  result: ReconcileResult | undefined;
  /** What it threw (or undefined). */
  error: unknown;
  /** The API calls it made, in order, reads included. */
  actions: FakeAction[];
  /** The calls that change something (create, update, patch, delete, deletecollection). */
  writes: FakeAction[];
  /** The Events it recorded. */
  events: RecordedEvent[];
  /** What it logged (empty when a `logger` was passed in). */
  logs: CapturedLog[];
  /** The fake client: read the state it left (`await client.get(Deployment, key)`). */
  client: FakeClient;
}

/** The DI-built reconciler and what it was given, shared by the rounds of one test. */
interface Harness {
  reconciler: Reconcile;
  client: FakeClient;
  recorder: RecordingEventRecorder;
  logger: Logger;
  logs: readonly CapturedLog[];
  controller: string;
}

function isReconcilerClass(value: unknown): value is ReconcilerClass {
  return typeof value === 'function';
}

function construct(container: DependencyContainer, cls: ReconcilerClass): Reconcile {
  try {
    return constructReconciler(container, cls);
  } catch (cause) {
    throw new ArgumentError(`${(cause as Error).message}; pass tokens of your own in \`services\``, { cause });
  }
}

function harness(target: ReconcilerClass | Reconcile, options: ReconcileTestOptions): Harness {
  const metadata = isReconcilerClass(target) ? reconcilerOptionsOf(target) : undefined;
  const declared = metadata
    ? [metadata.for, ...(metadata.owns ?? []).map(ownedResource), ...(metadata.watches ?? []).map((w) => w.resource)]
    : [];
  const clock = options.clock;
  // Field indexes declared with @Reconciler({ indexes }), as the manager registers them.
  const indexes = metadata?.indexes ?? [];
  const client =
    options.client ??
    createFakeClient({
      resources: options.resources ?? declared,
      indexes,
      ...(clock && { now: () => clock.wallTime() }),
    });
  for (const obj of options.objects ?? []) client.tracker.add(obj);
  for (const interceptor of options.interceptors ?? [])
    client.intercept(interceptor.match, interceptor.handle, interceptor);
  const recorder = createRecordingEventRecorder();
  const captured = options.logger ? undefined : createCapturingLogger();
  const logger = options.logger ?? captured!.logger;
  let reconciler: Reconcile;
  if (isReconcilerClass(target)) {
    const container = (options.container ?? rootContainer).createChildContainer();
    container.register(CLIENT, { useValue: client });
    container.register(CLIENTSET, { useValue: client.clientset });
    container.register(DYNAMIC_CLIENT, { useValue: client.dynamic });
    container.register(REST_CONFIG, { useValue: fakeRestConfig });
    container.register(LOGGER, { useValue: logger });
    container.register(EVENT_RECORDER, { useValue: recorder });
    container.register(CLOCK, { useValue: clock ?? realClock });
    for (const [token, value] of options.services ?? []) container.register(token, { useValue: value });
    reconciler = construct(container, target);
  } else {
    reconciler = target;
  }
  const name =
    metadata?.name ?? metadata?.for.kind.toLowerCase() ?? (isReconcilerClass(target) ? target.name : 'reconciler');
  return { reconciler, client, recorder, logger, logs: captured?.records ?? [], controller: name };
}

async function round(
  h: Harness,
  request: ReconcileRequest,
  signal: AbortSignal | undefined,
): Promise<ReconcileOnceResult> {
  const firstAction = h.client.actions.length;
  const firstEvent = h.recorder.events.length;
  const firstLog = h.logs.length;
  const reconcileID = randomUUID();
  const log = h.logger.child({
    controller: h.controller,
    namespace: request.namespace,
    name: request.name,
    reconcileID,
  });
  let result: ReconcileResult | undefined;
  let error: unknown;
  try {
    result = await h.reconciler.reconcile(
      { ...request },
      { signal: signal ?? new AbortController().signal, log, reconcileID },
    );
  } catch (err) {
    error = err;
  }
  const actions = h.client.actions.slice(firstAction);
  return {
    result,
    error,
    actions,
    writes: actions.filter(isWriteAction),
    events: h.recorder.events.slice(firstEvent),
    logs: h.logs.slice(firstLog),
    client: h.client,
  };
}

/**
 * Runs one reconcile of a `@Reconciler` class against a fake client: `const { result, error, writes, events } = await
 * reconcileOnce(WidgetReconciler, { objects: [widget], request: { namespace: 'ns', name: 'w' } })`.
 *
 * The class is built through a tsyringe child container holding the manager's tokens: `CLIENT` the fake client,
 * `CLIENTSET` and `DYNAMIC_CLIENT` its views, `LOGGER` a capturing pino logger (or `options.logger`),
 * `EVENT_RECORDER` a recording fake, `REST_CONFIG` {@link fakeRestConfig}; plus `options.services`. An instance may be
 * passed instead of a class.
 *
 * Guarantees: a reconcile that throws is reported in `error`, never thrown from here; `actions` and `events` are
 * those of this reconcile only, even on a shared `client`.
 *
 * Errors: a class that cannot be built (a constructor parameter without a token, a token nobody registered) throws
 * an `ArgumentError` (`ERR_KUBE_INVALID_ARGUMENT`, a TypeError) saying so.
 *
 * Caveats: `DISCOVERY_CLIENT` and `MANAGER` are not registered: pass fakes in `services` if the reconciler needs them.
 * Reads see every write at once, where the real `CLIENT` reads an informer cache that may lag behind.
 */
export async function reconcileOnce(
  target: ReconcilerClass | Reconcile,
  options: ReconcileTestOptions,
): Promise<ReconcileOnceResult> {
  return round(harness(target, options), options.request, options.signal);
}

/** Options of {@link reconcileUntilStable}. */
export interface ReconcileUntilStableOptions extends ReconcileTestOptions {
  /** At most this many reconciles. Default: 10. */
  maxRounds?: number;
}

/** What repeated reconciles did. */
export interface ReconcileUntilStableResult {
  /** Each reconcile's outcome, in order. */
  rounds: ReconcileOnceResult[];
  /** True when the last reconcile succeeded, asked for no requeue and changed nothing. */
  stable: boolean;
  /** The last round. */
  last: ReconcileOnceResult;
  client: FakeClient;
}

/**
 * Reconciles the same key again and again, as the controller would, until a reconcile succeeds, asks for no requeue
 * and changes no object (no resourceVersion moved: nothing a watch would report, so nothing would wake it), or
 * `maxRounds` is reached (then `stable` is false). A reconcile that throws is retried (a `TerminalError` stops);
 * `requeueAfterMs` is honoured at once, without waiting. One reconciler instance serves every round.
 */
export async function reconcileUntilStable(
  target: ReconcilerClass | Reconcile,
  options: ReconcileUntilStableOptions,
): Promise<ReconcileUntilStableResult> {
  const h = harness(target, options);
  const max = options.maxRounds ?? 10;
  const rounds: ReconcileOnceResult[] = [];
  let stable = false;
  while (rounds.length < max) {
    const before = h.client.tracker.resourceVersion;
    const r = await round(h, options.request, options.signal);
    rounds.push(r);
    if (r.error !== undefined) {
      if (isTerminalError(r.error)) break;
      continue;
    }
    if ((r.result?.requeueAfterMs ?? 0) > 0) continue;
    if (h.client.tracker.resourceVersion === before) {
      stable = true;
      break;
    }
  }
  return { rounds, stable, last: rounds.at(-1)!, client: h.client };
}

/** Options of {@link createControllerHarness}. */
export interface ControllerHarnessOptions extends Omit<ReconcileTestOptions, 'request'> {
  /** The clock of the queue and its rate limiter: a fake one (`createFakeClock()`), moved by `advance`. */
  clock: FakeClock;
  /** Default: `defaultControllerRateLimiter({ clock })`, as a controller has (5 ms doubling per failure, per key). */
  rateLimiter?: RateLimiter<string>;
}

/** One reconcile run by a {@link ControllerHarness}: its outcome, the key, its priority, and the fake clock's time when it ran. */
export interface HarnessReconcile extends ReconcileOnceResult {
  key: string;
  /** The priority the key was handed out with (0 unless enqueued or requeued with another). */
  priority: number;
  atMs: number;
}

/**
 * A controller's work loop over a priority queue on a fake clock, without informers: the test adds keys, moves
 * time, and sees which reconciles ran when and in which order. Outcomes are the manager Controller's, applied by the
 * same function (`applyReconcileOutcome` of kubeloop/manager): success forgets the key's backoff; `requeueAfterMs`
 * forgets it and adds it back after that long (with the result's `priority`); a throw adds it back with per-key
 * exponential backoff (5 ms, 10 ms, 20 ms, …); a `TerminalError` forgets it.
 */
export interface ControllerHarness {
  readonly client: FakeClient;
  readonly queue: PriorityQueue<string>;
  readonly clock: FakeClock;
  /** Adds a key now (`namespace/name`, or `name` for cluster-scoped objects), with a priority (default 0, higher first). */
  enqueue(request: ReconcileRequest, options?: { priority?: number }): void;
  /** Reconciles every key that is ready, one at a time, until none is; the clock does not move. */
  runReady(): Promise<HarnessReconcile[]>;
  /** Moves the fake clock forward by `ms` (delayed keys become ready on the way), then {@link runReady}. */
  advance(ms: number): Promise<HarnessReconcile[]>;
  /** Stops the queue (drops delayed keys). */
  shutDown(): void;
}

/**
 * Makes a {@link ControllerHarness}: `requeueAfterMs` and backoff become testable without waiting.
 *
 * ```ts
 * const clock = createFakeClock();
 * const h = createControllerHarness(WidgetReconciler, { clock, objects: [widget] });
 * h.enqueue({ namespace: 'ns', name: 'w' });
 * await h.runReady();                 // first reconcile: returns { requeueAfterMs: 30_000 }
 * expect(await h.advance(29_999)).toHaveLength(0);
 * expect(await h.advance(1)).toHaveLength(1);
 * ```
 */
export function createControllerHarness(
  target: ReconcilerClass | Reconcile,
  options: ControllerHarnessOptions,
): ControllerHarness {
  const h = harness(target, { ...options, request: { namespace: '', name: '' } });
  const clock = options.clock;
  const queue = createPriorityQueue<string>({
    clock,
    rateLimiter: options.rateLimiter ?? defaultControllerRateLimiter<string>({ clock }),
  });
  const runReady = async (): Promise<HarnessReconcile[]> => {
    const ran: HarnessReconcile[] = [];
    while (queue.len() > 0) {
      const next = await queue.getWithPriority();
      if (next === undefined) break;
      const { key, priority } = next;
      try {
        const { namespace, name } = splitObjectKey(key);
        const r = await round(h, { namespace, name }, options.signal);
        ran.push({ ...r, key, priority, atMs: clock.now() });
        applyReconcileOutcome(queue, key, priority, r.error !== undefined ? { error: r.error } : { result: r.result });
      } finally {
        queue.done(key);
      }
    }
    return ran;
  };
  return {
    client: h.client,
    queue,
    clock,
    enqueue: (request, opts) => queue.addWithOptions(objectKey(request), { priority: opts?.priority ?? 0 }),
    runReady,
    advance: async (ms) => {
      clock.advance(ms);
      return runReady();
    },
    shutDown: () => queue.shutDown(),
  };
}
