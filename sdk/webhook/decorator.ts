// tsyringe (injectable) needs the Reflect polyfill loaded first.
import 'reflect-metadata';
import { injectable } from 'tsyringe';
import type { ResourceDescriptor } from '../client/index.js';
import { WebhookError } from './errors.js';
import type { Operation } from './types.js';

/** A label selector as in a webhook configuration (metav1.LabelSelector). */
export interface WebhookLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/**
 * What `@Webhook({...})` records and `webhookFor(mgr)` builds from: which kind, which kinds of webhook, and how the
 * API server is to call them. Everything but `for` goes into the generated MutatingWebhookConfiguration and
 * ValidatingWebhookConfiguration (`kubeloop generate manifests`), as kubebuilder's `+kubebuilder:webhook` markers do.
 */
export interface WebhookOptions {
  /** The kind admitted. Its group, version and plural name the rule and the path. */
  for: ResourceDescriptor;
  /** Serve `/mutate-…`: the class implements {@link Defaulter}. Default: false. */
  defaulting?: boolean;
  /** Serve `/validate-…`: the class implements {@link Validator}. Default: false. */
  validating?: boolean;
  /** What the API server does when the webhook cannot be reached or fails: `Fail` refuses, `Ignore` admits. Default: `Fail`. */
  failurePolicy?: 'Fail' | 'Ignore';
  /** Default: `None` (a webhook with side effects must skip them on dry runs and say `NoneOnDryRun`). */
  sideEffects?: 'None' | 'NoneOnDryRun';
  /**
   * How long the API server waits for an answer, 1 to 30. Default: 10. The handler itself is given
   * {@link handlerTimeoutMs}, which is shorter, so a hung handler is denied with a clear message before the API server
   * gives up on the call and applies the failure policy.
   */
  timeoutSeconds?: number;
  /** How long a handler may run before the request is denied. Default: `timeoutSeconds` × 1000 − 1000 (at least 500). */
  handlerTimeoutMs?: number;
  /** Only objects in namespaces matching this are sent. Default: all. */
  namespaceSelector?: WebhookLabelSelector;
  /** Only objects whose labels match this are sent. Default: all. */
  objectSelector?: WebhookLabelSelector;
  /** Operations the validating webhook is called for. Default: `['CREATE', 'UPDATE']` (add `DELETE` to validate deletes). */
  validatingOperations?: Operation[];
  /** Operations the defaulting webhook is called for. Default: `['CREATE', 'UPDATE']`. */
  defaultingOperations?: Operation[];
  /** Call the mutating webhook again when a later webhook changed the object. Default: `Never`. */
  reinvocationPolicy?: 'Never' | 'IfNeeded';
  /** Default: `Equivalent` (requests for other versions of the kind are converted and sent too). */
  matchPolicy?: 'Exact' | 'Equivalent';
  /** Path of the defaulting webhook. Default: {@link defaultingPath}(for). */
  defaultingPath?: string;
  /** Path of the validating webhook. Default: {@link validatingPath}(for). */
  validatingPath?: string;
}

/** A class whose instances default and/or validate, with its constructor's injection tokens when parameter decorators are not used. */
export interface WebhookClass<W = unknown> {
  new (...args: never[]): W;
  /** Injection tokens of the constructor's parameters, in order: `static inject = [CLIENT] as const`. */
  inject?: readonly unknown[];
}

const metadataKey = Symbol.for('kubeloop.webhook.options');

/** `WebApp` in `apps.example.com/v1` → `/mutate-apps-example-com-v1-webapp`, as controller-runtime names it. */
export function defaultingPath(resource: ResourceDescriptor): string {
  return `/mutate-${pathSegment(resource)}`;
}

/** `WebApp` in `apps.example.com/v1` → `/validate-apps-example-com-v1-webapp`, as controller-runtime names it. */
export function validatingPath(resource: ResourceDescriptor): string {
  return `/validate-${pathSegment(resource)}`;
}

/** The path CRD conversion is served at, as controller-runtime. */
export const conversionPath = '/convert';

// As controller-runtime: the core group is empty, so a ConfigMap's path is `/validate--v1-configmap`.
function pathSegment(r: ResourceDescriptor): string {
  return `${r.group.replaceAll('.', '-')}-${r.version}-${r.kind.toLowerCase()}`;
}

