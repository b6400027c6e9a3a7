// kubeloop's benchmarks against client-go / controller-runtime (GO-JSON, GO-PB), @kubernetes/client-node (CN) and a
// raw undici floor (FLOOR), side by side on one control plane (PERFORMANCE.md; bench/README.md explains the setup).
//
//   npm run bench                      # quick mode: small N, 3 repetitions, a few minutes
//   npm run bench -- --full            # full mode: 5 repetitions up to N = 10k, 3 at 50k (within an hour)
//   npm run bench -- --scenarios=S1,S6 --peers=kl,go-json --reps=3 --cpu-prof --no-pin --out=/tmp/bench
//
// Every measurement is a fresh process of one peer, speaking the protocol of bench/peers/node/peer.mjs. The harness
// reads the peer's CPU from /proc/<pid>/stat around the measured phase and its peak RSS from /proc/<pid>/status, and
// runs the peers interleaved (A B C … then … C B A) in every repetition. It prints figures and asserts nothing.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadScenarioModules, writeReport } from './report.mjs';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const dist = (p) => join(root, 'dist/sdk', p);
const { values: opts } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    scenarios: { type: 'string' },
    peers: { type: 'string' },
    reps: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    out: { type: 'string' },
    merge: { type: 'boolean', default: false },
  },
});
const mode = opts.full ? 'full' : 'quick';
const allPeers = ['kl', 'go-json', 'go-pb', 'cn', 'floor'];
const peerNames = opts.peers ? opts.peers.split(',') : allPeers;
const scenarioOrder = ['S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'S9', 'S10'];
const scenarios = (opts.scenarios ?? scenarioOrder.join(',')).toUpperCase().split(',');
const reps = Number(opts.reps ?? (opts.full ? 5 : 3));
const outDir = resolve(opts.out ?? join(root, 'bench/results', mode));
const profDir = opts['cpu-prof'] ? join(tmpdir(), `kubeloop-bench-profiles-${process.pid}`) : undefined; // kubeloop's peer only

/** Sizes and rates per mode. */
const plan = opts.full
  ? {
      s1: [
        { kind: 'configmaps', n: 1000 },
        { kind: 'configmaps', n: 10_000 },
        { kind: 'pods', n: 1000 },
        { kind: 'pods', n: 10_000 },
        { kind: 'configmaps', n: 50_000, reps: 3 },
        { kind: 'configmaps', n: 10_000, metadata: true },
        { kind: 'pods', n: 10_000, metadata: true },
      ],
      s3: [
        { kind: 'configmaps', n: 10_000, rate: 200, events: 2000 },
        { kind: 'configmaps', n: 10_000, rate: 1000, events: 5000 },
      ],
      s4: { rounds: 2000 },
      s6: [
        { op: 'get', concurrency: 1, ops: 1000 },
        { op: 'get', concurrency: 64, ops: 10_000 },
        { op: 'patch', concurrency: 1, ops: 300 },
      ],
      s8: { settleMs: 3000 },
    }
  : {
      s1: [
        { kind: 'configmaps', n: 1000 },
        { kind: 'configmaps', n: 10_000 },
        { kind: 'pods', n: 1000 },
        { kind: 'configmaps', n: 10_000, metadata: true },
      ],
      s3: [{ kind: 'configmaps', n: 1000, rate: 200, events: 600 }],
      s4: { rounds: 300 },
      s6: [
        { op: 'get', concurrency: 1, ops: 300 },
        { op: 'get', concurrency: 64, ops: 2000 },
        { op: 'patch', concurrency: 1, ops: 100 },
      ],
      s8: { settleMs: 1000 },
    };

const log = (line) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sh = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
};

// ---------------------------------------------------------------------------------------------------------------
// /proc

const clockTicks = Number(sh('getconf', ['CLK_TCK']) ?? 100);
function procCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks; // utime + stime
}
function procMemMB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakRssMB: kb('VmHWM') / 1024, rssMB: kb('VmRSS') / 1024 };
}

// ---------------------------------------------------------------------------------------------------------------
// pinning: the control plane (and this harness, which writes in S3) on one core, the client on the other

