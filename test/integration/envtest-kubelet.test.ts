// envtest's test kubelet (startControlPlane({ kubelet: true })), proven through the real API server with kubectl and
// bare HTTPS calls only, independently of kubeloop's client: exec, stdin, followed logs, port-forward, attach, a TTY's
// resize, pod status and deletion. The file starts its own control plane with the defaults a user gets (binding of
// unscheduled pods on), and ends by stopping it and checking that no container process outlives it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../sdk/envtest/internal/processes.js';
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
function kubectl(args: string[], input?: string | Buffer, extraEnv: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      env.binaries.kubectl!,
      ['--kubeconfig', env.kubeconfigPath, '-n', ns, ...args],
      { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024, timeout: 30_000, env: { ...process.env, ...extraEnv } },
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
  // `$$` is an escaped `$` in a container's command, as in Kubernetes: the shell sees `echo $$`.
  await createPod(name, [{ name: 'main', command: ['sh', '-c', 'echo $$$$ > main.pid; exec sleep 3600'] }]);
  await waitForPod(name, 'running', running);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of a pod's main process, as its command wrote it (`echo $$ > main.pid` in the pod's folder). */
async function mainPid(name: string): Promise<number> {
  const pod = (await getPod(name))!;
  const file = join(env.kubelet!.rootDir, 'pods', pod.metadata.uid, 'main.pid');
  for (let i = 0; ; i++) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (text.trim()) return Number(text.trim());
    if (i > 100) throw new Error(`no ${file}`);
    await sleep(50);
  }
}

