import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { container as rootContainer, type DependencyContainer, type InjectionToken } from 'tsyringe';
import {
  AlreadyStartedError,
  KubeloopError,
  createClientset,
  createDiscoveryClient,
  createDynamicClient,
  createRESTMapper,
  ExecCredentialError,
  execPluginHealth,
  inClusterNamespace,
  loadConfig,
  type RestConfig,
} from '../client/index.js';
import type { FactoryInformerHealth } from '../cache/index.js';
import { createLeaderElector, createLeaseLock, isLeadershipLost } from '../leaderelection/index.js';
import { realClock, type Clock, type WallClock } from '../workqueue/index.js';
import type {
  CertProvisioner,
  Conversion,
  ManagerCertProvisionerOptions,
  WebhookClass,
  WebhookServer,
  WebhookServerOptions,
} from '../webhook/index.js';
// Not the webhook index: it loads the certificate code (and @peculiar/x509), which a manager loads on first use.
import {
  createWebhookServer,
  defaultCertDir,
  loadCertProvisioner,
  registerWebhookInstance,
  webhookOptionsOf,
} from '../webhook/internal.js';
import { ManagerCache, type CacheOptions } from './cache.js';
import { CachedClient, ResourceRegistry } from './client.js';
import type { Source } from './source.js';
import { ReadYourWrites, type ReadYourOwnWritesOptions } from './read-your-writes.js';
import type { Client } from './client-types.js';
import { Controller } from './controller.js';
import { controllerFor, type ControllerHandle, type ControllerRegistry, type ControllerSpec } from './builder.js';
import { reconcilerOptionsOf, type ReconcilerClass } from './decorator.js';
import { createEventRecorder, type EventRecorder } from './events.js';
import { createDefaultLogger } from './logger.js';
import { ApiServerContact, type LivenessOptions } from './liveness.js';
import { Gauge } from './internal/prom-client.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { Reconcile } from './reconcile.js';
import { startMetricsServer, startProbeServer, type Check, type MetricsServerOptions, type Server } from './servers.js';
import { createDelegatedAuthorizer } from './metrics-auth.js';
import {
  CLIENT,
  CLIENTSET,
  CLOCK,
  DISCOVERY_CLIENT,
  DYNAMIC_CLIENT,
  EVENT_RECORDER,
  LOGGER,
  MANAGER,
  REST_CONFIG,
  tokenName,
} from './tokens.js';

/** Something the manager runs: resolves when its signal aborts and it has stopped. */
export interface Runnable {
  start(signal: AbortSignal): Promise<void>;
}

export interface LeaderElectionOptions {
  /** Default: false. Turn it on whenever more than one replica may run. */
  enabled: boolean;
  /** The Lease's name; also the event source. Required when enabled. */
  id?: string;
  /** The Lease's namespace. Default: the pod's namespace in a cluster, else `default`. */
  namespace?: string;
  /** Default: hostname + '_' + a random UUID. */
  identity?: string;
  /** Default: 15000. */
  leaseDurationMs?: number;
  /** Default: 10000. */
  renewDeadlineMs?: number;
  /** Default: 2000. */
  retryPeriodMs?: number;
  /**
   * Give the lease up on a graceful stop, once the controllers have stopped, so a successor takes over at its next
   * retry instead of after `leaseDurationMs`. Default: true.
   */
  releaseOnCancel?: boolean;
}

/** The manager's `metrics` option: where and how `/metrics` (and, when asked for, profiling) is served. */
export interface MetricsOptions {
  /** `:8443`, `127.0.0.1:8080`, or `0` to disable. Default: `:8080`. */
  bindAddress?: string;
  /**
   * HTTPS (TLS 1.2 or newer) with the certificate in `certDir` (`tls.crt`, `tls.key`), reloaded when it rotates, or a
   * self-signed one made at start when those files do not exist, as controller-runtime's metrics server. Default: false.
   */
  secureServing?: boolean;
  /**
   * Authenticate each request's bearer token by a TokenReview and authorize its user by a SubjectAccessReview (the
   * method in lower case on the request's path, a non-resource URL), as controller-runtime's
   * `filters.WithAuthenticationAndAuthorization`: no or an invalid token gets 401, a user without the right 403.
   * Answers are cached: a token's for a minute, an allowed user's for five minutes, a denied one's for thirty seconds.
   * The manager needs `create` on `tokenreviews` and `subjectaccessreviews`. Needs `secureServing` (a bearer token
   * is not sent in clear). Default: false.
   */
  authorize?: boolean;
  /** Default: `<os temp dir>/k8s-metrics-server/serving-certs`, as controller-runtime. */
  certDir?: string;
  /** Default: `tls.crt`. */
  certName?: string;
  /** Default: `tls.key`. */
  keyName?: string;
  /**
   * Serve a CPU profile (`/debug/pprof/profile?seconds=N`, a `.cpuprofile`) and a heap snapshot
   * (`/debug/pprof/heap`, a `.heapsnapshot`) for Chrome DevTools beside `/metrics`, behind the same authorization
   * (the caller needs `get` on those non-resource URLs; without `authorize` they are open to whoever reaches the
   * port, and the manager logs a warning at start). Default: false.
   */
  profiling?: boolean;
}

