import { describe, expect, it } from 'vitest';
import { hasErrorCode } from '../errors.js';
import {
  addQuantities,
  canonicalQuantity,
  compareQuantities,
  maxDigits,
  parseQuantity,
  QuantityError,
  subtractQuantities,
  type QuantityFormat,
  type QuantityValue,
} from './quantity.js';

// Expected strings and formats are what apimachinery v0.37.2's ParseQuantity and String() give for each input.
// value and milliValue are exact (Go's int64 results agree wherever they do not overflow; see the last describe).
const table: [
  input: string,
  canonical: string,
  format: QuantityFormat,
  value: bigint | undefined,
  milli: bigint | undefined,
][] = [
  ['0', '0', 'DecimalSI', 0n, 0n],
  ['1', '1', 'DecimalSI', 1n, 1000n],
  ['-1', '-1', 'DecimalSI', -1n, -1000n],
  ['+1', '+1', 'DecimalSI', 1n, 1000n],
  ['01', '01', 'DecimalSI', 1n, 1000n],
  ['00', '0', 'DecimalSI', 0n, 0n],
  ['0.5', '500m', 'DecimalSI', 1n, 500n],
  ['1.5', '1500m', 'DecimalSI', 2n, 1500n],
  ['-1.5', '-1500m', 'DecimalSI', -2n, -1500n],
  ['1.500', '1.500', 'DecimalSI', 2n, 1500n],
  ['1500m', '1500m', 'DecimalSI', 2n, 1500n],
  ['100m', '100m', 'DecimalSI', 1n, 100n],
  ['1000m', '1', 'DecimalSI', 1n, 1000n],
  ['1000', '1k', 'DecimalSI', 1000n, 1000000n],
  ['1k', '1k', 'DecimalSI', 1000n, 1000000n],
  ['1.5k', '1500', 'DecimalSI', 1500n, 1500000n],
  ['12e6', '12e6', 'DecimalExponent', 12000000n, 12000000000n],
  ['1e3', '1e3', 'DecimalExponent', 1000n, 1000000n],
  ['1e2', '100', 'DecimalExponent', 100n, 100000n],
  ['1E3', '1E3', 'DecimalExponent', 1000n, 1000000n],
  ['1e-3', '1e-3', 'DecimalExponent', 1n, 1n],
  ['1e-9', '1e-9', 'DecimalExponent', 1n, 1n],
  ['1e-10', '1e-9', 'DecimalExponent', 1n, 1n],
  ['1e-100', '1e-9', 'DecimalExponent', 1n, 1n],
  ['1Ki', '1Ki', 'BinarySI', 1024n, 1024000n],
  ['+1Ki', '+1Ki', 'BinarySI', 1024n, 1024000n],
  ['1024Ki', '1Mi', 'BinarySI', 1048576n, 1048576000n],
  ['1025Ki', '1025Ki', 'BinarySI', 1049600n, 1049600000n],
  ['8Ki', '8Ki', 'BinarySI', 8192n, 8192000n],
  ['0.5Ki', '512', 'BinarySI', 512n, 512000n],
  ['1.5Gi', '1536Mi', 'BinarySI', 1610612736n, 1610612736000n],
  ['1.5Mi', '1536Ki', 'BinarySI', 1572864n, 1572864000n],
  ['-1.5Gi', '-1536Mi', 'BinarySI', -1610612736n, -1610612736000n],
  ['8Ei', '9223372036854775807', 'BinarySI', 9223372036854775807n, 9223372036854775807000n],
  ['-8Ei', '-9223372036854775807', 'BinarySI', -9223372036854775807n, -9223372036854775807000n],
  ['4Ei', '4Ei', 'BinarySI', 4611686018427387904n, 4611686018427387904000n],
  ['0.5Ei', '512Pi', 'BinarySI', 576460752303423488n, 576460752303423488000n],
  ['Ki', '0', 'BinarySI', 0n, 0n],
  ['m', '0', 'DecimalSI', 0n, 0n],
  ['.', '0', 'DecimalSI', 0n, 0n],
  ['+', '0', 'DecimalSI', 0n, 0n],
  ['-', '0', 'DecimalSI', 0n, 0n],
  ['1.', '1.', 'DecimalSI', 1n, 1000n],
  ['-0', '0', 'DecimalSI', 0n, 0n],
  ['.5', '500m', 'DecimalSI', 1n, 500n],
  ['1n', '1n', 'DecimalSI', 1n, 1n],
  ['1.5n', '2n', 'DecimalSI', 1n, 1n],
  ['0.0000000001', '1n', 'DecimalSI', 1n, 1n],
  ['-0.0000000001', '-1n', 'DecimalSI', -1n, -1n],
  ['0.0000000015', '2n', 'DecimalSI', 1n, 1n],
  ['123456789012345678', '123456789012345678', 'DecimalSI', 123456789012345678n, 123456789012345678000n],
  ['1234567890123456789', '1234567890123456789', 'DecimalSI', 1234567890123456789n, 1234567890123456789000n],
  ['99999999999999999999', '99999999999999999999', 'DecimalSI', 99999999999999999999n, 99999999999999999999000n],
  ['9223372036854775808', '9223372036854775808', 'DecimalSI', 9223372036854775808n, 9223372036854775808000n],
  ['1e18', '1e18', 'DecimalExponent', 1000000000000000000n, 1000000000000000000000n],
  ['1e19', '10e18', 'DecimalExponent', 10000000000000000000n, 10000000000000000000000n],
  ['1024E', '1024E', 'DecimalSI', 1024000000000000000000n, 1024000000000000000000000n],
  ['1E', '1E', 'DecimalSI', 1000000000000000000n, 1000000000000000000000n],
  ['1u', '1u', 'DecimalSI', 1n, 1n],
  ['1.1u', '1100n', 'DecimalSI', 1n, 1n],
  ['100Mi', '100Mi', 'BinarySI', 104857600n, 104857600000n],
  ['1023', '1023', 'DecimalSI', 1023n, 1023000n],
  ['1024', '1024', 'DecimalSI', 1024n, 1024000n],
  ['2048', '2048', 'DecimalSI', 2048n, 2048000n],
  ['1536', '1536', 'DecimalSI', 1536n, 1536000n],
  ['1e4294967296', '1e4294967296', 'DecimalExponent', 1n, 1000n],
  ['1.5e-2147483648', '150e2147483646', 'DecimalExponent', undefined, undefined],
  ['1e2000000000', '100e1999999998', 'DecimalExponent', undefined, undefined],
  ['12.5', '12500m', 'DecimalSI', 13n, 12500n],
  ['0.1', '100m', 'DecimalSI', 1n, 100n],
  ['0.01', '10m', 'DecimalSI', 1n, 10n],
  ['5e-1', '500e-3', 'DecimalExponent', 1n, 500n],
  ['5E+1', '50', 'DecimalExponent', 50n, 50000n],
  ['5e+00', '5e+00', 'DecimalExponent', 5n, 5000n],
  ['5e0', '5e0', 'DecimalExponent', 5n, 5000n],
  ['2.5Ti', '2560Gi', 'BinarySI', 2748779069440n, 2748779069440000n],
  ['0Ki', '0', 'BinarySI', 0n, 0n],
  ['1000000', '1M', 'DecimalSI', 1000000n, 1000000000n],
  ['1000000000m', '1M', 'DecimalSI', 1000000n, 1000000000n],
  ['1500000000n', '1500m', 'DecimalSI', 2n, 1500n],
  ['1.000000001', '1.000000001', 'DecimalSI', 2n, 1001n],
  ['1e21', '1e21', 'DecimalExponent', 1000000000000000000000n, 1000000000000000000000000n],
  ['0.5m', '500u', 'DecimalSI', 1n, 1n],
  ['1.5m', '1500u', 'DecimalSI', 1n, 2n],
  ['0.123456789012', '123456790n', 'DecimalSI', 1n, 124n],
  ['3.14159', '3141590u', 'DecimalSI', 4n, 3142n],
  ['1.5e3', '1500', 'DecimalExponent', 1500n, 1500000n],
  ['1500e-3', '1500e-3', 'DecimalExponent', 2n, 1500n],
];

