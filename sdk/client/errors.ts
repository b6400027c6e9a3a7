/**
 * kubeloop's error classes. Every error kubeloop throws extends {@link KubeloopError}, which carries a stable string
 * `code` and an ES2022 `cause`. The predicates (`isKubeloopError`, and the `is*` helpers for API errors) check a
 * brand, not `instanceof`, so they work when two copies of kubeloop are loaded in one process.
 *
 * Codes:
 * - `ERR_KUBE_API`: the API server answered with a non-2xx status ({@link ApiError}).
 * - `ERR_KUBE_CONFIG`: a kubeconfig, in-cluster environment or RestConfig is unusable ({@link ConfigError}).
 * - `ERR_KUBE_TRANSPORT`: the request never got an answer: TLS, DNS, connection refused or reset, timeout.
 * - `ERR_KUBE_WATCH_STALLED`: a watch stream went silent longer than its inactivity limit.
 * - `ERR_KUBE_EXEC`: an exec credential plugin could not be run or gave no usable credential.
 * - `ERR_KUBE_DISCOVERY_FAILED`: discovery of some group-versions failed (the error carries what succeeded).
 * - `ERR_KUBE_DISCOVERY_STALE`: an aggregated API reported itself stale in discovery.
 * - `ERR_KUBE_NO_MATCH`: the RESTMapper knows no resource or kind by that name, even after a refresh.
 * - `ERR_KUBE_AMBIGUOUS_MATCH`: a short name stands for several different resources.
 * - `ERR_KUBE_INVALID_SELECTOR`: a label or field selector does not parse (InvalidSelectorError, kubeloop/client,
 *   re-exported by kubeloop/cache).
 * - `ERR_KUBE_INVALID_QUANTITY`: a resource quantity does not parse, or is too large to compute with (QuantityError).
 * - `ERR_KUBE_INFORMER_STARTED`, `ERR_KUBE_INFORMER_STOPPED`: an informer was configured after start, or restarted.
 * - `ERR_KUBE_INFORMER_SOURCE`: createSharedInformerFactory was given neither a Clientset, a RestConfig, a
 *   resource-client factory nor a DynamicClient (kubeloop/cache's InformerSourceError).
 * - `ERR_KUBE_FIFO_CLOSED`: a DeltaFIFO was closed and is empty: `pop` has nothing more to hand out (kubeloop/cache).
 * - `ERR_KUBE_FIFO_REQUEUE`: a DeltaFIFO's process asked for its deltas to be queued again (kubeloop/cache's RequeueError).
 * - `ERR_ENVTEST`: the local control plane could not be built, started or stopped (kubeloop/envtest).
 * - `ERR_TERMINAL`: a reconcile error that is not retried (kubeloop/manager's TerminalError).
 * - `ERR_MANAGER_REGISTRATION`, `ERR_MANAGER_OPTIONS`: the manager's registration and option errors.
 * - `ERR_LEADER_ELECTION_CONFIG`, `ERR_LEADER_ELECTION_LOCK`, `ERR_LEADER_ELECTION_LOST`, `ERR_LEADER_ELECTION_STARTED`:
 *   leader election options, lock failures, leadership lost, an elector started twice (kubeloop/leaderelection).
 * - `ERR_ALREADY_OWNED`, `ERR_INVALID_OWNER_REFERENCE`, `ERR_MUTATE_CHANGED_KEY`, `ERR_UNKNOWN_RESOURCE`:
 *   controllerutil (owner references, createOrUpdate).
 * - `ERR_EVENT_RECORDER_OPTIONS`, `ERR_EVENT_RECORDER_STOPPED`: the event recorder.
 * - `ERR_INVALID_BIND_ADDRESS`, `ERR_LISTEN`: the metrics, probe and webhook servers.
 * - `ERR_WEBHOOK_VALIDATION`: a validator denied an object (kubeloop/webhook's ValidationError, sent as 422 Invalid).
 * - `ERR_WEBHOOK_OPTIONS`, `ERR_WEBHOOK_REGISTRATION`, `ERR_WEBHOOK_STARTED`: a webhook's options, a path or kind
 *   registered twice or a class without its methods, a webhook server started twice.
 * - `ERR_WEBHOOK_CERTIFICATE`: the webhook server's certificate files are missing or do not form a pair, or the
 *   certificate provisioner cannot write its Secret.
 * - `ERR_WEBHOOK_CA_BUNDLE`: the certificate provisioner cannot set the caBundle of a webhook configuration or CRD.
 * - `ERR_WEBHOOK_TIMEOUT`: a webhook handler did not answer within its timeout (the reason of its aborted signal).
 * - `ERR_WEBHOOK_CONVERSION`: a conversion between two versions that the kind's conversion does not know.
 * - `ERR_SIGNAL`: the process received SIGINT or SIGTERM (the reason of setupSignalHandler's signal).
 * - `ERR_CLI_USAGE`, `ERR_CLI_PROJECT`, `ERR_CLI_MANIFESTS`, `ERR_CLI_INSTALL`: the `kubeloop` command (bad arguments,
 *   a missing or broken project, manifests that cannot be generated, a failed npm install).
 */
