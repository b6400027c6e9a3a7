import type { ApiError, PatchType, ResourceDescriptor, ResourceLocation } from '../client/index.js';
import type { Clock } from '../workqueue/index.js';
import { conflict, expired, notFound, reasonFor, statusError } from './internal/status.js';

/** The verbs of API calls, as RBAC names them. Server-side apply is a `patch` with `patchType: 'apply'`. */
export type FakeVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/**
 * One API call made through a fake client (or its Clientset and DynamicClient views): what a table-driven test
 * asserts on. Fields that do not apply to the call are absent.
 */
export interface FakeAction {
  verb: FakeVerb;
  /** API group, `''` for the core group. */
  group: string;
  version: string;
  /** The resource's plural: `deployments`. */
  resource: string;
  /** `''` for cluster-scoped resources, and for list/watch across all namespaces. */
  namespace: string;
  /** The object's name: in the URL, or for a create the name in the object sent (absent with `generateName`). */
  name?: string;
  /** `status` for `status().update(…)`, `updateStatus`, `applyStatus`. */
  subresource?: string;
  patchType?: PatchType;
  fieldManager?: string;
  /** The request's `dryRun: ['All']`. */
  dryRun?: true;
  labelSelector?: string;
  fieldSelector?: string;
  /** What was sent: the object of a create or update, the patch of a patch. A copy. */
  body?: unknown;
}

/**
 * `create deployments.apps ns/web`, `patch webapps.example.com/status ns/w (merge)`, `list pods ns`: one line per
 * action, for `expect(actions.map(describeAction)).toEqual([...])`.
 */
export function describeAction(action: FakeAction): string {
  const resource = `${action.resource}${action.group ? `.${action.group}` : ''}${action.subresource ? `/${action.subresource}` : ''}`;
  const target = [action.namespace, action.name].filter((p) => p !== undefined && p !== '').join('/');
  return [action.verb, resource, target, action.patchType && `(${action.patchType})`].filter(Boolean).join(' ');
}

/** True for the verbs that change something: create, update, patch, delete, deletecollection. */
export function isWriteAction(action: FakeAction): boolean {
  return action.verb !== 'get' && action.verb !== 'list' && action.verb !== 'watch';
}

/** Which calls an interceptor applies to. Every field given must match; none given matches every call. */
export interface CallMatch {
  verb?: FakeVerb | readonly FakeVerb[];
  /** A descriptor (`Deployment`, `Widget`), a location, or a plural (`'deployments'`). */
  resource?: ResourceDescriptor | ResourceLocation | string;
  namespace?: string;
  name?: string;
  /** A subresource (`'status'`), or `null` for calls on the object itself. Default: either. */
  subresource?: string | null;
  patchType?: PatchType;
  /** Any other condition. */
  when?: (call: FakeAction) => boolean;
}

/**
 * Runs instead of (or around) a call: call `next()` to go on to the next interceptor and finally the fake API server,
 * or throw to fail the call. The value it returns is the call's answer.
 */
export type InterceptorHandler = (call: FakeAction, next: () => Promise<unknown>) => Promise<unknown>;

/** When an interceptor applies among the calls it matches. */
export interface InterceptOptions {
  /** Only the nth matching call (1-based): `{ nth: 3 }` is "the third update". Default: every matching call. */
  nth?: number;
  /** At most this many matching calls (after `nth`, if given). Default: no limit. */
  times?: number;
}

/** An interceptor as data: pass a list to `createFakeClient({ interceptors })` or `reconcileOnce(…, { interceptors })`. */
export interface Interceptor extends InterceptOptions {
  match: CallMatch;
  handle: InterceptorHandler;
}

/** A registered interceptor. */
export interface InterceptorHandle {
  /** How many calls it matched so far. */
  readonly matched: number;
  /** How many calls it handled (matched and within `nth`/`times`). */
  readonly handled: number;
  /** Unregisters it. */
  remove(): void;
}

/** Builds an {@link Interceptor}: `intercept({ verb: 'update', resource: Widget }, failWith(409), { nth: 3 })`. */
export function intercept(match: CallMatch, handle: InterceptorHandler, options: InterceptOptions = {}): Interceptor {
  return { match, handle, ...options };
}

export interface FailWithOptions {
  /** metav1.Status reason. Default: the server's reason for the code (409 → `Conflict`, 429 → `TooManyRequests`). */
  reason?: string;
  /** Default: worded as the server words that error for the call's object. */
  message?: string;
  /** Seconds the client is asked to wait (429, 5xx): `details.retryAfterSeconds`. */
  retryAfterSeconds?: number;
}

