// kubeloop's exec, attach, port-forward, followed logs and cp through the real API server, which passes them to envtest's
// test kubelet (the shared control plane's; pods naming its node run as local processes, so a "container" is a process
// of this machine, its files are this machine's and its ports are on 127.0.0.1). Every auth mode of the client is used
// for exec, and RBAC's refusal of pods/exec is the server's 403.
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile, appendFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiError,
  createClientset,
  isForbidden,
  restClientFor,
  type ExecResult,
  type Pod,
  type RestConfig,
} from '../../sdk/client/index.js';
import { connectToControlPlane } from '../../sdk/envtest/index.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';
import { eventually, freePort } from '../support/wait.js';

const { config, workDir, kubeletNodeName } = sharedCluster();
const cs = createClientset(config);
const rbac = { group: 'rbac.authorization.k8s.io', version: 'v1' };
let ns: string;
let dir: string;
/** A pod that sleeps, for exec. */
let sleeper: string;

/** Creates a pod on the test kubelet's node and waits until its containers run. */
async function runPod(
  name: string,
  containers: { name: string; command: string[]; stdin?: boolean }[],
): Promise<string> {
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      nodeName: kubeletNodeName,
      terminationGracePeriodSeconds: 1,
      containers: containers.map((c) => ({ image: 'ignored', ...c })),
    },
  };
  await cs.coreV1().pods(ns).create(pod);
  await eventually(
    `pod ${name} running`,
    async () => {
      const p = await cs.coreV1().pods(ns).get(name);
      return p.status?.phase === 'Running' && p.status.containerStatuses?.every((s) => s.state?.running);
    },
    30_000,
  );
  return name;
}

/** A ClusterRole that may exec into pods (and read them, as kubectl does first), bound to `subject`. */
async function allowExec(subject: { kind: 'User' | 'Group' | 'ServiceAccount'; name: string }): Promise<void> {
  const name = uniqueName('exec');
  const rc = restClientFor(config, { groupVersion: rbac });
  await rc
    .post()
    .resource('clusterroles')
    .body({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name },
      rules: [
        { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods/exec'], verbs: ['create', 'get'] },
      ],
    })
    .do()
    .into();
  await rc
    .post()
    .resource('clusterrolebindings')
    .body({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects: [
        subject.kind === 'ServiceAccount'
          ? { kind: 'ServiceAccount', name: subject.name, namespace: ns }
          : { apiGroup: 'rbac.authorization.k8s.io', kind: subject.kind, name: subject.name },
      ],
    })
    .do()
    .into();
}

/** What an allowed exec of `echo authorized` answers. */
const authorized = { stdout: 'authorized\n', stderr: '', exitCode: 0 };

/** Execs `echo authorized` into the sleeper pod as `user`. */
async function execWith(user: RestConfig): Promise<ExecResult> {
  // RBAC bindings take effect within moments; the first exec may still be refused.
  const result = await eventually(
    'exec allowed',
    async () => {
      try {
        return await createClientset(user)
          .coreV1()
          .pods(ns)
          .exec(sleeper, { command: ['sh', '-c', 'echo authorized'] });
      } catch (err) {
        if (isForbidden(err)) return undefined;
        throw err;
      }
    },
    10_000,
  );
  return result;
}

beforeAll(async () => {
  ns = await createTestNamespace(config, 'stream');
  dir = await mkdtemp(join(tmpdir(), 'kubeloop-streaming-'));
  sleeper = await runPod('sleeper', [{ name: 'main', command: ['sleep', '3600'] }]);
}, 60_000);

