/**
 * kubeloop/manager: what operator authors write against. A Manager owns the shared informer cache, the clients, a
 * tsyringe DI container, metrics, health probes and leader election, and runs controllers built from `@Reconciler`
 * classes (or by hand with `controllerFor(mgr)`).
 *
 * ```ts
 * @Reconciler({ for: Widget, owns: [Deployment] })
 * class WidgetReconciler implements Reconciler {
 *   constructor(@inject(CLIENT) private client: Client) {}
 *   async reconcile(req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult> { … }
 * }
 * const mgr = await createManager({ leaderElection: { enabled: true, id: 'widget-operator' } });
 * mgr.register(WidgetReconciler);
 * await mgr.start(setupSignalHandler());
 * ```
 */
import 'reflect-metadata';

export { inject, type InjectionToken } from 'tsyringe';
export {
  createManager,
  type Manager,
  type ManagerOptions,
  type MetricsOptions,
  type LeaderElectionOptions,
  type Runnable,
} from './manager.js';
export { livenessDefaults, type LivenessOptions } from './liveness.js';
export {
  Reconciler,
  defineFieldIndex,
  type FieldIndexSpec,
  type OwnsSpec,
  type ReconcilerOptions,
  type ReconcilerClass,
  type RbacRule,
  type WatchSpec,
} from './decorator.js';
export {
  TerminalError,
  isTerminalError,
  applyReconcileOutcome,
  type ReconcileDisposition,
  type ReconcileEnding,
  type OutcomeQueue,
  type Reconcile,
  type ReconcileRequest,
  type ReconcileResult,
  type ReconcileContext,
} from './reconcile.js';
export type { ControllerOptions } from './controller-options.js';
export {
  controllerFor,
  ControllerBuilder,
  type ForOptions,
  type WatchOptions,
  type ControllerRegistry,
  type ControllerSpec,
  type ControllerHandle,
} from './builder.js';
export type { ByObjectOptions, CacheOptions, CachedList, InformerLookup, InformerObjectCount } from './cache.js';
export { compareResourceVersions, type ReadYourOwnWritesOptions } from './read-your-writes.js';
export { ManagerCache } from './cache.js';
export type { Client, ClientGetOptions, ClientListOptions, ClientPatchOptions, StatusWriter } from './client-types.js';
export { metadataOnly, isMetadataOnly } from './metadata-only.js';
export {
  CLIENT,
  CLIENTSET,
  CLOCK,
  DYNAMIC_CLIENT,
  DISCOVERY_CLIENT,
  REST_CONFIG,
  LOGGER,
  EVENT_RECORDER,
  MANAGER,
  createToken,
} from './tokens.js';
export type {
  Predicate,
  PredicateLike,
  CachedObject,
  CreateEvent,
  UpdateEvent,
  DeleteEvent,
  GenericEvent,
} from './predicates.js';
export type { EventHandler, RequestQueue, RequestQueueAddOptions } from './handlers.js';
export {
  channelSource,
  pollingSource,
  informerSource,
  type Source,
  type SourceContext,
  type SourceItem,
  type ChannelSource,
  type GenericSourceOptions,
  type PollingSourceOptions,
  type InformerSourceOptions,
} from './source.js';
export {
  matchesAll,
  generationChanged,
  resourceVersionChanged,
  labelsChanged,
  annotationsChanged,
  labelSelector,
  and,
  or,
  not,
  type PredicateFuncs,
  type PredicateEvents,
} from './predicates.js';
export {
  enqueueRequestForObject,
  enqueueRequestForOwner,
  enqueueRequestsFromMapFunc,
  type OwnerResource,
  type EnqueueRequestForOwnerOptions,
  type MapFunc,
  type AsyncEventHandler,
  type EnqueueRequestsFromMapFuncOptions,
} from './handlers.js';
export {
  setControllerReference,
  setOwnerReference,
  removeOwnerReference,
  getControllerOf,
  hasControllerReference,
  hasOwnerReference,
  addFinalizer,
  removeFinalizer,
  containsFinalizer,
  createOrUpdate,
  createOrPatch,
  setStatusCondition,
  findStatusCondition,
  removeStatusCondition,
  isStatusConditionPresentAndEqual,
  isStatusConditionTrue,
  isStatusConditionFalse,
  AlreadyOwnedError,
  OwnerReferenceError,
  MutateKeyError,
  UnknownResourceError,
  type OwnerObject,
  type OwnerReferenceOptions,
  type OperationResult,
  type PatchOperationResult,
  type MutateFn,
  type CreateOrUpdateOptions,
  type ConditionInput,
} from './controllerutil.js';
export { finalizer, type FinalizerEvent } from './finalizer.js';
export {
  createEventRecorder,
  type EventRecorder,
  type EventRecorderOptions,
  type EventType,
  type EventSubject,
  type EventInput,
  type EventSink,
  type EventLogger,
} from './events.js';
export {
  createMetrics,
  type Metrics,
  type CreateMetricsOptions,
  type ReconcileOutcome,
  type ControllerMetricsRecorder,
  type LeaderElectionMetricsAdapter,
} from './metrics.js';
export {
  startProbeServer,
  startMetricsServer,
  BindAddressError,
  type Check,
  type Server,
  type ProbeServerOptions,
  type MetricsServerOptions,
} from './servers.js';
export {
  createDelegatedAuthorizer,
  authCacheTtls,
  reviewRetryBackoff,
  type RequestAuthorizer,
  type AuthDecision,
  type AuthenticatedUser,
  type ReviewClients,
} from './metrics-auth.js';
export { defaultMetricsCertDir, type MetricsCertificateOptions } from './internal/metrics-tls.js';
export { setupSignalHandler, createSignalHandler, SignalReceivedError } from './signals.js';
export { createDefaultLogger, redactSecrets, type DefaultLoggerOptions } from './logger.js';