export interface ManagerOptions {
  /** Default: `await loadConfig()` ($KUBECONFIG, ~/.kube/config, then in-cluster). */
  config?: RestConfig;
  /** What the shared cache holds. Default: every namespace, no selectors. */
  cache?: CacheOptions;
  /**
   * The cache-backed `CLIENT`. `readYourOwnWrites`: after a write through it, a cached read of that object sees that
   * write or a newer one (and, after a delete, not the deleted object), waiting up to `timeoutMs` (default 10000) for
   * the informer to catch up, then failing with `ERR_READ_YOUR_WRITES_TIMEOUT`; `false` reads the cache as it is.
   * Default: `true`.
   */
  client?: { readYourOwnWrites?: boolean | ReadYourOwnWritesOptions };
  /** Default: off. */
  leaderElection?: LeaderElectionOptions;
  /**
   * Where `/metrics` is served as plain HTTP: `:8080`, `127.0.0.1:8080`, or `0` to disable. Default: `:8080`. The
   * shorthand of `metrics: { bindAddress }`; give one or the other.
   */
  metricsBindAddress?: string;
  /**
   * How `/metrics` is served: `{ bindAddress: ':8443', secureServing: true, authorize: true }` serves it over HTTPS to
   * callers whose bearer token a TokenReview authenticates and whose user a SubjectAccessReview allows to `get` the
   * non-resource URL `/metrics` (kubebuilder's default). Default: plain HTTP on `:8080`, no authentication.
   */
  metrics?: MetricsOptions;
  /** Where `/healthz` and `/readyz` are served, or `0` to disable. Default: `:8081`. */
  healthProbeBindAddress?: string;
  /**
   * How long a graceful stop waits for reconciles in flight and runnables to finish; the lease is renewed meanwhile.
   * Keep a pod's `terminationGracePeriodSeconds` above it. Default: 30000 (controller-runtime's 30 s).
   */
  gracefulShutdownTimeoutMs?: number;
  /**
   * The `apiserver` check of `/healthz`: it fails once nothing has come from the API server (an answer to any request,
   * a watch event or bookmark) for `apiServerUnreachableMs`, so that Kubernetes restarts a process cut off from it;
   * a quiet process asks for `/version` every `probeIntervalMs`. Default: 90000 and 10000; `apiServerUnreachableMs:
   * 0` turns the check off.
   */
  liveness?: LivenessOptions;
  /** Default: a JSON pino logger that redacts credentials and Secret data. */
  logger?: Logger;
  /**
   * The webhook server (kubeloop/webhook): port 9443, certificates from `/tmp/k8s-webhook-server/serving-certs`
   * (`tls.crt`, `tls.key`), as controller-runtime. It runs on every replica, leader or not, once a webhook or a
   * conversion is registered. Default: those defaults.
   *
   * `certProvisioner` (kubeloop/webhook's createCertProvisioner) makes and renews the serving certificate for clusters
   * without cert-manager: the leader keeps it in a Secret and sets the caBundle of the named webhook configurations and
   * CRDs; every replica writes it into `certDir`, and its webhook server starts once the first pair is there (so on a
   * first install, leader-gated work may start before this replica serves webhooks). Default: off, the certificate
   * comes from `certDir` as it is.
   */
  webhook?: Omit<WebhookServerOptions, 'registry' | 'log'> & { certProvisioner?: ManagerCertProvisionerOptions };
  /** The parent of the manager's DI container. Default: tsyringe's root container. */
  container?: DependencyContainer;
  /**
   * Values for your own injection tokens (see `createToken`), registered in the manager's container before any
   * reconciler is built: `provide: [[BILLING_API, billingClient]]`. Default: none.
   */
  provide?: Iterable<readonly [InjectionToken<unknown>, unknown]>;
  /**
   * Time for the controllers' queues (requeueAfterMs, backoff) and the event recorder: a fake clock
   * (`createFakeClock()` from kubeloop/testing) makes them testable without waiting. Registered as `CLOCK`, so
   * reconcilers that read the time (`clock.wallTime()`) follow it too; a clock without `wallTime` gets the system's.
   * Default: the real clock.
   */
  clock?: Clock;
}

/**
 * Owns what controllers share: the informer cache, the clients, the DI container, metrics, health probes and leader
 * election; runs controllers and other runnables.
 *
 * Guarantees (lifecycle): register before start; caches start first, controllers and leader-gated runnables start
 * only once elected (at once without leader election) and only after their caches synced; `/readyz` fails until every
 * informer synced, and while an exec credential plugin hangs (its check `credentials` names the plugin). When the
 * signal aborts (a graceful stop), in controller-runtime's order: the runnables that are not
 * leader-gated stop; the controllers stop taking keys, their reconciles in flight see `context.signal` aborted and get
 * up to `gracefulShutdownTimeoutMs` (default 30 s) to finish, **while the lease is still renewed**; then the caches
 * stop and the lease is released (`releaseOnCancel`, on by default), so a successor starts reconciling only after this
 * replica's reconciles ended (or the timeout passed); the webhook and HTTP servers stop last.
 *
 * Errors: losing the lease without being stopped (not renewed within `renewDeadlineMs`, or taken over) aborts every
 * leader-gated runnable's signal at once, reconciles' included, and `start()` rejects at once with code
 * `ERR_LEADER_ELECTION_LOST`, without the graceful wait, as controller-runtime does: another replica already leads.
 * End the process then, non-zero (the scaffold's main does), so that work ignoring its signal ends too. Registering
 * after start, or two controllers with one name, throws `ERR_MANAGER_REGISTRATION`.
 */
