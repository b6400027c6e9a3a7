/**
 * kubeloop/client, internal entry: names other sdk packages import, but users do not. It is not in package.json
 * `exports`, so it is not public API and may change in any release (CONTRIBUTING.md, "Where code goes").
 */
export { resourceClientFactoryOf, restConfigOf } from './rest/links.js';
export { observeRequests, type RequestObserver } from './transport/transport.js';
