/**
 * kubeloop/webhook: admission (defaulting, validation) and conversion webhooks, the HTTPS server that serves them, and
 * their certificates (controller-runtime's pkg/webhook and pkg/certwatcher). It depends on kubeloop/client only; the
 * manager constructs `@Webhook` classes through its container and runs the server on every replica.
 *
 * ```ts
 * @Webhook({ for: WebApp, defaulting: true, validating: true })
 * class WebAppWebhook implements Defaulter<WebApp>, Validator<WebApp> {
 *   default(obj: WebApp, ctx: AdmissionContext<WebApp>): void { obj.spec.port ??= 8080; }
 *   validateCreate(obj: WebApp, ctx: AdmissionContext<WebApp>): Warnings {
 *     if (!obj.spec.image) throw new ValidationError([fieldError('spec.image', 'Required value')]);
 *     return [];
 *   }
 *   validateUpdate(oldObj: WebApp, obj: WebApp, ctx: AdmissionContext<WebApp>): Warnings { return []; }
 *   validateDelete(obj: WebApp, ctx: AdmissionContext<WebApp>): Warnings { return []; }
 * }
 * mgr.register(WebAppWebhook);
 * mgr.register(defineConversion({ hub: WebApp, spokes: [{ resource: WebAppV1alpha1, toHub, fromHub }] }));
 * ```
 */
import 'reflect-metadata';

export {
  Webhook,
  defaultingPath,
  validatingPath,
  type WebhookOptions,
  type WebhookClass,
  type WebhookLabelSelector,
} from './decorator.js';
export {
  allowed,
  denied,
  patched,
  defaultingHandler,
  validatingHandler,
  invalidStatus,
  type AdmissionContext,
  type AdmissionHandler,
  type AdmissionHandlerContext,
  type Defaulter,
  type Validator,
  type WebhookLogger,
} from './admission.js';
export {
  ValidationError,
  WebhookError,
  fieldError,
  isValidationError,
  type FieldError,
  type FieldErrorType,
} from './errors.js';
export { defineConversion, type Conversion, type ConversionOptions, type Spoke } from './conversion.js';
export {
  createWebhookServer,
  defaultCertDir,
  type WebhookServer,
  type WebhookServerOptions,
  type RegisterOptions,
} from './server.js';
export {
  createCertProvisioner,
  realCertClock,
  type CertClock,
  type CertProvisioner,
  type CertProvisionerOptions,
  type CertProvisionerRunnable,
  type ManagerCertProvisionerOptions,
} from './provisioner.js';
export { CertWatcher, type ServingCertificate } from './internal/cert-watcher.js';
export { webhookFor, WebhookBuilder, type WebhookBuilderOptions, type WebhookRegistry } from './builder.js';
export {
  createCertificateAuthority,
  loadCertificateAuthority,
  certificateNotAfter,
  type CertificateAuthority,
  type KeyPair,
  type LeafRequest,
} from './certificates.js';
export type {
  AdmissionRequest,
  AdmissionResponse,
  AdmissionReview,
  ConversionRequest,
  ConversionResponse,
  ConversionReview,
  Operation,
  UserInfo,
  Warnings,
} from './types.js';
