// Status conditions (metav1.Condition), in place, as apimachinery's meta helpers. Part of controllerutil
// (../controllerutil.ts).
import type { metav1 } from '../../client/index.js';

/** A condition to set: metav1.Condition with `message` optional (`''`) and `lastTransitionTime` optional (now). */
export interface ConditionInput {
  /** CamelCase type: `Ready`, `Available`, `Degraded`. */
  type: string;
  status: 'True' | 'False' | 'Unknown';
  /** CamelCase, programmatic: `MinimumReplicasAvailable`. Must not be empty for the API server. */
  reason: string;
  /** Human-readable detail. Default: `''`. */
  message?: string;
  /** The `metadata.generation` the condition was computed from. */
  observedGeneration?: number;
  /** Default: now, when the condition is new or its status changes. */
  lastTransitionTime?: string;
}

/** A metav1.Time for now: RFC 3339 in UTC, to the second. */
function nowTime(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/**
 * Sets a condition in a list of metav1.Conditions, in place (apimachinery's meta.SetStatusCondition): adds it when
 * no condition has its type, else updates status, reason, message and observedGeneration. Returns whether the list
 * changed.
 *
 * Guarantees: `lastTransitionTime` changes only when the condition is added or its status changes (to the given
 * time, or now); a condition whose status stays keeps its time even when its reason or message change. The list
 * keeps its order; a new condition goes last.
 */
export function setStatusCondition(conditions: metav1.Condition[], condition: ConditionInput): boolean {
  const existing = conditions.find((c) => c.type === condition.type);
  if (!existing) {
    conditions.push({
      type: condition.type,
      status: condition.status,
      reason: condition.reason,
      message: condition.message ?? '',
      lastTransitionTime: condition.lastTransitionTime || nowTime(),
      ...(condition.observedGeneration !== undefined && { observedGeneration: condition.observedGeneration }),
    });
    return true;
  }
  let changed = false;
  if (existing.status !== condition.status) {
    existing.status = condition.status;
    existing.lastTransitionTime = condition.lastTransitionTime || nowTime();
    changed = true;
  }
  if (existing.reason !== condition.reason) {
    existing.reason = condition.reason;
    changed = true;
  }
  const message = condition.message ?? '';
  if (existing.message !== message) {
    existing.message = message;
    changed = true;
  }
  if ((existing.observedGeneration ?? 0) !== (condition.observedGeneration ?? 0)) {
    if (condition.observedGeneration === undefined) delete existing.observedGeneration;
    else existing.observedGeneration = condition.observedGeneration;
    changed = true;
  }
  return changed;
}

/** The condition of that type, or undefined. Works on cached (read-only) lists and on an absent list. */
export function findStatusCondition<C extends { readonly type: string }>(
  conditions: readonly C[] | undefined,
  type: string,
): C | undefined {
  return conditions?.find((c) => c.type === type);
}

/** Removes the condition of that type, in place. Returns whether the list changed. */
export function removeStatusCondition(conditions: metav1.Condition[], type: string): boolean {
  const i = conditions.findIndex((c) => c.type === type);
  if (i < 0) return false;
  conditions.splice(i, 1);
  return true;
}

type ConditionList = readonly { readonly type: string; readonly status: string }[] | undefined;

/** True when the condition of that type is present with that status. */
export function isStatusConditionPresentAndEqual(
  conditions: ConditionList,
  type: string,
  status: 'True' | 'False' | 'Unknown',
): boolean {
  return findStatusCondition(conditions, type)?.status === status;
}

/** True when the condition of that type is present and `True`. */
export function isStatusConditionTrue(conditions: ConditionList, type: string): boolean {
  return isStatusConditionPresentAndEqual(conditions, type, 'True');
}

/** True when the condition of that type is present and `False` (absent or `Unknown` is neither true nor false). */
export function isStatusConditionFalse(conditions: ConditionList, type: string): boolean {
  return isStatusConditionPresentAndEqual(conditions, type, 'False');
}
