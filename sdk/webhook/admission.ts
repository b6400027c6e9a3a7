import type { KubeObject, Logger, Status } from '../client/index.js';
import { isValidationError, type ValidationError } from './errors.js';
import { createJsonPatch } from './internal/json-patch.js';
import type { AdmissionRequest, AdmissionResponse, Operation, UserInfo, Warnings } from './types.js';

/** The logger a webhook is given: kubeloop/client's structural {@link Logger} (a pino logger fits). */
export type WebhookLogger = Logger;

/** What a handler knows of the request besides the object: controller-runtime's admission.Request, flattened. */
export interface AdmissionContext<T extends KubeObject = KubeObject> {
  operation: Operation;
  userInfo: UserInfo;
  /** True for a server-side dry run (`kubectl --dry-run=server`): make no side effects. */
  dryRun: boolean;
  /** The object before the change, on UPDATE and DELETE. */
  oldObject: T | undefined;
  /** The whole request, as the API server sent it. */
  request: AdmissionRequest<T>;
  /** Aborts when the handler's time is up or the API server hung up. */
  signal: AbortSignal;
  /** A logger for this request: `{ webhook, uid, kind, namespace, name, operation }`. */
  log: WebhookLogger;
}

/**
 * Sets defaults on an object by changing it in place; kubeloop sends the API server the JSON patch from the object as
 * it came to the object as `default` left it (controller-runtime's CustomDefaulter).
 *
 * Errors: a thrown {@link ValidationError} denies with its field errors (422); anything else denies with its message.
 */
export interface Defaulter<T extends KubeObject = KubeObject> {
  default(obj: T, ctx: AdmissionContext<T>): void | Promise<void>;
}

/**
 * Validates creates, updates and deletes of one kind (controller-runtime's CustomValidator). Return warnings (shown by
 * kubectl as `Warning: …`, the request goes on) or throw a {@link ValidationError} to deny with field errors, which the
 * API server reports as a 422 Invalid like its own validation.
 */
export interface Validator<T extends KubeObject = KubeObject> {
  validateCreate(obj: T, ctx: AdmissionContext<T>): Warnings | void | Promise<Warnings | void>;
  validateUpdate(oldObj: T, obj: T, ctx: AdmissionContext<T>): Warnings | void | Promise<Warnings | void>;
  validateDelete(obj: T, ctx: AdmissionContext<T>): Warnings | void | Promise<Warnings | void>;
}

/** What a raw admission handler is given besides the request. */
export interface AdmissionHandlerContext {
  signal: AbortSignal;
  log: WebhookLogger;
}

/**
 * A raw admission handler for any kind, typed on admission.k8s.io/v1 (controller-runtime's admission.Handler):
 * register it with `mgr.webhookServer.register(path, handler)`. The uid is filled in for it.
 */
export type AdmissionHandler = (
  request: AdmissionRequest,
  ctx: AdmissionHandlerContext,
) => AdmissionResponse | Promise<AdmissionResponse>;

/** Admits, with optional warnings. */
export function allowed(warnings: Warnings = []): AdmissionResponse {
  return { allowed: true, ...(warnings.length > 0 && { warnings }) };
}

/** Denies with a message and an HTTP code for the status (default 403 Forbidden, as controller-runtime's `Denied`). */
export function denied(message: string, code = 403): AdmissionResponse {
  return { allowed: false, status: { status: 'Failure', code, reason: reasonFor(code), message } };
}

/** Admits with a JSON patch from `original` to `changed` (both plain JSON), or without one if they are equal. */
export function patched(original: unknown, changed: unknown, warnings: Warnings = []): AdmissionResponse {
  const ops = createJsonPatch(original, changed);
  return {
    ...allowed(warnings),
    ...(ops.length > 0 && {
      patch: Buffer.from(JSON.stringify(ops)).toString('base64'),
      patchType: 'JSONPatch' as const,
    }),
  };
}

function reasonFor(code: number): string {
  switch (code) {
    case 400:
      return 'BadRequest';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return 'Conflict';
    case 422:
      return 'Invalid';
    case 504:
      return 'Timeout';
    default:
      return code >= 500 ? 'InternalError' : 'BadRequest';
  }
}

