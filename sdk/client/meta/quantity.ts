/**
 * Resource quantities (`100m`, `1.5Gi`, `2e3`) with apimachinery's resource.Quantity semantics. In the API types a
 * Quantity stays a string; {@link parseQuantity} turns one into an immutable {@link QuantityValue} to compare, add,
 * subtract and format. Arithmetic is exact (a bigint coefficient and a power of ten, never a float).
 *
 * As in apimachinery:
 * - the grammar is `[+-]? digits [. digits] suffix`, the suffix one of `n u m k M G T P E` (powers of 1000),
 *   `Ki Mi Gi Ti Pi Ei` (powers of 1024) or an exponent `e3`/`E-2` (any digit part may be empty: `.` and `Ki` are 0);
 * - a value is kept to the nano (9 decimals), rounded away from zero: `0.0000000001` is `1n`;
 * - a binary (`Ki`…`Ei`) value above 2^63-1 is clamped to it; one between 0 and 1 is formatted as decimal;
 * - toString() is Quantity.String(): the number in the format it was written in (DecimalSI, BinarySI or
 *   DecimalExponent), with the exponent a multiple of 3 (or of 10 for binary), `1.5Gi` giving `1536Mi` and `1.5`
 *   giving `1500m`; a binary value below 1024 or with a fraction is written as decimal. An input that is already
 *   in that form is kept as written, sign and leading zeros included (`+1Ki`, `01`, `1.500`), as apimachinery does;
 * - the sum or difference takes the format of its left side, unless that side is zero.
 *
 * Deliberate differences (apimachinery's int64 results overflow or lose the exponent; these stay exact):
 * - value() and milliValue() return the exact bigint, rounded away from zero; Go's int64 wraps or returns 0 past
 *   int64 (`8Ei`'s MilliValue is -1000 in Go), and its big-decimal form rounds a negative fraction differently;
 * - a DecimalSI value of 10^21 or more has no suffix: Go writes the bare mantissa (`1000E` → `1`), kubeloop writes it
 *   with an exponent (`1e21`); likewise a binary value of 1024Ei or more is written as a number of `Ei`;
 * - results that would need more than {@link maxDigits} digits (`1e999999999` plus `1`, or its value()) throw a
 *   {@link QuantityError} instead of exhausting memory, as Go would.
 */
import { KubeloopError } from '../errors.js';

/** How a quantity is written: `12M` (DecimalSI), `12Mi` (BinarySI), `12e6` (DecimalExponent). */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** A quantity that does not parse, or is too large to compute with exactly (code `ERR_KUBE_INVALID_QUANTITY`). */
export class QuantityError extends KubeloopError {
  /** The quantity as given (at most 100 characters of it). */
  readonly input: string;

  constructor(input: string, problem: string) {
    const shown = input.length > 100 ? `${input.slice(0, 100)}…` : input;
    super('ERR_KUBE_INVALID_QUANTITY', `quantity ${JSON.stringify(shown)}: ${problem}`);
    this.input = shown;
  }
}

/** An immutable, exact resource quantity. */
export interface QuantityValue {
  /** The format toString() writes (the one it was parsed in, or the left side's of a sum). */
  readonly format: QuantityFormat;
  /** apimachinery's Quantity.String(): see the module doc. */
  toString(): string;
  /** The same as toString(), so that JSON.stringify writes the string the API expects. */
  toJSON(): string;
  /** -1, 0 or 1 as this is less than, equal to or greater than `other` (exact: `1500m` equals `1.5`). */
  cmp(other: QuantityValue): -1 | 0 | 1;
  /** The exact sum, in this format (in `other`'s when this is zero). */
  add(other: QuantityValue): QuantityValue;
  /** The exact difference, in this format (in `other`'s when this is zero). */
  sub(other: QuantityValue): QuantityValue;
  /** The negated quantity, in the same format. */
  neg(): QuantityValue;
  /** -1, 0 or 1 as the quantity is negative, zero or positive. */
  sign(): -1 | 0 | 1;
  /** True for a zero quantity (`0`, `0Ki`, `-0`). */
  isZero(): boolean;
  /** The value as an integer, rounded away from zero (`1500m` → 2n, `-1500m` → -2n), as Quantity.Value(). */
  value(): bigint;
  /** The value in thousandths, rounded away from zero (`1.5` → 1500n, `1n` → 1n), as Quantity.MilliValue(). */
  milliValue(): bigint;
  /** The nearest JavaScript number (may be Infinity), as AsApproximateFloat64. */
  asApproximateNumber(): number;
}

