import { pino, type Level, type Logger } from 'pino';

/** One log line, parsed: `level` as a name (`info`), `msg`, and the line's bindings and fields. */
export interface CapturedLog {
  level: string;
  msg?: string;
  [field: string]: unknown;
}

/** Options of {@link createCapturingLogger}. */
export interface CapturingLoggerOptions {
  /** The lowest level kept. Default: `debug`. */
  level?: Level;
}

/** A pino logger that keeps its lines in memory, and those lines. */
export interface CapturingLogger {
  logger: Logger;
  readonly records: readonly CapturedLog[];
}

/**
 * A pino logger writing to an array instead of stdout, for assertions on what a reconciler logged:
 * `records.filter((r) => r.level === 'error')`. Lines carry no timestamp, pid or hostname.
 */
export function createCapturingLogger(options: CapturingLoggerOptions = {}): CapturingLogger {
  const records: CapturedLog[] = [];
  const logger = pino(
    {
      level: options.level ?? 'debug',
      base: undefined,
      timestamp: false,
      formatters: { level: (label) => ({ level: label }) },
    },
    { write: (line: string) => void records.push(JSON.parse(line) as CapturedLog) },
  );
  return { logger, records };
}

/** A pino logger that drops everything. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
