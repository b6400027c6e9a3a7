/**
 * kubeloop's error classes. Every error kubeloop throws extends {@link KubeloopError}, which carries a stable string
 * `code` and an ES2022 `cause`. The predicates (`isKubeloopError`, and the `is*` helpers for API errors) check a
 * brand, not `instanceof`, so they work when two copies of kubeloop are loaded in one process.
 *
 * Every code, with what it means, is in {@link errorCodes} (`error-codes.ts`); `code` is typed by {@link ErrorCode}.
 *
 * Argument errors ({@link ArgumentError}, {@link ArgumentRangeError}) extend `TypeError` and `RangeError`, as the plain
 * errors they replace did, and still count as kubeloop errors: they carry the brand, and `instanceof KubeloopError`
 * checks the brand (so it is also true for an error of another loaded copy of kubeloop).
 */
import type { ErrorCode } from './error-codes.js';
import type { Status, StatusDetails } from './meta/types.js';

const brand = Symbol.for('kubeloop.error');

export interface KubeloopErrorOptions {
  cause?: unknown;
}

/** Base class of every kubeloop error: a stable `code`, a message that says what to do next, an optional cause. */
export class KubeloopError extends Error {
  readonly code: ErrorCode;
  readonly [brand] = true;

  constructor(code: ErrorCode, message: string, options: KubeloopErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }

  /**
   * `err instanceof KubeloopError` checks the brand, so it holds for the argument errors (which extend TypeError and
   * RangeError) and for errors of another copy of kubeloop; `instanceof` a subclass stays the usual prototype check.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return this === KubeloopError ? isKubeloopError(value) : Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/**
 * A function, constructor or option was given a value it cannot use; the message names it and what is wrong. Code
 * `ERR_KUBE_INVALID_ARGUMENT`. A `TypeError`, as the plain errors it replaced, and a kubeloop error (the brand; see
 * {@link KubeloopError}). {@link ArgumentRangeError} is the same for a number out of its range.
 */
export class ArgumentError extends TypeError {
  readonly code = 'ERR_KUBE_INVALID_ARGUMENT' as const;
  readonly [brand] = true;

