import { describe, expect, it } from 'vitest';
import { formatMicroTime, isMicroTime } from '../index.js';

describe('formatMicroTime', () => {
  it('writes RFC 3339 UTC with exactly six fractional digits, as the API server demands', () => {
    expect(formatMicroTime(Date.UTC(2026, 10, 25, 12, 0, 0, 123) + 0.456)).toBe('2026-11-25T12:00:00.123456Z');
    expect(formatMicroTime(Date.UTC(2026, 10, 25, 12, 0, 0, 0))).toBe('2026-11-25T12:00:00.000000Z');
    expect(formatMicroTime(Date.UTC(2026, 0, 1, 0, 0, 0, 7))).toBe('2026-01-01T00:00:00.007000Z');
  });

  it('truncates below a microsecond and never rounds into the next millisecond', () => {
    expect(formatMicroTime(Date.UTC(2026, 10, 25, 12, 0, 0, 1) + 0.0009)).toBe('2026-11-25T12:00:00.001000Z');
    // Near 2026 a double resolves about 0.24 µs of an epoch-ms value: 0.999 ms stays below the next millisecond.
    expect(formatMicroTime(Date.UTC(2026, 10, 25, 12, 0, 0, 1) + 0.999)).toBe('2026-11-25T12:00:00.001999Z');
    expect(formatMicroTime(Date.UTC(2026, 10, 25, 23, 59, 59, 999) + 0.999)).toBe('2026-11-25T23:59:59.999999Z');
  });

  it('always produces the MicroTime shape, for any time of a day', () => {
    for (let ms = Date.UTC(2026, 0, 1); ms < Date.UTC(2026, 0, 2); ms += 3_599_999.777) {
      expect(isMicroTime(formatMicroTime(ms)), String(ms)).toBe(true);
    }
  });

  it('refuses times it cannot write', () => {
    expect(() => formatMicroTime(Number.NaN)).toThrow(RangeError);
    expect(() => formatMicroTime(Number.POSITIVE_INFINITY)).toThrow(/finite/);
    expect(() => formatMicroTime(Date.UTC(10_000, 0, 1))).toThrow(/0000-9999/);
  });
});

describe('isMicroTime', () => {
  it('accepts only the six-digit UTC shape', () => {
    expect(isMicroTime('2026-11-25T12:00:00.123456Z')).toBe(true);
    expect(isMicroTime('2026-11-25T12:00:00Z')).toBe(false);
    expect(isMicroTime('2026-11-25T12:00:00.123Z')).toBe(false);
    expect(isMicroTime('2026-11-25T12:00:00.123456+01:00')).toBe(false);
    expect(isMicroTime('2026-13-45T12:00:00.123456Z')).toBe(false);
    expect(isMicroTime(1_700_000_000_000)).toBe(false);
  });
});
