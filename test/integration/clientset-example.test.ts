// client-go's classic example, in kubeloop: list the pods of a namespace and print each one's name, IPs and phase,
// and each container's id, image, readiness and restarts. No kubelet runs in envtest, so the test plays the kubelet:
// it binds the pods and writes their status, as a node would.
import { describe, expect, it } from 'vitest';
import { createClientset } from '../../sdk/client/clientset.js';
import type { Clientset } from '../../sdk/client/generated/index.js';
import { createTestNamespace, sharedCluster } from '../support/cluster.js';

/** The example itself: what a user would write. */
async function describePods(cs: Clientset, namespace: string): Promise<string[]> {
  const lines: string[] = [];
  const pods = await cs.coreV1().pods(namespace).list();
  lines.push(`There are ${pods.items.length} pods in namespace ${namespace}`);
  for (const pod of pods.items) {
    const ips = (pod.status?.podIPs ?? []).map((ip) => ip.ip).join(',');
    lines.push(`pod ${pod.metadata?.name} ips=${ips || '-'} phase=${pod.status?.phase ?? 'Unknown'}`);
    for (const c of pod.status?.containerStatuses ?? []) {
      lines.push(
        `  container ${c.name} id=${c.containerID ?? '-'} image=${c.image} ready=${c.ready} restarts=${c.restartCount}`,
      );
    }
  }
  return lines;
}

describe('the client-go example: list pods and print their state', () => {
  const { config } = sharedCluster();
  const cs = createClientset(config);

  it('prints every pod with its IPs, phase and containers', async () => {
    const ns = await createTestNamespace(config, 'cs-example');
    const pods = cs.coreV1().pods(ns);
    for (const [name, ip, restarts] of [
      ['api-0', '10.244.0.5', 0],
      ['api-1', '10.244.0.6', 2],
    ] as const) {
      await pods.create({ metadata: { name }, spec: { containers: [{ name: 'api', image: 'example.com/api:1.0' }] } });
      await pods.bind(name, { metadata: { name }, target: { kind: 'Node', name: 'node-a' } });
      const pod = await pods.get(name);
      await pods.updateStatus({
        ...pod,
        status: {
          phase: 'Running',
          podIP: ip,
          podIPs: [{ ip }, { ip: `fd00::${ip.split('.').pop()}` }],
          containerStatuses: [
            {
              name: 'api',
              image: 'example.com/api:1.0',
              imageID: 'example.com/api@sha256:0123',
              containerID: `containerd://${name}`,
              ready: restarts === 0,
              restartCount: restarts,
              started: true,
              state: { running: { startedAt: '2026-01-01T00:00:00Z' } },
            },
          ],
        },
      });
    }
    expect(await describePods(cs, ns)).toEqual([
      `There are 2 pods in namespace ${ns}`,
      'pod api-0 ips=10.244.0.5,fd00::5 phase=Running',
      '  container api id=containerd://api-0 image=example.com/api:1.0 ready=true restarts=0',
      'pod api-1 ips=10.244.0.6,fd00::6 phase=Running',
      '  container api id=containerd://api-1 image=example.com/api:1.0 ready=false restarts=2',
    ]);
  });
});
