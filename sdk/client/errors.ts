/**
 * kubeloop's error classes. Every error kubeloop throws extends {@link KubeloopError}, which carries a stable string
 * `code` and an ES2022 `cause`. The predicates (`isKubeloopError`, and the `is*` helpers for API errors) check a
 * brand, not `instanceof`, so they work when two copies of kubeloop are loaded in one process.
 *
 * Codes:
 * - `ERR_KUBE_API`: the API server answered with a non-2xx status ({@link ApiError}).
 * - `ERR_KUBE_CONFIG`: a kubeconfig, in-cluster environment or RestConfig is unusable ({@link ConfigError}).
 * - `ERR_KUBE_TRANSPORT`: the request never got an answer: TLS, DNS, connection refused or reset, timeout.
 * - `ERR_KUBE_WATCH_STALLED`: a watch stream went silent longer than its inactivity limit.
 * - `ERR_ENVTEST`: the local control plane could not be built, started or stopped.
 */
const brand = Symbol.for('kubeloop.error');

export interface KubeloopErrorOptions {
  cause?: unknown;
}

/** Base class of every kubeloop error: a stable `code`, a message that says what to do next, an optional cause. */
export class KubeloopError extends Error {
  readonly code: string;
  readonly [brand] = true;

  constructor(code: string, message: string, options: KubeloopErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/** True for any kubeloop error, from this copy of the package or another. */
export function isKubeloopError(err: unknown): err is KubeloopError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[brand] === true;
}

/** True for a kubeloop error with the given code. */
export function hasErrorCode(err: unknown, code: string): err is KubeloopError {
  return isKubeloopError(err) && err.code === code;
}

/**
 * A kubeconfig, in-cluster environment or RestConfig that cannot be used. `file` and `field` name the place at
 * fault (`field` as a path such as `users[dev].user.client-certificate`).
 */
export class ConfigError extends KubeloopError {
  readonly file: string | undefined;
  readonly field: string | undefined;

  constructor(message: string, where: { file?: string; field?: string; cause?: unknown } = {}) {
    const place = [where.file && `file ${where.file}`, where.field && `field ${where.field}`].filter(Boolean).join(', ');
    super('ERR_KUBE_CONFIG', place ? `${message} (${place})` : message, { cause: where.cause });
    this.file = where.file;
    this.field = where.field;
  }
}
