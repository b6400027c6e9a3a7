// The soak and chaos run (issue 16): the WebApp sample operator in three replica processes with leader election
// against envtest, behind kubeloop/testing's fault proxy, while a driver keeps creating, updating and deleting WebApps
// and faults of every class are injected on a schedule. `runSoak()` returns the report (see report.mjs); `npm run
// soak` (run.mjs) and test/fault/soak.test.ts (a short run) call it.
//
// Clocks: every time here and in the replicas' shared log is CLOCK_MONOTONIC in ms (process.hrtime.bigint(), the same
// clock in every process of the machine), so reconciles of different replicas compare directly.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createClientset, createDynamicClient, isNotFound } from '../../dist/sdk/client/index.js';
import { startControlPlane } from '../../dist/sdk/envtest/index.js';
import { startFaultProxy } from '../../dist/sdk/testing/index.js';
import { analyze } from './analyze.mjs';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
export const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/** Every fault class, in the order the schedule injects them. */
export const faultClasses = [
  'apiserver-restart',
  'etcd-compaction',
  'leader-sigkill',
  'leader-sigstop',
  'proxy-stall',
  'proxy-drop',
  'storm-429',
  'storm-5xx',
];

/** The defaults of a run; `runSoak(options)` overrides any of them. */
export const defaults = {
  /** How long faults keep being scheduled; the run then ends with a final convergence check. */
  durationMs: 10 * 60_000,
  /** Driver operations per second (creates, updates, deletes of WebApps), one at a time. */
  ratePerSec: 2,
  /** How many WebApps the driver keeps alive, about. */
  population: 15,
  /** Before the first fault: replicas start, a leader is elected, the driver fills the namespace. */
  warmupMs: 30_000,
  /** Driver activity between the convergence after a fault and the next fault. */
  activeMs: 20_000,
  /** How long a fault lasts where it has a duration (drop, storms). */
  faultHoldMs: 4_000,
  /** How long to wait for convergence after a fault before calling it failed. */
  convergeTimeoutMs: 120_000,
  /** Leader election of the replicas. */
  leaseDurationMs: 4_000,
  renewDeadlineMs: 3_000,
  retryPeriodMs: 500,
  /** How soon a replica that exited is started again (a kubelet's restart, without its backoff). */
  restartDelayMs: 1_000,
  memorySampleMs: 5_000,
  /** Memory samples of a replica in its first this-many ms as follower, or as leader, are not used for the slopes. */
  memoryWarmupMs: 90_000,
  /** Where report.md, report.json and memory.svg go; none written when undefined. */
  outDir: undefined,
  /** Progress lines. */
  progress: (line) => process.stderr.write(`${line}\n`),
  /**
   * The fault proxy's HTTP layer offers HTTP/2, as the API server does, so the replicas multiplex their requests on
   * one connection watched by PINGs; false makes them speak HTTP/1.1 to it (see bench/README.md for what a stall
   * does then).
   */
  http2: true,
  /** Replica standard error goes to files in the work folder; true passes it through too. */
  replicaStderr: false,
};

const namespace = 'soak';
const leaseName = 'webapp-operator';
const group = 'apps.kubeloop.dev';
const webappGvr = { group, version: 'v1', resource: 'webapps' };

/** The WebApp CRD as the sample defines it (samples/webapp/webapp.ts), v1 only and without the conversion webhook. */
async function webappCrd() {
  const { WebApp } = await import(join(compiledDir(), 'samples/webapp/webapp.js'));
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `webapps.${group}` },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'webapps', singular: 'webapp', kind: 'WebApp', listKind: 'WebAppList', shortNames: ['wa'] },
      versions: [WebApp.crdVersion],
    },
  };
}

let compiled;
const compiledDir = () => compiled;

