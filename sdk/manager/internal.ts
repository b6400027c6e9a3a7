/**
 * kubeloop/manager, internal entry: names kubeloop/testing and the CLI import, but users do not. It is not in
 * package.json `exports`, so it is not public API and may change in any release (CONTRIBUTING.md, "Where code goes").
 */
// As the index: tsyringe needs the reflect polyfill loaded before any decorated class, whichever entry comes first.
import 'reflect-metadata';

export { constructReconciler } from './manager.js';
export { reconcilerOptionsOf, ownedResource } from './decorator.js';
export { missingIndexError, uncachedFieldSelector } from './cache.js';
export { toPartialObjectMetadata } from './metadata-only.js';