/** The most decimal digits an exact result may have (10^100000): larger ones throw a QuantityError. */
export const maxDigits = 100_000;

const int64Max = 2n ** 63n - 1n;
const decimalSuffixes: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const binarySuffixes: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalByExponent = new Map(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
const binaryByPower = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** Go's int32(x): the low 32 bits, as a signed number. */
const wrap32 = (x: number | bigint): number => Number(BigInt.asIntN(32, BigInt(x)));
const abs = (n: bigint): bigint => (n < 0n ? -n : n);
const digitsOf = (n: bigint): number => abs(n).toString().length;

function pow10(n: number, input: string): bigint {
  if (n > maxDigits) throw new QuantityError(input, `too large to compute exactly (more than ${maxDigits} digits)`);
  return 10n ** BigInt(n);
}

/** An exact value coef × 10^exp, with coef's trailing zeros moved into exp (zero is 0 × 10^0). */
interface Decimal {
  readonly coef: bigint;
  readonly exp: number;
}

function normalize(coef: bigint, exp: number): Decimal {
  if (coef === 0n) return { coef, exp: 0 };
  const text = abs(coef).toString();
  let zeros = 0;
  while (text[text.length - 1 - zeros] === '0') zeros++;
  if (zeros === 0) return { coef, exp };
  const trimmed = BigInt(text.slice(0, text.length - zeros));
  return { coef: coef < 0n ? -trimmed : trimmed, exp: exp + zeros };
}

/** `d` rounded to an integer multiple of 10^scale, away from zero, as a coefficient of 10^scale. */
function scaledAwayFromZero(d: Decimal, scale: number, input: string): bigint {
  if (d.exp >= scale) return d.coef * pow10(d.exp - scale, input);
  const drop = scale - d.exp;
  if (drop > digitsOf(d.coef)) return d.coef === 0n ? 0n : d.coef < 0n ? -1n : 1n;
  const unit = 10n ** BigInt(drop);
  const q = d.coef / unit;
  if (d.coef % unit === 0n) return q;
  return d.coef < 0n ? q - 1n : q + 1n;
}

function cmpDecimal(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const sa = a.coef < 0n ? -1 : a.coef > 0n ? 1 : 0;
  const sb = b.coef < 0n ? -1 : b.coef > 0n ? 1 : 0;
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (sa === 0) return 0;
  // Same sign: compare magnitudes by their order first, so that 1e999999999 never has to be written out.
  const orderA = digitsOf(a.coef) + a.exp;
  const orderB = digitsOf(b.coef) + b.exp;
  let magnitude: number;
  if (orderA !== orderB) magnitude = orderA < orderB ? -1 : 1;
  else {
    const exp = Math.min(a.exp, b.exp);
    const ma = abs(a.coef) * 10n ** BigInt(a.exp - exp);
    const mb = abs(b.coef) * 10n ** BigInt(b.exp - exp);
    magnitude = ma === mb ? 0 : ma < mb ? -1 : 1;
  }
  if (magnitude === 0) return 0;
  return (sa * magnitude) as -1 | 1;
}

function addDecimal(a: Decimal, b: Decimal, input: string): Decimal {
  if (a.coef === 0n) return b;
  if (b.coef === 0n) return a;
  const exp = Math.min(a.exp, b.exp);
  return normalize(a.coef * pow10(a.exp - exp, input) + b.coef * pow10(b.exp - exp, input), exp);
}

class Quantity implements QuantityValue {
  constructor(
    private readonly d: Decimal,
    readonly format: QuantityFormat,
    /** The input, when apimachinery keeps it as the String() form. */
    private readonly written?: string,
  ) {}

  toString(): string {
    return this.written ?? formatQuantity(this.d, this.format);
  }

  toJSON(): string {
    return this.toString();
  }

  cmp(other: QuantityValue): -1 | 0 | 1 {
    return cmpDecimal(this.d, decimalOf(other));
  }

  add(other: QuantityValue): QuantityValue {
    const format = this.d.coef === 0n ? other.format : this.format;
    return new Quantity(addDecimal(this.d, decimalOf(other), `${this.toString()} + ${other.toString()}`), format);
  }

  sub(other: QuantityValue): QuantityValue {
    const format = this.d.coef === 0n ? other.format : this.format;
    const negated = { coef: -decimalOf(other).coef, exp: decimalOf(other).exp };
    return new Quantity(addDecimal(this.d, negated, `${this.toString()} - ${other.toString()}`), format);
  }

  neg(): QuantityValue {
    return new Quantity({ coef: -this.d.coef, exp: this.d.exp }, this.format);
  }

  sign(): -1 | 0 | 1 {
    return this.d.coef < 0n ? -1 : this.d.coef > 0n ? 1 : 0;
  }

  isZero(): boolean {
    return this.d.coef === 0n;
  }

  value(): bigint {
    return scaledAwayFromZero(this.d, 0, this.toString());
  }

  milliValue(): bigint {
    return scaledAwayFromZero(this.d, -3, this.toString());
  }

  asApproximateNumber(): number {
    return Number(`${this.d.coef}e${this.d.exp}`);
  }

  /** @internal The exact value, for arithmetic between two quantities. */
  get decimal(): Decimal {
    return this.d;
  }
}

function decimalOf(q: QuantityValue): Decimal {
  if (q instanceof Quantity) return q.decimal;
  // Another copy of kubeloop, or a hand-made QuantityValue: go through its text.
  return decimalOf(parseQuantity(q.toString()));
}

/** Quantity.String() of an exact value: see the module doc. */
function formatQuantity(d: Decimal, format: QuantityFormat): string {
  if (d.coef === 0n) return '0';
  if (format === 'BinarySI') {
    const small = cmpDecimal({ coef: abs(d.coef), exp: d.exp }, { coef: 1024n, exp: 0 }) < 0;
    // A fraction (or a number too long to write out in base 1024) is written as decimal.
    if (!small && d.exp >= 0 && d.exp <= maxDigits) return formatBinary(d.coef * 10n ** BigInt(d.exp));
    format = 'DecimalSI';
  }
  const shift = ((d.exp % 3) + 3) % 3;
  const mantissa = d.coef * 10n ** BigInt(shift);
  const exp = d.exp - shift;
  const suffix = format === 'DecimalSI' ? decimalByExponent.get(exp) : undefined;
  if (suffix !== undefined) return `${mantissa}${suffix}`;
  return exp === 0 ? `${mantissa}` : `${mantissa}e${exp}`;
}

function formatBinary(n: bigint): string {
  let power = 0;
  while (n % 1024n === 0n) {
    n /= 1024n;
    power++;
  }
  if (power >= binaryByPower.length) {
    n *= 1024n ** BigInt(power - (binaryByPower.length - 1));
    power = binaryByPower.length - 1;
  }
  return `${n}${binaryByPower[power]}`;
}

/** The parts of a quantity's text: sign, the digits before and after the point (leading zeros apart), the suffix. */
interface Parts {
  negative: boolean;
  zeros: string;
  num: string;
  denom: string;
  suffix: string;
}

const grammar = /^([+-]?)(0*)([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP]*[+-]?[0-9]*)$/;

/** The suffix's base, exponent and format, or undefined for an unknown suffix. */
function interpret(suffix: string): { base: 2 | 10; exponent: number; format: QuantityFormat } | undefined {
  const decimal = decimalSuffixes[suffix];
  if (decimal !== undefined && Object.hasOwn(decimalSuffixes, suffix))
    return { base: 10, exponent: decimal, format: 'DecimalSI' };
  const binary = binarySuffixes[suffix];
  if (binary !== undefined && Object.hasOwn(binarySuffixes, suffix))
    return { base: 2, exponent: binary, format: 'BinarySI' };
  const m = /^[eE]([+-]?\d+)$/.exec(suffix);
  if (!m) return undefined;
  const parsed = BigInt(m[1]!);
  // strconv.ParseInt(…, 10, 64), then int32(): an exponent past int32 wraps, as in apimachinery.
  if (parsed > int64Max || parsed < -int64Max - 1n) return undefined;
  return { base: 10, exponent: wrap32(parsed), format: 'DecimalExponent' };
}

/**
 * The small-number form apimachinery keeps in an int64 (and whose text it may keep as String()), or undefined when
 * the number needs its big-decimal form.
 */
function asInt64Form(
  input: string,
  p: Parts,
  base: 2 | 10,
  exponent: number,
  format: QuantityFormat,
): Quantity | undefined {
  const num = p.num || '0';
  let scale: number;
  let precision: number;
  let mantissa = 1n;
  if (base === 10) {
    scale = exponent;
    precision = 18 - (num.length + p.denom.length);
  } else {
    scale = 0;
    if (p.denom.length > 0) return undefined;
    mantissa = 1n << BigInt(exponent);
    precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
  }
  if (precision < 0) return undefined;
  scale = wrap32(scale - p.denom.length);
  if (scale < -9) return undefined;
  const shifted = num + p.denom;
  const magnitude = BigInt(shifted) * mantissa;
  if (magnitude > int64Max) return undefined;
  const keep =
    base === 2
      ? (BigInt(shifted) & 7n) !== 0n
      : scale % 3 === 0 && !shifted.endsWith('000') && !shifted.startsWith('0');
  return new Quantity(normalize(p.negative ? -magnitude : magnitude, scale), format, keep ? input : undefined);
}

/** The big-decimal form: exact, then rounded to the nano away from zero; binary clamped to 2^63-1. */
function asBigForm(input: string, p: Parts, base: 2 | 10, exponent: number, format: QuantityFormat): Quantity {
  const digits = p.zeros + p.num + p.denom;
  if (digits === '') throw new QuantityError(input, 'no digits in the number');
  let d: Decimal =
    base === 10
      ? normalize(BigInt(digits), -wrap32(p.denom.length + wrap32(-exponent)))
      : normalize(BigInt(digits) << BigInt(exponent), -p.denom.length);
  if (d.exp < -9) d = normalize(scaledAwayFromZero(d, -9, input), -9);
  if (format === 'BinarySI') {
    if (cmpDecimal(d, { coef: int64Max, exp: 0 }) > 0) d = { coef: int64Max, exp: 0 };
    if (d.coef !== 0n && cmpDecimal(d, { coef: 1n, exp: 0 }) < 0) format = 'DecimalSI';
  }
  return new Quantity(p.negative ? { coef: -d.coef, exp: d.exp } : d, format);
}

/**
 * Parses a quantity as apimachinery's resource.ParseQuantity does: see the module doc for the grammar, rounding and
 * limits. `parseQuantity('1.5Gi').toString()` is `'1536Mi'`.
 *
 * Errors: {@link QuantityError} (code `ERR_KUBE_INVALID_QUANTITY`) naming the input and what is wrong: it does not
 * match the grammar (spaces included), the suffix is unknown (`1ki`, `1e`), or the number has no digits where they
 * are needed (`Ei`).
 */
export function parseQuantity(input: string): QuantityValue {
  if (input === '') throw new QuantityError(input, 'empty (write a number such as 100m, 1.5Gi or 2e3)');
  if (input === '0') return new Quantity({ coef: 0n, exp: 0 }, 'DecimalSI', '0');
  const m = grammar.exec(input);
  if (!m) {
    throw new QuantityError(
      input,
      'does not match ^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$ (a number with an optional suffix: 100m, 1.5Gi, 2e3)',
    );
  }
  const p: Parts = { negative: m[1] === '-', zeros: m[2]!, num: m[3]!, denom: m[4] ?? '', suffix: m[5]! };
  const meaning = interpret(p.suffix);
  if (!meaning) {
    throw new QuantityError(
      input,
      `unknown suffix ${JSON.stringify(p.suffix)} (use n, u, m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei or an exponent such as e3)`,
    );
  }
  const { base, exponent, format } = meaning;
  return asInt64Form(input, p, base, exponent, format) ?? asBigForm(input, p, base, exponent, format);
}

/** Quantity.String() of a quantity's text: `canonicalQuantity('1.5Gi')` is `'1536Mi'`. Errors: as parseQuantity. */
export function canonicalQuantity(quantity: string): string {
  return parseQuantity(quantity).toString();
}

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b`: `compareQuantities('1500m', '1.5')` is 0. */
export function compareQuantities(a: string, b: string): -1 | 0 | 1 {
  return parseQuantity(a).cmp(parseQuantity(b));
}

/** `a + b`, written in `a`'s format (`b`'s when `a` is zero): `addQuantities('1Gi', '512Mi')` is `'1536Mi'`. */
export function addQuantities(a: string, b: string): string {
  return parseQuantity(a).add(parseQuantity(b)).toString();
}

/** `a - b`, written in `a`'s format (`b`'s when `a` is zero): `subtractQuantities('1', '250m')` is `'750m'`. */
export function subtractQuantities(a: string, b: string): string {
  return parseQuantity(a).sub(parseQuantity(b)).toString();
}
