// S9 admission webhook (PERFORMANCE.md): a validating webhook called through the real API server. The harness
// generates a CA and a serving certificate for 127.0.0.1, runs one peer process (a manager whose webhook server
// validates ConfigMaps), points a ValidatingWebhookConfiguration at it (clientConfig.url https://127.0.0.1:<port>/
// validate-…, the CA as caBundle, a namespaceSelector for the namespace bench-s9 only), and a load generator makes
// server-side dry-run creates (dryRun=All: admission runs, etcd is not written) of ConfigMaps there at a fixed
// concurrency. Per-request latency p50/p99 and requests/s come from the load generator; the peer reports the time its
// webhook server spent per request (controller_runtime_webhook_latency_seconds, sum ÷ count, from its own registry)
// and its CPU. A baseline pseudo-peer, "none", runs the same load with no webhook configuration at all.
//
// Why ConfigMaps in a namespace of their own rather than a custom resource: with dry run both skip etcd, but a custom
// resource's create costs the API server more (the CRD handler's structural schema: pruning, defaulting, validation),
// which is work outside the webhook that would dilute the difference between webhook servers; a built-in kind keeps
// the API server's share small and the same for every peer, and the namespaceSelector keeps every other ConfigMap
// write in the cluster (the harness's own) away from the webhook.
//
// The peers' sides: bench/peers/node/s9.mjs (kubeloop's Manager + webhookFor) and bench/peers/go/s9.go
// (controller-runtime's Manager + NewWebhookManagedBy; the same binary is the load generator, "s9load").
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, lineProcess } from '../line-process.mjs';

export const id = 'S9';
export const peers = ['kl', 'go-json'];
/**
 * Pseudo-peers: "none" (no webhook at all: the baseline) and "go-h1" (the GO-JSON peer with HTTP/2 off, as
 * kubebuilder's scaffold serves it; Node's https server speaks HTTP/1.1 only, so this is the like-for-like protocol).
 */
const extraPeers = { 'go-h1': { peer: 'go-json', params: { http1: true } } };
/**
 * BENCH_S9_KL_BUILDS=lean=/tmp/a/sdk,h2=/tmp/b/sdk adds pseudo-peers kl-lean, kl-h2, …: kubeloop's peer run from
 * other builds of dist/sdk (patched copies), interleaved with the others, to measure a change to the webhook server
 * before making it.
 */
for (const entry of (process.env.BENCH_S9_KL_BUILDS ?? '').split(',').filter(Boolean)) {
  const [name, dir] = entry.split('=');
  extraPeers[`kl-${name}`] = { peer: 'kl', env: { BENCH_KL_DIST: dir } };
}

const namespace = 'bench-s9';
const webhookName = 's9.bench.kubeloop.dev';
const configName = 'bench-s9';
const maxPayload = 4096;
const VWC = {
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  kind: 'ValidatingWebhookConfiguration',
  plural: 'validatingwebhookconfigurations',
  namespaced: false,
};

/**
 * Cases: concurrency × requests. Each measured run is preceded by `warmup` requests at the same concurrency (the API
 * server opens its connections to the webhook, V8 compiles the hot path), outside the measured window.
 */
export function plan(full) {
  // BENCH_S9_CONCURRENCY=1,16 keeps only those cases (for A/B runs of patched builds).
  const only = process.env.BENCH_S9_CONCURRENCY?.split(',').map(Number);
  return planFor(full).filter((c) => !only || only.includes(c.concurrency));
}

function planFor(full) {
  return full
    ? [
        { concurrency: 1, requests: 3000, warmup: 500 },
        { concurrency: 16, requests: 10_000, warmup: 1000 },
        { concurrency: 64, requests: 10_000, warmup: 2000 },
      ]
    : [
        { concurrency: 1, requests: 2000, warmup: 300 },
        { concurrency: 16, requests: 5000, warmup: 1000 },
      ];
}

/**
 * TCP connections of the webhook's port, from `ss`: established ones (the API server's pool to the webhook) and those
 * in TIME_WAIT on either side (connections closed during the run: a pool too small for the concurrency, or a server
 * that closes). Undefined without `ss`.
 */