/** A controller as registered: its spec, and once the manager built it, the running Controller. */
interface RegisteredController {
  spec: ControllerSpec;
  reconciler: Reconcile;
  controller?: Controller;
  /** Sources given to the handle's watch() before the controller was built. */
  pending: Source[];
}

export interface Manager extends ControllerRegistry {
  /**
   * A registered controller by its name (`controllerFor(mgr)…build()` returns the same), to add sources to it, even
   * while it runs. Undefined for a name no controller has.
   */
  getController(name: string): ControllerHandle | undefined;
  readonly config: RestConfig;
  readonly client: Client;
  readonly cache: ManagerCache;
  readonly container: DependencyContainer;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly eventRecorder: EventRecorder;
  /**
   * The admission and conversion webhook server: `mgr.webhookServer.register('/validate-pods', handler)` serves a raw
   * handler. Started on every replica with the manager, once anything is registered on it.
   */
  readonly webhookServer: WebhookServer;
  /**
   * Registers a `@Reconciler` class (constructed through the container, its controller built), a `@Webhook` class
   * (constructed through the container, its defaulter and validator served) or a conversion made by
   * `defineConversion` (served at `/convert`). A class may carry both decorators.
   */
  register(what: ReconcilerClass | WebhookClass | Conversion): void;
  /** Adds a runnable; leader-gated by default. */
  add(runnable: Runnable, options?: { needLeaderElection?: boolean }): void;
  addHealthzCheck(name: string, check: Check): void;
  addReadyzCheck(name: string, check: Check): void;
  /**
   * Gives an injection token a value in the manager's container, for reconcilers registered afterwards:
   * `mgr.provide(BILLING_API, client)`. Throws `ERR_MANAGER_REGISTRATION` after start.
   */
  provide<T>(token: InjectionToken<T>, value: T): void;
  /** Runs until the signal aborts (resolves) or leadership is lost (rejects). */
  start(signal: AbortSignal): Promise<void>;
  /** Resolves once this replica leads (at once without leader election). */
  elected(): Promise<void>;
}

function registrationError(message: string): KubeloopError {
  return new KubeloopError('ERR_MANAGER_REGISTRATION', message);
}

/**
 * Builds a reconciler class through a DI container: with its `static inject` tokens when it lists them, else through
 * tsyringe (`@inject(TOKEN)` parameters). What `mgr.register()` does; exported for test harnesses.
 *
 * Errors: `ERR_MANAGER_REGISTRATION`, saying how to give the constructor its tokens.
 */
export function constructReconciler(container: DependencyContainer, cls: ReconcilerClass): Reconcile {
  return construct<Reconcile>(container, cls);
}

/** The injection tokens of a class's constructor: `static inject`, else what tsyringe's `@inject` recorded. */
function constructorTokens(cls: { inject?: readonly unknown[] }): readonly unknown[] {
  if (cls.inject) return cls.inject;
  const recorded = (
    Reflect as unknown as { getOwnMetadata?(key: string, target: unknown): Record<number, unknown> | undefined }
  ).getOwnMetadata?.('injectionTokens', cls);
  if (!recorded) return [];
  // tsyringe records `{ token, multiple, isOptional }` per parameter (or `{ token, transform }`); optional ones may stay unregistered.
  return Object.entries(recorded)
    .toSorted(([a], [b]) => Number(a) - Number(b))
    .map(([, d]) =>
      typeof d === 'object' && d !== null && 'token' in d
        ? (d as { isOptional?: boolean }).isOptional
          ? undefined
          : (d as { token: unknown }).token
        : d,
    );
}

function construct<T>(container: DependencyContainer, cls: { name: string; inject?: readonly unknown[] }): T {
  const tokens = cls.inject;
  // Name the token nothing registered (tsyringe's own message blames the parameter's position only).
  const missing = constructorTokens(cls).find(
    (t) =>
      (typeof t === 'symbol' || typeof t === 'string') && !container.isRegistered(t as InjectionToken<unknown>, true),
  );
  if (missing !== undefined) {
    throw registrationError(
      `cannot construct ${cls.name}: nothing is registered for the token ${tokenName(missing)}. Give it a value with ` +
        `createManager({ provide: [[TOKEN, value]] }) or mgr.provide(TOKEN, value) (reconcileOnce: { services: [[TOKEN, value]] })`,
    );
  }
  try {
    if (tokens) {
      const args = tokens.map((t) => container.resolve(t as InjectionToken<unknown>));
      return new (cls as unknown as new (...a: unknown[]) => T)(...args);
    }
    return container.resolve(cls as unknown as InjectionToken<T>);
  } catch (cause) {
    throw registrationError(
      `cannot construct ${cls.name}: ${(cause as Error).message}. Give each constructor parameter a token with ` +
        `@inject(TOKEN), or list them in \`static inject = [CLIENT, …] as const\` (for toolchains without parameter decorators)`,
    );
  }
}

class ManagerImpl implements Manager {
  readonly client: Client;
  private readonly specs: RegisteredController[] = [];
  private readonly runnables: { runnable: Runnable; leader: boolean }[] = [];
  // Plain objects: the probe server reads them at each request, so checks added later count.
  private readonly healthz: Record<string, Check> = { ping: () => undefined };
  private readonly readyz: Record<string, Check> = {};
  private started = false;
  /** Set by createManager when the webhook server's certificate comes from the built-in provisioner. */
  webhookCertificates: CertProvisioner | undefined;
  private readonly apiServerContact: ApiServerContact;
  private electedResolve!: () => void;
  private readonly electedPromise = new Promise<void>((resolve) => (this.electedResolve = resolve));

