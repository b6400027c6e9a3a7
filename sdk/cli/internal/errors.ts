import { KubeloopError } from '../../client/index.js';

/**
 * The codes of {@link CliError}:
 * - `ERR_CLI_USAGE`: bad input on the command line (a name, a flag, a target folder that is not empty).
 * - `ERR_CLI_PROJECT`: no kubeloop project here, or its `kubeloop.json` (or a file it names) is unusable.
 * - `ERR_CLI_MANIFESTS`: a resource definition or reconciler cannot become a CRD or RBAC rule, or config/ cannot be
 *   rendered (`generate install`, `generate helm`).
 * - `ERR_CLI_INSTALL`: `npm install` of a new project failed.
 */
export type CliErrorCode = 'ERR_CLI_USAGE' | 'ERR_CLI_PROJECT' | 'ERR_CLI_MANIFESTS' | 'ERR_CLI_INSTALL';

/** What the CLI reports to its user: a message that says what is wrong and what to do next, and an exit code of 1. */
export class CliError extends KubeloopError {
  declare readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
