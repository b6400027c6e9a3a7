import {
  KubeloopError,
  isKubeloopError,
  type FieldError,
  type FieldErrorType,
  type StatusCause,
} from '../client/index.js';

// One field at fault (apimachinery's `field.Error`): the same type validateObject in kubeloop/client returns, so its
// errors can be handed to a ValidationError as they are.
export type { FieldError, FieldErrorType };

const summaries: Partial<Record<FieldErrorType, string>> = {
  FieldValueRequired: 'Required value',
  FieldValueForbidden: 'Forbidden',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueNotFound: 'Not found',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueTypeInvalid: 'Invalid value',
  InternalError: 'Internal error',
};

/**
 * A field error. The type defaults from the message the way the API server words its own: `'Required value'` →
 * `FieldValueRequired`, `'Forbidden…'` → `FieldValueForbidden`, anything else → `FieldValueInvalid`.
 *
 * ```ts
 * throw new ValidationError([fieldError('spec.image', 'Required value')]);
 * throw new ValidationError([fieldError('spec.replicas', 'must be at most 10', { type: 'FieldValueInvalid', value: 12 })]);
 * ```
 * With `value`, the message reads as apimachinery's `field.Invalid`: `Invalid value: 12: must be at most 10`.
 */
export function fieldError(
  field: string,
  message: string,
  options: { type?: FieldErrorType; value?: unknown } = {},
): FieldError {
  const type = options.type ?? guessType(message);
  let text = message;
  if ('value' in options && type === 'FieldValueInvalid')
    text = `Invalid value: ${JSON.stringify(options.value)}: ${message}`;
  else if (options.type && summaries[type] && !message.startsWith(summaries[type]))
    text = `${summaries[type]}: ${message}`;
  return { field, type, message: text };
}

function guessType(message: string): FieldErrorType {
  if (/^required value/i.test(message)) return 'FieldValueRequired';
  if (/^forbidden/i.test(message)) return 'FieldValueForbidden';
  if (/^unsupported value/i.test(message)) return 'FieldValueNotSupported';
  if (/^duplicate value/i.test(message)) return 'FieldValueDuplicate';
  return 'FieldValueInvalid';
}

/**
 * Thrown by a validator (or a defaulter) to deny a request the way the API server denies an invalid object: a 422
 * `Invalid` Status whose `details.causes` list each field at fault, shown by kubectl as
 * `WebApp.apps.example.com "web" is invalid: spec.image: Required value`.
 *
 * Errors: code `ERR_WEBHOOK_VALIDATION`. An empty list is allowed and denies with the message alone.
 */
export class ValidationError extends KubeloopError {
  readonly fieldErrors: readonly FieldError[];

  constructor(fieldErrors: FieldError[], message?: string) {
    super(
      'ERR_WEBHOOK_VALIDATION',
      message ?? (fieldErrors.map((e) => `${e.field}: ${e.message}`).join(', ') || 'invalid'),
    );
    this.fieldErrors = Object.freeze([...fieldErrors]);
  }

  /** The Status causes, as the API server's own: `{ reason: type, field, message }` (metav1.StatusCause). */
  causes(): StatusCause[] {
    return this.fieldErrors.map((e) => ({ reason: e.type, field: e.field, message: e.message }));
  }
}

/** True for a ValidationError from this copy of kubeloop or another. */
export function isValidationError(err: unknown): err is ValidationError {
  return (
    isKubeloopError(err) &&
    err.code === 'ERR_WEBHOOK_VALIDATION' &&
    Array.isArray((err as Partial<ValidationError>).fieldErrors)
  );
}

/** A webhook configuration or registration that cannot be used (`ERR_WEBHOOK_OPTIONS`, `ERR_WEBHOOK_REGISTRATION`). */
export class WebhookError extends KubeloopError {}
