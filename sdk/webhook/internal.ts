/**
 * kubeloop/webhook, internal entry: names the manager and the CLI import, but users do not. It is not in package.json
 * `exports`, so it is not public API and may change in any release (CONTRIBUTING.md, "Where code goes").
 */
// As the index: tsyringe needs the reflect polyfill loaded before any decorated class, whichever entry comes first.
import 'reflect-metadata';
import type * as Certificates from './certificates.js';
import type * as Provisioner from './provisioner.js';

export { webhookOptionsOf, resolveWebhookOptions, conversionPath } from './decorator.js';
export { registerWebhookInstance } from './builder.js';
// The webhook server, without the certificate code: a manager makes one whether or not it serves webhooks.
export { createWebhookServer, defaultCertDir } from './server.js';
export { CertWatcher } from './internal/cert-watcher.js';

/**
 * The certificate provisioner and certificate authority, loaded on first use: with them comes @peculiar/x509, about
 * 10 MB of a process, which a manager that makes no certificate never needs.
 */
export const loadCertProvisioner = (): Promise<typeof Provisioner> => import('./provisioner.js');
export const loadCertificates = (): Promise<typeof Certificates> => import('./certificates.js');