function connections(port) {
  const count = (args) => {
    try {
      return execFileSync('ss', ['-Htan', ...args], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean).length;
    } catch {
      return undefined;
    }
  };
  return {
    established: count(['state', 'established', `( sport = :${port} )`]),
    timeWait: count(['state', 'time-wait', `( sport = :${port} or dport = :${port} )`]),
  };
}

/** The kube-apiserver of this control plane, to read its CPU around each measured run. */
function apiserverPid(workDir) {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes(workDir) && cmdline.split('\0')[0].endsWith('kube-apiserver')) return Number(entry);
    } catch {
      // gone
    }
  }
  return undefined;
}

function webhookConfiguration(url, caBundle) {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: configName },
    webhooks: [
      {
        name: webhookName,
        clientConfig: { url, caBundle },
        rules: [
          {
            apiGroups: [''],
            apiVersions: ['v1'],
            operations: ['CREATE', 'UPDATE'],
            resources: ['configmaps'],
            scope: 'Namespaced',
          },
        ],
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
        failurePolicy: 'Fail',
        sideEffects: 'None', // required for dry-run requests to be sent to the webhook at all
        matchPolicy: 'Equivalent',
        admissionReviewVersions: ['v1'],
        timeoutSeconds: 10,
      },
    ],
  };
}

async function removeConfiguration(factory) {
  const { isNotFound } = await import('../../dist/sdk/client/index.js');
  await factory
    .resource(VWC)
    .delete(configName)
    .catch((e) => {
      if (!isNotFound(e)) throw e;
    });
}

/** One measured run of one peer (or of the baseline, "none") for one case. */
async function once(ctx, s, peer, c, rep) {
  const { factory, log } = ctx;
  const loadOf = async (n) => {
    s.load.send({ op: 'load', n, concurrency: c.concurrency });
    const r = await s.load.next(600_000);
    if (r.errors) throw new Error(`${r.errors} of ${n} requests failed: ${r.firstError}`);
    return r;
  };
  const probe = async (expect) => {
    s.load.send({ op: 'probe', expect, timeoutMs: 30_000 });
    const r = await s.load.next(60_000);
    if (!r.ok) throw new Error(`the probe was not ${expect} within 30 s (${r.tries} tries; last: ${r.last})`);
    return r;
  };
  if (peer === 'none') {
    await removeConfiguration(factory);
    const pr = await probe('allowed');
    await loadOf(c.warmup);
    const api0 = ctx.procCpuMs(s.apiPid);
    const r = await loadOf(c.requests);
    const api1 = ctx.procCpuMs(s.apiPid);
    return {
      ...r,
      probeMs: pr.ms,
      apiserverCpuMs: api1 - api0,
      apiserverCpuUsPerRequest: ((api1 - api0) * 1000) / c.requests,
    };
  }
  const port = await freePort();
  const params = { namespace, port, certDir: s.certDir, maxPayload, tag: `${c.concurrency}-${rep}` };
  const extra = extraPeers[peer];
  const command = ctx.peerCommand(extra?.peer ?? peer, 's9', ctx.connFile, { ...params, ...extra?.params });
  const { cmd, argv } = command;
  const env = { ...command.env, ...extra?.env };
  const t0 = performance.now();
  const p = lineProcess(cmd, argv, env, `${peer} s9`);
  try {
    const ready = await p.next(60_000);
    if (!ready.ready) throw new Error(`expected ready, got ${JSON.stringify(ready)}`);
    const spawnToReadyMs = performance.now() - t0;
    const url = `https://127.0.0.1:${port}${ready.path}`;
    await removeConfiguration(factory);
    await factory.resource(VWC).create(webhookConfiguration(url, s.caBundle));
    const pr = await probe('denied');
    await loadOf(c.warmup);
    p.send('go');
    const started = await p.next(10_000);
    if (!started.started) throw new Error(`expected started, got ${JSON.stringify(started)}`);
    const cpu0 = ctx.procCpuMs(p.child.pid);
    const api0 = ctx.procCpuMs(s.apiPid);
    const r = await loadOf(c.requests);
    const api1 = ctx.procCpuMs(s.apiPid);
    const cpu1 = ctx.procCpuMs(p.child.pid);
    const conns = connections(port);
    p.send('stop');
    const result = await p.next(30_000);
    const mem = ctx.procMemMB(p.child.pid);
    if (result.handled !== c.requests)
      log(`  ${peer}: the webhook counted ${result.handled} requests of ${c.requests}`);
    return {
      ...r,
      ...result,
      ...mem,
      url,
      connections: conns,
      spawnToReadyMs,
      probeMs: pr.ms,
      procCpuMs: cpu1 - cpu0,
      apiserverCpuMs: api1 - api0,
      apiserverCpuUsPerRequest: ((api1 - api0) * 1000) / c.requests,
    };
  } finally {
    await p.end();
  }
}

