/**
 * The structural logger kubeloop's packages write to: pino's shape, so a pino `Logger` fits, and so does any object
 * with these methods. Where a part uses only some levels it asks for those (`Pick<Logger, 'debug' | 'warn'>`).
 * kubeloop never makes a global logger.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): Logger;
}