/** Compiles test/fixtures/webapp-replica.ts (and the sample) into a folder laid out like an installed project. */
async function compileReplica(workDir) {
  const out = join(workDir, 'replica');
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  try {
    await promisify(execFile)(
      process.execPath,
      [tsc, '-p', join(root, 'test/fixtures/tsconfig.webapp-replica.json'), '--outDir', out],
      { cwd: root },
    );
  } catch (err) {
    throw new Error(`tsc could not compile test/fixtures/webapp-replica.ts:\n${err.stdout ?? ''}${err.stderr ?? ''}`, {
      cause: err,
    });
  }
  writeFileSync(join(out, 'package.json'), JSON.stringify({ name: 'webapp-replica', private: true, type: 'module' }));
  mkdirSync(join(out, 'node_modules'));
  symlinkSync(root, join(out, 'node_modules/kubeloop'), 'dir');
  symlinkSync(join(root, 'node_modules/reflect-metadata'), join(out, 'node_modules/reflect-metadata'), 'dir');
  compiled = out;
  return join(out, 'test/fixtures/webapp-replica.js');
}

/** etcd's v3 HTTP/JSON gateway: the current revision, then a compaction up to it. */
async function compactEtcd(etcdUrl) {
  const post = async (path, body) => {
    const res = await fetch(`${etcdUrl}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${text.slice(0, 200)}`);
    return JSON.parse(text);
  };
  const range = await post('/v3/kv/range', { key: Buffer.from('/').toString('base64'), limit: 1 });
  const revision = Number(range.header.revision);
  await post('/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}

/** The three replica processes, each started again (after restartDelayMs) whenever it exits, until stopAll(). */
class Replicas {
  constructor({ program, kubeconfig, logFile, workDir, options }) {
    Object.assign(this, { program, kubeconfig, logFile, workDir, options });
    this.identities = ['replica-a', 'replica-b', 'replica-c'];
    this.current = new Map();
    /** Every process: { identity, pid, startedAt, exit?: { code, signal, t }, frozen: [{ from, to }] }. */
    this.incarnations = [];
    this.stopping = false;
  }

  startAll() {
    for (const id of this.identities) this.start(id);
  }

  start(identity) {
    const o = this.options;
    const argv = [
      '--expose-gc',
      this.program,
      identity,
      namespace,
      leaseName,
      String(o.leaseDurationMs),
      String(o.renewDeadlineMs),
      String(o.retryPeriodMs),
      this.logFile,
      String(o.memorySampleMs),
    ];
    const [file, args] = setpriv
      ? [setpriv, ['--pdeathsig', 'SIGKILL', '--', process.execPath, ...argv]]
      : [process.execPath, argv];
    const child = spawn(file, args, {
      env: { ...process.env, KUBECONFIG: this.kubeconfig, LOG_LEVEL: 'info', NODE_ENV: 'production' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const inc = { identity, pid: child.pid, startedAt: monotonicMs(), frozen: [], child };
    this.incarnations.push(inc);
    this.current.set(identity, inc);
    const errLog = join(this.workDir, `${identity}.stderr.log`);
    child.stderr.on('data', (chunk) => {
      writeFileSync(errLog, chunk, { flag: 'a' });
      if (o.replicaStderr) process.stderr.write(chunk);
    });
    child.once('exit', (code, signal) => {
      inc.exit = { code, signal, t: monotonicMs() };
      if (!this.stopping) setTimeout(() => !this.stopping && this.start(identity), o.restartDelayMs);
    });
    return inc;
  }

  byIdentity(identity) {
    const inc = this.current.get(identity);
    return inc && !inc.exit ? inc : undefined;
  }

  async stopAll() {
    this.stopping = true;
    const live = this.incarnations.filter((i) => !i.exit);
    for (const i of live) {
      i.child.kill('SIGCONT');
      i.child.kill('SIGTERM');
    }
    await Promise.all(
      live.map(
        (i) =>
          new Promise((r) => {
            if (i.exit) return r();
            const t = setTimeout(() => {
              i.child.kill('SIGKILL');
            }, 20_000);
            i.child.once('exit', () => {
              clearTimeout(t);
              r();
            });
          }),
      ),
    );
  }
}

/**
 * Keeps creating, updating and deleting WebApps at `ratePerSec` while running, and remembers, for each name, the
 * last spec it wrote (or that it deleted it). A write that failed may have been applied or not: the name is marked
 * uncertain and read back before its next use and before each check.
 */
class Driver {
  constructor({ dyn, options }) {
    this.res = dyn.resource(webappGvr).namespace(namespace);
    this.options = options;
    /** name → { spec, deleted, uncertain } */
    this.apps = new Map();
    this.seq = 0;
    this.version = 0;
    this.counts = { created: 0, updated: 0, deleted: 0, failed: 0, resynced: 0 };
    this.paused = true;
    this.stopped = false;
  }

  live() {
    return [...this.apps].filter(([, a]) => !a.deleted).map(([n]) => n);
  }

  async run() {
    const period = 1000 / this.options.ratePerSec;
    while (!this.stopped) {
      const started = Date.now();
      if (!this.paused) await this.step();
      await sleep(Math.max(10, period - (Date.now() - started)));
    }
  }

  spec(replicas) {
    return {
      image: `registry.invalid/web:1.${++this.version}`,
      replicas,
      port: 8000 + Math.floor(Math.random() * 100),
    };
  }

  async step() {
    const live = this.live();
    const r = Math.random();
    if (live.length < this.options.population * 0.7 || r < 0.2) return this.create();
    const name = live[Math.floor(Math.random() * live.length)];
    if (r < 0.8) return this.update(name);
    return this.remove(name);
  }

  signal() {
    return AbortSignal.timeout(5_000);
  }

  async create() {
    const name = `app-${++this.seq}`;
    const spec = this.spec(Math.floor(Math.random() * 4));
    this.apps.set(name, { spec, deleted: false, uncertain: false });
    try {
      await this.res.create(
        { apiVersion: `${group}/v1`, kind: 'WebApp', metadata: { name }, spec },
        { signal: this.signal() },
      );
      this.counts.created++;
    } catch {
      this.failed(name);
    }
  }

  async update(name) {
    const app = this.apps.get(name);
    if (app.uncertain && !(await this.resync(name))) return;
    if (app.deleted) return;
    const next = { ...app.spec, image: this.spec(0).image, replicas: Math.floor(Math.random() * 4) };
    try {
      await this.res.patch(
        name,
        { spec: { image: next.image, replicas: next.replicas } },
        { patchType: 'merge', signal: this.signal() },
      );
      app.spec = next;
      this.counts.updated++;
    } catch (err) {
      if (isNotFound(err)) app.deleted = true; // cannot happen unless another writer deleted it
      else this.failed(name);
    }
  }

  async remove(name) {
    const app = this.apps.get(name);
    if (app.uncertain && !(await this.resync(name))) return;
    if (app.deleted) return;
    try {
      await this.res.delete(name, { signal: this.signal() });
      app.deleted = true;
      this.counts.deleted++;
    } catch (err) {
      if (isNotFound(err)) app.deleted = true;
      else this.failed(name);
    }
  }

  failed(name) {
    this.counts.failed++;
    this.apps.get(name).uncertain = true;
  }

  /** Reads an uncertain name back and adopts what the server holds; false if that read failed too. */
  async resync(name) {
    const app = this.apps.get(name);
    try {
      const obj = await this.res.get(name, { signal: this.signal() });
      if (obj.metadata?.deletionTimestamp) app.deleted = true;
      else app.spec = { image: obj.spec?.image, replicas: obj.spec?.replicas, port: obj.spec?.port };
    } catch (err) {
      if (!isNotFound(err)) return false;
      app.deleted = true;
    }
    app.uncertain = false;
    this.counts.resynced++;
    return true;
  }

  async resyncAll() {
    for (const [name, app] of this.apps) if (app.uncertain) await this.resync(name);
    return [...this.apps.values()].every((a) => !a.uncertain);
  }
}

const managedBy = 'app.kubernetes.io/managed-by=webapp-operator';

/**
 * Compares the cluster with the driver's record: each live WebApp holds the driver's last spec, its status observed
 * its generation, and its Deployment and Service (controlled by it) reflect that spec; each deleted one is gone with
 * its Deployment and Service; no other Deployment or Service of the operator exists.
 */
async function checkState(driver, clientset, dyn) {
  if (!(await driver.resyncAll())) return { ok: false, mismatches: [{ kind: 'unreadable', name: '*' }] };
  const signal = AbortSignal.timeout(10_000);
  const [webapps, deployments, services] = await Promise.all([
    dyn.resource(webappGvr).namespace(namespace).list({ signal }),
    clientset.appsV1().deployments(namespace).list({ labelSelector: managedBy, signal }),
    clientset.coreV1().services(namespace).list({ labelSelector: managedBy, signal }),
  ]);
  const byName = (list) => new Map(list.items.map((o) => [o.metadata.name, o]));
  const [wa, deps, svcs] = [byName(webapps), byName(deployments), byName(services)];
  const mismatches = [];
  const miss = (kind, name, detail) => mismatches.push({ kind, name, ...(detail && { detail }) });
  for (const [name, app] of driver.apps) {
    const w = wa.get(name);
    const d = deps.get(name);
    const s = svcs.get(name);
    if (app.deleted) {
      if (w) miss('not-deleted', name, w.metadata.deletionTimestamp ? 'finalizer still set' : 'still exists');
      if (d) miss('orphan-deployment', name);
      if (s) miss('orphan-service', name);
      continue;
    }
    if (!w) {
      miss('webapp-missing', name);
      continue;
    }
    const want = app.spec;
    if (w.spec?.image !== want.image || w.spec?.replicas !== want.replicas || w.spec?.port !== want.port)
      miss('webapp-spec-differs', name, { want, got: w.spec });
    if (w.status?.observedGeneration !== w.metadata.generation)
      miss('status-behind', name, {
        generation: w.metadata.generation,
        observed: w.status?.observedGeneration ?? null,
      });
    if (!d) miss('deployment-missing', name);
    else {
      const c = d.spec?.template?.spec?.containers?.[0];
      const got = { image: c?.image, replicas: d.spec?.replicas, port: c?.ports?.[0]?.containerPort };
      if (got.image !== want.image || got.replicas !== want.replicas || got.port !== want.port)
        miss('deployment-stale', name, { want, got });
      const owner = d.metadata?.ownerReferences?.find((r) => r.controller);
      if (owner?.uid !== w.metadata.uid) miss('deployment-not-owned', name);
    }
    if (!s) miss('service-missing', name);
    else if (s.spec?.ports?.[0]?.port !== want.port)
      miss('service-stale', name, { want: want.port, got: s.spec?.ports?.[0]?.port });
  }
  for (const name of deps.keys()) if (!driver.apps.has(name)) miss('unknown-deployment', name);
  for (const name of svcs.keys()) if (!driver.apps.has(name)) miss('unknown-service', name);
  return { ok: mismatches.length === 0, mismatches };
}

/** Runs the soak; resolves to the report (and writes it to `outDir` when given). */
export async function runSoak(userOptions = {}) {
  const o = { ...defaults, ...userOptions };
  const progress = o.progress;
  const t0 = monotonicMs();
  const wall0 = new Date();
  const since = () => `${((monotonicMs() - t0) / 1000).toFixed(1)}s`;
  const say = (line) => progress(`[soak ${since()}] ${line}`);
  const workDir = await mkdtemp(join(tmpdir(), 'kubeloop-soak-'));
  const logFile = join(workDir, 'replicas.ndjson');
  writeFileSync(logFile, '');
  let env;
  let proxy;
  let replicas;
  let driver;
  let driverLoop;
  const faults = [];
  const timeline = [];
  try {
    say(`compiling the replica; work folder ${workDir}`);
    const program = await compileReplica(workDir);
    env = await startControlPlane({
      kubernetesVersion: '1.37.2',
      progress: (l) => say(l),
      crds: { objects: [await webappCrd()] },
    });
    const admin = { ...env.config, timeoutMs: 10_000 };
    const clientset = createClientset(admin);
    const dyn = createDynamicClient(admin);
    await clientset
      .coreV1()
      .namespaces()
      .create({ metadata: { name: namespace } });
    proxy = await startFaultProxy({ target: env.config, layer: 'http', http2: o.http2 });
    const kubeconfig = await env.writeKubeconfig(proxy.config, 'soak-proxy');
    replicas = new Replicas({ program, kubeconfig, logFile, workDir, options: o });
    replicas.startAll();
    say('three replicas started, through the fault proxy');

    const leaseHolder = async () => {
      try {
        const lease = await clientset
          .coordinationV1()
          .leases(namespace)
          .get(leaseName, { signal: AbortSignal.timeout(5000) });
        return lease.spec?.holderIdentity || undefined;
      } catch {
        return undefined;
      }
    };
    const currentLeader = async () => {
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const holder = await leaseHolder();
        const inc = holder && replicas.byIdentity(holder);
        if (inc) return inc;
        await sleep(250);
      }
      throw new Error('no live replica holds the lease');
    };
    await currentLeader();
    say('a leader is elected; the driver starts');

    driver = new Driver({ dyn, options: o });
    driver.paused = false;
    driverLoop = driver.run();
    await sleep(o.warmupMs);

    const converge = async () => {
      const started = monotonicMs();
      let last;
      while (monotonicMs() - started < o.convergeTimeoutMs) {
        last = await checkState(driver, clientset, dyn).catch((err) => ({
          ok: false,
          mismatches: [{ kind: 'check-failed', name: '*', detail: String(err) }],
        }));
        if (last.ok) return { ok: true, ms: Math.round(monotonicMs() - started), mismatches: [] };
        await sleep(250);
      }
      return { ok: false, ms: Math.round(monotonicMs() - started), mismatches: last?.mismatches ?? [] };
    };

    const inject = async (cls) => {
      const fault = { class: cls, injectedAt: monotonicMs(), detail: {} };
      timeline.push({ t: fault.injectedAt, label: cls });
      switch (cls) {
        case 'apiserver-restart': {
          await env.restartApiServer();
          fault.detail.downMs = Math.round(monotonicMs() - fault.injectedAt);
          break;
        }
        case 'etcd-compaction': {
          fault.detail.revision = await compactEtcd(env.etcdUrl);
          // The watches resume from a resourceVersion older than the compaction: every connection is cut once.
          proxy.setMode('drop');
          proxy.setMode('pass');
          await sleep(o.faultHoldMs);
          break;
        }
        case 'leader-sigkill': {
          const leader = await currentLeader();
          fault.detail.victim = leader.identity;
          leader.child.kill('SIGKILL');
          await sleep(o.faultHoldMs); // the driver goes on while nobody leads
          break;
        }
        case 'leader-sigstop': {
          const leader = await currentLeader();
          fault.detail.victim = leader.identity;
          const freeze = { from: monotonicMs() };
          leader.frozen.push(freeze);
          leader.child.kill('SIGSTOP');
          await sleep(o.leaseDurationMs + 2_000);
          freeze.to = monotonicMs();
          leader.child.kill('SIGCONT');
          fault.detail.frozenMs = Math.round(freeze.to - freeze.from);
          fault.detail.successor = await leaseHolder();
          break;
        }
        case 'proxy-stall': {
          fault.detail.stalledConnections = proxy.stall();
          await sleep(o.faultHoldMs); // the driver goes on; the replicas' stalled connections stay silent
          break;
        }
        case 'proxy-drop': {
          fault.detail.openConnections = proxy.connections;
          proxy.setMode('drop');
          await sleep(o.faultHoldMs);
          proxy.setMode('pass');
          break;
        }
        case 'storm-429': {
          const rule = proxy.failRequests(
            { when: () => Math.random() < 0.5 },
            { status: 429, reason: 'TooManyRequests', retryAfterSeconds: 1 },
          );
          await sleep(o.faultHoldMs);
          rule.remove();
          fault.detail.answered = rule.hits;
          break;
        }
        case 'storm-5xx': {
          const r503 = proxy.failRequests({ when: () => Math.random() < 0.25 }, { status: 503 });
          const r500 = proxy.failRequests({ when: () => Math.random() < 0.33 }, { status: 500 });
          await sleep(o.faultHoldMs);
          r503.remove();
          r500.remove();
          fault.detail.answered = r503.hits + r500.hits;
          break;
        }
        default:
          throw new Error(`unknown fault class ${cls}`);
      }
      fault.clearedAt = monotonicMs();
      driver.paused = true;
      const c = await converge();
      fault.convergedMs = c.ok ? c.ms : null;
      fault.converged = c.ok;
      if (!c.ok) fault.mismatches = c.mismatches.slice(0, 20);
      faults.push(fault);
      say(
        `${cls} ${JSON.stringify(fault.detail)}: ${c.ok ? `converged ${c.ms} ms after it cleared` : `NOT converged after ${c.ms} ms: ${JSON.stringify(c.mismatches.slice(0, 5))}`}`,
      );
      driver.paused = false;
    };

    const faultsStart = monotonicMs();
    for (let i = 0; ; i++) {
      const elapsed = monotonicMs() - faultsStart;
      if (elapsed >= o.durationMs && i >= faultClasses.length) break;
      await inject(faultClasses[i % faultClasses.length]);
      await sleep(o.activeMs);
    }

    // The end: the driver stops, and everything it wrote must be reflected.
    driver.paused = true;
    driver.stopped = true;
    await driverLoop;
    const endCheckAt = monotonicMs();
    const final = await converge();
    timeline.push({ t: endCheckAt, label: 'final check' });
    say(
      `final convergence: ${final.ok ? `${final.ms} ms` : `FAILED ${JSON.stringify(final.mismatches.slice(0, 10))}`}`,
    );
    // A few more memory samples of the settled replicas.
    await sleep(Math.min(o.memorySampleMs * 2, 10_000));
    const endedAt = monotonicMs();
    await replicas.stopAll();

    const inputs = {
      options: { ...o, progress: undefined },
      t0,
      wall0,
      endedAt,
      incarnations: replicas.incarnations.map(({ child: _c, ...i }) => i),
      faults,
      timeline,
      changes: { ...driver.counts, names: driver.apps.size, liveAtEnd: driver.live().length },
      final: { ...final, mismatches: final.mismatches.slice(0, 50) },
      faultClasses,
    };
    // With KUBELOOP_SOAK_KEEP, `node bench/soak/reanalyze.mjs <work folder> <out>` renders the report again.
    writeFileSync(join(workDir, 'inputs.json'), JSON.stringify(inputs));
    const report = analyze({ ...inputs, log: readFileSync(logFile, 'utf8') });
    if (o.outDir) {
      const { writeReport } = await import('./report.mjs');
      writeReport(o.outDir, report);
      say(`report written to ${o.outDir}`);
    }
    return report;
  } finally {
    if (driver) driver.stopped = true;
    if (replicas && !replicas.stopping) await replicas.stopAll().catch(() => {});
    await proxy?.close().catch(() => {});
    await env?.stop().catch(() => {});
    if (!process.env.KUBELOOP_SOAK_KEEP) await rm(workDir, { recursive: true, force: true });
    else progress(`[soak] kept ${workDir}`);
  }
}