afterAll(async () => {
  await cs
    .coreV1()
    .pods(ns)
    .deleteCollection({})
    .catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

describe('exec and attach through the API server and the test kubelet', () => {
  it('returns stdout, stderr and the exit code', async () => {
    const r = await cs
      .coreV1()
      .pods(ns)
      .exec(sleeper, { container: 'main', command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    expect(r).toEqual({ stdout: 'out\n', stderr: 'err\n', exitCode: 3 });
  });

  it('round-trips 10 MB through cat over stdin, byte for byte, and half-closes stdin', async () => {
    const data = randomBytes(10 * 1024 * 1024);
    const s = cs
      .coreV1()
      .pods(ns)
      .execStream(sleeper, { command: ['cat'], stdin: true });
    s.stdin!.end(data);
    const chunks: Buffer[] = [];
    for await (const chunk of s.stdout!) chunks.push(chunk as Buffer);
    expect(await s.exitCode).toBe(0);
    expect(await s.protocol).toBe('v5.channel.k8s.io');
    const out = Buffer.concat(chunks);
    expect(out.length).toBe(data.length);
    expect(out.equals(data)).toBe(true);
  });

  it('gives a terminal whose size follows resize()', async () => {
    const s = cs
      .coreV1()
      .pods(ns)
      .execStream(sleeper, {
        // Waits until the terminal has the size sent, then prints it.
        command: ['sh', '-c', 'while [ "$(stty size)" != "40 120" ]; do sleep 0.05; done; stty size'],
        tty: true,
      });
    s.resize({ width: 120, height: 40 });
    let out = '';
    for await (const chunk of s.stdout!) out += String(chunk);
    expect(await s.exitCode).toBe(0);
    expect(out.trim()).toBe('40 120');
  });

  it('refuses a container the pod does not have with the server error', async () => {
    const err = await cs
      .coreV1()
      .pods(ns)
      .exec(sleeper, { container: 'nope', command: ['true'] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).statusCode).toBe(400);
    expect((err as ApiError).message).toContain('nope');
  });

  it('reports a command that cannot run as ERR_KUBE_REMOTE_COMMAND', async () => {
    const err = await cs
      .coreV1()
      .pods(ns)
      .exec(sleeper, { command: ['/does/not/exist'] })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_KUBE_REMOTE_COMMAND' });
  });

  it('attaches to the container process: its stdin in, its stdout out', async () => {
    const name = await runPod('attached', [
      { name: 'main', command: ['sh', '-c', 'read line; echo "got $line"; sleep 600'], stdin: true },
    ]);
    const s = cs.coreV1().pods(ns).attachStream(name, { stdin: true });
    s.stdin!.write('hello\n');
    let out = '';
    for await (const chunk of s.stdout!) {
      out += String(chunk);
      if (out.includes('\n')) break;
    }
    expect(out).toBe('got hello\n');
    s.close();
  });

  it('closes everything on abort', async () => {
    const controller = new AbortController();
    const s = cs
      .coreV1()
      .pods(ns)
      .execStream(sleeper, { command: ['sleep', '600'], signal: controller.signal });
    await s.protocol;
    controller.abort(new Error('enough'));
    await expect(s.exitCode).rejects.toThrow('enough');
  });
});

describe('exec with each auth mode', () => {
  it('works with a service account token', async () => {
    const sa = uniqueName('bot');
    await cs
      .coreV1()
      .serviceAccounts(ns)
      .create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa } });
    const token = (
      await cs
        .coreV1()
        .serviceAccounts(ns)
        .createToken(sa, { spec: { audiences: [] } })
    ).status?.token;
    await allowExec({ kind: 'ServiceAccount', name: sa });
    expect(
      await execWith({ host: config.host, caData: config.caData, serverName: config.serverName, bearerToken: token! }),
    ).toEqual(authorized);
  });

  it('works with a client certificate', async () => {
    const env = await connectToControlPlane(workDir);
    const name = uniqueName('cert-user');
    const user = await env.addUser({ name });
    await allowExec({ kind: 'User', name });
    expect(await execWith(user)).toEqual(authorized);
  });

  it('works with an exec credential plugin', async () => {
    const sa = uniqueName('plugin-bot');
    await cs
      .coreV1()
      .serviceAccounts(ns)
      .create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa } });
    const token = (
      await cs
        .coreV1()
        .serviceAccounts(ns)
        .createToken(sa, { spec: { audiences: [] } })
    ).status?.token;
    await allowExec({ kind: 'ServiceAccount', name: sa });
    const script = join(dir, 'plugin.sh');
    await writeFile(
      script,
      [
        '#!/bin/sh',
        `printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$PLUGIN_TOKEN"`,
      ].join('\n'),
    );
    await chmod(script, 0o755);
    expect(
      await execWith({
        host: config.host,
        caData: config.caData,
        serverName: config.serverName,
        exec: {
          apiVersion: 'client.authentication.k8s.io/v1',
          command: script,
          env: [{ name: 'PLUGIN_TOKEN', value: token! }],
          interactiveMode: 'Never',
        },
      }),
    ).toEqual(authorized);
  });

  it('works impersonating a user that may exec, and is a 403 for one that may not', async () => {
    const allowed = uniqueName('alice');
    await allowExec({ kind: 'User', name: allowed });
    expect(await execWith({ ...config, impersonate: { userName: allowed } })).toEqual(authorized);

    const err = await createClientset({ ...config, impersonate: { userName: uniqueName('mallory') } })
      .coreV1()
      .pods(ns)
      .exec(sleeper, { command: ['true'] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).statusCode).toBe(403);
    expect(isForbidden(err)).toBe(true);
  });
});