const ncpu = cpus().length;
const pin = !opts['no-pin'] && ncpu >= 2 && sh('taskset', ['-V']) !== undefined;
const serverCpus = pin ? '0' : undefined;
const clientCpus = pin ? String(ncpu - 1) : undefined;
function pinControlPlane(workDir) {
  if (!pin) return [];
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmdline.includes(workDir) && /kube-apiserver|etcd/.test(cmdline)) pids.push(Number(entry));
  }
  for (const pid of [...pids, process.pid]) sh('taskset', ['-a', '-p', '-c', serverCpus, String(pid)]);
  return pids;
}

/**
 * Runs `fn` with the control plane and this harness free to use every CPU, then pins them back: seeding 100k objects
 * is bound by the API server's CPU, and nothing is measured meanwhile.
 */
let pinnedPids = [];
async function onAllCpus(fn) {
  if (!pin) return fn();
  const all = `0-${ncpu - 1}`;
  for (const pid of [...pinnedPids, process.pid]) sh('taskset', ['-a', '-p', '-c', all, String(pid)]);
  try {
    return await fn();
  } finally {
    for (const pid of [...pinnedPids, process.pid]) sh('taskset', ['-a', '-p', '-c', serverCpus, String(pid)]);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// peers

let goBin;
const nodePeer = (name) => (scenario, connFile, params) => {
  const prof = profDir
    ? [
        '--cpu-prof',
        `--cpu-prof-dir=${profDir}`,
        `--cpu-prof-name=${name}-${scenario}-${params.tag ?? ''}-${Date.now()}.cpuprofile`,
      ]
    : [];
  const window =
    profDir && name === 'kl'
      ? {
          BENCH_PROFILE_WINDOW: join(
            profDir,
            `window-${name}-${scenario}-${params.tag ?? ''}-${Date.now()}.cpuprofile`,
          ),
        }
      : {};
  return {
    file: process.execPath,
    args: [
      '--expose-gc',
      ...(name === 'kl' ? prof : []),
      join(root, 'bench/peers/node/peer.mjs'),
      name,
      scenario,
      connFile,
      JSON.stringify(params),
    ],
    env: { NODE_ENV: 'production', ...window },
  };
};
const goPeer = (proto) => (scenario, connFile, params) => {
  const { kubeconfigPath } = JSON.parse(readFileSync(connFile, 'utf8'));
  return { file: goBin, args: [scenario, JSON.stringify({ ...params, kubeconfig: kubeconfigPath, proto })], env: {} };
};
const peers = {
  kl: { label: 'kubeloop', command: nodePeer('kl'), scenarios: ['s1', 's3', 's4', 's6', 's8'] },
  'go-json': { label: 'client-go JSON', command: goPeer(false), scenarios: ['s1', 's3', 's4', 's6', 's8'] },
  'go-pb': { label: 'client-go protobuf', command: goPeer(true), scenarios: ['s1', 's3', 's6', 's8'] },
  cn: { label: '@kubernetes/client-node', command: nodePeer('cn'), scenarios: ['s1', 's3', 's6', 's8'] },
  floor: { label: 'undici + JSON.parse', command: nodePeer('floor'), scenarios: ['s1', 's3', 's6', 's8'] },
};

// Scenarios in files of their own (bench/scenarios/s2.mjs, …): each exports `id`, the `peers` that implement it,
// `plan(full)`, `run(ctx)` (which pushes its cases onto ctx.cases and calls ctx.save() after each), `report` (what
// report.mjs needs to render it) and optionally `key(case)`, a case's name for --merge. Their peers' sides are
// bench/peers/node/<id>.mjs and bench/peers/go/<id>.go.
const plugins = await loadScenarioModules();
for (const [id, mod] of Object.entries(plugins)) for (const p of mod.peers) peers[p]?.scenarios.push(id.toLowerCase());

// BENCH_KL_BUILDS=before=/tmp/a/dist/sdk,… adds pseudo-peers kl-before, …: kubeloop's peer run from other builds of
// dist/sdk, in every scenario kubeloop's peer runs, interleaved with the others: an A/B of two commits in one run, so
// that both see the same machine noise (how S5 was checked for a regression: results/ANALYSIS.md).
for (const entry of (process.env.BENCH_KL_BUILDS ?? '').split(',').filter(Boolean)) {
  const [name, dir] = entry.split('=');
  const command = (scenario, connFile, params) => {
    const c = nodePeer('kl')(scenario, connFile, params);
    return { ...c, env: { ...c.env, BENCH_KL_DIST: resolve(dir) } };
  };
  peers[`kl-${name}`] = { label: `kubeloop (${name})`, command, scenarios: [...peers.kl.scenarios] };
  if (peerNames.includes('kl')) peerNames.push(`kl-${name}`);
}

/** The command line of a helper process the harness runs beside the control plane (S9's load generator), pinned to its CPU. */
function serverCommand(file, args) {
  return pin ? { cmd: 'taskset', argv: ['-c', serverCpus, file, ...args] } : { cmd: file, argv: args };
}

/** The Go peer's binary (also S9's load generator), built once per harness run. */
function goBinary() {
  if (!goBin) {
    log('building the Go peer');
    goBin = execFileSync('bash', [join(root, 'bench/peers/go/build.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
  }
  return goBin;
}

/** The command line of one peer process for a scenario, pinned to the client CPU (for scenarios that run peers themselves). */
function peerCommand(peer, scenario, connFile, params) {
  const { file, args, env } = peers[peer].command(scenario, connFile, params);
  const [cmd, argv] = pin ? ['taskset', ['-c', clientCpus, file, ...args]] : [file, args];
  return { cmd, argv, env: { ...process.env, ...env } };
}

/**
 * Runs one peer process through the protocol. `onGo(exited)` runs once the peer is told to go (S3's writer); `exited`
 * is an AbortSignal aborted when the peer exits, so that a writer waiting for the peer gives up as soon as it died.
 * The result is the peer's JSON plus the harness's /proc figures: procCpuMs (ready → measured), peak and current RSS.
 */
function runPeer(peer, scenario, connFile, params, onGo, timeoutMs = 300_000) {
  const { cmd, argv, env } = peerCommand(peer, scenario, connFile, params);
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-4000);
      if (process.env.BENCH_STDERR) process.stderr.write(d); // a peer's own logging, when debugging a peer
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    let spawnToReadyMs;
    let cpu0;
    let cpu1;
    let extra = {};
    let result;
    let writer;
    const exited = new AbortController();
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      if (msg.ready) {
        spawnToReadyMs = performance.now() - t0;
        cpu0 = procCpuMs(child.pid);
        child.stdin.write('go\n');
        if (onGo) writer = onGo(exited.signal);
      } else if (msg.measured) {
        cpu1 = procCpuMs(child.pid);
        child.stdin.write('ok\n');
      } else {
        if (cpu1 === undefined) cpu1 = procCpuMs(child.pid);
        extra = procMemMB(child.pid);
        result = msg;
        child.stdin.end();
      }
    });
    child.on('exit', async (code, signal) => {
      clearTimeout(timer);
      exited.abort();
      const w = writer ? await writer : undefined;
      if (!result) {
        reject(
          new Error(
            `${peer} ${scenario} exited ${code ?? signal} without a result: ${stderr.trim().split('\n').slice(-5).join(' | ')}`,
          ),
        );
        return;
      }
      resolvePromise({ ...result, ...extra, spawnToReadyMs, procCpuMs: cpu1 - cpu0, ...(w && { writer: w }) });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// the control plane and its objects

const tsAnnotation = 'bench.kubeloop.dev/ts';
const filler = 'x'.repeat(1000);
function configMap(i) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `cm-${i}`, labels: { app: 'bench', shard: String(i % 10) } },
    data: { payload: filler },
  };
}
/** A Pod of about 3 KB of JSON; with the server's managedFields about 5–6 KB. */
function pod(i) {
  const env = (c) =>
    Array.from({ length: 8 }, (_, k) => ({ name: `${c.toUpperCase()}_SETTING_${k}`, value: `value-${k}-${i}` }));
  const container = (name, image) => ({
    name,
    image: `registry.example.com/team/${image}:v1.${i % 50}.0`,
    ports: [{ name: name === 'app' ? 'http' : 'proxy', containerPort: name === 'app' ? 8080 : 15001, protocol: 'TCP' }],
    env: env(name),
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
    readinessProbe: { httpGet: { path: '/readyz', port: 8080 }, periodSeconds: 10 },
    livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10, failureThreshold: 3 },
    volumeMounts: [{ name: 'config', mountPath: '/etc/config', readOnly: true }],
  });
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `pod-${i}`,
      labels: {
        app: 'bench',
        tier: 'web',
        shard: String(i % 10),
        'app.kubernetes.io/name': 'bench',
        'pod-template-hash': `h${i % 97}`,
      },
      annotations: {
        'kubectl.kubernetes.io/restartedAt': '2026-01-01T00:00:00Z',
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': '9090',
      },
    },
    spec: {
      automountServiceAccountToken: false,
      containers: [container('app', 'app'), container('sidecar', 'proxy')],
      volumes: [{ name: 'config', configMap: { name: 'app-config' } }],
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                topologyKey: 'kubernetes.io/hostname',
                labelSelector: { matchLabels: { app: 'bench' } },
              },
            },
          ],
        },
      },
    },
  };
}

