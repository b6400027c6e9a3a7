/**
 * kubeloop/webhook, internal entry: names the manager and the CLI import, but users do not. It is not in package.json
 * `exports`, so it is not public API and may change in any release (CONTRIBUTING.md, "Where code goes").
 */
// As the index: tsyringe needs the reflect polyfill loaded before any decorated class, whichever entry comes first.
import 'reflect-metadata';

export { webhookOptionsOf, resolveWebhookOptions, conversionPath } from './decorator.js';
export { registerWebhookInstance } from './builder.js';
