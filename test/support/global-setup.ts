import type { TestProject } from 'vitest/node';
import { startControlPlane, type ControlPlane } from '../../sdk/envtest/index.js';
import type { SharedCluster } from './cluster.js';

// One control plane for the whole `integration` project; each test works in its own namespace.
let env: ControlPlane | undefined;

export async function setup(project: TestProject): Promise<void> {
  // A test kubelet runs the pods that name its node (spec.nodeName = cluster.kubeletNodeName) as local processes, for
  // exec, attach, port-forward and logs; it binds no other pod, so pods of other tests stay Pending as before.
  env = await startControlPlane({ kubernetesVersion: '1.37.2', kubelet: { bindUnscheduledPods: false } });
  const shared: SharedCluster = {
    config: env.config,
    kubeconfigPath: env.kubeconfigPath,
    kubectl: env.binaries.kubectl,
    workDir: env.workDir,
    kubeletNodeName: env.kubelet!.nodeName,
  };
  project.provide('cluster', shared);
}

export async function teardown(): Promise<void> {
  await env?.stop();
}