  constructor(
    readonly config: RestConfig,
    readonly cache: ManagerCache,
    readonly container: DependencyContainer,
    readonly log: Logger,
    readonly metrics: Metrics,
    readonly eventRecorder: EventRecorder,
    client: Client,
    readonly webhookServer: WebhookServer,
    private readonly options: ManagerOptions,
  ) {
    this.client = client;
    this.apiServerContact = new ApiServerContact(
      config.host,
      createDiscoveryClient(config),
      () => this.cache.health(),
      options.liveness,
    );
    if (this.apiServerContact.enabled) this.healthz['apiserver'] = this.apiServerContact.check;
    // Not ready until every informer synced, nor while one has lost its watch to an error (403, unreachable server).
    // An informer waiting for its resource (a CRD not installed) does not count: the rest of the operator serves,
    // the controllers of that resource wait for it, and the wait shows in health and metrics instead.
    this.readyz['informers'] = () => {
      const pending = this.cache
        .health()
        .filter((h) => !h.waitingForResource && (!h.synced || (!h.watching && h.lastError !== undefined)));
      if (pending.length) {
        const what = pending.map(
          (h) =>
            `${h.resource}${h.namespace ? ` in ${h.namespace}` : ''}${h.synced ? ' (watch failing)' : ' (not synced)'}`,
        );
        throw new KubeloopError('ERR_CACHE_NOT_SYNCED', what.join(', '));
      }
    };
    // Not ready while an exec credential plugin runs on after a request's timeout gave up on it: requests wait for it
    // (informers show the timeouts as their lastError). Names the command only, never its arguments or output.
    this.readyz['credentials'] = () => {
      const stuck = execPluginHealth().filter((h) => h.stuck);
      if (stuck.length) {
        const what = stuck.map(
          (h) =>
            `exec plugin ${h.command} has run for ${Math.round((h.runningForMs ?? 0) / 1000)} s without giving a credential ` +
            `(${h.waitersTimedOut} request${h.waitersTimedOut === 1 ? '' : 's'} timed out waiting for it)`,
        );
        throw new ExecCredentialError(what.join('; '));
      }
    };
  }

  register(what: ReconcilerClass | WebhookClass | Conversion): void {
    if (typeof what !== 'function') {
      if (this.started)
        throw registrationError(
          `the conversion of ${what.kind}.${what.group} was registered after the manager started`,
        );
      this.webhookServer.registerConversion(what);
      return;
    }
    const options = reconcilerOptionsOf(what);
    const webhook = webhookOptionsOf(what);
    if (!options && !webhook) {
      throw registrationError(
        `${what.name} has no @Reconciler({...}) or @Webhook({...}) decorator; use controllerFor(mgr) or webhookFor(mgr) to build it by hand`,
      );
    }
    if (this.started) throw registrationError(`${what.name} was registered after the manager started`);
    const instance = construct<Reconcile>(this.container, what);
    if (webhook) registerWebhookInstance(this, what, instance);
    if (options) this.registerReconciler(options, instance);
  }

  private registerReconciler(
    options: NonNullable<ReturnType<typeof reconcilerOptionsOf>>,
    reconciler: Reconcile,
  ): void {
    const builder = controllerFor(this).for(options.for, { predicates: options.predicates ?? [] });
    for (const owned of options.owns ?? []) {
      if ('resource' in owned)
        builder.owns(owned.resource, { predicates: owned.predicates ?? [], metadataOnly: owned.metadataOnly ?? false });
      else builder.owns(owned);
    }
    for (const w of options.watches ?? [])
      builder.watches(w.resource, w.handler, { predicates: w.predicates ?? [], metadataOnly: w.metadataOnly ?? false });
    for (const source of options.sources ?? []) builder.watchesRawSource(source);
    for (const f of options.eventFilters ?? []) builder.withEventFilter(f);
    for (const i of options.indexes ?? []) builder.withIndex(i.resource, i.field, i.extract);
    if (options.name) builder.named(options.name);
    builder.withOptions(options);
    builder.complete(reconciler);
  }

  addController(spec: ControllerSpec, reconciler: Reconcile): void {
    if (this.started) throw registrationError(`controller ${spec.name} was registered after the manager started`);
    if (this.specs.some((s) => s.spec.name === spec.name)) {
      throw registrationError(
        `two controllers are named ${spec.name}: give one another name (named() or @Reconciler({ name }))`,
      );
    }
    for (const index of spec.indexes ?? []) {
      const existing = this.cache.fieldIndexOf(index.resource, index.field);
      if (existing === index.extract) continue;
      if (existing) {
        throw registrationError(
          `controller ${spec.name} declares the field index ${index.field} of ${index.resource.kind}, which another declaration registered with another function`,
        );
      }
      this.cache.indexField(index.resource, index.field, index.extract);
    }
    this.specs.push({ spec, reconciler, pending: [] });
  }

  getController(name: string): ControllerHandle | undefined {
    const entry = this.specs.find((s) => s.spec.name === name);
    if (!entry) return undefined;
    return {
      name,
      watch: async (source) => {
        if (entry.controller) return entry.controller.watch(source);
        entry.pending.push(source);
      },
    };
  }

  add(runnable: Runnable, options: { needLeaderElection?: boolean } = {}): void {
    if (this.started) throw registrationError('a runnable was added after the manager started');
    this.runnables.push({ runnable, leader: options.needLeaderElection ?? true });
  }

