import { connectToControlPlane, type ControlPlaneAccess } from 'kubeloop/envtest';
import { sharedCluster } from '../../../test/support/cluster.js';

/**
 * The two helpers a scaffolded project's test/support.ts gives its tests, here on the kubeloop repository's own test
 * support: the control plane the test run started (a scaffolded project's global setup provides its folder as
 * `controlPlaneDir`, read with vitest's `inject`; the repository's integration project gives it as
 * `sharedCluster()`), and the wait-until helper.
 */
export function controlPlane(): Promise<ControlPlaneAccess> {
  return connectToControlPlane(sharedCluster().workDir);
}

export { eventually } from '../../../test/support/wait.js';
