import type { KubeObject } from '../client/index.js';
import {
  labelSelectorFromObject,
  parseLabelSelector,
  type DeepReadonly,
  type LabelSelectorObject,
} from '../cache/index.js';

/** An object as handlers and predicates see it: the cached one, shared and read-only. */
export type CachedObject = DeepReadonly<KubeObject>;

export interface CreateEvent {
  object: CachedObject;
}
export interface UpdateEvent {
  objectOld: CachedObject;
  objectNew: CachedObject;
}
export interface DeleteEvent {
  object: CachedObject;
  /** True when the final state is unknown (the object vanished during a relist; `object` is its last known state). */
  deleteStateUnknown: boolean;
}
export interface GenericEvent {
  object: CachedObject;
}

/**
 * Filters events before they become reconcile requests. Each method is optional; a missing one lets the event
 * through. A plain function `(obj) => boolean` is also accepted where predicates are: it is applied to every event's
 * (new) object.
 */
export interface Predicate {
  create?(event: CreateEvent): boolean;
  update?(event: UpdateEvent): boolean;
  delete?(event: DeleteEvent): boolean;
  generic?(event: GenericEvent): boolean;
}

/** A predicate object, or a function of the event's (new) object. */
export type PredicateLike = Predicate | ((obj: CachedObject) => boolean);

/** Every method of a predicate, each defaulting to "let through": what the controller calls. */
export type PredicateFuncs = Required<Predicate>;

const pass = (): boolean => true;

/**
 * Normalizes a {@link PredicateLike} into an object with all four methods. A plain function is applied to the
 * object of create, delete and generic events and to the new object of update events; a missing method passes.
 */
export function toPredicate(p: PredicateLike): PredicateFuncs {
  if (typeof p === 'function') {
    return {
      create: (e) => p(e.object),
      update: (e) => p(e.objectNew),
      delete: (e) => p(e.object),
      generic: (e) => p(e.object),
    };
  }
  return {
    create: p.create ? (e) => p.create!(e) : pass,
    update: p.update ? (e) => p.update!(e) : pass,
    delete: p.delete ? (e) => p.delete!(e) : pass,
    generic: p.generic ? (e) => p.generic!(e) : pass,
  };
}

/** The kinds of events, and the event each carries. */
export interface PredicateEvents {
  create: CreateEvent;
  update: UpdateEvent;
  delete: DeleteEvent;
  generic: GenericEvent;
}

/**
 * True when every predicate lets the event through (so true for an empty list): what a controller checks before it
 * hands an event to its handler. Stops at the first predicate that says no.
 */
export function matchesAll<K extends keyof PredicateEvents>(
  predicates: readonly PredicateLike[],
  kind: K,
  event: PredicateEvents[K],
): boolean {
  for (const p of predicates) {
    if (!callPredicate(p, kind, event)) return false;
  }
  return true;
}

function callPredicate<K extends keyof PredicateEvents>(p: PredicateLike, kind: K, event: PredicateEvents[K]): boolean {
  if (typeof p === 'function') {
    return p(kind === 'update' ? (event as UpdateEvent).objectNew : (event as CreateEvent).object);
  }
  const method = p[kind] as ((e: PredicateEvents[K]) => boolean) | undefined;
  return method ? method.call(p, event) : true;
}

/** A predicate that decides update events only: create, delete and generic events pass. */
function onUpdate(changed: (objectOld: CachedObject, objectNew: CachedObject) => boolean): PredicateFuncs {
  return { create: pass, update: (e) => changed(e.objectOld, e.objectNew), delete: pass, generic: pass };
}

/**
 * Lets an update through only when `metadata.generation` changed: changes of the spec, not of status or metadata
 * alone. Create, delete and generic events pass.
 *
 * Caveats: an object whose kind has no generation (ConfigMap, Secret, …) never passes an update, as both sides are
 * absent. Use {@link or} with {@link labelsChanged} or {@link annotationsChanged} to also react to metadata changes.
 */
export function generationChanged(): PredicateFuncs {
  return onUpdate((o, n) => o.metadata?.generation !== n.metadata?.generation);
}

/**
 * Lets an update through only when `metadata.resourceVersion` changed. Periodic resyncs (the same object delivered
 * again) are filtered out; every real change passes. Create, delete and generic events pass.
 */
export function resourceVersionChanged(): PredicateFuncs {
  return onUpdate((o, n) => o.metadata?.resourceVersion !== n.metadata?.resourceVersion);
}

/**
 * Lets an update through only when `metadata.labels` changed. An absent map and an empty one are equal. Create,
 * delete and generic events pass.
 */
export function labelsChanged(): PredicateFuncs {
  return onUpdate((o, n) => !sameStringMap(o.metadata?.labels, n.metadata?.labels));
}

/**
 * Lets an update through only when `metadata.annotations` changed. An absent map and an empty one are equal.
 * Create, delete and generic events pass.
 */
export function annotationsChanged(): PredicateFuncs {
  return onUpdate((o, n) => !sameStringMap(o.metadata?.annotations, n.metadata?.annotations));
}

function sameStringMap(
  a: Readonly<Record<string, string>> | undefined,
  b: Readonly<Record<string, string>> | undefined,
): boolean {
  if (a === b) return true;
  const ak = Object.keys(a ?? {});
  const bk = Object.keys(b ?? {});
  if (ak.length !== bk.length) return false;
  for (const k of ak) {
    if (!b || !Object.hasOwn(b, k) || b[k] !== a![k]) return false;
  }
  return true;
}

/**
 * Lets an event through when the object's labels match the selector: the object of create, delete and generic
 * events, the new object of update events. Takes the API server's text syntax (`app=web,tier in (a,b)`) or a
 * metav1.LabelSelector object (`{ matchLabels, matchExpressions }`); an empty selector matches everything.
 *
 * Errors: throws an InvalidSelectorError (code `ERR_KUBE_INVALID_SELECTOR`) at once for a selector that cannot
 * be parsed, rather than filtering every event out later.
 */
export function labelSelector(selector: string | LabelSelectorObject): PredicateFuncs {
  const parsed = typeof selector === 'string' ? parseLabelSelector(selector) : labelSelectorFromObject(selector);
  return toPredicate((obj) => parsed.matches(obj.metadata?.labels));
}

/** Lets an event through when every predicate does (so always, with none). Stops at the first that says no. */
export function and(...predicates: PredicateLike[]): PredicateFuncs {
  const ps = predicates.map(toPredicate);
  return {
    create: (e) => ps.every((p) => p.create(e)),
    update: (e) => ps.every((p) => p.update(e)),
    delete: (e) => ps.every((p) => p.delete(e)),
    generic: (e) => ps.every((p) => p.generic(e)),
  };
}

/** Lets an event through when any predicate does (so never, with none). Stops at the first that says yes. */
export function or(...predicates: PredicateLike[]): PredicateFuncs {
  const ps = predicates.map(toPredicate);
  return {
    create: (e) => ps.some((p) => p.create(e)),
    update: (e) => ps.some((p) => p.update(e)),
    delete: (e) => ps.some((p) => p.delete(e)),
    generic: (e) => ps.some((p) => p.generic(e)),
  };
}

/**
 * Lets an event through when the predicate does not. A method the predicate lacks counts as "let through", so its
 * negation filters those events out: `not({ update: … })` drops every create, delete and generic event.
 */
export function not(predicate: PredicateLike): PredicateFuncs {
  const p = toPredicate(predicate);
  return {
    create: (e) => !p.create(e),
    update: (e) => !p.update(e),
    delete: (e) => !p.delete(e),
    generic: (e) => !p.generic(e),
  };
}