/**
 * A handler that fails the call as the API server would: `failWith(409)` is the Conflict of a stale write,
 * `failWith(404)` NotFound naming the object, `failWith(410)` Expired, `failWith(429, { retryAfterSeconds: 1 })`.
 * `failWith(err)` throws that error as it is. The errors are kubeloop `ApiError`s, so `isConflict` and friends agree.
 */
export function failWith(codeOrError: number | Error, options: FailWithOptions = {}): InterceptorHandler {
  return async (call) => {
    if (typeof codeOrError !== 'number') throw codeOrError;
    throw errorFor(codeOrError, call, options);
  };
}

function errorFor(code: number, call: FakeAction, options: FailWithOptions): ApiError {
  const subject = { group: call.group, plural: call.resource, ...(call.name !== undefined && { name: call.name }) };
  if (!options.reason && !options.message && options.retryAfterSeconds === undefined) {
    if (code === 404) return notFound(subject);
    if (code === 409) return conflict(subject);
    if (code === 410) return expired('too old resource version');
  }
  return statusError(
    code,
    options.message ?? `injected ${code} ${options.reason ?? reasonFor(code)} for ${describeAction(call)}`,
    {
      reason: options.reason ?? reasonFor(code),
      ...(options.retryAfterSeconds !== undefined && { details: { retryAfterSeconds: options.retryAfterSeconds } }),
    },
  );
}

/**
 * A handler that waits `ms` before going on. With a `clock` (a fake clock from `createFakeClock`), the wait ends when
 * the test advances that clock; otherwise it is real time.
 */
export function delayBy(ms: number, options: { clock?: Clock } = {}): InterceptorHandler {
  return async (_call, next) => {
    await new Promise<void>((resolve) => {
      if (options.clock) options.clock.setTimer(resolve, ms);
      else setTimeout(resolve, ms);
    });
    return next();
  };
}

function plural(resource: NonNullable<CallMatch['resource']>): { plural: string; group?: string; version?: string } {
  if (typeof resource === 'string') return { plural: resource };
  return { plural: resource.plural, group: resource.group, version: resource.version };
}

/** True when `call` matches. */
export function matchesCall(match: CallMatch, call: FakeAction): boolean {
  if (match.verb !== undefined) {
    const verbs: readonly FakeVerb[] = typeof match.verb === 'string' ? [match.verb] : match.verb;
    if (!verbs.includes(call.verb)) return false;
  }
  if (match.resource !== undefined) {
    const r = plural(match.resource);
    if (r.plural !== call.resource) return false;
    if (r.group !== undefined && r.group !== call.group) return false;
    if (r.version !== undefined && r.version !== call.version) return false;
  }
  if (match.namespace !== undefined && match.namespace !== call.namespace) return false;
  if (match.name !== undefined && match.name !== call.name) return false;
  if (match.subresource !== undefined && (match.subresource ?? undefined) !== call.subresource) return false;
  if (match.patchType !== undefined && match.patchType !== call.patchType) return false;
  return !match.when || match.when(call);
}

/** The interceptors of one fake, in registration order, with their counters. */
export class InterceptorChain {
  private readonly entries: { interceptor: Interceptor; matched: number; handled: number }[] = [];

  add(interceptor: Interceptor): InterceptorHandle {
    const entry = { interceptor, matched: 0, handled: 0 };
    this.entries.push(entry);
    const entries = this.entries;
    return {
      get matched() {
        return entry.matched;
      },
      get handled() {
        return entry.handled;
      },
      remove() {
        const i = entries.indexOf(entry);
        if (i >= 0) entries.splice(i, 1);
      },
    };
  }

  /** Runs `call` through the interceptors that apply to it, then `op`. */
  run(call: FakeAction, op: () => unknown): Promise<unknown> {
    const applicable: Interceptor[] = [];
    for (const entry of this.entries) {
      if (!matchesCall(entry.interceptor.match, call)) continue;
      entry.matched++;
      const { nth, times } = entry.interceptor;
      if (nth !== undefined && entry.matched !== nth) continue;
      if (times !== undefined && entry.handled >= times) continue;
      entry.handled++;
      applicable.push(entry.interceptor);
    }
    let i = 0;
    const next = async (): Promise<unknown> => {
      const interceptor = applicable[i++];
      return interceptor ? interceptor.handle(call, next) : op();
    };
    return next();
  }
}