  addHealthzCheck(name: string, check: Check): void {
    this.healthz[name] = check;
  }

  provide<T>(token: InjectionToken<T>, value: T): void {
    if (this.started) throw registrationError(`${tokenName(token)} was provided after the manager started`);
    this.container.register(token, { useValue: value });
  }

  addReadyzCheck(name: string, check: Check): void {
    this.readyz[name] = check;
  }

  elected(): Promise<void> {
    return this.electedPromise;
  }

  async start(signal: AbortSignal): Promise<void> {
    if (this.started) throw new AlreadyStartedError('manager', 'the manager was already started');
    this.started = true;
    const run = new RunState();
    const { stop, afterLeaderWork, webhookStop, servers, fail } = run;
    const unfollow = followAbort(signal, stop);
    const grace = this.options.gracefulShutdownTimeoutMs ?? defaultGracefulShutdownTimeoutMs;
    const unobserve = this.metrics.observeRestClient();
    try {
      this.apiServerContact.start(stop.signal);
      // Not awaited when there is no server to start: then the cache starts within start()'s synchronous part, and a
      // cached read made right after start() finds it started.
      const serving = this.startServers(servers);
      if (serving) await serving;
      // Webhooks answer on every replica, leader or not, and before the caches sync: the API server calls them for
      // the writes that create what the caches will list.
      if (this.webhookServer.hasHandlers || this.options.webhook) {
        const webhooks = this.startWebhookServer(stop.signal, webhookStop.signal, fail);
        run.webhookDone = webhooks.done;
        if (webhooks.listening) await webhooks.listening;
      }
      const controllers = this.buildControllers(grace);
      const background = this.startBackground(afterLeaderWork.signal, stop.signal, fail);
      const runLeading = this.leaderRunner(controllers, run, fail);
      if (this.options.leaderElection?.enabled) {
        background.push(
          (await this.runLeaderElection(this.options.leaderElection, run, afterLeaderWork.signal, runLeading, fail))
            .done,
        );
      } else {
        background.push(runLeading(stop.signal));
      }

      await untilAborted(stop.signal);
      if (run.lost) {
        // As controller-runtime after an unintended loss: no graceful wait, another replica already leads.
        afterLeaderWork.abort();
        this.log.error({ err: run.failure }, 'lost the lease: stopping at once');
      } else {
        await this.stopGracefully(run, afterLeaderWork, background, grace);
      }
    } catch (err) {
      run.failure ??= err as Error;
      stop.abort(err);
      afterLeaderWork.abort();
    } finally {
      unfollow();
      webhookStop.abort();
      const closing = this.closeServing(run.webhookDone, servers, unobserve);
      if (!run.lost) await closing;
    }
    if (run.failure) throw run.failure;
  }

  /**
   * Starts what runs on every replica, leader or not: the cache (until `stopCache`) and the runnables that need no
   * leader election (until `stop`; a failure stops the manager). Returns their promises, to wait for at stop.
   */
  private startBackground(stopCache: AbortSignal, stop: AbortSignal, fail: (err: Error) => void): Promise<unknown>[] {
    const background: Promise<unknown>[] = [this.cache.start(stopCache)];
    for (const r of this.runnables.filter((x) => !x.leader))
      background.push(r.runnable.start(stop).catch((err: Error) => fail(err)));
    return background;
  }

  /**
   * What this replica runs once it leads: the controllers and the leader-gated runnables, until `leading` ends or the
   * manager stops (a failure stops the manager). The returned function resolves `elected()` and records the work in
   * `run.leaderWork`.
   */
  private leaderRunner(
    controllers: readonly Controller[],
    run: RunState,
    fail: (err: Error) => void,
  ): (leading: AbortSignal) => Promise<void> {
    return (leading) => {
      this.electedResolve();
      // The work stops when the manager stops or leadership ends, whichever comes first.
      const work = AbortSignal.any([leading, run.stop.signal]);
      run.leaderWork = Promise.all([
        ...controllers.map((c) => c.start(work).catch((err: Error) => fail(err))),
        ...this.runnables.filter((x) => x.leader).map((r) => r.runnable.start(work).catch((err: Error) => fail(err))),
      ]).then(() => undefined);
      return run.leaderWork;
    };
  }

  /** Once the webhook server has stopped: shuts the event recorder down, closes the servers, stops observing. */
  private async closeServing(
    webhookDone: Promise<unknown>,
    servers: readonly Server[],
    unobserve: () => void,
  ): Promise<void> {
    await webhookDone;
    await this.eventRecorder.shutdown?.();
    await Promise.allSettled(servers.map((s) => s.close()));
    unobserve();
  }

  /**
   * Starts the metrics and probe servers (each unless its address is `0`), adding each to `servers` once it listens.
   * Undefined when both are off.
   */
  private startServers(servers: Server[]): Promise<void> | undefined {
    const log = this.log;
    const metricsAddress = metricsBindAddressOf(this.options);
    const probeAddress = this.options.healthProbeBindAddress ?? ':8081';
    if (metricsAddress === '0' && probeAddress === '0') return undefined;
    return (async () => {
      if (metricsAddress !== '0') servers.push(await startMetricsServer(this.metricsServerOptions(metricsAddress)));
      if (probeAddress !== '0') {
        servers.push(
          await startProbeServer({
            bindAddress: probeAddress,
            checks: { healthz: this.healthz, readyz: this.readyz },
            log,
          }),
        );
      }
      for (const s of servers) log.info({ address: s.address }, 'serving');
    })();
  }