describe('port-forward through the API server and the test kubelet', () => {
  /** A pod whose container is a Node echo server on `port` of this machine; resolves once it listens. */
  async function echoPod(name: string, port: number): Promise<string> {
    const script = `require('node:net').createServer((s) => s.pipe(s)).listen(${port}, '127.0.0.1')`;
    await runPod(name, [{ name: 'echo', command: [process.execPath, '-e', script] }]);
    // The pod's processes share this machine's network: its port is open here once the server listens.
    await eventually(
      `pod ${name} listening on ${port}`,
      () =>
        new Promise<boolean>((resolve) => {
          const probe = connect(port, '127.0.0.1', () => {
            probe.destroy();
            resolve(true);
          });
          probe.once('error', () => resolve(false));
        }),
    );
    return name;
  }

  it('carries 100 MB each way through a local listener, one WebSocket per connection', async () => {
    const port = await freePort();
    const name = await echoPod('echo-big', port);
    const pf = await cs
      .coreV1()
      .pods(ns)
      .portForward(name, { ports: [`:${port}`] });
    try {
      const local = pf.ports[0]!.local;
      const total = 100 * 1024 * 1024;
      const block = randomBytes(1024 * 1024);
      const sent = createHash('sha256');
      const received = createHash('sha256');
      let got = 0;
      await new Promise<void>((resolve, reject) => {
        const socket = connect(local, '127.0.0.1');
        socket.on('error', reject);
        socket.on('close', () => reject(new Error(`the connection closed after ${got} bytes`)));
        socket.on('data', (chunk: Buffer) => {
          received.update(chunk);
          got += chunk.length;
          if (got >= total) {
            socket.destroy();
            resolve();
          }
        });
        let written = 0;
        const write = (): void => {
          while (written < total) {
            sent.update(block);
            written += block.length;
            if (!socket.write(block)) return void socket.once('drain', write);
          }
        };
        socket.once('connect', write);
      });
      expect(got).toBe(total);
      expect(received.digest('hex')).toBe(sent.digest('hex'));
    } finally {
      await pf.close();
    }
  }, 120_000);

  it('gives a Duplex per port with portForwardStream', async () => {
    const port = await freePort();
    const name = await echoPod('echo-duplex', port);
    const conn = cs
      .coreV1()
      .pods(ns)
      .portForwardStream(name, { ports: [port] });
    const stream = conn.port(port);
    stream.write('ping');
    const answer = await new Promise<string>((resolve, reject) => {
      stream.once('data', (d: Buffer) => resolve(d.toString()));
      stream.once('close', () => reject(new Error('the stream closed without an answer')));
    });
    expect(answer).toBe('ping');
    conn.close();
    await conn.closed;
  });
});

describe('followed logs through the API server and the test kubelet', () => {
  it('sees lines as they are written and ends on abort', async () => {
    const input = join(dir, 'log-input');
    await writeFile(input, '');
    const name = await runPod('logger', [{ name: 'main', command: ['tail', '-n', '+1', '-f', input] }]);
    const controller = new AbortController();
    const seen: string[] = [];
    const lines = cs.coreV1().pods(ns).streamLogs(name, { container: 'main', signal: controller.signal });
    await appendFile(input, 'first\n');
    for await (const line of lines) {
      seen.push(line);
      // Each line is written only after the previous one was read: they arrive as they are written.
      if (line === 'first') await appendFile(input, 'second\n');
      if (line === 'second') controller.abort();
    }
    expect(seen).toEqual(['first', 'second']);
  });
});

describe('cp through tar over exec', () => {
  it('copies a folder into the container and back out', async () => {
    const source = join(dir, 'cp-src');
    await mkdir(join(source, 'nested'), { recursive: true });
    await writeFile(join(source, 'a.txt'), 'alpha\n');
    const big = randomBytes(3 * 1024 * 1024);
    await writeFile(join(source, 'nested', 'big.bin'), big);
    const inContainer = join(dir, 'container-side');
    await mkdir(inContainer);
    await cs
      .coreV1()
      .pods(ns)
      .copyToPod(sleeper, { source, destination: `${inContainer}/copied` });
    expect(await readFile(join(inContainer, 'copied', 'a.txt'), 'utf8')).toBe('alpha\n');

    const back = join(dir, 'cp-back');
    const result = await cs
      .coreV1()
      .pods(ns)
      .copyFromPod(sleeper, { source: `${inContainer}/copied`, destination: back });
    expect(result).toEqual({ files: 2, skippedLinks: [] });
    expect((await readdir(back)).toSorted()).toEqual(['a.txt', 'nested']);
    expect((await readFile(join(back, 'nested', 'big.bin'))).equals(big)).toBe(true);
  });
});
