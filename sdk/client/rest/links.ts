/**
 * What a client was built on, recorded on the client itself: the ResourceClientFactory behind a Clientset or a
 * DynamicClient, and the RestConfig behind a ResourceClientFactory. Libraries that take "a client" (an informer factory
 * takes a Clientset) read them back to make more clients of the same kind. The links are non-enumerable properties
 * under `Symbol.for` keys, so they work across two loaded copies of kubeloop and never show in logs or JSON.
 */
import type { RestConfig } from '../config/types.js';
import type { ResourceClientFactory } from './resource.js';

const factoryLink = Symbol.for('kubeloop.client.resourceClientFactory');
const configLink = Symbol.for('kubeloop.client.restConfig');

function link(target: object, key: symbol, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: false, writable: false, configurable: false });
}

/** Records the factory a client was built on. Not exported from the package. */
export function linkResourceClientFactory(client: object, factory: ResourceClientFactory): void {
  link(client, factoryLink, factory);
}

/** Records the RestConfig a factory (or client) was built from. Not exported from the package. */
export function linkRestConfig(client: object, config: RestConfig): void {
  link(client, configLink, config);
}

/**
 * The ResourceClientFactory a Clientset (`createClientset`, `createClientsetFromFactory`) or a DynamicClient
 * (`createDynamicClient`) was built on; undefined for anything else.
 */
export function resourceClientFactoryOf(client: unknown): ResourceClientFactory | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  const factory = (client as Record<symbol, unknown>)[factoryLink];
  return typeof (factory as ResourceClientFactory | undefined)?.resource === 'function'
    ? (factory as ResourceClientFactory)
    : undefined;
}

/**
 * The RestConfig behind a client: that of a ResourceClientFactory made by `createResourceClientFactory(config)`, or of
 * the factory a Clientset or DynamicClient was built on. Undefined when there is none (a fake client's factory).
 */
export function restConfigOf(client: unknown): RestConfig | undefined {
  if (typeof client !== 'object' || client === null) return undefined;
  const config = (client as Record<symbol, unknown>)[configLink] as RestConfig | undefined;
  if (config !== undefined) return config;
  const factory = resourceClientFactoryOf(client);
  return factory === undefined
    ? undefined
    : ((factory as unknown as Record<symbol, unknown>)[configLink] as RestConfig | undefined);
}