export async function run(ctx) {
  const { factory, log } = ctx;
  const { createCertificateAuthority } = await import('../../dist/sdk/webhook/index.js');
  await ctx.seed(factory, 'configmaps', namespace, 0); // the namespace (labelled kubernetes.io/metadata.name by the API server)
  const certDir = mkdtempSync(join(tmpdir(), 'kubeloop-bench-s9-'));
  const ca = await createCertificateAuthority('kubeloop-bench-s9-ca');
  const leaf = await ca.sign({
    commonName: '127.0.0.1',
    usage: 'server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  writeFileSync(join(certDir, 'tls.crt'), leaf.certPem, { mode: 0o600 });
  writeFileSync(join(certDir, 'tls.key'), leaf.keyPem, { mode: 0o600 });
  const apiPid = apiserverPid(ctx.env.workDir);
  if (!apiPid) throw new Error('S9: the kube-apiserver process of this control plane was not found');

  const { kubeconfigPath } = JSON.parse(readFileSync(ctx.connFile, 'utf8'));
  const { cmd, argv } = ctx.serverCommand(ctx.goBinary(), [
    's9load',
    JSON.stringify({ kubeconfig: kubeconfigPath, namespace }),
  ]);
  const load = lineProcess(cmd, argv, process.env, 'the S9 load generator');
  const s = { certDir, caBundle: Buffer.from(ca.certPem).toString('base64'), apiPid, load };
  try {
    const ready = await load.next(30_000);
    if (!ready.ready) throw new Error(`the load generator: expected ready, got ${JSON.stringify(ready)}`);
    const order = ['none', ...ctx.peerNames.filter((p) => peers.includes(p))];
    if (order.includes('go-json')) order.push('go-h1');
    if (order.includes('kl')) order.push(...Object.keys(extraPeers).filter((p) => p.startsWith('kl-')));
    for (const c of ctx.plan) {
      log(
        `S9 admission webhook: ${c.requests} dry-run creates, ${c.concurrency} at a time (after ${c.warmup} to warm up), ${ctx.reps} repetitions`,
      );
      const out = { ...c, runs: Object.fromEntries(order.map((p) => [p, []])), errors: [] };
      ctx.cases.push(out);
      for (let i = 0; i < ctx.reps; i++) {
        for (const p of i % 2 ? order.toReversed() : order) {
          try {
            const r = await once(ctx, s, p, c, i);
            out.runs[p].push(r);
            const handler = Number.isFinite(r.handlerMeanUs)
              ? `; handler ${r.handlerMeanUs.toFixed(0)} µs, CPU ${r.cpuUsPerRequest.toFixed(0)} µs/request`
              : '';
            log(
              `  ${p} #${i}: p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ${r.reqPerSec.toFixed(0)}/s${handler}`,
            );
          } catch (e) {
            out.errors.push(`${p} #${i}: ${e.message}`);
            log(`  ${p} #${i}: ${e.message}`);
          }
          ctx.save();
        }
      }
    }
  } finally {
    await removeConfiguration(factory).catch(() => undefined);
    await load.end();
    rmSync(certDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// report

const median = (xs) => {
  const s = xs.filter(Number.isFinite).toSorted((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const baseP50 = (c) => median((c.runs?.none ?? []).map((r) => r.p50Ms));
const caseTitle = (c) =>
  `${c.requests.toLocaleString('en')} dry-run creates, ${c.concurrency === 1 ? 'sequential' : `${c.concurrency} concurrent`}`;

export const report = {
  name: 'S9 admission webhook',
  labels: { none: 'no webhook (baseline)', 'go-h1': 'GO-JSON with HTTP/2 off (HTTP/1.1)' },
  short: { none: 'no webhook', 'go-h1': 'GO HTTP/1.1' },
  metrics: [
    { key: 'p50', head: 'p50 (ms)', get: (r) => r.p50Ms },
    { key: 'p99', head: 'p99 (ms)', get: (r) => r.p99Ms },
    { key: 'rps', head: 'req/s', get: (r) => r.reqPerSec, higher: true },
    { key: 'added', head: 'p50 added over no webhook (ms)', get: (r, c) => r.p50Ms - baseP50(c), noRatio: true },
    { key: 'handler', head: 'webhook server time/request, mean (µs)', get: (r) => r.handlerMeanUs ?? NaN },
    { key: 'cpuReq', head: 'webhook process CPU/request (µs)', get: (r) => r.cpuUsPerRequest ?? NaN },
    { key: 'apiCpu', head: 'API server CPU/request (µs)', get: (r) => r.apiserverCpuUsPerRequest },
  ],
  caseTitle,
  headline: ['p50', 'rps', 'handler', 'cpuReq'],
  differences: [
    "Workload, the same for both peers: a validating webhook for ConfigMaps that requires `data.payload` and bounds its length (4096 bytes), denying with a 422 Invalid and a field cause, allowing every measured object. Installed as a ValidatingWebhookConfiguration with `clientConfig.url: https://127.0.0.1:<port>/validate-…` (the peer's own path), the harness's CA as `caBundle` (ECDSA P-256, a serving certificate for IP 127.0.0.1 written to a temporary certDir the peer serves from), rules CREATE/UPDATE of v1 configmaps, a namespaceSelector for `bench-s9` only, failurePolicy Fail, sideEffects None (without it dry-run requests are refused), timeoutSeconds 10. Each peer run gets a fresh port and the configuration is re-created; the load generator waits until a ConfigMap without `data.payload` is denied (the webhook is in effect) before the warm-up.",
    'Load: a Go load generator (client-go clientset, JSON, one HTTP/2 connection, QPS −1; the same for every peer) pinned with the control plane, makes dry-run creates (`dryRun=All`: the API server runs admission, webhooks included, and writes nothing to etcd) of a ConfigMap with two labels and 1000 bytes of `data.payload`, N requests with C workers; latency = the create call\'s time in the load generator, so it includes the API server\'s whole request path and the webhook call. Warm-up requests at the same concurrency come first, outside the window. The baseline, "no webhook", runs the same load with no ValidatingWebhookConfiguration at all.',
    'KL: `createManager({ webhook: { host: "127.0.0.1", port, certDir } })` with metrics and probes servers off, `webhookFor(mgr).for(ConfigMap).withValidator({ validateCreate, validateUpdate, validateDelete })` (the validator throws `new ValidationError([fieldError("data.payload", "Required value")])`), served at `/validate-core-v1-configmap`; Node\'s `https` server, HTTP/1.1 only (no ALPN), so the API server calls it over a pool of keep-alive connections, one per request in flight; pino at warn; `NODE_ENV=production`.',
    'GO-JSON: controller-runtime v0.25.2 `ctrl.NewManager` with `WebhookServer: webhook.NewServer(webhook.Options{Host: "127.0.0.1", Port, CertDir})`, metrics and probes off, and `ctrl.NewWebhookManagedBy(mgr, &corev1.ConfigMap{}).WithValidator(v)` (a typed `admission.Validator[*corev1.ConfigMap]` returning `apierrors.NewInvalid` with `field.Required`), served at `/validate--v1-configmap`. controller-runtime\'s server offers HTTP/2 by ALPN (its default), so the API server multiplexes every call on one connection. zap at info. "GO-JSON with HTTP/2 off" is the same peer with `TLSOpts` setting `NextProtos` to `http/1.1`, as kubebuilder\'s scaffold does by default (`--enable-http2=false`): the same protocol as kubeloop\'s, so the gap between the two GO rows is what HTTP/2 is worth here. The targets compare KL with GO-JSON, controller-runtime\'s default.',
    "Connections (notes under each table, from `ss` at the end of the load): over HTTP/1.1 the API server opens one connection per call in flight and keeps up to 25 idle per host (client-go's transport default); none were closed during the runs measured here.",
    "Webhook server time/request = Δsum ÷ Δcount of the peer's own `controller_runtime_webhook_latency_seconds` over the measured window (both servers observe it around the whole request: body read, decode, validate, encode, write; Go's from its `promhttp` instrumentation, kubeloop's from the request handler's start to the end of `res.end()`); its buckets are too coarse for percentiles, so the mean. Webhook process CPU/request = the peer's own rusage over the window ÷ requests it counted. API server CPU/request is read from /proc for the control plane's kube-apiserver over the window (it includes its webhook client: TLS, HTTP/1.1 vs HTTP/2, encoding the AdmissionReview).",
    "The API server, etcd and the load generator share one CPU (the control plane's) and the webhook process has the other: at 16 and more in flight the API server's CPU is what bounds requests/s for every peer, so requests/s mostly says how much CPU the API server spends per call to each webhook (its own column); the sequential case is where the webhook's latency shows. On this shared machine (other agents' control planes run on the same two CPUs) the spread between repetitions is large: read the medians with their min–max.",
    "`BENCH_S9_KL_BUILDS=name=/path/to/sdk,…` adds pseudo-peers `kl-<name>` (kubeloop's peer from another build of dist/sdk, interleaved with the others): how a change to the webhook server was measured before it was made (results/ANALYSIS.md).",
  ],
  notes(c) {
    const lines = [];
    const handled = Object.entries(c.runs)
      .filter(([p]) => p !== 'none')
      .map(([p, rs]) => `${p} ${rs.map((r) => r.handled).join('/')}`);
    if (handled.length)
      lines.push(
        `Requests counted by the webhook per run (of ${c.requests}): ${handled.join('; ')}. Warm-up: ${c.warmup} requests per run.`,
      );
    const conns = Object.entries(c.runs)
      .filter(([p, rs]) => p !== 'none' && rs.some((r) => r.connections))
      .map(
        ([p, rs]) =>
          `${p} ${rs.map((r) => `${r.connections.established ?? '?'}/${r.connections.timeWait ?? '?'}`).join(', ')}`,
      );
    if (conns.length)
      lines.push(
        `Connections to the webhook at the end of each run, established/closed during the run (TIME_WAIT, warm-up included): ${conns.join('; ')}.`,
      );
    return lines;
  },
  targets(list, line) {
    const f = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
    for (const { c, s } of list) {
      if (!s.kl || !s['go-json']) continue;
      const tag = c.concurrency === 1 ? 'sequential' : `${c.concurrency} concurrent`;
      const d = s.kl.p50.median - s['go-json'].p50.median;
      line(
        `${tag}: p50 ≤ controller-runtime + 0.5 ms`,
        d <= 0.5,
        `${d >= 0 ? '+' : ''}${f(d)} ms (${f(s.kl.p50.median)} vs ${f(s['go-json'].p50.median)} ms)`,
      );
      const r = s.kl.rps.median / s['go-json'].rps.median;
      line(
        `${tag}: requests/s ≥ 0.8× controller-runtime`,
        r >= 0.8,
        `${f(r)}× (${f(s.kl.rps.median, 0)} vs ${f(s['go-json'].rps.median, 0)}/s)`,
      );
    }
  },
  charts(list, { barChart, panels }) {
    return {
      's9-p50.svg': barChart(
        'S9 admission webhook: dry-run create p50 through the API server (median, min–max)',
        'ms',
        panels('p50'),
      ),
      's9-rps.svg': barChart(
        'S9 admission webhook: dry-run creates/s (median, min–max; higher is better)',
        '/s',
        panels('rps'),
      ),
      's9-handler.svg': barChart(
        'S9 admission webhook: webhook server time per request, mean (median, min–max)',
        'µs',
        panels('handler').map((panel) => ({ ...panel, bars: panel.bars.filter((b) => b.peer !== 'none') })),
      ),
    };
  },
};