/** The Status of a {@link ValidationError} for an object: 422 Invalid with causes, worded as apimachinery's NewInvalid. */
export function invalidStatus(
  err: ValidationError,
  request: Pick<AdmissionRequest, 'kind' | 'name' | 'object' | 'oldObject'>,
): Status {
  const { group, kind } = request.kind;
  const name =
    request.name ||
    request.object?.metadata?.name ||
    request.oldObject?.metadata?.name ||
    request.object?.metadata?.generateName ||
    '';
  const qualified = group ? `${kind}.${group}` : kind;
  const list = err.fieldErrors.map((e) => `${e.field}: ${e.message}`);
  const detail = list.length === 1 ? list[0] : list.length > 1 ? `[${list.join(', ')}]` : err.message;
  return {
    status: 'Failure',
    code: 422,
    reason: 'Invalid',
    message: `${qualified} ${JSON.stringify(name)} is invalid: ${detail}`,
    details: { name, group, kind, causes: err.causes() },
  };
}

/** The answer to a handler that threw: a ValidationError as 422 Invalid, anything else denied with its message only. */
export function responseForError(err: unknown, request: AdmissionRequest): AdmissionResponse {
  if (isValidationError(err)) return { allowed: false, status: invalidStatus(err, request) };
  const message = err instanceof Error ? err.message : String(err);
  return denied(message.replace(/\s+/g, ' ').trim().slice(0, 1024) || 'denied', 403);
}

function contextFor<T extends KubeObject>(
  request: AdmissionRequest<T>,
  ctx: AdmissionHandlerContext,
): AdmissionContext<T> {
  return {
    operation: request.operation,
    userInfo: request.userInfo,
    dryRun: request.dryRun === true,
    oldObject: request.oldObject,
    request,
    signal: ctx.signal,
    log: ctx.log,
  };
}

/**
 * A 400 denial for a request whose `object` or `oldObject` is there but no JSON object (a string, a list, a number):
 * the API server never sends one, and a typed handler would fail on it with a message quoting it.
 */
function malformedObjects(request: AdmissionRequest): AdmissionResponse | undefined {
  for (const field of ['object', 'oldObject'] as const) {
    const value: unknown = request[field];
    if (value !== undefined && value !== null && (typeof value !== 'object' || Array.isArray(value))) {
      return denied(
        `the admission request's ${field} is ${Array.isArray(value) ? 'a JSON array' : `a JSON ${typeof value}`}, not an object`,
        400,
      );
    }
  }
  return undefined;
}

/**
 * The handler of a {@link Defaulter}: the object is copied, defaulted in place, and the difference sent back as a JSON
 * patch. DELETE and CONNECT requests (no object to default) are admitted unchanged.
 */
export function defaultingHandler<T extends KubeObject>(defaulter: Defaulter<T>): AdmissionHandler {
  return async (request, ctx) => {
    const original = request.object as T | undefined;
    if (!original || request.operation === 'DELETE' || request.operation === 'CONNECT') return allowed();
    const malformed = malformedObjects(request);
    if (malformed) return malformed;
    const obj = structuredClone(original);
    await defaulter.default(obj, contextFor(request as AdmissionRequest<T>, ctx));
    return patched(original, obj);
  };
}

/**
 * The handler of a {@link Validator}: CREATE → `validateCreate(object)`, UPDATE → `validateUpdate(oldObject, object)`,
 * DELETE → `validateDelete(oldObject)`. The objects are the request's own, parsed for this request alone (no copy:
 * a validator that changes them changes nothing the API server sees). Warnings go back with the answer.
 */
export function validatingHandler<T extends KubeObject>(validator: Validator<T>): AdmissionHandler {
  return async (request, ctx) => {
    const malformed = malformedObjects(request);
    if (malformed) return malformed;
    const context = contextFor(request as AdmissionRequest<T>, ctx);
    const asObject = (o: KubeObject | undefined): T => (o ?? {}) as T;
    let warnings: Warnings | void;
    switch (request.operation) {
      case 'CREATE':
        warnings = await validator.validateCreate(asObject(request.object), context);
        break;
      case 'UPDATE':
        warnings = await validator.validateUpdate(asObject(request.oldObject), asObject(request.object), context);
        break;
      case 'DELETE':
        warnings = await validator.validateDelete(asObject(request.oldObject), context);
        break;
      default:
        return allowed();
    }
    return allowed(warnings ?? []);
  };
}
