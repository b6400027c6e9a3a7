// Type tests of kubeloop's error codes as a user writes them: `code` is one of the table's codes (ErrorCode), so a
// typo in a code does not compile. Checked by `tsc -p tsconfig.json --noEmit` (every `@ts-expect-error` line must fail
// to compile, every other line must compile).
import { expectTypeOf } from 'vitest';
import {
  AlreadyStartedError,
  ArgumentError,
  ArgumentRangeError,
  errorCodes,
  hasErrorCode,
  isKubeloopError,
  KubeloopError,
  type ErrorCode,
} from '../../sdk/client/index.js';
import { LeaderElectionError, type LeaderElectionErrorCode } from '../../sdk/leaderelection/index.js';

function describe(err: unknown): string {
  if (hasErrorCode(err, 'ERR_KUBE_ALREADY_STARTED')) return 'started twice';
  if (isKubeloopError(err)) {
    const code: ErrorCode = err.code;
    return errorCodes[code];
  }
  return 'not ours';
}
expectTypeOf(describe).returns.toEqualTypeOf<string>();

expectTypeOf<'ERR_KUBE_API'>().toExtend<ErrorCode>();
expectTypeOf<LeaderElectionErrorCode>().toExtend<ErrorCode>();
expectTypeOf(new ArgumentError('name must not be empty').code).toEqualTypeOf<'ERR_KUBE_INVALID_ARGUMENT'>();
expectTypeOf(new ArgumentError('x')).toExtend<TypeError>();
// An argument error is a TypeError, and has the shape of a KubeloopError: its code is one of the table's.
expectTypeOf(new ArgumentError('x')).toExtend<KubeloopError>();
expectTypeOf(new ArgumentRangeError('x')).toExtend<KubeloopError>();
expectTypeOf(new AlreadyStartedError('manager').component).toEqualTypeOf<string>();
expectTypeOf(new LeaderElectionError('ERR_LEADER_ELECTION_LOST', 'lost').code).toEqualTypeOf<LeaderElectionErrorCode>();

// @ts-expect-error a code that is not in the table
expectTypeOf(new KubeloopError('ERR_KUBE_TYPO', 'no such code')).toExtend<Error>();
// @ts-expect-error a code that is not in the table
hasErrorCode(new Error('x'), 'ERR_NOT_FOUND');
// @ts-expect-error the elector's start twice is ERR_KUBE_ALREADY_STARTED now
expectTypeOf(new LeaderElectionError('ERR_LEADER_ELECTION_STARTED', 'twice')).toExtend<Error>();
