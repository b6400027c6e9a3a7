/**
 * kubeloop/cache, internal entry: names other sdk packages and kubeloop's own benchmarks import, but users do not.
 * It is not in package.json `exports`, so it is not public API and may change in any release (CONTRIBUTING.md,
 * "Where code goes").
 */
export { metadataListWatchFor, resolveResource, type ResolvedResource } from './list-watch.js';
