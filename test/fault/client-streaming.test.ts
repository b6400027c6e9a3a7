// Streams that die mid-way, through the real API server and a test kubelet of this file's own control plane: a
// connection cut between client and API server, and one that goes silent (half-open). Exec, port-forward and
// followed logs end with a coded error; nothing hangs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientset, isKubeloopError, type Pod, type RestConfig } from '../../sdk/client/index.js';
import { startControlPlane, type ControlPlane } from '../../sdk/envtest/index.js';
import { startFaultProxy, type FaultProxy } from '../../sdk/testing/index.js';
import { createTestNamespace } from '../support/cluster.js';
import { eventually, freePort } from '../support/wait.js';

let env: ControlPlane;
let ns: string;
let echoPort: number;
const pod = 'talker';

beforeAll(async () => {
  env = await startControlPlane({ kubernetesVersion: '1.37.2', kubelet: true });
  echoPort = await freePort();
  ns = await createTestNamespace(env.config, 'stream-fault');
  const cs = createClientset(env.config);
  const spec: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: pod },
    spec: {
      nodeName: env.kubelet!.nodeName,
      terminationGracePeriodSeconds: 1,
      containers: [
        { name: 'main', image: 'ignored', command: ['sh', '-c', 'while true; do echo tick; sleep 0.1; done'] },
        {
          name: 'echo',
          image: 'ignored',
          command: [
            process.execPath,
            '-e',
            `require('node:net').createServer((s) => s.pipe(s)).listen(${echoPort}, '127.0.0.1')`,
          ],
        },
      ],
    },
  };
  await cs.coreV1().pods(ns).create(spec);
  await eventually(
    'pod running',
    async () => (await cs.coreV1().pods(ns).get(pod)).status?.phase === 'Running',
    30_000,
  );
}, 180_000);

afterAll(async () => {
  await env?.stop();
});

async function throughProxy(): Promise<{ proxy: FaultProxy; config: RestConfig }> {
  const proxy = await startFaultProxy({ target: env.config });
  // Short PINGs, so a silent connection is found quickly.
  return { proxy, config: { ...proxy.config, pingIntervalMs: 200 } };
}

describe('streams whose connection dies', () => {
  it('exec: a cut connection ends the streams and exitCode with a coded error', async () => {
    const { proxy, config } = await throughProxy();
    const s = createClientset(config)
      .coreV1()
      .pods(ns)
      .execStream(pod, { container: 'main', command: ['sh', '-c', 'echo started; sleep 600'] });
    const first = await new Promise<string>((resolve, reject) => {
      s.stdout!.once('data', (d: Buffer) => resolve(String(d)));
      s.exitCode.catch(reject);
    });
    expect(first).toBe('started\n');
    await proxy.close();
    const err = await s.exitCode.catch((e: unknown) => e);
    expect(isKubeloopError(err)).toBe(true);
    expect((err as { code: string }).code).toMatch(/^ERR_KUBE_(STREAM_BROKEN|TRANSPORT)$/);
  });

  it('exec: a connection gone silent is found by its PINGs and ends with ERR_KUBE_STREAM_BROKEN', async () => {
    const { proxy, config } = await throughProxy();
    try {
      const s = createClientset(config)
        .coreV1()
        .pods(ns)
        .execStream(pod, { container: 'main', command: ['sh', '-c', 'echo started; sleep 600'] });
      await new Promise((resolve, reject) => {
        s.stdout!.once('data', resolve);
        s.exitCode.catch(reject);
      });
      expect(proxy.stall()).toBeGreaterThan(0);
      const err = await s.exitCode.catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_KUBE_STREAM_BROKEN' });
    } finally {
      await proxy.close();
    }
  });

  it('followed logs: a cut connection ends the iteration with a coded error', async () => {
    const { proxy, config } = await throughProxy();
    const lines: string[] = [];
    const err = await (async () => {
      for await (const line of createClientset(config).coreV1().pods(ns).streamLogs(pod, { container: 'main' })) {
        lines.push(line);
        if (lines.length === 3) await proxy.close();
      }
    })().catch((e: unknown) => e);
    expect(lines.slice(0, 3)).toEqual(['tick', 'tick', 'tick']);
    expect(isKubeloopError(err)).toBe(true);
    expect((err as { code: string }).code).toBe('ERR_KUBE_TRANSPORT');
  });

  it('port-forward: a cut connection ends the stream with a coded error', async () => {
    const { proxy, config } = await throughProxy();
    const conn = createClientset(config)
      .coreV1()
      .pods(ns)
      .portForwardStream(pod, { ports: [echoPort] });
    const stream = conn.port(echoPort);
    const errors: unknown[] = [];
    stream.on('error', (e) => errors.push(e));
    // An answer first: the connection reached the pod's echo server (which may still be starting).
    const answer = await eventually('an echo through the port-forward', async () => {
      stream.write('ping');
      return new Promise<string | undefined>((resolve) => {
        stream.once('data', (d: Buffer) => resolve(String(d)));
        setTimeout(() => resolve(undefined), 500).unref();
      });
    });
    expect(answer).toBe('ping');
    await proxy.close();
    const err = await conn.closed.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_KUBE_STREAM_BROKEN' });
    expect(errors).toEqual([err]);
  });
});
