import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** What replaces a redacted value in a log line. */
export const redactedValue = '[REDACTED]';

// Fields that hold credentials in a RestConfig, a kubeconfig (its YAML names too), HTTP headers and common token
// responses. Each is redacted wherever it sits, up to four levels deep (`config.bearerToken`,
// `ctx.cluster.config.bearerToken`, …), since pino's redaction paths match one level per wildcard.
const credentialKeys = [
  'token',
  'bearerToken',
  'password',
  'keyData',
  'certData',
  'clientKeyData',
  'clientCertificateData',
  'client-key-data',
  'client-certificate-data',
  'id-token',
  'refresh-token',
  'client-secret',
  'accessToken',
  'refreshToken',
  'authorization',
  'Authorization',
  'cookie',
  'set-cookie',
];
// Objects whose every value may be a credential: an exec plugin's environment.
const credentialObjects = ['exec.env'];

function keyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : `[${JSON.stringify(key)}]`;
}

function atEveryDepth(path: string): string[] {
  const out: string[] = [];
  for (let depth = 0; depth <= 3; depth++) {
    const prefix = '*.'.repeat(depth);
    out.push(path.startsWith('[') && depth > 0 ? `${prefix.slice(0, -1)}${path}` : `${prefix}${path}`);
  }
  return out;
}

/** The pino redaction paths kubeloop's logger uses: credential fields at every depth up to four. */
export const defaultRedactPaths: readonly string[] = [
  ...credentialKeys.flatMap((k) => atEveryDepth(keyPath(k))),
  ...credentialObjects.flatMap(atEveryDepth),
];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function censorValues(data: unknown): unknown {
  if (!isPlainObject(data)) return redactedValue;
  return Object.fromEntries(Object.keys(data).map((k) => [k, redactedValue]));
}

const maxSecretDepth = 8;

/**
 * A copy of `value` in which every Secret (an object with `kind: 'Secret'`) has the values of its `data` and
 * `stringData` replaced by `[REDACTED]` (keys are kept, so a log still says which keys a Secret has). Looks through
 * plain objects and arrays up to eight levels deep; returns `value` itself when nothing needed redacting. Never
 * changes `value`.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (depth > maxSecretDepth) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item: unknown, i) => {
      const redacted = redactSecrets(item, depth + 1);
      if (redacted !== item) (copy ??= [...value])[i] = redacted;
    });
    return (copy ?? value) as T;
  }
  if (!isPlainObject(value)) return value;
  let copy: Record<string, unknown> | undefined;
  if (value['kind'] === 'Secret') {
    for (const field of ['data', 'stringData']) {
      if (value[field] !== undefined) (copy ??= { ...value })[field] = censorValues(value[field]);
    }
  }
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'object' || v === null || (copy && (k === 'data' || k === 'stringData'))) continue;
    const redacted = redactSecrets(v, depth + 1);
    if (redacted !== v) (copy ??= { ...value })[k] = redacted;
  }
  return (copy ?? value) as T;
}

/**
 * The pino options that make any pino logger redact as kubeloop's does: credential fields ({@link defaultRedactPaths}
 * plus `extraPaths`) and Secret data, in log objects and child bindings. For an application that makes its own
 * logger: `pino({ ...redactionOptions(), level: 'debug' })`.
 */
export function redactionOptions(extraPaths: readonly string[] = []): Pick<LoggerOptions, 'redact' | 'formatters'> {
  return {
    redact: { paths: [...defaultRedactPaths, ...extraPaths], censor: redactedValue },
    formatters: {
      log: (obj) => redactSecrets(obj),
      bindings: (bindings) => redactSecrets(bindings),
    },
  };
}

/** Options of {@link createDefaultLogger}. */
export interface DefaultLoggerOptions {
  /** Lowest level written: `trace`, `debug`, `info`, `warn`, `error`, `fatal` or `silent`. Default: `$LOG_LEVEL`, else `info`. */
  level?: string;
  /** A `name` field on every line. Default: none. */
  name?: string;
  /** More pino redaction paths, on top of the defaults. Default: none. */
  redactPaths?: readonly string[];
  /** Where lines go. Default: standard output. */
  destination?: DestinationStream;
}

/**
 * The logger a manager uses when given none: pino, one JSON object per line on standard output, ISO timestamps,
 * level names (`"level":"info"`).
 *
 * Guarantees: credentials never appear: RestConfig and kubeconfig credential fields (`bearerToken`, `token`,
 * `password`, `keyData`, `certData`, `client-key-data`, …), `authorization` and `cookie` headers (so
 * `req.headers.authorization`), an exec plugin's `env`, at any depth up to four, and the `data` and `stringData`
 * values of every Secret object logged (up to eight levels deep, lists of Secrets included) are replaced by
 * `[REDACTED]`. The logged objects themselves are never changed.
 *
 * Caveats: redaction works on field names: a credential logged inside a message string, or under another field name,
 * is not found. A proxy URL with a password in it (`proxyUrl`) is not redacted.
 */
export function createDefaultLogger(options: DefaultLoggerOptions = {}): Logger {
  const loggerOptions: LoggerOptions = {
    level: options.level ?? process.env['LOG_LEVEL'] ?? 'info',
    ...(options.name !== undefined && { name: options.name }),
    timestamp: pino.stdTimeFunctions.isoTime,
    ...redactionOptions(options.redactPaths),
  };
  loggerOptions.formatters = { ...loggerOptions.formatters, level: (label) => ({ level: label }) };
  return options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
}
