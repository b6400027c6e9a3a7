// Port-forward throughput and exec latency, kubeloop against kubectl (built with the control plane), through the real
// API server and envtest's test kubelet. Prints figures; asserts nothing.
//
//   npm run build && node bench/streaming/streaming-bench.mjs [--mib=100] [--reps=3] [--execs=30] [--round-trips=500]
//
// Port-forward: a pod runs a Node server on a port of this machine (the test kubelet's pods share its network);
// kubeloop's `portForward` (in a process of its own, bench/streaming/forwarder.mjs) and `kubectl port-forward` each
// listen locally, and the same client here downloads and uploads `--mib` MiB through each, interleaved: MiB/s and the
// forwarder's CPU (user + system, from /proc) per transfer. Exec: one-shot `exec … -- true` (kubeloop's `exec`, in
// this process, against a `kubectl exec` process each time: what a script calling either pays), and the round trip of
// one line through `cat` on an open exec (kubeloop's `execStream` against `kubectl exec -i`), p50 and p99.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v === undefined ? true : Number(v)];
  }),
);
const mib = args.mib ?? 100;
const reps = args.reps ?? 3;
const execs = args.execs ?? 30;
const roundTrips = args['round-trips'] ?? 500;

const { startControlPlane } = await import(join(root, 'dist/sdk/envtest/index.js'));
const { createClientset } = await import(join(root, 'dist/sdk/client/index.js'));

const log = (...a) => process.stderr.write(`[streaming-bench] ${a.join(' ')}\n`);
const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};
const median = (xs) => quantile(xs, 0.5);
const ticksPerSecond = 100;
/** User + system CPU of a process, in ms. */
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}
async function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

log('starting the control plane with a test kubelet');
const env = await startControlPlane({ kubernetesVersion: '1.37.2', kubelet: true, progress: () => undefined });
const kubectlBin = env.binaries.kubectl;
const cs = createClientset(env.config);
const ns = 'bench-streaming';
const results = { mib, reps, execs, roundTrips, portForward: {}, exec: {} };
const children = new Set();

