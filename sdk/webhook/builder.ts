import type { KubeObject, ResourceDescriptor } from '../client/index.js';
import { defaultingHandler, validatingHandler, type Defaulter, type Validator } from './admission.js';
import { resolveWebhookOptions, webhookOptionsOf, type WebhookOptions } from './decorator.js';
import { WebhookError } from './errors.js';
import type { WebhookServer } from './server.js';

/** Anything with a webhook server: the Manager. */
export interface WebhookRegistry {
  readonly webhookServer: WebhookServer;
}

/** Options the builder takes besides the kind and the handlers: those of {@link WebhookOptions}. */
export type WebhookBuilderOptions = Omit<WebhookOptions, 'for' | 'defaulting' | 'validating'>;

/**
 * Builds the admission webhooks of one kind (controller-runtime's `ctrl.NewWebhookManagedBy`): the builder is the real
 * API, `@Webhook` records the same things as data.
 *
 * ```ts
 * webhookFor(mgr).for(WebApp).withDefaulter(new WebAppDefaulter()).withValidator(new WebAppValidator()).complete();
 * ```
 */
export class WebhookBuilder<T extends KubeObject = KubeObject> {
  private resource: ResourceDescriptor | undefined;
  private defaulter: Defaulter<T> | undefined;
  private validator: Validator<T> | undefined;
  private options: WebhookBuilderOptions = {};
  private completed = false;

  constructor(private readonly registry: WebhookRegistry) {}

  for<R extends ResourceDescriptor>(
    resource: R,
  ): WebhookBuilder<R extends ResourceDescriptor<infer O> ? O : KubeObject> {
    this.resource = resource;
    return this as unknown as WebhookBuilder<R extends ResourceDescriptor<infer O> ? O : KubeObject>;
  }

  withDefaulter(defaulter: Defaulter<T>): this {
    this.defaulter = defaulter;
    return this;
  }

  withValidator(validator: Validator<T>): this {
    this.validator = validator;
    return this;
  }

  /** Failure policy, timeouts, selectors, operations and paths: see {@link WebhookOptions}. */
  withOptions(options: WebhookBuilderOptions): this {
    this.options = { ...this.options, ...options };
    return this;
  }

  /**
   * Registers the handlers on the server: the defaulter at its `/mutate-…` path, the validator at its `/validate-…`
   * path, each named by its path in metrics.
   *
   * Errors: `ERR_WEBHOOK_OPTIONS` (no kind, neither handler, bad timeouts), `ERR_WEBHOOK_REGISTRATION` (a path
   * already served, or `complete()` called twice).
   */
  complete(): void {
    if (this.completed)
      throw new WebhookError('ERR_WEBHOOK_REGISTRATION', 'complete() was already called on this webhook builder');
    if (!this.resource)
      throw new WebhookError('ERR_WEBHOOK_OPTIONS', 'webhookFor(mgr): call .for(resource) before complete()');
    const resolved = resolveWebhookOptions(
      {
        ...this.options,
        for: this.resource,
        defaulting: this.defaulter !== undefined,
        validating: this.validator !== undefined,
      },
      `webhookFor(mgr).for(${this.resource.kind})`,
    );
    this.completed = true;
    const server = this.registry.webhookServer;
    if (this.defaulter)
      server.register(resolved.defaultingPath, defaultingHandler(this.defaulter), {
        timeoutMs: resolved.handlerTimeoutMs,
      });
    if (this.validator)
      server.register(resolved.validatingPath, validatingHandler(this.validator), {
        timeoutMs: resolved.handlerTimeoutMs,
      });
  }
}

/** Starts a {@link WebhookBuilder} for a manager (or anything with a `webhookServer`). */
export function webhookFor(registry: WebhookRegistry): WebhookBuilder {
  return new WebhookBuilder(registry);
}

/**
 * Registers an instance of a `@Webhook` class: what `mgr.register(WebAppWebhook)` does once it has constructed it.
 *
 * Errors: `ERR_WEBHOOK_REGISTRATION` when the class is not decorated, or says `defaulting` without a `default`
 * method, or `validating` without the three `validate…` methods.
 */
export function registerWebhookInstance(registry: WebhookRegistry, cls: Function, instance: unknown): void {
  const options = webhookOptionsOf(cls);
  if (!options) throw new WebhookError('ERR_WEBHOOK_REGISTRATION', `${cls.name} has no @Webhook({...}) decorator`);
  const { for: resource, defaulting, validating, ...rest } = options;
  const target = instance as Partial<Defaulter & Validator>;
  const missing = [
    ...(defaulting && typeof target.default !== 'function' ? ['default'] : []),
    ...(validating
      ? (['validateCreate', 'validateUpdate', 'validateDelete'] as const).filter((m) => typeof target[m] !== 'function')
      : []),
  ];
  if (missing.length > 0) {
    throw new WebhookError(
      'ERR_WEBHOOK_REGISTRATION',
      `${cls.name} is a @Webhook with ${defaulting ? 'defaulting' : ''}${defaulting && validating ? ' and ' : ''}${validating ? 'validating' : ''} on, but has no ${missing.join(', ')} method`,
    );
  }
  const builder = webhookFor(registry).for(resource).withOptions(rest);
  if (defaulting) builder.withDefaulter(target as Defaulter);
  if (validating) builder.withValidator(target as Validator);
  builder.complete();
}
