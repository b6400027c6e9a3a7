import { injectable } from 'tsyringe';
import { ArgumentError, type KubeObject, type ResourceDescriptor } from '../client/index.js';
import type { DeepReadonly } from '../cache/index.js';
import type { ControllerOptions } from './controller-options.js';
import type { EventHandler } from './handlers.js';
import type { PredicateLike } from './predicates.js';
import type { Reconcile } from './reconcile.js';
import type { Source } from './source.js';

/** An RBAC rule a reconciler needs beyond what `for`/`owns`/`watches` imply (for `kubeloop generate manifests`). */
export interface RbacRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
  /** Cluster-wide rule (ClusterRole) even when the operator is namespaced. Default: false. */
  clusterScoped?: boolean;
}

/** A secondary resource watched with a handler of its own. */
export interface WatchSpec {
  resource: ResourceDescriptor;
  handler: EventHandler;
  predicates?: PredicateLike[];
  /** Watch through a metadata-only informer (handlers see `PartialObjectMetadata`). Default: false. */
  metadataOnly?: boolean;
}

/** An owned resource with options: `{ resource: Secret, metadataOnly: true }`. */
export interface OwnsSpec {
  resource: ResourceDescriptor;
  predicates?: PredicateLike[];
  /** Cache only the owned objects' metadata (enough for owner references). Default: false. */
  metadataOnly?: boolean;
}

/** The descriptor of an `owns` entry. */
export function ownedResource(owned: ResourceDescriptor | OwnsSpec): ResourceDescriptor {
  return 'resource' in owned ? owned.resource : owned;
}

/**
 * A field index a reconciler lists with: `client.list(Pod, { matchingFields: { 'spec.nodeName': 'n1' } })` reads it.
 * Make one typed with {@link defineFieldIndex}. The manager registers it in its cache (as `mgr.cache.indexField`);
 * `reconcileOnce` and the harnesses of kubeloop/testing give it to their fake client.
 */
export interface FieldIndexSpec<T extends KubeObject = KubeObject> {
  resource: ResourceDescriptor<T>;
  /** The name used in `matchingFields`, by convention the field's path: `spec.nodeName`. */
  field: string;
  /** The values an object is indexed under (several for a list field; `[]` for none). */
  extract(obj: DeepReadonly<T>): string[];
}

/** A typed {@link FieldIndexSpec}: `defineFieldIndex(Job, '.metadata.controller', (job) => [...])`. */
export function defineFieldIndex<T extends KubeObject>(
  resource: ResourceDescriptor<T>,
  field: string,
  extract: (obj: DeepReadonly<T>) => string[],
): FieldIndexSpec<T> {
  return { resource, field, extract };
}

/**
 * What `@Reconciler({...})` records: everything the builder can say, as plain data: what to watch, and how the
 * controller runs ({@link ControllerOptions}, the builder's `withOptions`).
 */
export interface ReconcilerOptions extends ControllerOptions {
  /** The primary resource: its events enqueue the object's own key. */
  for: ResourceDescriptor;
  /**
   * Resources this controller creates and owns (controller owner reference): their events enqueue the owner. An entry
   * `{ resource: Secret, metadataOnly: true }` (or `metadataOnly(Secret)`) watches only their metadata.
   */
  owns?: (ResourceDescriptor | OwnsSpec)[];
  /** Other resources and how their events map to requests. */
  watches?: WatchSpec[];
  /** Sources besides informers: `channelSource()`, `pollingSource({ everyMs, list })`, your own. */
  sources?: Source[];
  /** The controller's name, in metrics and logs. Default: the `for` kind in lower case. Unique per manager. */
  name?: string;
  /** Filters for events of the `for` resource. */
  predicates?: PredicateLike[];
  /** Filters for every watched resource's events (controller-runtime's WithEventFilter). */
  eventFilters?: PredicateLike[];
  /** Extra RBAC rules for generated manifests (finalizers, events and leases are implied and need not be listed). */
  rbac?: RbacRule[];
  /**
   * Field indexes the reconciler lists with (the builder's `withIndex`): registered in the manager's cache when the
   * class is registered, and in kubeloop/testing's fake client by `reconcileOnce`. Two controllers may declare the
   * same index with the same `extract` function. Default: none.
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each entry keeps its own resource's type
  indexes?: FieldIndexSpec<any>[];
}

/** A class whose instances reconcile, with its constructor's injection tokens when parameter decorators are not used. */
export interface ReconcilerClass<R extends Reconcile = Reconcile> {
  new (...args: never[]): R;
  /** Injection tokens of the constructor's parameters, in order: `static inject = [CLIENT, CLIENTSET] as const`. */
  inject?: readonly unknown[];
}

const metadataKey = Symbol.for('kubeloop.reconciler.options');

/**
 * Marks a class as a reconciler and records its options as plain static metadata (the CLI reads it to generate RBAC
 * without running anything). It makes the class injectable and does nothing else: the manager turns the metadata into
 * builder calls when the class is registered (`mgr.register(WidgetReconciler)`).
 *
 * Works as a legacy (`experimentalDecorators`) and as a standard (TC39) class decorator.
 */
export function Reconciler(options: ReconcilerOptions) {
  return function decorate<C extends abstract new (...args: never[]) => unknown>(
    target: C,
    _context?: ClassDecoratorContext<C>,
  ): C {
    if (!options?.for) throw new ArgumentError(`@Reconciler on ${target.name}: the "for" resource is required`);
    Object.defineProperty(target, metadataKey, { value: Object.freeze({ ...options }), enumerable: false });
    injectable()(target as unknown as new (...args: unknown[]) => unknown);
    return target;
  };
}

/** The options recorded by `@Reconciler`, or undefined for an undecorated class. */
export function reconcilerOptionsOf(target: unknown): ReconcilerOptions | undefined {
  return typeof target === 'function'
    ? (target as unknown as Record<symbol, ReconcilerOptions | undefined>)[metadataKey]
    : undefined;
}

/**
 * The interface of a reconciler class, sharing its name with the decorator (as in controller-runtime, where
 * `reconcile.Reconciler` is the interface): `class WidgetReconciler implements Reconciler`.
 */
export interface Reconciler extends Reconcile {}