try {
  await cs
    .coreV1()
    .namespaces()
    .create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const port = await freePort();
  // 'D<n>\n': the server sends n bytes and ends; 'U<n>\n': it reads n bytes, answers 'k' and ends.
  const server = `require('node:net').createServer((s) => {
    let head = '';
    s.on('data', function first(d) {
      head += d.toString('latin1');
      const nl = head.indexOf('\\n');
      if (nl < 0) return;
      s.off('data', first);
      const n = Number(head.slice(1, nl));
      if (head[0] === 'D') {
        const block = Buffer.alloc(1 << 20, 7);
        let left = n;
        const pump = () => { while (left > 0) { const b = left >= block.length ? block : block.subarray(0, left); left -= b.length; if (!s.write(b)) return void s.once('drain', pump); } s.end(); };
        pump();
      } else {
        let got = head.length - nl - 1;
        const done = () => { if (got >= n) { s.end('k'); } };
        s.on('data', (c) => { got += c.length; done(); });
        done();
      }
    });
  }).listen(${port}, '127.0.0.1')`;
  const pod = 'bench';
  await cs
    .coreV1()
    .pods(ns)
    .create({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod },
      spec: {
        nodeName: env.kubelet.nodeName,
        terminationGracePeriodSeconds: 1,
        containers: [
          { name: 'server', image: 'ignored', command: [process.execPath, '-e', server] },
          { name: 'shell', image: 'ignored', command: ['sleep', '3600'] },
        ],
      },
    });
  for (;;) {
    const p = await cs.coreV1().pods(ns).get(pod);
    if (p.status?.phase === 'Running') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (;;) {
    const up = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  /** A forwarder process: resolves with its pid and local port once it listens. */
  async function startForwarder(peer) {
    const [cmd, argv] =
      peer === 'kubeloop'
        ? [process.execPath, [join(here, 'forwarder.mjs'), env.kubeconfigPath, ns, pod, String(port)]]
        : [kubectlBin, ['--kubeconfig', env.kubeconfigPath, '-n', ns, 'port-forward', `pod/${pod}`, `:${port}`]];
    // BENCH_FORWARDER_NODE_OPTIONS (such as `--cpu-prof --cpu-prof-dir=/tmp/p`) goes to kubeloop's forwarder only.
    const nodeOptions = peer === 'kubeloop' ? process.env.BENCH_FORWARDER_NODE_OPTIONS : undefined;
    const child = spawn(cmd, argv, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: nodeOptions ? { ...process.env, NODE_OPTIONS: nodeOptions } : process.env,
    });
    children.add(child);
    child.stderr.on('data', (d) => process.env.BENCH_STDERR && process.stderr.write(d));
    const lines = createInterface({ input: child.stdout });
    const local = await new Promise((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`${peer} forwarder exited ${code}`)));
      lines.on('line', (line) => {
        const kl = /^\{"local":(\d+)\}$/.exec(line);
        const kc = /^Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(line);
        if (kl || kc) resolve(Number((kl ?? kc)[1]));
      });
    });
    return {
      pid: child.pid,
      local,
      /** Closing stdin stops kubeloop's forwarder (so that a CPU profile gets written); kubectl gets SIGTERM. */
      stop: async () => {
        children.delete(child);
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.stdin.end();
        if (peer === 'kubectl') child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGTERM'), 5000);
        await exited;
        clearTimeout(timer);
      },
    };
  }

  /** One transfer through `local`: 'D' downloads, 'U' uploads `bytes`; resolves with the seconds it took. */
  function transfer(local, kind, bytes) {
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const s = connect(local, '127.0.0.1');
      s.on('error', reject);
      let got = 0;
      s.on('data', (c) => (got += c.length));
      s.on('end', () => {
        const ok = kind === 'D' ? got === bytes : got === 1;
        if (!ok) reject(new Error(`${kind}: got ${got} bytes`));
        else resolve((performance.now() - started) / 1000);
        s.destroy();
      });
      s.once('connect', () => {
        s.write(`${kind}${bytes}\n`);
        if (kind !== 'U') return;
        const block = Buffer.alloc(1 << 20, 9);
        let left = bytes;
        const pump = () => {
          while (left > 0) {
            const b = left >= block.length ? block : block.subarray(0, left);
            left -= b.length;
            if (!s.write(b)) return void s.once('drain', pump);
          }
        };
        pump();
      });
    });
  }

  const bytes = mib * 1024 * 1024;
  const peers = ['kubeloop', 'kubectl'];
  for (const peer of peers) results.portForward[peer] = { downloadMiBps: [], uploadMiBps: [], cpuMsPerMiB: [] };
  for (let rep = 0; rep < reps; rep++) {
    for (const peer of rep % 2 === 0 ? peers : [...peers].reverse()) {
      const fwd = await startForwarder(peer);
      await transfer(fwd.local, 'D', 1024 * 1024); // warm-up: the connection path, JIT
      for (const kind of ['D', 'U']) {
        const cpu0 = cpuMs(fwd.pid);
        const seconds = await transfer(fwd.local, kind, bytes);
        const cpu = cpuMs(fwd.pid) - cpu0;
        const r = results.portForward[peer];
        (kind === 'D' ? r.downloadMiBps : r.uploadMiBps).push(mib / seconds);
        r.cpuMsPerMiB.push(cpu / mib);
        log(`${peer} rep ${rep} ${kind === 'D' ? 'download' : 'upload'}: ${(mib / seconds).toFixed(1)} MiB/s`);
      }
      await fwd.stop();
    }
  }

  // Exec, one-shot.
  const pods = cs.coreV1().pods(ns);
  const oneShot = { kubeloop: [], kubectl: [] };
  const kubectlExec = (argv, input) =>
    new Promise((resolve, reject) => {
      const child = spawn(kubectlBin, ['--kubeconfig', env.kubeconfigPath, '-n', ns, 'exec', ...argv], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      child.stdin.end(input);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`kubectl exec exited ${code}`))));
    });
  await pods.exec(pod, { container: 'shell', command: ['true'] });
  for (let i = 0; i < execs; i++) {
    let t = performance.now();
    const r = await pods.exec(pod, { container: 'shell', command: ['true'] });
    if (r.exitCode !== 0) throw new Error('exec true failed');
    oneShot.kubeloop.push(performance.now() - t);
    t = performance.now();
    await kubectlExec([pod, '-c', 'shell', '--', 'true']);
    oneShot.kubectl.push(performance.now() - t);
  }

  // Exec, round trips of one line through cat on an open stream.
  const trips = { kubeloop: [], kubectl: [] };
  async function roundTripsThrough(stdin, stdout, into) {
    const lines = createInterface({ input: stdout });
    const iterator = lines[Symbol.asyncIterator]();
    stdin.write('warm\n');
    await iterator.next();
    for (let i = 0; i < roundTrips; i++) {
      const t = performance.now();
      stdin.write(`${i}\n`);
      const { value } = await iterator.next();
      if (value !== String(i)) throw new Error(`round trip ${i}: got ${value}`);
      into.push(performance.now() - t);
    }
    stdin.end();
  }
  const s = pods.execStream(pod, { container: 'shell', command: ['cat'], stdin: true });
  await roundTripsThrough(s.stdin, s.stdout, trips.kubeloop);
  await s.exitCode;
  const child = spawn(
    kubectlBin,
    ['--kubeconfig', env.kubeconfigPath, '-n', ns, 'exec', '-i', pod, '-c', 'shell', '--', 'cat'],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  children.add(child);
  await roundTripsThrough(child.stdin, child.stdout, trips.kubectl);
  await new Promise((r) => child.once('exit', r));
  children.delete(child);

  for (const peer of peers) {
    results.exec[peer] = {
      oneShotMs: { p50: median(oneShot[peer]), p99: quantile(oneShot[peer], 0.99) },
      roundTripMs: { p50: median(trips[peer]), p99: quantile(trips[peer], 0.99) },
    };
  }
  const f = (x) => x.toFixed(1);
  const lines = [
    `| | kubeloop | kubectl |`,
    `| --- | --- | --- |`,
    `| port-forward download, MiB/s (median of ${reps}, ${mib} MiB) | ${f(median(results.portForward.kubeloop.downloadMiBps))} | ${f(median(results.portForward.kubectl.downloadMiBps))} |`,
    `| port-forward upload, MiB/s | ${f(median(results.portForward.kubeloop.uploadMiBps))} | ${f(median(results.portForward.kubectl.uploadMiBps))} |`,
    `| forwarder CPU, ms per MiB | ${f(median(results.portForward.kubeloop.cpuMsPerMiB))} | ${f(median(results.portForward.kubectl.cpuMsPerMiB))} |`,
    `| exec \`true\`, one-shot, ms p50 / p99 (${execs}) | ${f(results.exec.kubeloop.oneShotMs.p50)} / ${f(results.exec.kubeloop.oneShotMs.p99)} | ${f(results.exec.kubectl.oneShotMs.p50)} / ${f(results.exec.kubectl.oneShotMs.p99)} |`,
    `| exec round trip through cat, ms p50 / p99 (${roundTrips}) | ${f(results.exec.kubeloop.roundTripMs.p50)} / ${f(results.exec.kubeloop.roundTripMs.p99)} | ${f(results.exec.kubectl.roundTripMs.p50)} / ${f(results.exec.kubectl.roundTripMs.p99)} |`,
  ];
  process.stdout.write(`${lines.join('\n')}\n\n${JSON.stringify(results)}\n`);
} finally {
  for (const child of children) child.kill('SIGTERM');
  await env.stop();
}