import type { Status, StatusDetails } from './meta/types.js';

const brand = Symbol.for('kubeloop.error');

export interface KubeloopErrorOptions {
  cause?: unknown;
}

/** Base class of every kubeloop error: a stable `code`, a message that says what to do next, an optional cause. */
export class KubeloopError extends Error {
  readonly code: string;
  readonly [brand] = true;

  constructor(code: string, message: string, options: KubeloopErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** True for any kubeloop error, from this copy of the package or another. */
export function isKubeloopError(err: unknown): err is KubeloopError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[brand] === true;
}

/** True for a kubeloop error with the given code. */
export function hasErrorCode(err: unknown, code: string): err is KubeloopError {
  return isKubeloopError(err) && err.code === code;
}

/**
 * A kubeconfig, in-cluster environment or RestConfig that cannot be used. `file` and `field` name the place at
 * fault (`field` as a path such as `users[dev].user.client-certificate`).
 */
export class ConfigError extends KubeloopError {
  readonly file: string | undefined;
  readonly field: string | undefined;

  constructor(message: string, where: { file?: string; field?: string; cause?: unknown } = {}) {
    const place = [where.file && `file ${where.file}`, where.field && `field ${where.field}`].filter(Boolean).join(', ');
    super('ERR_KUBE_CONFIG', place ? `${message} (${place})` : message, { cause: where.cause });
    this.file = where.file;
    this.field = where.field;
  }
}

/** What a request was, for error messages: never its body, headers or credentials. */
export interface RequestInfo {
  method: string;
  /** Path and query, without the host. */
  path: string;
}

const reasonByCode: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/**
 * The API server answered with a non-2xx status. `status` is the parsed metav1.Status; for a body that is not a Status
 * (a proxy's HTML page, plain text) one is made up from the HTTP code, as client-go does, with the start of the body as
 * its message.
 */
export class ApiError extends KubeloopError {
  readonly statusCode: number;
  readonly status: Status;
  readonly request: RequestInfo | undefined;

  constructor(statusCode: number, status: Status, request?: RequestInfo, options: KubeloopErrorOptions = {}) {
    const where = request ? `${request.method} ${request.path}: ` : '';
    super('ERR_KUBE_API', `${where}${statusCode} ${status.reason ?? ''}: ${status.message ?? ''}`.trim(), options);
    this.statusCode = statusCode;
    this.status = status;
    this.request = request;
  }

  /** `NotFound`, `Conflict`, `Invalid`, …: metav1.StatusReason. */
  get reason(): string {
    return this.status.reason ?? '';
  }

  get details(): StatusDetails | undefined {
    return this.status.details;
  }

  /** Seconds the server asked the client to wait (Retry-After or details.retryAfterSeconds). */
  get retryAfterSeconds(): number | undefined {
    return this.status.details?.retryAfterSeconds;
  }

  /**
   * For a 409 from server-side apply: each field another manager owns, and that manager, read from
   * `details.causes` (reason `FieldManagerConflict`). Empty for other errors.
   */
  get fieldConflicts(): { field: string; manager: string; message: string }[] {
    return (this.status.details?.causes ?? [])
      .filter((c) => c.reason === 'FieldManagerConflict')
      .map((c) => ({
        field: c.field ?? '',
        manager: /conflict with "([^"]*)"/.exec(c.message ?? '')?.[1] ?? '',
        message: c.message ?? '',
      }));
  }

  /** Builds the error from a response's status code and body text. */
  static fromResponse(statusCode: number, body: string, request?: RequestInfo, retryAfterSeconds?: number): ApiError {
    let status: Status | undefined;
    try {
      const parsed = JSON.parse(body) as Status;
      if (parsed && typeof parsed === 'object' && parsed.kind === 'Status') status = parsed;
    } catch {
      // not JSON
    }
    status ??= {
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      code: statusCode,
      reason: reasonByCode[statusCode] ?? (statusCode >= 500 ? 'InternalError' : 'Unknown'),
      message: body.trim() ? `the server answered: ${body.trim().slice(0, 200)}` : `the server answered HTTP ${statusCode}`,
    };
    if (retryAfterSeconds !== undefined && status.details?.retryAfterSeconds === undefined) {
      status = { ...status, details: { ...status.details, retryAfterSeconds } };
    }
    return new ApiError(status.code ?? statusCode, status, request);
  }

  /** An in-stream watch ERROR event: its object is a Status. */
  static fromStatus(status: Status, request?: RequestInfo): ApiError {
    return new ApiError(status.code ?? 500, status, request);
  }
}