  /** The metrics server's options from the manager's `metrics` option. */
  private metricsServerOptions(bindAddress: string): MetricsServerOptions {
    const { secureServing, authorize, certDir, certName, keyName, profiling } = this.options.metrics ?? {};
    if (profiling && !authorize)
      this.log.warn(
        { bindAddress },
        'profiling is served without authorization: anyone who reaches the port can take CPU profiles and heap snapshots',
      );
    return {
      bindAddress,
      registry: this.metrics.registry,
      ...(secureServing && { secureServing: { certDir, certName, keyName } }),
      ...(authorize && { authorizer: createDelegatedAuthorizer(createClientset(this.config)) }),
      profiling: profiling ?? false,
      log: this.log.child({ component: 'metrics' }),
    };
  }

  /**
   * Starts the webhook server (once a provisioned certificate is written, when there is a provisioner): `done` settles
   * once it stopped, `listening` (without a provisioner) once it listens or failed to, or the manager stops.
   */
  private startWebhookServer(
    stop: AbortSignal,
    webhookStop: AbortSignal,
    fail: (err: Error) => void,
  ): { done: Promise<unknown>; listening?: Promise<unknown> } {
    this.readyz['webhook'] = this.webhookServer.startedChecker();
    // A provisioned certificate may wait for the leader (a first install): start the server once it is written.
    const certificates = this.webhookCertificates?.ready(stop);
    const serve = (): Promise<void> => this.webhookServer.start(webhookStop);
    const done = (certificates ? certificates.then(serve, () => undefined) : serve()).catch((err: Error) => fail(err));
    if (certificates) return { done };
    const listening = Promise.race([
      this.webhookServer.listening().catch(() => undefined),
      new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true })),
    ]);
    return { done, listening };
  }

  /** The registered controllers, and their informers created so that they all start (and sync) together. */
  private buildControllers(grace: number): Controller[] {
    const controllers = this.specs.map((entry) => {
      const { spec, reconciler } = entry;
      entry.controller = new Controller({
        ...spec,
        reconciler,
        informers: this.cache,
        log: this.log.child({ controller: spec.name }),
        gracefulShutdownTimeoutMs: grace,
        metrics: this.metrics.controller,
        queueMetricsProvider: this.metrics.workqueue(spec.name),
        ...(this.options.clock && { clock: this.options.clock }),
      });
      // Added before start: they start with the controller's other sources (watch() only queues them before start).
      for (const source of entry.pending.splice(0)) void entry.controller.watch(source);
      return entry.controller;
    });
    for (const spec of this.specs) {
      for (const source of spec.spec.sources)
        this.cache.informers(source.resource, { metadataOnly: source.metadataOnly ?? false });
    }
    return controllers;
  }

  /**
   * A graceful stop in controller-runtime's order: the leader-gated work (controllers: their reconciles in flight)
   * stops first, within `grace`, while the elector keeps renewing the lease; then the caches and the elector stop, and
   * the elector releases the lease (releaseOnCancel). A successor therefore never reconciles while this replica's
   * reconciles are still running, unless they outlast `grace`.
   */
  private async stopGracefully(
    run: RunState,
    afterLeaderWork: AbortController,
    background: Promise<unknown>[],
    grace: number,
  ): Promise<void> {
    this.log.info('stopping');
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), grace)));
    try {
      if (run.leaderWork && (await Promise.race([run.leaderWork, expired])) === 'timeout') {
        this.log.warn(
          { gracefulShutdownTimeoutMs: grace },
          'leader-gated runnables still running after the graceful shutdown timeout; releasing the lease',
        );
      }
      afterLeaderWork.abort();
      if ((await Promise.race([Promise.allSettled(background), expired])) === 'timeout') {
        this.log.warn(
          { gracefulShutdownTimeoutMs: grace },
          'runnables still running after the graceful shutdown timeout',
        );
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Competes for the lease and runs `runLeading` while this replica holds it; `done` settles when the elector has stopped. `stopElector`
   * aborts once the leader-gated work has stopped: until then the lease is renewed. Losing the lease (not renewed in
   * time, or taken over) stops the manager at once: `run.lost`, and the work's signal aborts.
   */
  private async runLeaderElection(
    le: LeaderElectionOptions,
    run: RunState,
    stopElector: AbortSignal,
    runLeading: (leading: AbortSignal) => Promise<void>,
    fail: (err: Error) => void,
  ): Promise<{ done: Promise<unknown> }> {
    if (!le.id)
      throw new KubeloopError('ERR_MANAGER_OPTIONS', 'leaderElection.id is required when leader election is enabled');
    const log = this.log;
    const namespace = le.namespace ?? (await inClusterNamespace().catch(() => undefined)) ?? 'default';
    const identity = le.identity ?? `${hostname()}_${randomUUID()}`;
    const lock = createLeaseLock({ client: createClientset(this.config), namespace, name: le.id, identity });
    const lost = (err: Error): void => {
      if (run.stop.signal.aborted) return;
      run.lost = true;
      fail(err);
    };
    const elector = createLeaderElector({
      lock,
      name: le.id,
      ...(le.leaseDurationMs !== undefined && { leaseDurationMs: le.leaseDurationMs }),
      ...(le.renewDeadlineMs !== undefined && { renewDeadlineMs: le.renewDeadlineMs }),
      ...(le.retryPeriodMs !== undefined && { retryPeriodMs: le.retryPeriodMs }),
      releaseOnCancel: le.releaseOnCancel ?? true,
      metricsProvider: this.metrics.leaderElection,
      logger: log.child({ component: 'leader-election' }),
      callbacks: {
        // The returned promise settles once the work stopped (or the manager gave up waiting for it): only then is
        // the lease released.
        onStartedLeading: (leading: AbortSignal) => {
          log.info({ lease: `${namespace}/${le.id}`, identity }, 'became leader');
          leading.addEventListener(
            'abort',
            () => {
              if (isLeadershipLost(leading.reason)) lost(leading.reason);
            },
            { once: true },
          );
          const work = runLeading(leading);
          return Promise.race([
            work,
            new Promise<void>((resolve) => stopElector.addEventListener('abort', () => resolve(), { once: true })),
          ]);
        },
        onStoppedLeading: () => {
          if (!stopElector.aborted) {
            lost(
              new KubeloopError(
                'ERR_LEADER_ELECTION_LOST',
                `lost the lease ${namespace}/${le.id}: stopping (another replica takes over)`,
              ),
            );
          }
        },
        onNewLeader: (leader: string) => {
          if (leader !== identity) log.info({ leader }, 'another replica leads');
        },
      },
    });
    return { done: elector.start(stopElector).catch((err: Error) => fail(err)) };
  }
}

/** The state of one `start()`, shared by its steps and its stop sequence. */
class RunState {
  readonly stop = new AbortController();
  /**
   * Stopped only after the leader-gated work has stopped (controller-runtime's order): caches, so that reconciles
   * still running read and write through a live cache; the elector, so that the lease is renewed until then.
   */
  readonly afterLeaderWork = new AbortController();
  /**
   * The webhook server stops last, as in controller-runtime: writes the stopping controllers still make may go
   * through this replica's own webhooks.
   */
  readonly webhookStop = new AbortController();
  /** Settles once the webhook server has stopped (at once when there is none). */
  webhookDone: Promise<unknown> = Promise.resolve();
  /** The metrics and probe servers listening, to close at the end. */
  readonly servers: Server[] = [];
  failure: Error | undefined = undefined;
  /** The lease was lost without the manager being stopped: stop at once, without the graceful wait. */
  lost = false;
  /** The leader-gated runnables (controllers), once this replica leads; settles when they have all stopped. */
  leaderWork: Promise<void> | undefined = undefined;
  /** Records the first failure and stops the manager. */
  readonly fail = (err: Error): void => {
    this.failure ??= err;
    this.stop.abort(err);
  };
}

/** Resolves once `signal` aborts (at once if it has). */
function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** Aborts `controller` when `signal` aborts (at once if it has), with its reason; returns the function that stops following. */
function followAbort(signal: AbortSignal, controller: AbortController): () => void {
  const onAbort = (): void => controller.abort(signal.reason);
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return () => signal.removeEventListener('abort', onAbort);
}

/** controller-runtime's default: how long a stop waits for reconciles in flight and runnables. */
const defaultGracefulShutdownTimeoutMs = 30_000;

/**
 * Informer health as metrics, read from the cache at each scrape: `kubeloop_informer_synced`,
 * `kubeloop_informer_watching`, `kubeloop_informer_waiting_for_resource`, `kubeloop_informer_relists`, `kubeloop_informer_consecutive_failures` and
 * `kubeloop_informer_last_event_age_seconds`, each `{resource,namespace}`, and the number of cached objects,
 * `kubeloop_informer_objects{resource,namespace,metadata_only}`.
 */
function registerInformerMetrics(registry: Registry, cache: ManagerCache): void {
  const gauge = (name: string, help: string, value: (h: FactoryInformerHealth) => number | undefined): void => {
    const metric = new Gauge({
      name,
      help,
      labelNames: ['resource', 'namespace'] as const,
      registers: [],
      collect() {
        this.reset();
        for (const h of cache.health()) {
          const v = value(h);
          if (v !== undefined) this.set({ resource: h.resource, namespace: h.namespace }, v);
        }
      },
    });
    registry.registerMetric(metric);
  };
  gauge('kubeloop_informer_synced', 'Whether the informer has its initial list (1) or not (0).', (h) =>
    h.synced ? 1 : 0,
  );
  gauge('kubeloop_informer_watching', 'Whether the informer has a watch open (1) or not (0).', (h) =>
    h.watching ? 1 : 0,
  );
  gauge(
    'kubeloop_informer_waiting_for_resource',
    'Whether the informer waits for its resource to be served, e.g. a CRD to be installed (1) or not (0).',
    (h) => (h.waitingForResource ? 1 : 0),
  );
  gauge(
    'kubeloop_informer_relists',
    'Lists after the first one (410 Gone, or a watch that could not resume).',
    (h) => h.relists,
  );
  gauge(
    'kubeloop_informer_consecutive_failures',
    'Failed list or watch attempts in a row.',
    (h) => h.consecutiveFailures,
  );
  gauge('kubeloop_informer_last_event_age_seconds', 'Seconds since the last watch event, bookmark or list.', (h) =>
    h.lastEventAgeMs === undefined ? undefined : h.lastEventAgeMs / 1000,
  );
  // A resource may have a whole-object and a metadata-only informer in one namespace: `metadata_only` tells them apart.
  registry.registerMetric(
    new Gauge({
      name: 'kubeloop_informer_objects',
      help: 'Objects the informer holds in its cache.',
      labelNames: ['resource', 'namespace', 'metadata_only'] as const,
      registers: [],
      collect() {
        this.reset();
        for (const c of cache.objectCounts()) {
          this.set({ resource: c.resource, namespace: c.namespace, metadata_only: String(c.metadataOnly) }, c.objects);
        }
      },
    }),
  );
}

/** The clock reconcilers get as `CLOCK`: the given one, with the system's wall-clock time when it has none. */
function wallClockOf(clock: Clock | undefined): WallClock {
  if (!clock) return realClock;
  if (typeof (clock as Partial<WallClock>).wallTime === 'function') return clock as WallClock;
  return { now: () => clock.now(), setTimer: (cb, ms) => clock.setTimer(cb, ms), wallTime: () => new Date() };
}

/** The built-in certificate provisioner: its leader runnable leader-gated, its replica runnable on every replica. */
async function addCertProvisioner(
  mgr: ManagerImpl,
  options: ManagerCertProvisionerOptions,
  server: WebhookServerOptions,
): Promise<CertProvisioner> {
  const { writeCertDir = true, namespace, ...rest } = options;
  const { createCertProvisioner } = await loadCertProvisioner();
  const provisioner = createCertProvisioner({
    ...rest,
    clientset: createClientset(mgr.config),
    namespace: namespace ?? (await inClusterNamespace().catch(() => undefined)) ?? 'default',
    ...(writeCertDir && {
      certDir: server.certDir ?? defaultCertDir,
      certName: server.certName,
      keyName: server.keyName,
    }),
    log: mgr.log.child({ component: 'webhook-certificates' }),
  });
  mgr.add(provisioner.leader, { needLeaderElection: true });
  mgr.add(provisioner.replica, { needLeaderElection: false });
  return provisioner;
}

/** Where metrics are served: `metrics.bindAddress` or `metricsBindAddress` (never both), else `:8080`. */
function metricsBindAddressOf(options: ManagerOptions): string {
  return options.metrics?.bindAddress ?? options.metricsBindAddress ?? ':8080';
}

/** Refuses metrics options that cannot work: two bind addresses, or authorization over plain HTTP. */
function checkMetricsOptions(options: ManagerOptions): void {
  const metrics = options.metrics;
  if (!metrics) return;
  if (metrics.bindAddress !== undefined && options.metricsBindAddress !== undefined) {
    throw new KubeloopError(
      'ERR_MANAGER_OPTIONS',
      'give metrics.bindAddress or its shorthand metricsBindAddress, not both',
    );
  }
  if (metrics.authorize && !metrics.secureServing) {
    throw new KubeloopError(
      'ERR_MANAGER_OPTIONS',
      'metrics.authorize needs metrics.secureServing: bearer tokens are not accepted over plain HTTP',
    );
  }
}

/**
 * Makes a manager: resolves the config, creates the cache, the clients and the DI container (a child of
 * `options.container`, with the tokens CLIENT, CLIENTSET, DYNAMIC_CLIENT, DISCOVERY_CLIENT, REST_CONFIG, LOGGER,
 * EVENT_RECORDER and MANAGER registered). Nothing runs until `start()`.
 */
export async function createManager(options: ManagerOptions = {}): Promise<Manager> {
  checkMetricsOptions(options);
  const config = options.config ?? (await loadConfig());
  const log = options.logger ?? createDefaultLogger();
  // Process and runtime metrics (their event-loop monitor wakes the process 100 times a second) only when served.
  const metrics = createMetrics(undefined, { defaultMetrics: metricsBindAddressOf(options) !== '0' });
  const cache = new ManagerCache(config, options.cache, log.child({ component: 'cache' }));
  registerInformerMetrics(metrics.registry, cache);
  const discovery = createDiscoveryClient(config);
  const registry = new ResourceRegistry(createRESTMapper(discovery));
  const ownWrites = options.client?.readYourOwnWrites ?? true;
  const client = new CachedClient(
    config,
    cache,
    registry,
    ownWrites === false ? undefined : new ReadYourWrites(ownWrites === true ? {} : ownWrites),
  );
  const eventRecorder = createEventRecorder({
    config,
    component: options.leaderElection?.id ?? 'kubeloop-manager',
    log,
    ...(options.clock && { clock: options.clock }),
  });
  const container = (options.container ?? rootContainer).createChildContainer();
  const { certProvisioner, ...webhookOptions } = options.webhook ?? {};
  const webhookServer = createWebhookServer({
    ...webhookOptions,
    registry: metrics.registry,
    log: log.child({ component: 'webhook' }),
  });
  const manager = new ManagerImpl(
    config,
    cache,
    container,
    log,
    metrics,
    eventRecorder,
    client,
    webhookServer,
    options,
  );
  if (certProvisioner) manager.webhookCertificates = await addCertProvisioner(manager, certProvisioner, webhookOptions);
  container.register(REST_CONFIG, { useValue: config });
  container.register(CLIENT, { useValue: client });
  container.register(CLIENTSET, { useValue: createClientset(config) });
  container.register(DYNAMIC_CLIENT, { useValue: createDynamicClient(config) });
  container.register(DISCOVERY_CLIENT, { useValue: discovery });
  container.register(LOGGER, { useValue: log });
  container.register(EVENT_RECORDER, { useValue: eventRecorder });
  container.register(MANAGER, { useValue: manager });
  container.register(CLOCK, { useValue: wallClockOf(options.clock) });
  for (const [token, value] of options.provide ?? []) container.register(token, { useValue: value });
  return manager;
}
