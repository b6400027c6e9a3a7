import {
  pino,
  type Bindings,
  type ChildLoggerOptions,
  type DestinationStream,
  type Logger,
  type LoggerOptions,
} from 'pino';

/** What replaces a redacted value in a log line. */
export const redactedValue = '[REDACTED]';

/**
 * Field names whose values are credentials, wherever they appear (compared in lower case): those of a RestConfig, of
 * a kubeconfig (its YAML names too), of HTTP headers and of common token responses.
 */
export const credentialFields: readonly string[] = [
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
  'proxy-authorization',
  'cookie',
  'set-cookie',
];
const credentialSet = new Set(credentialFields.map((f) => f.toLowerCase()));

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function censorValues(data: unknown): unknown {
  if (!isPlainObject(data)) return redactedValue;
  return Object.fromEntries(Object.keys(data).map((k) => [k, redactedValue]));
}

const maxDepth = 8;

/** What replaces the value at `key` of `parent`, or `undefined` to look inside it. */
function censored(parent: Record<string, unknown>, key: string, value: unknown): unknown {
  if (value === undefined || value === null) return undefined;
  if (credentialSet.has(key.toLowerCase())) return redactedValue;
  if (parent['kind'] === 'Secret' && (key === 'data' || key === 'stringData')) return censorValues(value);
  // An exec credential plugin's environment often carries cloud credentials.
  if (
    key === 'env' &&
    Array.isArray(value) &&
    typeof parent['command'] === 'string' &&
    typeof parent['apiVersion'] === 'string'
  ) {
    return redactedValue;
  }
  return undefined;
}

/**
 * A copy of `value` with credentials and Secret data replaced by `[REDACTED]`: every field named in
 * {@link credentialFields}, an exec plugin's `env`, and the values of `data` and `stringData` of every object with
 * `kind: 'Secret'` (keys are kept, so a log still says which keys a Secret has). Looks through plain objects and
 * arrays up to eight levels deep; returns `value` itself when nothing needed redacting. Never changes `value`.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (depth > maxDepth) return value;
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
  for (const [k, v] of Object.entries(value)) {
    const replacement = censored(value, k, v);
    if (replacement !== undefined) {
      (copy ??= { ...value })[k] = replacement;
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    const redacted = redactSecrets(v, depth + 1);
    if (redacted !== v) (copy ??= { ...value })[k] = redacted;
  }
  return (copy ?? value) as T;
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
  /** More pino options (serializers, hooks, `base`, …), applied before kubeloop's redaction and formatting. */
  pinoOptions?: LoggerOptions;
}

/**
 * The logger a manager uses when given none, and a good one for an operator's `main`: pino, one JSON object per line
 * on standard output, ISO timestamps, level names (`"level":"info"`).
 *
 * Guarantees: credentials never appear: RestConfig and kubeconfig credential fields (`bearerToken`, `token`,
 * `password`, `keyData`, `certData`, `client-key-data`, …), `authorization` and `cookie` headers (so
 * `req.headers.authorization`), an exec plugin's `env`, and the `data` and `stringData` values of every Secret
 * (lists of Secrets included) are replaced by `[REDACTED]` at any depth up to eight, in log objects and in child
 * bindings. The logged objects themselves are never changed.
 *
 * Caveats: redaction works on field names: a credential logged inside a message string, or under another field name,
 * is not found; nor is a password inside a URL (`proxyUrl`). Error objects go through pino's error serializer
 * unchanged (kubeloop's errors never carry credentials). Each log object is walked once, which costs about as much
 * as serializing it.
 */
export function createDefaultLogger(options: DefaultLoggerOptions = {}): Logger {
  const extra = options.pinoOptions ?? {};
  const redactPaths = [...(options.redactPaths ?? [])];
  const loggerOptions: LoggerOptions = {
    timestamp: pino.stdTimeFunctions.isoTime,
    ...extra,
    level: options.level ?? extra.level ?? process.env['LOG_LEVEL'] ?? 'info',
    ...(options.name !== undefined && { name: options.name }),
    ...(redactPaths.length > 0 && { redact: { paths: redactPaths, censor: redactedValue } }),
    formatters: {
      level: (label) => ({ level: label }),
      ...extra.formatters,
      log: (obj) => redactSecrets(extra.formatters?.log ? extra.formatters.log(obj) : obj),
      bindings: (bindings) =>
        redactSecrets(extra.formatters?.bindings ? extra.formatters.bindings(bindings) : bindings),
    },
  };
  const logger = options.destination ? pino(loggerOptions, options.destination) : pino(loggerOptions);
  // pino applies `formatters.bindings` to the base bindings only: redact those of children too. Children inherit
  // from their parent, so this one override covers grandchildren.
  const child = logger.child as unknown as (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;
  const redactingChild = function (this: Logger, bindings: Bindings, childOptions?: ChildLoggerOptions): Logger {
    return child.call(this, redactSecrets(bindings), childOptions);
  };
  Object.defineProperty(logger, 'child', { value: redactingChild, writable: true, configurable: true });
  return logger;
}
