import type { TestProject } from 'vitest/node';
import { startControlPlane, type ControlPlane } from '../../sdk/envtest/index.js';
import type { SharedCluster } from './cluster.js';

// One control plane for the whole `integration` project; each test works in its own namespace.
let env: ControlPlane | undefined;

export async function setup(project: TestProject): Promise<void> {
  env = await startControlPlane({ kubernetesVersion: '1.37.2' });
  const shared: SharedCluster = {
    config: env.config,
    kubeconfigPath: env.kubeconfigPath,
    kubectl: env.binaries.kubectl,
    workDir: env.workDir,
  };
  project.provide('cluster', shared);
}

export async function teardown(): Promise<void> {
  await env?.stop();
}
