// envtest's test kubelet killed (SIGKILL) while kubectl streams from it through the API server: the streams end, no
// kubectl hangs, and the pod's main process dies with the kubelet (the kernel's parent-death signal).
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../sdk/envtest/index.js';
import { createTestNamespace, rawRequest } from '../support/cluster.js';

describe('the test kubelet killed mid-stream (own control plane)', () => {
  let env: ControlPlane;
  let ns: string;

  beforeAll(async () => {
    env = await startControlPlane({ kubernetesVersion: '1.37.2', kubelet: true, progress: () => {} });
    ns = await createTestNamespace(env.config, 'killed');
  });

  afterAll(async () => {
    await env?.stop();
  });

  function kubectl(args: string[]): { exited: Promise<number | null>; output: () => string } {
    const child = spawn(env.binaries.kubectl!, ['--kubeconfig', env.kubeconfigPath, '-n', ns, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    return { exited: new Promise((resolve) => child.on('close', resolve)), output: () => out };
  }

  it('ends kubectl exec and logs -f, and takes the pod processes with it', async () => {
    const created = await rawRequest(env.config, 'POST', `/api/v1/namespaces/${ns}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'victim' },
      spec: {
        containers: [
          { name: 'main', image: 'ignored', command: ['sh', '-c', 'echo $$$$ > main.pid; exec sleep 3600'] },
        ],
      },
    });
    expect(created.status).toBe(201);
    const uid = (created.body as { metadata: { uid: string } }).metadata.uid;
    const pidFile = join(env.kubelet!.rootDir, 'pods', uid, 'main.pid');
    let pid = 0;
    for (let i = 0; !pid && i < 200; i++) {
      pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (!pid) await sleep(50);
    }
    expect(pid).toBeGreaterThan(0);

    const exec = kubectl(['exec', 'victim', '--', 'sh', '-c', 'echo streaming; sleep 60']);
    const logs = kubectl(['logs', '-f', 'victim']);
    for (let i = 0; !exec.output().includes('streaming') && i < 200; i++) await sleep(50);
    expect(exec.output()).toContain('streaming');

    const killedAt = Date.now();
    process.kill(env.kubelet!.pid, 'SIGKILL');
    const [execCode, logsCode] = await Promise.all([exec.exited, logs.exited]);
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    // Neither hangs. (kubectl exec even exits 0: the stream ends without a status on its error channel, which a
    // client should report as an error of its own; kubectl logs -f ends as at the end of a log.)
    expect(execCode).not.toBeNull();
    expect(logsCode).not.toBeNull();
    for (let i = 0; i < 100; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return; // gone
      }
      await sleep(50);
    }
    throw new Error(`the pod's main process ${pid} outlived the kubelet`);
  });
});