function exact(f: () => bigint): bigint | undefined {
  try {
    return f();
  } catch (err) {
    if (err instanceof QuantityError) return undefined;
    throw err;
  }
}

describe('parseQuantity and toString, as resource.ParseQuantity and Quantity.String()', () => {
  it.each(table)('%j → %j (%s)', (input, canonical, format, value, milli) => {
    const q = parseQuantity(input);
    expect(q.toString()).toBe(canonical);
    expect(q.format).toBe(format);
    // undefined: too large to write out (value() throws a QuantityError).
    expect(exact(() => q.value())).toBe(value);
    expect(exact(() => q.milliValue())).toBe(milli);
    // The canonical text means the same quantity.
    expect(parseQuantity(canonical).cmp(q)).toBe(0);
    expect(canonicalQuantity(input)).toBe(canonical);
  });

  it('keeps the nano: smaller amounts round away from zero', () => {
    expect(parseQuantity('0.0000000001').toString()).toBe('1n');
    expect(parseQuantity('-0.0000000001').toString()).toBe('-1n');
    expect(parseQuantity('1.0000000001').toString()).toBe('1000000001n');
    expect(parseQuantity('1.0000000010').toString()).toBe('1000000001n');
    expect(parseQuantity('0.1n').cmp(parseQuantity('1n'))).toBe(0);
    expect(parseQuantity('1e-1000').toString()).toBe('1e-9');
  });

  it('clamps a binary quantity to 2^63-1, and writes one below 1 as decimal', () => {
    expect(parseQuantity('16Ei').value()).toBe(2n ** 63n - 1n);
    expect(parseQuantity('-16Ei').value()).toBe(-(2n ** 63n - 1n));
    const half = parseQuantity('0.5Ei');
    expect(half.format).toBe('BinarySI');
    const tiny = parseQuantity('0.0005Ki');
    expect(tiny.format).toBe('DecimalSI');
    expect(tiny.toString()).toBe('512m');
    // Decimal quantities are not clamped.
    expect(parseQuantity('100E').value()).toBe(10n ** 20n);
  });

  it('wraps an exponent past int32, as apimachinery does', () => {
    // 2^32 wraps to 0: the value is 1.
    expect(parseQuantity('1e4294967296').value()).toBe(1n);
    expect(parseQuantity('1e4294967297').value()).toBe(10n);
    // Huge exponents are kept without writing the number out.
    expect(parseQuantity('1e2000000000').toString()).toBe('100e1999999998');
    expect(parseQuantity('1e2000000000').cmp(parseQuantity('1e1999999999'))).toBe(1);
    expect(parseQuantity('1e2000000000').asApproximateNumber()).toBe(Number.POSITIVE_INFINITY);
  });

  it('approximates as a number', () => {
    expect(parseQuantity('1.5Gi').asApproximateNumber()).toBe(1610612736);
    expect(parseQuantity('100m').asApproximateNumber()).toBe(0.1);
    expect(parseQuantity('-2.5e-3').asApproximateNumber()).toBe(-0.0025);
    expect(parseQuantity('0').asApproximateNumber()).toBe(0);
  });

  it('writes JSON as the string', () => {
    const resources: { cpu: QuantityValue } = { cpu: parseQuantity('1.5') };
    expect(JSON.stringify(resources)).toBe('{"cpu":"1500m"}');
  });
});

