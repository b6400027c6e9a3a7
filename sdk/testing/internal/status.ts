import { ApiError, type Status, type StatusCause } from '../../client/index.js';

/**
 * metav1.Status answers shaped as kube-apiserver shapes them (reason, code, message, details), so that errors from the
 * fake carry the same `reason` and `details` as the real server's and every predicate (`isNotFound`, …) agrees.
 */

/** Who an error is about: the resource (plural) and group, and the object's name. */
export interface Subject {
  group: string;
  plural: string;
  kind?: string;
  name?: string;
}

const reasons: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  410: 'Expired',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The reason kube-apiserver gives for an HTTP status code; `Unknown` for codes it has no reason for. */
export function reasonFor(code: number): string {
  return reasons[code] ?? (code >= 500 ? 'InternalError' : 'Unknown');
}

/** `configmaps` or `deployments.apps`: how the server names a resource in messages. */
export function qualified(subject: Subject): string {
  return subject.group ? `${subject.plural}.${subject.group}` : subject.plural;
}

function details(
  subject: Subject,
  extra: Partial<NonNullable<Status['details']>> = {},
): NonNullable<Status['details']> {
  return {
    ...(subject.name !== undefined && { name: subject.name }),
    ...(subject.group && { group: subject.group }),
    kind: subject.plural,
    ...extra,
  };
}

/** An ApiError with the given Status fields. */
export function statusError(code: number, message: string, extra: Partial<Status> = {}): ApiError {
  return ApiError.fromStatus({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: reasonFor(code),
    code,
    ...extra,
  });
}

export function notFound(subject: Subject): ApiError {
  return statusError(404, `${qualified(subject)} "${subject.name ?? ''}" not found`, { details: details(subject) });
}

/** 404 for a resource the server does not serve at all. */
export function resourceNotFound(): ApiError {
  return statusError(404, 'the server could not find the requested resource', { details: {} });
}

export function alreadyExists(subject: Subject): ApiError {
  return statusError(409, `${qualified(subject)} "${subject.name ?? ''}" already exists`, {
    reason: 'AlreadyExists',
    details: details(subject),
  });
}

export function conflict(
  subject: Subject,
  why = 'the object has been modified; please apply your changes to the latest version and try again',
): ApiError {
  return statusError(409, `Operation cannot be fulfilled on ${qualified(subject)} "${subject.name ?? ''}": ${why}`, {
    details: details(subject),
  });
}

/** 409 from server-side apply: each conflicting field and the manager that owns it. */
export function applyConflict(conflicts: { field: string; manager: string }[]): ApiError {
  const causes: StatusCause[] = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with "${c.manager}"`,
    field: c.field,
  }));
  const lines = conflicts.map((c) => `conflict with "${c.manager}": ${c.field}`);
  const message =
    conflicts.length === 1
      ? `Apply failed with 1 conflict: ${lines[0]}`
      : `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  return statusError(409, message, { details: { causes } });
}

/**
 * 422 for a custom resource that fails its schema, with every cause: `Widget.example.com "w" is invalid: spec.size: …`,
 * or `… is invalid: [spec.size: …, spec.name: …]` for several, as the server words it.
 */
export function invalidFields(
  subject: Subject,
  errors: readonly { type: string; field: string; message: string }[],
): ApiError {
  const kind = subject.kind ?? qualified(subject);
  const shown = subject.group ? `${kind}.${subject.group}` : kind;
  const lines = errors.map((e) => `${e.field}: ${e.message}`);
  return statusError(
    422,
    `${shown} "${subject.name ?? ''}" is invalid: ${lines.length === 1 ? lines[0] : `[${lines.join(', ')}]`}`,
    {
      details: {
        ...(subject.name !== undefined && { name: subject.name }),
        ...(subject.group && { group: subject.group }),
        kind,
        causes: errors.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
      },
    },
  );
}

/** 422 with one cause, worded as the server words it: `ConfigMap "x" is invalid: metadata.name: Required value: …`. */
export function invalid(subject: Subject, field: string, causeReason: string, causeMessage: string): ApiError {
  const kind = subject.kind ?? qualified(subject);
  return statusError(422, `${kind} "${subject.name ?? ''}" is invalid: ${field}: ${causeMessage}`, {
    details: {
      ...(subject.name !== undefined && { name: subject.name }),
      ...(subject.group && { group: subject.group }),
      kind,
      causes: [{ reason: causeReason, message: causeMessage, field }],
    },
  });
}

export function badRequest(message: string): ApiError {
  return statusError(400, message);
}

export function methodNotAllowed(): ApiError {
  return statusError(405, 'the server does not allow this method on the requested resource', { details: {} });
}

export function unsupportedMediaType(accepted: string[]): ApiError {
  return statusError(
    415,
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

/** 410 for a resourceVersion older than the history kept (a watch), or an expired continue token. */
export function expired(message: string): ApiError {
  return statusError(410, message, { reason: 'Expired' });
}

export function internalError(message: string): ApiError {
  return statusError(500, message);
}
