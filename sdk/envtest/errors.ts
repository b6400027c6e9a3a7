import { KubeloopError, type KubeloopErrorOptions } from '../client/index.js';

/** The control plane of `kubeloop/envtest` could not be built, started or stopped. Code `ERR_ENVTEST`. */
export class EnvtestError extends KubeloopError {
  constructor(message: string, options: KubeloopErrorOptions = {}) {
    super('ERR_ENVTEST', message, options);
  }
}
