/**
 * kubeloop/workqueue's argument errors. The package imports nothing (ARCHITECTURE.md), so it cannot use kubeloop/client's
 * `ArgumentError` and `ArgumentRangeError`; these have their shape: code `ERR_KUBE_INVALID_ARGUMENT` (in the error-code
 * table, `sdk/client/error-codes.ts`), the kubeloop brand (so `isKubeloopError`, `hasErrorCode` and `instanceof
 * KubeloopError` hold), and `TypeError` / `RangeError` as their base, as the plain errors they replaced.
 */
const brand = Symbol.for('kubeloop.error');

/** A value a work queue cannot use (an undefined key). */
export class ArgumentError extends TypeError {
  readonly code = 'ERR_KUBE_INVALID_ARGUMENT' as const;
  readonly [brand] = true;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A number outside its allowed range (a negative delay, a zero rate). */
export class ArgumentRangeError extends RangeError {
  readonly code = 'ERR_KUBE_INVALID_ARGUMENT' as const;
  readonly [brand] = true;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