/** The descriptor of a seeded kind. */
const descriptorOf = (kind) =>
  kind === 'pods'
    ? { group: '', version: 'v1', kind: 'Pod', plural: 'pods', namespaced: true }
    : { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };

async function seed(factory, kind, namespace, n, concurrency = 32) {
  const { isAlreadyExists } = await import(dist('client/index.js'));
  const ignoreExists = (e) => {
    if (!isAlreadyExists(e)) throw e;
  };
  await factory
    .resource({ group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false })
    .create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } })
    .catch(ignoreExists);
  if (kind === 'pods') {
    // No controller-manager here: the ServiceAccount admission plugin needs the default ServiceAccount to exist.
    await factory
      .resource({ group: '', version: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts', namespaced: true })
      .namespace(namespace)
      .create({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default' } })
      .catch(ignoreExists);
  }
  if (n === 0) return undefined;
  const client = factory.resource(descriptorOf(kind)).namespace(namespace);
  const make = kind === 'pods' ? pod : configMap;
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < n; i = next++) {
        await client.create(make(i)).catch(ignoreExists);
        if (n >= 50_000 && i % 20_000 === 19_999) log(`  seeding ${namespace}: ${i + 1} of ${n}`);
      }
    }),
  );
  const one = await client.get(kind === 'pods' ? 'pod-0' : 'cm-0');
  const bytes = JSON.stringify(one).length;
  const seedMs = Math.round(performance.now() - t0);
  log(`seeded ${n} ${kind} in ${namespace} in ${seedMs} ms (one is ${bytes} bytes of JSON with managedFields)`);
  return { bytes, seedMs };
}

