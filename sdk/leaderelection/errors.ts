import { KubeloopError, hasErrorCode, type KubeloopErrorOptions } from '../client/index.js';

/**
 * The codes a {@link LeaderElectionError} carries:
 * - `ERR_LEADER_ELECTION_CONFIG`: options that cannot work (the message names the option and the rule it breaks).
 * - `ERR_LEADER_ELECTION_LOCK`: a read or write of the lock failed; `cause` is the underlying error (an `ApiError`
 *   for an answer of the API server, a `TransportError`, or a `TimeoutError` DOMException for a request that hung).
 * - `ERR_LEADER_ELECTION_LOST`: leadership ended because the lease could not be renewed within `renewDeadlineMs`, or
 *   another candidate was seen holding it. This is the `reason` of the signal handed to `onStartedLeading`.
 *
 * A second `start()` of one elector throws `ERR_KUBE_ALREADY_STARTED` (kubeloop/client's AlreadyStartedError).
 */
export type LeaderElectionErrorCode =
  | 'ERR_LEADER_ELECTION_CONFIG'
  | 'ERR_LEADER_ELECTION_LOCK'
  | 'ERR_LEADER_ELECTION_LOST';

/** An error of kubeloop/leaderelection. See {@link LeaderElectionErrorCode} for what each `code` means. */
export class LeaderElectionError extends KubeloopError {
  declare readonly code: LeaderElectionErrorCode;

  constructor(code: LeaderElectionErrorCode, message: string, options: KubeloopErrorOptions = {}) {
    super(code, message, options);
  }
}

/**
 * True when `reason` says leadership was lost (code `ERR_LEADER_ELECTION_LOST`), as opposed to the elector being
 * stopped: test the `reason` of the signal `onStartedLeading` received. Works across two copies of kubeloop.
 */
export function isLeadershipLost(reason: unknown): reason is LeaderElectionError {
  return hasErrorCode(reason, 'ERR_LEADER_ELECTION_LOST');
}
