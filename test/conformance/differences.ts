/**
 * Every difference between kubeloop and client-go v0.37.2 that the differential suite accepts, by case id. Anything
 * not listed here fails the suite.
 *
 * - `deliberateDifferences`: kubeloop differs on purpose; each is documented in the README ("Differences from
 *   client-go"). The test fails when one no longer differs, so the list stays true.
 * - `knownDifferences`: kubeloop should match client-go but does not yet ("not fixed yet"). The test prints them on
 *   every run; fixing one makes the test say so, and the entry goes.
 *
 * `fields` are the result fields allowed to differ (`error`, `auth.token`, `matches`, …); any other field that differs
 * still fails.
 */
export interface AcceptedDifference {
  fields: string[];
  reason: string;
}

export const deliberateDifferences: Record<string, AcceptedDifference> = {};

export const knownDifferences: Record<string, AcceptedDifference> = {};