/**
 * Deletes the `kind` objects of a seeded namespace, one DeleteCollection per shard label, all ten at once (one for
 * 100k objects would outlast the request timeout, and the API server deletes a collection one object at a time).
 * envtest runs no namespace controller, so the namespace itself stays.
 */
async function unseed(factory, kind, namespace) {
  const client = factory.resource(descriptorOf(kind)).namespace(namespace);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 10 }, (_, shard) => client.deleteCollection({ labelSelector: `shard=${shard}` })),
  );
  log(`deleted the ${kind} of ${namespace} in ${Math.round(performance.now() - t0)} ms`);
}

/** S3's writer: `total` merge patches of the timestamp annotation at `rate` per second, round-robin over `names`. */
function write(client, names, rate, total) {
  return new Promise((resolveWrite) => {
    const t0 = performance.now();
    let sent = 0;
    let inflight = 0;
    let errors = 0;
    const finished = () => resolveWrite({ sent, errors, achievedRate: sent / ((performance.now() - t0) / 1000) });
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
      while (sent < due && inflight < 64) {
        const i = sent++;
        inflight++;
        const ts = (performance.timeOrigin + performance.now()).toFixed(3);
        client
          .patch(names[i % names.length], { metadata: { annotations: { [tsAnnotation]: ts } } }, { patchType: 'merge' })
          .catch(() => errors++)
          .finally(() => {
            inflight--;
            if (sent === total && inflight === 0) finished();
          });
      }
      if (sent < total) setTimeout(tick, 2);
    };
    tick();
  });
}

// ---------------------------------------------------------------------------------------------------------------

