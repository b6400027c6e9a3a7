import { KubeloopError } from '../client/index.js';

/** What {@link createSignalHandler} listens on and how it exits: the process, or a stand-in in tests. */
export interface SignalTarget {
  on(signal: 'SIGINT' | 'SIGTERM', listener: (signal: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
}

/** The reason a signal handler's AbortSignal carries: which signal arrived. Code `ERR_SIGNAL`. */
export class SignalReceivedError extends KubeloopError {
  readonly signal: NodeJS.Signals;

  constructor(signal: NodeJS.Signals) {
    super('ERR_SIGNAL', `received ${signal}: shutting down`);
    this.signal = signal;
  }
}

/**
 * Listens for SIGINT and SIGTERM on `target`: the first aborts the returned signal (its reason a
 * {@link SignalReceivedError}), the second calls `target.exit(1)`. {@link setupSignalHandler} is this on the process.
 */
export function createSignalHandler(target: SignalTarget): AbortSignal {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      target.exit(1);
      return;
    }
    controller.abort(new SignalReceivedError(signal));
  };
  target.on('SIGINT', onSignal);
  target.on('SIGTERM', onSignal);
  return controller.signal;
}

let processSignal: AbortSignal | undefined;

/**
 * An AbortSignal for `mgr.start(signal)` that aborts on the first SIGINT or SIGTERM (what Kubernetes sends before
 * it kills a pod), so the manager stops gracefully: controllers finish their reconciles in flight, the lease is
 * released. A second SIGINT or SIGTERM exits the process at once with code 1, for a shutdown that hangs.
 *
 * Guarantees: idempotent: every call returns the same signal and installs the listeners once.
 *
 * Caveats: listening for SIGINT and SIGTERM replaces Node's default of exiting on them: the process ends only when
 * its work is done (or on the second signal). Call it once, in `main`, not in libraries.
 */
export function setupSignalHandler(): AbortSignal {
  processSignal ??= createSignalHandler({
    on: (signal, listener) => process.on(signal, listener),
    exit: (code) => process.exit(code),
  });
  return processSignal;
}
