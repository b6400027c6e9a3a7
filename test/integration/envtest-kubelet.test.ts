// envtest's test kubelet (startControlPlane({ kubelet: true })), proven through the real API server with kubectl and
// bare HTTPS calls only, independently of kubeloop's client: exec, stdin, followed logs, port-forward, attach, a TTY's
// resize, pod status and deletion. The file starts its own control plane with the defaults a user gets (binding of
// unscheduled pods on), and ends by stopping it and checking that no container process outlives it.
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../sdk/envtest/index.js';
import { createTestNamespace, rawRequest } from '../support/cluster.js';

interface PodStatus {
  phase?: string;
  podIP?: string;
  containerStatuses?: {
    name: string;
    ready: boolean;
    started?: boolean;
    restartCount: number;
    containerID?: string;
    state: { running?: object; waiting?: { reason: string }; terminated?: { exitCode: number; reason: string } };
    lastState: { terminated?: { exitCode: number } };
  }[];
  conditions?: { type: string; status: string }[];
}
interface Pod {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string };
  status: PodStatus;
}

let env: ControlPlane;
let ns: string;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** kubectl against the file's control plane, in the test namespace; resolves with its exit code and output. */
function kubectl(args: string[], input?: string | Buffer, timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      env.binaries.kubectl!,
      ['--kubeconfig', env.kubeconfigPath, '-n', ns, ...args],
      { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        if (err && code === null) return reject(new Error(`kubectl ${args.join(' ')}: ${err.message}\n${stderr}`));
        resolve({ code, stdout: stdout.toString('latin1'), stderr: stderr.toString() });
      },
    );
    child.stdin?.end(input);
  });
}

type ContainerSpec = Record<string, unknown> & { name: string; command: string[] };

async function createPod(name: string, containers: ContainerSpec[], spec: Record<string, unknown> = {}): Promise<void> {
  const res = await rawRequest(env.config, 'POST', `/api/v1/namespaces/${ns}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: containers.map((c) => ({ image: 'ignored', ...c })), ...spec },
  });
  if (res.status !== 201) throw new Error(`creating pod ${name}: ${JSON.stringify(res.body)}`);
}

async function getPod(name: string): Promise<Pod | undefined> {
  const res = await rawRequest(env.config, 'GET', `/api/v1/namespaces/${ns}/pods/${name}`);
  return res.status === 200 ? (res.body as Pod) : undefined;
}

async function waitForPod(name: string, what: string, ok: (pod: Pod) => boolean, timeoutMs = 20_000): Promise<Pod> {
  const deadline = Date.now() + timeoutMs;
  let last: Pod | undefined;
  for (;;) {
    last = await getPod(name);
    if (last && ok(last)) return last;
    if (Date.now() > deadline) throw new Error(`pod ${name} is not ${what}: ${JSON.stringify(last?.status)}`);
    await sleep(50);
  }
}

const running = (p: Pod): boolean =>
  p.status.phase === 'Running' && (p.status.containerStatuses ?? []).every((c) => c.ready);

/** A pod whose single container sleeps: a target for exec. */
async function sleeper(name: string): Promise<void> {
  await createPod(name, [{ name: 'main', command: ['sh', '-c', 'echo $$ > main.pid; exec sleep 3600'] }]);
  await waitForPod(name, 'running', running);
}

beforeAll(async () => {
  env = await startControlPlane({ kubernetesVersion: '1.37.2', kubelet: true, progress: () => {} });
  ns = await createTestNamespace(env.config, 'kubelet');
});

afterAll(async () => {
  await env?.stop();
});

describe('envtest test kubelet, through the API server', () => {
  it('registers a Ready node that the API server reaches', async () => {
    expect(env.kubelet?.nodeName).toBe('kubeloop-node');
    const res = await rawRequest(env.config, 'GET', `/api/v1/nodes/${env.kubelet!.nodeName}`);
    expect(res.body).toMatchObject({
      status: {
        addresses: expect.arrayContaining([{ type: 'InternalIP', address: '127.0.0.1' }]),
        daemonEndpoints: { kubeletEndpoint: { Port: env.kubelet!.port } },
        conditions: expect.arrayContaining([expect.objectContaining({ type: 'Ready', status: 'True' })]),
      },
    });
    // (nodes/proxy is refused for a loopback node address by the API server itself: "address not allowed".)
  });

  it('kubectl exec: stdout, stderr and the exit code', async () => {
    await sleeper('exec');
    const r = await kubectl(['exec', 'exec', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toContain('err\n');
    expect(r.code).toBe(3);
    const ok = await kubectl(['exec', 'exec', '--', 'sh', '-c', 'echo "$HOSTNAME in $(basename "$PWD")"']);
    expect(ok).toMatchObject({ code: 0 });
    const pod = (await getPod('exec'))!;
    expect(ok.stdout).toBe(`exec in ${pod.metadata.uid}\n`);
  });
});
