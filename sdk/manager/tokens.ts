import type { InjectionToken } from 'tsyringe';
import type { Logger } from 'pino';
import type {
  Clientset,
  DiscoveryClient,
  DynamicClient,
  RestConfig,
} from '../client/index.js';
import type { Client } from './client-types.js';
import type { EventRecorder } from './events.js';
import type { Manager } from './manager.js';

/**
 * The DI tokens the manager registers in its container. Inject by token, never by emitted type metadata:
 * `constructor(@inject(CLIENT) private client: Client)`, or `static inject = [CLIENT] as const`.
 */
export const CLIENT: InjectionToken<Client> = Symbol.for('kubeloop.CLIENT');
export const CLIENTSET: InjectionToken<Clientset> = Symbol.for('kubeloop.CLIENTSET');
export const DYNAMIC_CLIENT: InjectionToken<DynamicClient> = Symbol.for('kubeloop.DYNAMIC_CLIENT');
export const DISCOVERY_CLIENT: InjectionToken<DiscoveryClient> = Symbol.for('kubeloop.DISCOVERY_CLIENT');
export const REST_CONFIG: InjectionToken<RestConfig> = Symbol.for('kubeloop.REST_CONFIG');
export const LOGGER: InjectionToken<Logger> = Symbol.for('kubeloop.LOGGER');
export const EVENT_RECORDER: InjectionToken<EventRecorder> = Symbol.for('kubeloop.EVENT_RECORDER');
export const MANAGER: InjectionToken<Manager> = Symbol.for('kubeloop.MANAGER');