  constructor(message: string, options: KubeloopErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/** A number outside its allowed range: code `ERR_KUBE_INVALID_ARGUMENT`, a `RangeError` (see {@link ArgumentError}). */
export class ArgumentRangeError extends RangeError {
  readonly code = 'ERR_KUBE_INVALID_ARGUMENT' as const;
  readonly [brand] = true;

  constructor(message: string, options: KubeloopErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
  }
}

/**
 * Something that runs once was started again: code `ERR_KUBE_ALREADY_STARTED`. `component` names it (`controller
 * web`, `manager`, `informer`, `leader elector lock`, `webhook server`, …); the message defaults to
 * `<component> was already started`.
 */
export class AlreadyStartedError extends KubeloopError {
  readonly component: string;

  constructor(component: string, message = `${component} was already started`) {
    super('ERR_KUBE_ALREADY_STARTED', message);
    this.component = component;
  }
}

/** True for any kubeloop error, from this copy of the package or another. */
export function isKubeloopError(err: unknown): err is KubeloopError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[brand] === true;
}

/** True for a kubeloop error with the given code. */
export function hasErrorCode(err: unknown, code: ErrorCode): err is KubeloopError {
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
    const place = [where.file && `file ${where.file}`, where.field && `field ${where.field}`]
      .filter(Boolean)
      .join(', ');
    super('ERR_KUBE_CONFIG', place ? `${message} (${place})` : message, { cause: where.cause });
    this.file = where.file;
    this.field = where.field;
  }
}

/** What a request was, for error messages: never its body, headers, credentials or query string. */
export interface RequestInfo {
  method: string;
  /** The path, without the host; errors drop the query string (it may carry a token or a selector on Secret data). */
  path: string;
}

/** A URL for a message: without `user:password@`, query or fragment, which may carry credentials. */
export function describeUrl(url: string): string {
  return url.replace(/[?#].*$/s, '').replace(/\/\/[^/@]*@/, '//***@');
}

/** The request as errors keep and show it: verb and path, without the query string. */
function withoutQuery(request: RequestInfo | undefined): RequestInfo | undefined {
  return request && { method: request.method, path: request.path.replace(/[?#].*$/s, '') };
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
    request = withoutQuery(request);
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
      message: body.trim()
        ? `the server answered: ${body.trim().slice(0, 200)}`
        : `the server answered HTTP ${statusCode}`,
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
    request = withoutQuery(request);
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

/**
 * A 2xx answer whose body is not what the request reads: not JSON, truncated, empty or `null` where an object was
 * expected, or a watch ERROR event without a Status. Code `ERR_KUBE_DECODE`. The message names the request (verb and
 * path, never the query string) and what was wrong, never the body itself (it may hold Secret data).
 */
export class ResponseDecodeError extends KubeloopError {
  /** The request whose answer it was: verb and path, without the query string. */
  readonly request: RequestInfo | undefined;
  /** The answer's HTTP status (a 2xx); undefined for a watch event. */
  readonly statusCode: number | undefined;

  constructor(message: string, request?: RequestInfo, statusCode?: number) {
    const info = withoutQuery(request);
    super('ERR_KUBE_DECODE', info ? `${info.method} ${info.path}: ${message}` : message);
    this.request = info;
    this.statusCode = statusCode;
  }
}

/** A watch stream went silent (no event, no bookmark) for longer than its inactivity limit: a half-open connection. */
export class WatchStalledError extends KubeloopError {
  constructor(inactivityMs: number, request?: RequestInfo) {
    request = withoutQuery(request);
    const where = request ? `${request.method} ${request.path}: ` : '';
    super('ERR_KUBE_WATCH_STALLED', `${where}no data for ${inactivityMs} ms; the connection is presumed dead`);
  }
}

/**
 * An answer larger than the client reads: a response body over `RestConfig.maxResponseBytes` once gzip-decoded, or a
 * watch event or a log stream's line over 16 MiB. Code `ERR_KUBE_RESPONSE_TOO_LARGE`. Reading stops as soon as the
 * limit is passed, so memory stays bounded; the message names the request (never its query string) and the limit.
 */
export class ResponseTooLargeError extends KubeloopError {
  readonly request: RequestInfo | undefined;
  /** The limit that was passed, in bytes. */
  readonly limitBytes: number;

  constructor(what: string, limitBytes: number, request?: RequestInfo) {
    const info = withoutQuery(request);
    super(
      'ERR_KUBE_RESPONSE_TOO_LARGE',
      `${info ? `${info.method} ${info.path}: ` : ''}${what} is larger than ${describeBytes(limitBytes)}`,
    );
    this.request = info;
    this.limitBytes = limitBytes;
  }
}

function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}

/** The codes a {@link StreamError} carries. */
export type StreamErrorCode =
  | 'ERR_KUBE_STREAM_PROTOCOL'
  | 'ERR_KUBE_STREAM_BROKEN'
  | 'ERR_KUBE_REMOTE_COMMAND'
  | 'ERR_KUBE_PORT_FORWARD'
  | 'ERR_KUBE_COPY';

/**
 * A failure of exec, attach, port-forward, a followed log or cp after the server accepted the call (a refusal before
 * that, such as a 403 for `pods/exec`, is an {@link ApiError}). `status` is the Status the error channel sent, when
 * there was one (`ERR_KUBE_REMOTE_COMMAND`).
 */
export class StreamError extends KubeloopError {
  declare readonly code: StreamErrorCode;
  readonly request: RequestInfo | undefined;
  readonly status: Status | undefined;

  constructor(
    code: StreamErrorCode,
    message: string,
    request?: RequestInfo,
    options: KubeloopErrorOptions & { status?: Status } = {},
  ) {
    const info = withoutQuery(request);
    super(code, info ? `${info.method} ${info.path}: ${message}` : message, options);
    this.request = info;
    this.status = options.status;
  }
}
