import type { InjectionToken } from 'tsyringe';
import type { Logger } from 'pino';
import type { Clientset, DiscoveryClient, DynamicClient, RestConfig } from '../client/index.js';
import type { Client } from './client-types.js';
import type { EventRecorder } from './events.js';
import type { Manager } from './manager.js';
import type { WallClock } from '../workqueue/index.js';

/**
 * A typed injection token for a dependency of your own (a clock, an external API client): give it a value with
 * `createManager({ provide: [[TOKEN, value]] })` or `mgr.provide(TOKEN, value)` (and `services` in reconcileOnce),
 * and take it with `@inject(TOKEN)` or `static inject = [TOKEN]`. Each call makes a new, unique token; `name` shows in
 * error messages.
 */
export function createToken<T>(name: string): InjectionToken<T> {
  return Symbol(name) as InjectionToken<T>;
}

/** A printable name of a token, for error messages. */
export function tokenName(token: unknown): string {
  if (typeof token === 'symbol') return token.description ?? token.toString();
  if (typeof token === 'function') return token.name || 'an anonymous class';
  return JSON.stringify(token) ?? String(token);
}

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
/** The manager's clock (`createManager({ clock })`, default the real one): timers, a monotonic `now()` and wall-clock `wallTime()`. */
export const CLOCK: InjectionToken<WallClock> = Symbol.for('kubeloop.CLOCK');