/** A long-running kubectl whose stdout is read as it comes. */
function kubectlLive(
  args: string[],
  extraEnv: Record<string, string> = {},
): {
  child: ChildProcess;
  output: () => string;
  waitFor: (text: string) => Promise<void>;
} {
  const child = spawn(env.binaries.kubectl!, ['--kubeconfig', env.kubeconfigPath, '-n', ns, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...extraEnv },
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  return {
    child,
    output: () => out,
    async waitFor(text) {
      const deadline = Date.now() + 15_000;
      while (!out.includes(text)) {
        if (Date.now() > deadline) throw new Error(`kubectl ${args.join(' ')} did not print ${text}: ${out}\n${err}`);
        await sleep(20);
      }
    },
  };
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
    // Called directly, the kubelet answers the API server's certificate only: a user's is refused.
    const user = await env.addUser({ name: 'someone', groups: ['system:masters'] });
    const direct = await rawRequest({ ...user, host: `https://127.0.0.1:${env.kubelet!.port}` }, 'GET', '/healthz');
    expect(direct.status).toBe(403);
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

  it('kubectl exec over SPDY end to end too (kubectl falls back to it from WebSocket)', async () => {
    await sleeper('spdy');
    const spdy = { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'false' };
    const r = await kubectl(['exec', 'spdy', '--', 'sh', '-c', 'echo out; echo err >&2; exit 4'], undefined, spdy);
    expect(r).toMatchObject({ code: 4, stdout: 'out\n' });
    expect(r.stderr).toContain('err\n');
    const data = randomBytes(256 * 1024).toString('hex');
    expect((await kubectl(['exec', '-i', 'spdy', '--', 'cat'], data, spdy)).stdout === data).toBe(true);
  });

  it('kubectl exec -i: stdin through cat, byte for byte', async () => {
    await sleeper('stdin');
    const data = randomBytes(1024 * 1024).toString('base64');
    const r = await kubectl(['exec', '-i', 'stdin', '--', 'cat'], data);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBe(data.length);
    expect(r.stdout === data).toBe(true);
    const wc = await kubectl(['exec', '-i', 'stdin', '--', 'wc', '-c'], Buffer.alloc(3 * 1024 * 1024, 7));
    expect(wc.stdout.trim()).toBe(String(3 * 1024 * 1024));
  });

  it('pod status: Pending, Running with started and ready containers, bound to the node', async () => {
    await createPod('status', [{ name: 'main', command: ['sleep', '3600'] }]);
    const pod = await waitForPod('status', 'running', running);
    expect(pod.spec.nodeName).toBe(env.kubelet!.nodeName);
    expect(pod.status.podIP).toBe('127.0.0.1');
    expect(pod.status.containerStatuses).toEqual([
      expect.objectContaining({
        name: 'main',
        ready: true,
        started: true,
        restartCount: 0,
        containerID: expect.stringMatching(/^kubeloop:\/\/[0-9a-f]{32}$/),
        state: { running: { startedAt: expect.any(String) } },
      }),
    ]);
    expect(pod.status.conditions).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'PodScheduled', status: 'True' }),
        expect.objectContaining({ type: 'Ready', status: 'True' }),
        expect.objectContaining({ type: 'ContainersReady', status: 'True' }),
      ]),
    );
  });

  it('restartPolicy: Never ends Succeeded or Failed with the exit code, OnFailure restarts', async () => {
    await createPod('ok', [{ name: 'main', command: ['sh', '-c', 'exit 0'] }], { restartPolicy: 'Never' });
    await createPod('fails', [{ name: 'main', command: ['sh', '-c', 'exit 7'] }], { restartPolicy: 'Never' });
    await createPod('retries', [{ name: 'main', command: ['sh', '-c', 'echo try; exit 5'] }], {
      restartPolicy: 'OnFailure',
    });
    await createPod('nocommand', [{ name: 'main', command: [] }], { restartPolicy: 'Never' });
    await createPod('always', [{ name: 'main', command: ['sh', '-c', 'exit 0'] }]);
    await createPod('init', [{ name: 'main', command: ['sleep', '3600'] }], {
      initContainers: [{ name: 'setup', image: 'ignored', command: ['true'] }],
    });
    const ok = await waitForPod('ok', 'Succeeded', (p) => p.status.phase === 'Succeeded');
    expect(ok.status.containerStatuses![0]!.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    const failed = await waitForPod('fails', 'Failed', (p) => p.status.phase === 'Failed');
    expect(failed.status.containerStatuses![0]!.state.terminated).toMatchObject({ exitCode: 7, reason: 'Error' });
    const retried = await waitForPod(
      'retries',
      'restarted',
      (p) => p.status.containerStatuses?.[0]?.restartCount === 1,
    );
    expect(retried.status.phase).toBe('Running');
    expect(retried.status.containerStatuses![0]!.lastState.terminated).toMatchObject({ exitCode: 5 });
    const previous = await kubectl(['logs', 'retries', '--previous']);
    expect(previous).toMatchObject({ code: 0, stdout: 'try\n' });
    const noPrevious = await kubectl(['logs', 'fails', '--previous']);
    expect(noPrevious.code).not.toBe(0);
    expect(noPrevious.stderr).toContain('previous terminated container "main" in pod "fails" not found');
    const always = await waitForPod('always', 'restarted', (p) => p.status.containerStatuses?.[0]?.restartCount === 1);
    expect(always.status.phase).toBe('Running');
    const init = await waitForPod('init', 'Failed', (p) => p.status.phase === 'Failed');
    expect(init.status).toMatchObject({ reason: 'Unsupported', message: expect.stringContaining('init containers') });
    const noCommand = await waitForPod('nocommand', 'Failed', (p) => p.status.phase === 'Failed');
    expect(noCommand.status.containerStatuses![0]!.state.terminated).toMatchObject({
      exitCode: 128,
      reason: 'StartError',
    });
  });

  it('kubectl logs -f sees lines as they are written; tail, timestamps, limit-bytes', async () => {
    await createPod('logs', [
      {
        name: 'main',
        command: [
          'sh',
          '-c',
          'echo first; echo second; while [ ! -f go ]; do sleep 0.05; done; echo third; sleep 3600',
        ],
      },
    ]);
    await waitForPod('logs', 'running', running);
    const follow = kubectlLive(['logs', '-f', 'logs']);
    try {
      await follow.waitFor('second\n');
      expect(follow.output()).toBe('first\nsecond\n');
      const sent = Date.now();
      expect((await kubectl(['exec', 'logs', '--', 'touch', 'go'])).code).toBe(0);
      await follow.waitFor('third\n');
      expect(Date.now() - sent).toBeLessThan(2000);
      expect(follow.output()).toBe('first\nsecond\nthird\n');
    } finally {
      follow.child.kill();
    }
    expect((await kubectl(['logs', 'logs', '--tail=1'])).stdout).toBe('third\n');
    const stamped = (await kubectl(['logs', 'logs', '--timestamps'])).stdout.split('\n');
    expect(stamped[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z first$/);
    expect((await kubectl(['logs', 'logs', '--limit-bytes=8'])).stdout).toBe('first\nse');
    expect((await kubectl(['logs', 'logs', '--since=1h'])).stdout).toBe('first\nsecond\nthird\n');
    const since = stamped[2]!.split(' ')[0]!;
    const fromThird = await rawRequest(
      env.config,
      'GET',
      `/api/v1/namespaces/${ns}/pods/logs/log?sinceTime=${encodeURIComponent(since.replace(/\.\d+Z$/, 'Z'))}`,
    );
    expect(fromThird.body).toMatch(/third\n$/);
  });

  it('kubectl port-forward carries bytes to a server the pod runs, over WebSocket and SPDY', async () => {
    const port = await freePort();
    const server = `require('net').createServer((s) => s.pipe(s)).listen(${port}, '127.0.0.1', () => console.log('listening'))`;
    await createPod('pf', [{ name: 'main', command: [process.execPath, '-e', server] }]);
    await waitForPod('pf', 'running', running);
    // Running is not listening (there are no readiness probes): the server says when it is.
    for (let i = 0; (await kubectl(['logs', 'pf'])).stdout !== 'listening\n'; i++) {
      if (i > 100) throw new Error('the echo server did not start');
      await sleep(50);
    }
    for (const websockets of ['true', 'false']) {
      const { payload, echoed } = await portForward(port, { KUBECTL_PORT_FORWARD_WEBSOCKETS: websockets });
      expect(echoed.length).toBe(payload.length);
      expect(echoed.equals(payload)).toBe(true);
    }
  });

  /** Runs `kubectl port-forward` to the pod's port and sends 4 MB through it to the echo server. */
  async function portForward(
    port: number,
    extraEnv: Record<string, string>,
  ): Promise<{ payload: Buffer; echoed: Buffer }> {
    const pf = kubectlLive(['port-forward', 'pod/pf', `:${port}`], extraEnv);
    try {
      await pf.waitFor(`-> ${port}`);
      const local = Number(/127\.0\.0\.1:(\d+) ->/.exec(pf.output())![1]);
      const payload = randomBytes(4 * 1024 * 1024);
      const echoed = await new Promise<Buffer>((resolve, reject) => {
        const socket = createConnection({ host: '127.0.0.1', port: local });
        const chunks: Buffer[] = [];
        let received = 0;
        socket.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          received += chunk.length;
          if (received >= payload.length) {
            socket.end();
            resolve(Buffer.concat(chunks));
          }
        });
        socket.on('error', reject);
        socket.write(payload);
      });
      return { payload, echoed };
    } finally {
      pf.child.kill();
    }
  }

  it('kubectl attach -i: stdin to the main process, its stdout back', async () => {
    await createPod(
      'attach',
      [{ name: 'main', command: ['sh', '-c', 'read line; echo "got $line"'], stdin: true, stdinOnce: true }],
      {
        restartPolicy: 'Never',
      },
    );
    await waitForPod('attach', 'running', running);
    const r = await kubectl(['attach', '-i', 'attach', '-c', 'main'], 'hello\n');
    expect(r.stdout).toContain('got hello\n');
    await waitForPod('attach', 'Succeeded', (p) => p.status.phase === 'Succeeded');
    expect((await kubectl(['logs', 'attach'])).stdout).toBe('got hello\n');
  });

  it('kubectl exec -t: the terminal size and its resize reach the process', async () => {
    await sleeper('tty');
    // script(1) gives kubectl a terminal of 30x100; a second later stty resizes it, and kubectl (SIGWINCH) sends the
    // new size; the process prints its terminal's size before and after.
    const inner =
      `${env.binaries.kubectl} --kubeconfig ${env.kubeconfigPath} -n ${ns} exec -it tty -- ` +
      `sh -c 'stty size; while [ "$(stty size)" = "30 100" ]; do sleep 0.05; done; stty size'`;
    const outer = `stty rows 30 cols 100; (sleep 1.5; stty rows 40 cols 120 </dev/tty) & ${inner}`;
    const child = spawn('script', ['-q', '-e', '-c', outer, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(out.replace(/\r/g, '')).toContain('30 100\n40 120\n');
    expect(code).toBe(0);
  });

  it('kubectl attach -it to a TTY container: keystrokes in, the terminal size through', async () => {
    await createPod(
      'tty-attach',
      [
        {
          name: 'main',
          command: ['sh', '-c', 'read line; echo "got $line"; stty size'],
          stdin: true,
          stdinOnce: true,
          tty: true,
        },
      ],
      { restartPolicy: 'Never' },
    );
    await waitForPod('tty-attach', 'running', running);
    const inner = `${env.binaries.kubectl} --kubeconfig ${env.kubeconfigPath} -n ${ns} attach -it tty-attach`;
    const child = spawn('script', ['-q', '-e', '-c', `stty rows 33 cols 99; ${inner}`, '/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    for (let i = 0; !out.includes("If you don't see a command prompt"); i++) {
      if (i > 300) throw new Error(`kubectl attach did not connect: ${out}`);
      await sleep(20);
    }
    child.stdin.write('hello\r');
    expect(await closed).toBe(0);
    expect(out.replace(/\r/g, '')).toMatch(/got hello\n33 99\n/);
    await waitForPod('tty-attach', 'Succeeded', (p) => p.status.phase === 'Succeeded');
  });

  it('deleting a pod kills its processes and confirms the deletion', async () => {
    await sleeper('deleted');
    const pid = await mainPid('deleted');
    expect(alive(pid)).toBe(true);
    const started = Date.now();
    expect((await kubectl(['delete', 'pod', 'deleted', '--wait=true'])).code).toBe(0);
    expect(await getPod('deleted')).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(alive(pid)).toBe(false);
  });

  it('fails with ERR_ENVTEST, saying what to do, when the kubelet binary is not there', async () => {
    await expect(
      startControlPlane({ kubelet: { binary: '/nonexistent/kubelet' }, progress: () => {} }),
    ).rejects.toMatchObject({
      code: 'ERR_ENVTEST',
      message: expect.stringContaining('/nonexistent/kubelet (kubelet.binary) is not an executable file'),
    });
  });

  it('fails with ERR_ENVTEST on a node name the API server would refuse', async () => {
    await expect(startControlPlane({ kubelet: { nodeName: 'My_Node' }, progress: () => {} })).rejects.toMatchObject({
      code: 'ERR_ENVTEST',
      message: expect.stringContaining('kubelet.nodeName "My_Node" is not a valid node name'),
    });
  });

  it('stop() ends the kubelet and every container process with the control plane', async () => {
    await sleeper('orphan');
    const pid = await mainPid('orphan');
    await env.stop();
    expect(alive(pid)).toBe(false);
  });
});
