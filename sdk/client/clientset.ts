/**
 * The typed Clientset: `createClientset(config).appsV1().deployments('default').get('web')`. Its interfaces and the
 * table of every built-in resource are generated (`generated/clientset.ts`); the runtime that serves them is
 * `typed.ts` over the resource clients of `rest/resource.ts`.
 */
import type { RestConfig } from './config/types.js';
import { createClientsetFromFactory, type Clientset } from './generated/clientset.js';
import { createResourceClientFactory } from './rest/resource.js';

export type { Clientset };
export { createClientsetFromFactory };

/**
 * Typed clients of every built-in group-version of Kubernetes 1.37, alpha and beta included.
 *
 * Guarantees: each group accessor (`coreV1()`) returns the same object every time; resource accessors are cheap.
 * Namespaced resources take a namespace (`''`: every namespace, for list, watch and deleteCollection);
 * cluster-scoped ones take none. Each resource client has the methods its verbs and subresources allow.
 *
 * Caveats: `discovery()` is not there yet. Subresources that are not plain HTTP calls (exec, attach, portforward,
 * proxy) have no methods.
 */
export function createClientset(config: RestConfig): Clientset {
  return createClientsetFromFactory(createResourceClientFactory(config));
}
