/**
 * kubeloop/client: the bottom Kubernetes layer. Configuration (kubeconfig, in-cluster), authentication, the undici
 * transport, the RESTClient, watches, the DynamicClient, the DiscoveryClient and RESTMapper, errors, resource
 * descriptors and the API types.
 */
export { KubeloopError, ConfigError, isKubeloopError, hasErrorCode, type KubeloopErrorOptions } from './errors.js';
export type { RestConfig, ExecConfig, ImpersonationConfig } from './config/types.js';
