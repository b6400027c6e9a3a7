import { ArgumentRangeError } from '../errors.js';

/**
 * metav1.MicroTime on the wire: RFC 3339 in UTC with exactly six fractional digits, `2026-11-25T12:00:00.123456Z`.
 * The API server rejects a Lease whose `acquireTime` or `renewTime` has another shape (no fraction, three digits, an
 * offset), so every time kubeloop writes (a Lease's `acquireTime` and `renewTime`, an Event's `eventTime`) goes
 * through {@link formatMicroTime}.
 */

/**
 * Formats milliseconds since the Unix epoch (fractional milliseconds carry the microseconds) as a MicroTime string.
 * Sub-microsecond parts are truncated.
 *
 * Errors: an ArgumentRangeError (`ERR_KUBE_INVALID_ARGUMENT`, a RangeError) for a value that is not finite or lies outside
 * years 0000–9999.
 */
export function formatMicroTime(epochMs: number): string {
  if (!Number.isFinite(epochMs))
    throw new ArgumentRangeError(`formatMicroTime needs a finite time in ms, got ${epochMs}`);
  const wholeMs = Math.floor(epochMs);
  // Rounding the product first keeps 0.123456 ms from becoming 123.4559999 µs.
  const micros = Math.min(999, Math.floor(Math.round((epochMs - wholeMs) * 1e6) / 1e3));
  const iso = new Date(wholeMs).toISOString();
  if (iso.length !== 24) throw new ArgumentRangeError(`formatMicroTime supports years 0000-9999, got ${iso}`);
  return `${iso.slice(0, 23)}${String(micros).padStart(3, '0')}Z`;
}

const microTimePattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/** True for a string in the exact MicroTime shape {@link formatMicroTime} writes. */
export function isMicroTime(value: unknown): value is string {
  return typeof value === 'string' && microTimePattern.test(value) && !Number.isNaN(Date.parse(value));
}
