import type { RestConfig } from '../config/types.js';
import type { GroupVersionResource, KubeList, Unstructured } from '../meta/types.js';
import type { NamespaceableResourceInterface } from '../rest/resource-interface.js';
import { linkResourceClientFactory } from '../rest/links.js';
import { createResourceClientFactory } from '../rest/resource.js';

/**
 * Every verb on any resource, custom resources included, with objects as plain JSON: exactly what the server sent.
 * `dyn.resource({ group: 'apps', version: 'v1', resource: 'deployments' }).namespace('default').list()`.
 */
export interface DynamicClient {
  resource(gvr: GroupVersionResource): NamespaceableResourceInterface<Unstructured, KubeList<Unstructured>>;
}

export function createDynamicClient(config: RestConfig): DynamicClient {
  const factory = createResourceClientFactory(config);
  const client: DynamicClient = {
    resource: (gvr) => factory.resource<Unstructured>({ group: gvr.group, version: gvr.version, plural: gvr.resource }),
  };
  linkResourceClientFactory(client, factory);
  return client;
}
