/**
 * kubeloop: the names a first operator needs, re-exported from the packages that own them. Everything else is in
 * `kubeloop/client`, `kubeloop/cache`, `kubeloop/workqueue`, `kubeloop/leaderelection`, `kubeloop/manager`,
 * `kubeloop/envtest` and `kubeloop/testing`.
 */
export { KubeloopError, ConfigError, isKubeloopError, type RestConfig } from './client/index.js';
