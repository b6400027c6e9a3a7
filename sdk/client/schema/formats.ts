/**
 * The string formats the API server checks in a CRD schema (kube-openapi's format registry), as predicates. Formats
 * not listed here are not checked locally: the API server's `hostname`, `email`, `uri`, `isbn*`, `creditcard`, `ssn`
 * and `rgbcolor` (and unknown formats, which it ignores too).
 */
import { isIPv4, isIPv6 } from 'node:net';

const dateRe = /^(\d{4})-(\d{2})-(\d{2})$/;
const dateTimeRe = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;
const uuidRe = {
  uuid: /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
  uuid3: /^[0-9a-f]{8}-?[0-9a-f]{4}-?3[0-9a-f]{3}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
  uuid4: /^[0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i,
  uuid5: /^[0-9a-f]{8}-?[0-9a-f]{4}-?5[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12}$/i,
};

function isDate(value: string): boolean {
  const m = dateRe.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  return d <= new Date(Date.UTC(y, mo, 0)).getUTCDate();
}

function isDateTime(value: string): boolean {
  const m = dateTimeRe.exec(value);
  if (!m || !isDate(m[1]!)) return false;
  const [h, mi, sec] = [Number(m[2]), Number(m[3]), Number(m[4])];
  if (h > 23 || mi > 59 || sec > 60) return false;
  return m[7] === undefined || (Number(m[7]) <= 23 && Number(m[8]) <= 59);
}

/** Go's net.ParseCIDR: an IP address, a slash, a prefix length within the address's bits. */
function isCidr(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return false;
  const [ip, bits] = [value.slice(0, slash), value.slice(slash + 1)];
  if (!/^\d{1,3}$/.test(bits)) return false;
  if (isIPv4(ip)) return Number(bits) <= 32;
  return isIPv6(ip) && Number(bits) <= 128;
}

const base64Re = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const macRe = /^([0-9a-f]{2}([:-])[0-9a-f]{2}(\2[0-9a-f]{2}){4}|[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4})$/i;
const durationRe = /^[-+]?((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$|^0$/;

const checks: Record<string, (value: string) => boolean> = {
  date: isDate,
  'date-time': isDateTime,
  datetime: isDateTime,
  ...Object.fromEntries(Object.entries(uuidRe).map(([name, re]) => [name, (v: string) => re.test(v)])),
  ipv4: (v) => isIPv4(v),
  ipv6: (v) => isIPv6(v),
  cidr: isCidr,
  byte: (v) => base64Re.test(v),
  mac: (v) => macRe.test(v),
  hexcolor: (v) => /^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/.test(v),
  bsonobjectid: (v) => /^[0-9a-fA-F]{24}$/.test(v),
  duration: (v) => durationRe.test(v),
};

/** False when `value` is not of `format`; true for a valid value or a format not checked locally. */
export function matchesFormat(format: string, value: string): boolean {
  const check = checks[format];
  return check === undefined || check(value);
}