describe('parseQuantity refuses what resource.ParseQuantity refuses', () => {
  it.each([
    ['', /empty/],
    [' 1', /does not match/],
    ['1 ', /does not match/],
    ['1.2.3', /does not match/],
    ['--1', /unknown suffix "-1"/],
    ['+-1', /unknown suffix "-1"/],
    ['1Ki5', /unknown suffix "Ki5"/],
    ['1ki', /unknown suffix "ki"/],
    ['1k2', /unknown suffix "k2"/],
    ['1kk', /unknown suffix "kk"/],
    ['1mi', /unknown suffix "mi"/],
    ['1e', /unknown suffix "e"/],
    ['1e+', /unknown suffix "e\+"/],
    ['1e5k', /does not match|unknown suffix/],
    ['1-5', /unknown suffix "-5"/],
    ['1e9223372036854775808', /unknown suffix/],
    ['Ei', /no digits/],
    ['.Ei', /no digits/],
    ['1,5', /does not match/],
    ['0x10', /does not match/],
    ['1_000', /does not match/],
    ['١', /does not match/],
  ])('%j', (input, message) => {
    let caught: unknown;
    try {
      parseQuantity(input);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(QuantityError);
    expect(hasErrorCode(caught, 'ERR_KUBE_INVALID_QUANTITY')).toBe(true);
    expect((caught as Error).message).toContain(`quantity ${JSON.stringify(input)}`);
    expect((caught as Error).message).toMatch(message);
  });

  it('shortens a long input in the message', () => {
    const long = `${'9'.repeat(300)}x`;
    expect(() => parseQuantity(long)).toThrow(/quantity "9{100}…": does not match/);
  });
});

describe('arithmetic, as Quantity.Add, Sub, Cmp and Neg', () => {
  it.each([
    // [a, b, a + b, a - b, cmp(a, b)]: the result in a's format, or b's when a is zero
    ['0', '1Ki', '1Ki', '-1Ki', -1],
    ['0', '1e3', '1e3', '-1e3', -1],
    ['0', '-1.5', '-1500m', '1500m', 1],
    ['1', '1Ki', '1025', '-1023', -1],
    ['1', '100m', '1100m', '900m', 1],
    ['1', '1n', '1000000001n', '999999999n', 1],
    ['1', '4Ei', '4611686018427387905', '-4611686018427387903', -1],
    ['1Ki', '1', '1025', '1023', 1],
    ['1Ki', '1Ki', '2Ki', '0', 0],
    ['1Ki', '512Mi', '524289Ki', '-524287Ki', -1],
    ['1Ki', '100m', '1024100m', '1023900m', 1],
    ['1Ki', '1e3', '2024', '24', 1],
    ['1Ki', '1Mi', '1025Ki', '-1023Ki', -1],
    ['1.5Gi', '512Mi', '2Gi', '1Gi', 1],
    ['1.5Gi', '1n', '1610612736000000001n', '1610612735999999999n', 1],
    ['1.5Gi', '4Ei', '4398046512640Mi', '-4398046509568Mi', -1],
    ['1e3', '1k', '2e3', '0', 0],
    ['12e6', '1', '12000001', '11999999', 1],
    ['4Ei', '4Ei', '8Ei', '0', 0],
    ['100m', '250m', '350m', '-150m', -1],
    ['1500m', '1.5', '3', '0', 0],
  ] as const)('%s and %s', (a, b, sum, difference, order) => {
    expect(addQuantities(a, b)).toBe(sum);
    expect(subtractQuantities(a, b)).toBe(difference);
    expect(compareQuantities(a, b)).toBe(order);
    expect(compareQuantities(b, a)).toBe(order === 0 ? 0 : -order);
  });

  it('keeps the left format, unless the left side is zero', () => {
    expect(parseQuantity('1Gi').add(parseQuantity('1G')).format).toBe('BinarySI');
    expect(parseQuantity('1G').add(parseQuantity('1Gi')).format).toBe('DecimalSI');
    expect(parseQuantity('0').add(parseQuantity('1Gi')).format).toBe('BinarySI');
    expect(parseQuantity('0Ki').sub(parseQuantity('1e3')).toString()).toBe('-1e3');
    expect(parseQuantity('1Ki').sub(parseQuantity('1Ki')).format).toBe('BinarySI');
  });

  it('is exact past 2^53 and with nanos', () => {
    const big = parseQuantity('9007199254740993');
    expect(big.add(parseQuantity('1')).toString()).toBe('9007199254740994');
    expect(addQuantities('0.1', '0.2')).toBe('300m');
    expect(compareQuantities('0.3', addQuantities('0.1', '0.2'))).toBe(0);
    expect(addQuantities('99999999999999999999', '1')).toBe('100E');
    expect(subtractQuantities('1n', '1n')).toBe('0');
  });

  it('is immutable: operations return new quantities', () => {
    const a = parseQuantity('1Gi');
    const b = parseQuantity('512Mi');
    const sum = a.add(b);
    expect(a.toString()).toBe('1Gi');
    expect(b.toString()).toBe('512Mi');
    expect(sum.toString()).toBe('1536Mi');
    expect(a.neg().toString()).toBe('-1Gi');
    expect(a.neg().neg().cmp(a)).toBe(0);
  });

  it('drops the kept spelling once changed, as Go clears it', () => {
    const q = parseQuantity('+1Ki');
    expect(q.toString()).toBe('+1Ki');
    expect(q.neg().toString()).toBe('-1Ki');
    expect(q.add(parseQuantity('0')).toString()).toBe('1Ki');
  });

  it('reports sign and zero', () => {
    expect(parseQuantity('-1m').sign()).toBe(-1);
    expect(parseQuantity('0Mi').sign()).toBe(0);
    expect(parseQuantity('0Mi').isZero()).toBe(true);
    expect(parseQuantity('1n').sign()).toBe(1);
    expect(parseQuantity('1n').isZero()).toBe(false);
  });

  it('sums container CPU requests', () => {
    const requests: string[] = ['250m', '1', '0.5', '100m'];
    const total: QuantityValue = requests.map(parseQuantity).reduce((a, b) => a.add(b), parseQuantity('0'));
    expect(total.toString()).toBe('1850m');
    expect(total.milliValue()).toBe(1850n);
    expect(total.cmp(parseQuantity('2'))).toBe(-1);
  });
});

describe('value and milliValue round away from zero and stay exact', () => {
  it('rounds', () => {
    expect(parseQuantity('1500m').value()).toBe(2n);
    expect(parseQuantity('-1500m').value()).toBe(-2n);
    expect(parseQuantity('1001m').value()).toBe(2n);
    expect(parseQuantity('1000m').value()).toBe(1n);
    expect(parseQuantity('1u').milliValue()).toBe(1n);
    expect(parseQuantity('-1u').milliValue()).toBe(-1n);
  });

  // Differences from Go on purpose: Go's Value() and MilliValue() are int64 and wrap (or give 0) past it, and its
  // big-decimal form rounds negative fractions towards +∞ plus one (-1e-100 gives 1).
  it.each([
    ['8Ei', 2n ** 63n - 1n, (2n ** 63n - 1n) * 1000n],
    ['1e19', 10n ** 19n, 10n ** 22n],
    ['123456789012345678', 123456789012345678n, 123456789012345678000n],
    ['-1e-100', -1n, -1n],
    ['-0.123456789012', -1n, -124n],
  ])('%s is %s (%s milli)', (input, value, milli) => {
    expect(parseQuantity(input).value()).toBe(value);
    expect(parseQuantity(input).milliValue()).toBe(milli);
  });

  it('throws rather than write out a number of more than maxDigits digits', () => {
    expect(() => parseQuantity(`1e${maxDigits + 10}`).value()).toThrow(QuantityError);
    expect(() => addQuantities('1e2000000000', '1')).toThrow(/too large to compute exactly/);
    expect(parseQuantity(`1e${maxDigits - 10}`).value()).toBe(10n ** BigInt(maxDigits - 10));
  });
});

describe('toString where Go loses the exponent (a deliberate difference)', () => {
  it('writes a DecimalSI value of 10^21 or more with an exponent, not as the bare mantissa', () => {
    // Go: MustParse("1000E").String() == "1".
    expect(parseQuantity('1000E').toString()).toBe('1e21');
    expect(parseQuantity('1000E').cmp(parseQuantity('1e21'))).toBe(0);
    expect(addQuantities('999E', '1E')).toBe('1e21');
  });

  it('writes a binary value of 1024Ei or more as a number of Ei', () => {
    let q: QuantityValue = parseQuantity('4Ei');
    for (let i = 0; i < 9; i++) q = q.add(q);
    expect(q.toString()).toBe('2048Ei');
  });
});