/** The request got no answer: TLS failure, DNS, refused or reset connection, timeout. `cause` is the network error. */
export class TransportError extends KubeloopError {
  readonly request: RequestInfo | undefined;

  constructor(message: string, request?: RequestInfo, options: KubeloopErrorOptions = {}) {
    super('ERR_KUBE_TRANSPORT', request ? `${request.method} ${request.path}: ${message}` : message, options);
    this.request = request;
  }
}

function apiError(err: unknown): ApiError | undefined {
  return hasErrorCode(err, 'ERR_KUBE_API') ? (err as ApiError) : undefined;
}

function reasonOrCode(err: unknown, reason: string, code: number): boolean {
  const e = apiError(err);
  if (!e) return false;
  const actual = e.status.reason;
  return actual === reason || (!actual && e.statusCode === code);
}

/** 404: the object (or its namespace) does not exist. */
export const isNotFound = (err: unknown): boolean => reasonOrCode(err, 'NotFound', 404);
/** 409 on create: an object of that name exists. */
export const isAlreadyExists = (err: unknown): boolean => reasonOrCode(err, 'AlreadyExists', 409);
/** 409: a write based on a stale resourceVersion, or an apply conflict. */
export const isConflict = (err: unknown): boolean => reasonOrCode(err, 'Conflict', 409);
/** 422: the object failed validation; `details.causes` names the fields. */
export const isInvalid = (err: unknown): boolean => reasonOrCode(err, 'Invalid', 422);
/** 403: authenticated, but RBAC does not allow it. */
export const isForbidden = (err: unknown): boolean => reasonOrCode(err, 'Forbidden', 403);
/** 401: the credentials were not accepted. */
export const isUnauthorized = (err: unknown): boolean => reasonOrCode(err, 'Unauthorized', 401);
/** 410: the resourceVersion is too old (a watch or a continue token expired); relist. */
export const isGone = (err: unknown): boolean => {
  const e = apiError(err);
  return !!e && (e.statusCode === 410 || e.status.reason === 'Gone' || e.status.reason === 'Expired');
};
/** 429: too many requests; `retryAfterSeconds` says when to retry. */
export const isTooManyRequests = (err: unknown): boolean => reasonOrCode(err, 'TooManyRequests', 429);
/** The server gave up on the request in time (504 Timeout, or reason ServerTimeout). */
export const isTimeout = (err: unknown): boolean => {
  const e = apiError(err);
  return !!e && (e.status.reason === 'Timeout' || e.status.reason === 'ServerTimeout' || e.statusCode === 504);
};

/** Returns undefined for a NotFound error and rethrows anything else: `await ignoreNotFound(client.delete(...))`. */
export async function ignoreNotFound<T>(work: Promise<T>): Promise<T | undefined>;
export function ignoreNotFound(err: unknown): undefined;
export function ignoreNotFound<T>(arg: unknown): Promise<T | undefined> | undefined {
  if (arg instanceof Promise) {
    return (arg as Promise<T>).catch((err: unknown) => {
      if (isNotFound(err)) return undefined;
      throw err;
    });
  }
  if (isNotFound(arg)) return undefined;
  throw arg;
}

/** A watch stream went silent (no event, no bookmark) for longer than its inactivity limit: a half-open connection. */
export class WatchStalledError extends KubeloopError {
  constructor(inactivityMs: number, request?: RequestInfo) {
    const where = request ? `${request.method} ${request.path}: ` : '';
    super('ERR_KUBE_WATCH_STALLED', `${where}no data for ${inactivityMs} ms; the connection is presumed dead`);
  }
}
