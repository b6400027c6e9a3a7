import {
  createClientsetFromFactory,
  type Clientset,
  type DynamicClient,
  type KubeList,
  type KubeObject,
  type ResourceClientFactory,
  type ResourceDescriptor,
  type Unstructured,
} from '../client/index.js';
import type { Client } from '../manager/index.js';
import { FactoryClient, type FakeFieldIndex } from './client.js';
import { createFakeResourceClientFactory, type FakeBackend } from './fake-factory.js';
import {
  InterceptorChain,
  type CallMatch,
  type FakeAction,
  type InterceptOptions,
  type Interceptor,
  type InterceptorHandle,
  type InterceptorHandler,
} from './interceptors.js';
import { ObjectTracker } from './tracker.js';

/** Options of {@link createFakeClient}. */
export interface FakeClientOptions {
  /**
   * The starting state: objects of any kind, typed (`ConfigMap`, `Deployment`, a `defineResource` type) or written
   * inline with their fields (`{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: {…} }`).
   * Each needs apiVersion, kind, name, and a namespace if namespaced. Default: none.
   */
  objects?: readonly (KubeObject | Unstructured)[];
  /**
   * Custom resources to serve besides the built-in ones: `defineResource(…)` or `defineCustomResource(…)` descriptors.
   * Objects of the latter are validated against their schema on create, update and patch, as the API server does.
   * Default: none.
   */
  resources?: readonly ResourceDescriptor[];
  /** Interceptors, in order (see {@link FakeClient.intercept}). Default: none. */
  interceptors?: readonly Interceptor[];
  /** Field indexes for `list(…, { matchingFields })`, as declared with `mgr.cache.indexField`. Default: none. */
  indexes?: readonly FakeFieldIndex[];
  /** Wall-clock time for timestamps. Default: `() => new Date()`. */
  now?: () => Date;
  /** The field manager of writes that name none. Default: `kubeloop` (what the API server derives from kubeloop's User-Agent). */
  defaultFieldManager?: string;
}

/**
 * A {@link Client} over an in-memory API server ({@link ObjectTracker}), with Clientset and DynamicClient views of the
 * same objects, a record of every call, and interceptors.
 */
export interface FakeClient extends Client {
  /** The objects, and the server's rules. `tracker.add(obj)` puts an object in without recording an action. */
  readonly tracker: ObjectTracker;
  /** The ResourceClientFactory everything here is built on. It (or `clientset`) can feed `createSharedInformerFactory`. */
  readonly factory: ResourceClientFactory;
  /** A typed Clientset over the same objects (`createClientsetFromFactory(factory)`): `createSharedInformerFactory(client.clientset)`. */
  readonly clientset: Clientset;
  /** A DynamicClient over the same objects. */
  readonly dynamic: DynamicClient;
  /** Every call made through this client and its views, in order (reads included). */
  readonly actions: readonly FakeAction[];
  /** Forgets the calls recorded so far. */
  clearActions(): void;
  /**
   * Runs matching calls through `handler` (after the interceptors registered before it):
   * `client.intercept({ verb: 'update', resource: Widget }, failWith(409), { nth: 3 })` fails the third update of
   * Widgets with a Conflict. Interceptors see the call as a {@link FakeAction}.
   */
  intercept(match: CallMatch, handler: InterceptorHandler, options?: InterceptOptions): InterceptorHandle;
}

class FakeClientImpl extends FactoryClient implements FakeClient {
  readonly tracker: ObjectTracker;
  readonly factory: ResourceClientFactory;
  readonly clientset: Clientset;
  readonly dynamic: DynamicClient;
  private readonly backend: FakeBackend;

  constructor(backend: FakeBackend, factory: ResourceClientFactory, indexes: readonly FakeFieldIndex[]) {
    super(factory, backend.tracker.registry, indexes);
    this.backend = backend;
    this.tracker = backend.tracker;
    this.factory = factory;
    this.clientset = createClientsetFromFactory(factory);
    this.dynamic = {
      resource: (gvr) =>
        factory.resource<Unstructured, KubeList<Unstructured>>({
          group: gvr.group,
          version: gvr.version,
          plural: gvr.resource,
        }),
    };
  }

  get actions(): readonly FakeAction[] {
    return this.backend.actions;
  }

  clearActions(): void {
    this.backend.actions.length = 0;
  }

  intercept(match: CallMatch, handler: InterceptorHandler, options: InterceptOptions = {}): InterceptorHandle {
    return this.backend.interceptors.add({ match, handle: handler, ...options });
  }
}

/**
 * A fake of the generic `Client` for unit tests of reconcilers: `createFakeClient({ objects: [webapp], resources: [WebApp] })`.
 * Objects live in an in-memory {@link ObjectTracker} that follows the API server's rules where tests depend on them
 * (see its Guarantees and Caveats); errors are the `ApiError`s the real client throws, so `isNotFound`, `isConflict`
 * and the rest behave identically.
 *
 * Guarantees: reads come straight from the tracker (the real manager's `CLIENT` reads its informer cache, which may
 * lag behind a write; the fake never lags) and return copies; `uncached` and `unsafeDisableDeepCopy` are accepted and
 * make no difference. Every call, through this client or its `clientset`, `dynamic` and `factory` views, is recorded
 * in `actions` and passes the interceptors.
 *
 * Errors: a starting object of a kind the fake does not know (built-in kinds are known; pass custom ones in
 * `resources`) throws an `ArgumentError` (`ERR_KUBE_INVALID_ARGUMENT`, a TypeError); so does one with a
 * deletionTimestamp and no finalizers. A write of an object whose
 * kind is unknown rejects with `NoMatchError`, as the real client does for a kind discovery does not know.
 */
export function createFakeClient(options: FakeClientOptions = {}): FakeClient {
  const tracker = new ObjectTracker({
    ...(options.resources && { resources: options.resources }),
    ...(options.now && { now: options.now }),
    ...(options.defaultFieldManager && { defaultFieldManager: options.defaultFieldManager }),
  });
  for (const obj of options.objects ?? []) tracker.add(obj);
  const backend: FakeBackend = { tracker, interceptors: new InterceptorChain(), actions: [] };
  for (const interceptor of options.interceptors ?? []) backend.interceptors.add(interceptor);
  return new FakeClientImpl(backend, createFakeResourceClientFactory(backend), options.indexes ?? []);
}
