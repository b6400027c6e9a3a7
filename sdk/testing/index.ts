/**
 * kubeloop/testing: fakes and helpers for operator authors' tests, and fault injection against a real API server.
 *
 * - {@link createFakeClient}: the generic `Client` over an in-memory API server ({@link ObjectTracker}), started from
 *   objects of any kind, with a typed Clientset, a DynamicClient and a `ResourceClientFactory` over the same objects
 *   (the Clientset or the factory can feed `createSharedInformerFactory`). It follows the
 *   server's rules where reconcilers depend on them (resourceVersions and 409 Conflicts, generation, the status
 *   subresource, finalizers and deletionTimestamp, selectors, patches, server-side apply, watches) and throws the same
 *   `ApiError`s. A conformance suite runs the same cases against it and against kube-apiserver.
 * - Interceptors ({@link failWith}, {@link delayBy}, or any function) fail, delay or observe chosen calls; every call
 *   is recorded as a {@link FakeAction}.
 * - {@link reconcileOnce} and {@link reconcileUntilStable}: run a `@Reconciler` class, built through the manager's DI
 *   tokens, against the fake, and see its result, API calls, Events and logs.
 * - {@link createControllerHarness} and {@link createFakeClock}: a controller's queue on a fake clock, so
 *   `requeueAfterMs` and backoff are tested without waiting.
 * - {@link startFaultProxy}: a loopback proxy that stalls, drops, slows, or (HTTP layer) answers 410, 429 or 5xx.
 *
 * ```ts
 * const { result, writes, error } = await reconcileOnce(WebAppReconciler, {
 *   objects: [webapp],
 *   request: { namespace: 'ns', name: 'web' },
 * });
 * expect(writes.map(describeAction)).toEqual(['create deployments.apps ns', 'create services ns', 'patch webapps.apps.kubeloop.dev/status ns/web (merge)']);
 * ```
 *
 * ## Differences from the real API server (the fake's Caveats)
 * - No admission, defaulting or schema validation: objects come back as sent (a real Deployment gains `strategy`,
 *   `revisionHistoryLimit`, …; a real Service gains a `clusterIP`). Names are checked (DNS subdomain; DNS label for
 *   Namespaces and Services; path segment for RBAC kinds); nothing else is.
 * - No controllers, kubelet, garbage collector or namespace lifecycle (as in envtest, which runs no
 *   controller-manager): Deployments never get Pods or status, owner references are kept but dependents are never
 *   deleted, Pods are deleted at once (no graceful termination), objects may be created in namespaces that do not exist.
 * - No version conversion: each group-version of a kind is stored apart.
 * - Field selectors are parsed with the server's grammar (kubeloop/client's parseFieldSelector) but accept any field
 *   path (the server only those each kind declares); lists ignore
 *   `resourceVersion` and pages are not a consistent snapshot; watches send no periodic bookmarks.
 * - Strategic merge patch knows the built-in kinds' list merge keys by field name (`containers` by `name`, `ports` by
 *   `containerPort` or `port`, …) and supports `$patch: delete|replace`, `$deleteFromPrimitiveList` and `$retainKeys`;
 *   `$setElementOrder` is ignored. Custom resources answer 415, as the server does.
 * - Server-side apply tracks ownership of leaf fields and keyed-list items; custom resources' lists are atomic (the
 *   fake does not read `x-kubernetes-list-type` from CRDs); `managedFields` sent by a client are ignored.
 * - `generation` is kept for custom resources and for the built-in kinds that have one (Deployment, Pod, Job, …).
 * - Only the `status` subresource is served (no `scale`, `eviction`, `log`).
 * - Reads never lag: the manager's `CLIENT` reads an informer cache that may not yet show a write.
 */
import 'reflect-metadata';

export { createFakeClient, type FakeClient, type FakeClientOptions } from './fake-client.js';
export { fieldIndex, type FakeFieldIndex } from './client.js';
export {
  ObjectTracker,
  type ObjectTrackerOptions,
  type TrackerWriteOptions,
  type TrackerPatchOptions,
  type ResourceInfo,
} from './tracker.js';
export { createFakeResourceClientFactory, type FakeBackend } from './fake-factory.js';
export {
  intercept,
  failWith,
  delayBy,
  describeAction,
  isWriteAction,
  matchesCall,
  InterceptorChain,
  type FakeAction,
  type FakeVerb,
  type CallMatch,
  type Interceptor,
  type InterceptorHandler,
  type InterceptorHandle,
  type InterceptOptions,
  type FailWithOptions,
} from './interceptors.js';
export {
  reconcileOnce,
  reconcileUntilStable,
  createControllerHarness,
  fakeRestConfig,
  type ReconcileTestOptions,
  type ReconcileOnceResult,
  type ReconcileUntilStableOptions,
  type ReconcileUntilStableResult,
  type ControllerHarness,
  type ControllerHarnessOptions,
  type HarnessReconcile,
} from './reconcile.js';
export {
  createRecordingEventRecorder,
  type RecordingEventRecorder,
  type RecordedEvent,
  type RecordedEventObject,
} from './events.js';
export {
  createCapturingLogger,
  createSilentLogger,
  type CapturingLogger,
  type CapturingLoggerOptions,
  type CapturedLog,
} from './logger.js';
export {
  startFaultProxy,
  type FaultProxy,
  type FaultProxyOptions,
  type FaultProxyMode,
  type HttpFault,
  type HttpFaultMatch,
  type HttpFaultRule,
  type ProxiedRequest,
} from './fault-proxy.js';
/**
 * A clock that moves only when told to (re-exported from kubeloop/workqueue). Give it to a queue
 * (`createRateLimitingQueue({ clock })`), a rate limiter, the event recorder, or {@link createControllerHarness}.
 */
export {
  createFakeClock,
  type FakeClock,
  type FakeClockOptions,
  type Clock,
  type WallClock,
} from '../workqueue/index.js';