async function main() {
  mkdirSync(outDir, { recursive: true });
  if (profDir) mkdirSync(profDir, { recursive: true });
  const wantGo = peerNames.some((p) => p.startsWith('go-'));
  if (wantGo) goBinary();
  const { startControlPlane } = await import(dist('envtest/index.js'));
  const { createResourceClientFactory } = await import(dist('client/index.js'));
  log('starting the control plane');
  const env = await startControlPlane({ kubernetesVersion: '1.37.2', progress: () => undefined });
  const serverPids = pinControlPlane(env.workDir);
  pinnedPids = serverPids;
  const work = mkdtempSync(join(tmpdir(), 'kubeloop-bench-'));
  const started = new Date();
  const results = {
    mode,
    reps,
    facts: machineFacts(started),
    pin: pin ? { server: serverCpus, client: clientCpus, serverPids: serverPids.length } : null,
    scenarios: {},
  };
  if (opts.merge) {
    // Re-run some scenarios into an existing results file: the others are kept, with the facts of their own run.
    const previous = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8'));
    results.scenarios = previous.scenarios;
    results.merged = [...(previous.merged ?? []), { scenarios, facts: results.facts }];
    results.facts = previous.facts;
    results.durationS = previous.durationS;
  }
  try {
    const connFile = join(work, 'conn.json');
    writeFileSync(connFile, JSON.stringify({ config: env.config, kubeconfigPath: env.kubeconfigPath }), {
      mode: 0o600,
    });
    const factory = createResourceClientFactory(env.config);

    /** Runs each peer `r` times, interleaved; collects runs[peer] = [result…]. */
    const interleave = async (scenario, params, r = reps, onGo) => {
      const order = peerNames.filter((p) => peers[p].scenarios.includes(scenario) && !params.skip?.includes(p));
      const runs = Object.fromEntries(order.map((p) => [p, []]));
      const errors = [];
      for (let i = 0; i < r; i++) {
        for (const p of i % 2 ? order.toReversed() : order) {
          try {
            runs[p].push(
              await runPeer(
                p,
                scenario,
                connFile,
                { ...params, tag: `${params.tag ?? ''}${i}` },
                onGo && ((exited) => onGo(p, exited)),
                params.timeoutMs ? params.timeoutMs + 60_000 : undefined,
              ),
            );
          } catch (e) {
            errors.push(`${p}: ${e.message}`);
            log(`  ${e.message}`);
          }
        }
      }
      return { runs, errors };
    };

    const seeded = {};
    const ensureSeeded = async (kind, n, concurrency) => {
      const namespace = `bench-${kind}-${n}`;
      const seedIt = () => seed(factory, kind, namespace, n, concurrency);
      // From 10k objects, seeding is seconds to minutes of the API server's CPU: it may use every CPU meanwhile.
      seeded[namespace] ??= await (n >= 10_000 ? onAllCpus(seedIt) : seedIt());
      return { namespace, bytes: seeded[namespace]?.bytes, seedMs: seeded[namespace]?.seedMs };
    };
    /** Deletes what ensureSeeded created (S10's 100k objects, once measured). */
    const dropSeeded = async (kind, n) => {
      const namespace = `bench-${kind}-${n}`;
      if (!seeded[namespace]) return;
      await unseed(factory, kind, namespace);
      delete seeded[namespace];
    };

    const steps = {};
    steps.S1 = async () => {
      results.scenarios.S1 = [];
      // BENCH_S1_ONLY=pods-10000-meta,configmaps-1000 keeps only the named cases (`<kind>-<N>[-meta]`), as S10's.
      const only = process.env.BENCH_S1_ONLY?.split(',');
      const named = (c) => `${c.kind}-${c.n}${c.metadata ? '-meta' : ''}`;
      for (const { kind, n, reps: r, metadata } of plan.s1.filter((c) => !only || only.includes(named(c)))) {
        const { namespace, bytes } = await ensureSeeded(kind, n);
        log(`S1 cold sync: ${n} ${kind}${metadata ? ', metadata only' : ''}`);
        // Metadata-only: CN has no such informer; GO-PB would be GO-JSON again (client-go's metadata client always asks
        // for protobuf, `metadata.ConfigFor`, so GO-JSON's metadata-only runs are protobuf on the wire).
        const params = {
          namespace,
          kind,
          n,
          tag: `${kind}-${n}-${metadata ? 'meta-' : ''}`,
          ...(metadata && { metadata, skip: ['cn', 'go-pb'] }),
        };
        const out = await interleave('s1', params, r ?? reps);
        results.scenarios.S1.push({ kind, n, objectBytes: bytes, ...(metadata && { metadata }), ...out });
        save(results);
      }
    };
    steps.S3 = async () => {
      results.scenarios.S3 = [];
      for (const { kind, n, rate, events } of plan.s3) {
        const { namespace } = await ensureSeeded(kind, n);
        const client = factory
          .resource({ group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true })
          .namespace(namespace);
        const names = Array.from({ length: n }, (_, i) => `cm-${i}`);
        log(`S3 watch ingest: ${n} ${kind} cached, ${events} updates at ${rate}/s`);
        const timeoutMs = Math.ceil((events / rate) * 1000) + 20_000;
        const out = await interleave('s3', { namespace, kind, n, events, timeoutMs, tag: `${rate}-` }, reps, () =>
          write(client, names, rate, events),
        );
        results.scenarios.S3.push({ kind, n, rate, events, ...out });
        save(results);
      }
    };
    steps.S4 = async () => {
      log('S4 workqueue');
      results.scenarios.S4 = [{ ...plan.s4, ...(await interleave('s4', plan.s4)) }];
      save(results);
    };
    steps.S6 = async () => {
      results.scenarios.S6 = [];
      const namespace = 'bench-rest';
      await seed(factory, 'configmaps', namespace, 1);
      for (const s of plan.s6) {
        log(`S6 REST: ${s.ops} ${s.op}s of one ConfigMap, ${s.concurrency} at a time`);
        const out = await interleave('s6', { namespace, name: 'cm-0', ...s, tag: `${s.op}-${s.concurrency}-` });
        results.scenarios.S6.push({ ...s, ...out });
        save(results);
      }
    };
    steps.S8 = async () => {
      const namespace = 'bench-empty';
      await seed(factory, 'configmaps', namespace, 0);
      log('S8 idle footprint: three informers / controllers on an empty namespace');
      results.scenarios.S8 = [{ ...plan.s8, ...(await interleave('s8', { namespace, ...plan.s8 })) }];
      save(results);
    };
    const ctx = {
      full: opts.full,
      reps,
      factory,
      env,
      connFile,
      interleave,
      runPeer,
      peerCommand,
      serverCommand,
      goBinary,
      procCpuMs,
      procMemMB,
      peerNames,
      ensureSeeded,
      dropSeeded,
      seed,
      write,
      log,
      save: () => save(results),
    };
    for (const id of scenarioOrder) {
      if (!scenarios.includes(id)) continue;
      if (steps[id]) await steps[id]();
      else if (plugins[id]) {
        // With --merge, a plugin that names its cases (`key`) keeps the cases of the earlier run that it does not
        // re-run (BENCH_S10_ONLY re-runs some of S10's): a re-run case takes its old place, a new one goes last.
        const { key } = plugins[id];
        const kept = opts.merge && key ? (results.scenarios[id] ?? []) : [];
        const fresh = [];
        const saveMerged = () => {
          const byKey = new Map(fresh.map((c) => [key?.(c), c]));
          const merged = kept.map((c) => byKey.get(key(c)) ?? c);
          results.scenarios[id] = [...merged, ...fresh.filter((c) => !merged.includes(c))];
          save(results);
        };
        await plugins[id].run({ ...ctx, save: saveMerged, plan: plugins[id].plan(opts.full), cases: fresh });
        saveMerged();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
    await env.stop();
  }
  if (!opts.merge) results.durationS = Math.round((Date.now() - started.getTime()) / 1000);
  save(results);
  log(`done in ${Math.round((Date.now() - started.getTime()) / 1000)} s: ${join(outDir, 'report.md')}`);
  if (profDir) log(`CPU profiles of kubeloop's peer: ${profDir}`);
}

function save(results) {
  writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  writeReport(outDir, results);
}

function machineFacts(date) {
  const goMod = readFileSync(join(root, 'bench/peers/go/go.mod'), 'utf8');
  const modVersion = (m) => new RegExp(`^\\s*${m.replaceAll('.', '\\.')} (v\\S+)`, 'm').exec(goMod)?.[1];
  const cnVersion = JSON.parse(
    readFileSync(join(root, 'node_modules/@kubernetes/client-node/package.json'), 'utf8'),
  ).version;
  const undiciVersion = JSON.parse(readFileSync(join(root, 'node_modules/undici/package.json'), 'utf8')).version;
  return {
    date: date.toISOString(),
    node: process.version,
    go: sh('go', ['version']),
    kernel: sh('uname', ['-r']),
    cpu: `${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}`,
    memory: `${Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024 / 1024)} GiB`,
    kubeloop: `${JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version} (${sh('git', ['-C', root, 'rev-parse', '--short', 'HEAD']) ?? '?'})`,
    kubeApiserver: 'v1.37.2 (envtest, etcd v3.7.3)',
    clientGo: modVersion('k8s.io/client-go'),
    controllerRuntime: modVersion('sigs.k8s.io/controller-runtime'),
    clientNode: cnVersion,
    undici: undiciVersion,
  };
}

await main();