/**
 * The options with every default filled in and checked.
 *
 * Errors: `ERR_WEBHOOK_OPTIONS` for a missing `for`, neither `defaulting` nor `validating`, a `timeoutSeconds`
 * outside 1–30, a handler timeout not below it, or a path that does not start with `/`.
 */
export function resolveWebhookOptions(
  options: WebhookOptions,
  where = 'webhook',
): Required<Omit<WebhookOptions, 'namespaceSelector' | 'objectSelector'>> &
  Pick<WebhookOptions, 'namespaceSelector' | 'objectSelector'> {
  const bad = (message: string): never => {
    throw new WebhookError('ERR_WEBHOOK_OPTIONS', `${where}: ${message}`);
  };
  if (!options?.for?.kind) bad('the "for" resource is required');
  if (!options.defaulting && !options.validating) bad('say defaulting: true, validating: true or both');
  const timeoutSeconds = options.timeoutSeconds ?? 10;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 30)
    bad(`timeoutSeconds must be a whole number from 1 to 30, not ${timeoutSeconds}`);
  const handlerTimeoutMs = options.handlerTimeoutMs ?? Math.max(500, timeoutSeconds * 1000 - 1000);
  if (!(handlerTimeoutMs > 0 && handlerTimeoutMs < timeoutSeconds * 1000)) {
    bad(
      `handlerTimeoutMs (${handlerTimeoutMs}) must be above 0 and below timeoutSeconds × 1000 (${timeoutSeconds * 1000})`,
    );
  }
  const resolved = {
    for: options.for,
    defaulting: options.defaulting ?? false,
    validating: options.validating ?? false,
    failurePolicy: options.failurePolicy ?? 'Fail',
    sideEffects: options.sideEffects ?? 'None',
    timeoutSeconds,
    handlerTimeoutMs,
    validatingOperations: options.validatingOperations ?? ['CREATE', 'UPDATE'],
    defaultingOperations: options.defaultingOperations ?? ['CREATE', 'UPDATE'],
    reinvocationPolicy: options.reinvocationPolicy ?? 'Never',
    matchPolicy: options.matchPolicy ?? 'Equivalent',
    defaultingPath: options.defaultingPath ?? defaultingPath(options.for),
    validatingPath: options.validatingPath ?? validatingPath(options.for),
    ...(options.namespaceSelector && { namespaceSelector: options.namespaceSelector }),
    ...(options.objectSelector && { objectSelector: options.objectSelector }),
  };
  for (const path of [resolved.defaultingPath, resolved.validatingPath])
    if (!path.startsWith('/')) bad(`path ${JSON.stringify(path)} must start with /`);
  return resolved;
}

/**
 * Marks a class as an admission webhook for one kind and records its options as plain static metadata (the CLI reads
 * it to generate the webhook configurations without running anything). It makes the class injectable and does nothing
 * else: `mgr.register(WebAppWebhook)` constructs it through the manager's container and serves it.
 *
 * ```ts
 * @Webhook({ for: WebApp, defaulting: true, validating: true })
 * class WebAppWebhook implements Defaulter<WebApp>, Validator<WebApp> { … }
 * ```
 *
 * Works as a legacy (`experimentalDecorators`) and as a standard (TC39) class decorator.
 *
 * Errors: `ERR_WEBHOOK_OPTIONS` (see {@link resolveWebhookOptions}), at decoration time.
 */
export function Webhook(options: WebhookOptions) {
  return function decorate<C extends abstract new (...args: never[]) => unknown>(
    target: C,
    _context?: ClassDecoratorContext<C>,
  ): C {
    resolveWebhookOptions(options, `@Webhook on ${target.name}`);
    Object.defineProperty(target, metadataKey, { value: Object.freeze({ ...options }), enumerable: false });
    injectable()(target as unknown as new (...args: unknown[]) => unknown);
    return target;
  };
}

/** The options recorded by `@Webhook`, or undefined for an undecorated class. */
export function webhookOptionsOf(target: unknown): WebhookOptions | undefined {
  return typeof target === 'function'
    ? (target as unknown as Record<symbol, WebhookOptions | undefined>)[metadataKey]
    : undefined;
}
