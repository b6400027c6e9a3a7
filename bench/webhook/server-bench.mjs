// The webhook servers of S9 alone, without the API server: a Go client (bench/peers/go, "s9direct": Go's HTTP
// transport, as the API server's webhook client uses it) POSTs the AdmissionReview the API server sends for S9's
// dry-run ConfigMap create straight to one server process, n requests `concurrency` at a time, after a warm-up.
// The client offers HTTP/2 and HTTP/1.1 by ALPN, as the API server does; the server picks. Per-request latency (client side), requests/s and the server's CPU per request (/proc), for kubeloop's server and
// variants that each take one thing away (to price it), Node's bare https server, and controller-runtime's server
// over HTTP/2 (its default) and HTTP/1.1 (kubebuilder's scaffold):
//
//   node bench/webhook/server-bench.mjs [--n=5000] [--concurrency=1,16] [--reps=3] [--variants=kl,go-h2,…]
//                                       [--gap-us=0] [--kl-module=/path/to/webhook/index.js] [--no-pin] [--cpu-prof=<dir>]
//                                       [--kl-builds=lean=/tmp/a/sdk/webhook/index.js,…]
//
// --kl-module loads kubeloop's webhook module from elsewhere for the kl* variants (a patched copy, to measure a
// change before making it); --kl-builds adds variants kl@<name>: the kl variant with that module, interleaved with
// the others. --gap-us makes each client worker pause between requests, as the API server's own work
// does between the webhook calls of one client (the server goes idle in between). --cpu-prof writes V8 CPU profiles of the Node servers there (whole process, warm-up
// included; bench/profile-summary.mjs reads them). The server runs on the last CPU, the client on CPU 0 (taskset). Prints a markdown table.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { review } from './review.mjs';
import { freePort, lineProcess } from '../line-process.mjs';

/** A peer process with extra environment variables, named after its program in error messages. */
const lineProcessWith = (cmd, args, env = {}) => lineProcess(cmd, args, { ...process.env, ...env }, basename(cmd));

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const { values: opts } = parseArgs({
  options: {
    n: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '1,16' },
    reps: { type: 'string', default: '3' },
    variants: { type: 'string', default: 'kl,kl-silent,kl-nometrics,kl-noclone,kl-bare,node-floor,go-h2,go-h1' },
    warmup: { type: 'string', default: '1000' },
    'gap-us': { type: 'string', default: '0' },
    'kl-module': { type: 'string' },
    'kl-builds': { type: 'string', default: '' },
    'no-pin': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
  },
});
const n = Number(opts.n);
const warmup = Number(opts.warmup);
const reps = Number(opts.reps);
const levels = opts.concurrency.split(',').map(Number);
const builds = Object.fromEntries(
  opts['kl-builds']
    .split(',')
    .filter(Boolean)
    .map((x) => x.split('=')),
);
const variantNames = [...opts.variants.split(','), ...Object.keys(builds).map((b) => `kl@${b}`)];

const sh = (cmd, args) => {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
};
const pin = !opts['no-pin'] && cpus().length >= 2 && sh('taskset', ['-V']) !== undefined;
const pinned = (cpu, cmd, args) => (pin ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args]);
const serverCpu = cpus().length - 1;
const clockTicks = Number(sh('getconf', ['CLK_TCK']) ?? 100);
function procCpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks;
}

const median = (xs) => {
  const s = xs.filter(Number.isFinite).toSorted((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  const goBin = execFileSync('bash', [join(root, 'bench/peers/go/build.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
  const { createCertificateAuthority } = await import(join(root, 'dist/sdk/webhook/index.js'));
  const dir = mkdtempSync(join(tmpdir(), 'kubeloop-webhook-bench-'));
  const ca = await createCertificateAuthority('kubeloop-webhook-bench-ca');
  const leaf = await ca.sign({ commonName: '127.0.0.1', usage: 'server', ipAddresses: ['127.0.0.1'] });
  writeFileSync(join(dir, 'tls.crt'), leaf.certPem);
  writeFileSync(join(dir, 'tls.key'), leaf.keyPem);
  writeFileSync(join(dir, 'ca.crt'), ca.certPem);
  const bodyFile = join(dir, 'review.json');
  writeFileSync(bodyFile, JSON.stringify(review()));
  const client = lineProcessWith(...pinned(0, goBin, ['s9direct', '{}']));
  await client.next();
  const results = {};
  try {
    for (const c of levels) {
      for (let rep = 0; rep < reps; rep++) {
        for (const variant of rep % 2 ? variantNames.toReversed() : variantNames) {
          const port = await freePort();
          const go = variant.startsWith('go-');
          const http1 = variant === 'go-h1';
          const [cmd, args] = go
            ? pinned(serverCpu, goBin, ['s9serve', JSON.stringify({ port, certDir: dir, maxPayload: 4096, http1 })])
            : pinned(serverCpu, process.execPath, [
                ...(opts['cpu-prof']
                  ? [
                      '--cpu-prof',
                      `--cpu-prof-dir=${opts['cpu-prof']}`,
                      `--cpu-prof-name=${variant}-c${c}-${rep}.cpuprofile`,
                    ]
                  : []),
                join(root, 'bench/webhook/server-variant.mjs'),
                variant.split('@')[0],
                String(port),
                dir,
                ...[builds[variant.split('@')[1]] ?? opts['kl-module']].filter(Boolean),
              ]);
          const server = lineProcessWith(cmd, args, { NODE_ENV: 'production' });
          const ready = await server.next();
          if (!ready.ready) throw new Error(`${variant}: ${JSON.stringify(ready)}`);
          const url = `https://127.0.0.1:${port}${ready.path}`;
          const post = async (count) => {
            client.send({
              url,
              body: bodyFile,
              ca: join(dir, 'ca.crt'),
              n: count,
              concurrency: c,
              gapUs: Number(opts['gap-us']),
            });
            const r = await client.next();
            if (r.errors) throw new Error(`${variant}: ${r.errors} errors: ${r.firstError}`);
            return r;
          };
          await post(warmup);
          const stats0 = go ? {} : (server.send('stats'), await server.next());
          const cpu0 = procCpuMs(server.child.pid);
          const r = await post(n);
          const cpu1 = procCpuMs(server.child.pid);
          const stats1 = go ? {} : (server.send('stats'), await server.next());
          await server.end();
          const handled = stats1.count - stats0.count;
          const row = {
            ...r,
            cpuUsPerRequest: ((cpu1 - cpu0) * 1000) / n,
            selfCpuUsPerRequest: go ? NaN : ((stats1.cpuMs - stats0.cpuMs) * 1000) / n,
            handlerMeanUs: handled > 0 ? ((stats1.sum - stats0.sum) * 1e6) / handled : NaN,
          };
          ((results[c] ??= {})[variant] ??= []).push(row);
          process.stderr.write(
            `c=${c} ${variant} #${rep}: p50 ${r.p50Ms.toFixed(3)} ms, p99 ${r.p99Ms.toFixed(3)} ms, ${r.reqPerSec.toFixed(0)}/s, CPU ${row.selfCpuUsPerRequest.toFixed(0)} µs/req (${r.proto})\n`,
          );
        }
      }
    }
  } finally {
    await client.end();
    rmSync(dir, { recursive: true, force: true });
  }
  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const out = [
    `Webhook servers alone: ${n} POSTs of S9's AdmissionReview (${JSON.stringify(review()).length} bytes) per run after ${warmup} to warm up${Number(opts['gap-us']) ? `, each client worker pausing ${opts['gap-us']} µs between requests` : ''}, ${reps} runs each, medians; ${pin ? `server on CPU ${serverCpu}, client on CPU 0` : 'not pinned'}.`,
    '',
    '| concurrency | server | protocol | p50 (µs) | p99 (µs) | req/s | server CPU/request, rusage (µs) | server CPU/request, /proc (µs) | server time/request, histogram mean (µs) |',
    '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const [c, byVariant] of Object.entries(results)) {
    for (const [variant, rs] of Object.entries(byVariant)) {
      const m = (k) => median(rs.map((r) => r[k]));
      out.push(
        `| ${c} | ${variant} | ${rs[0].proto} | ${f(m('p50Ms') * 1000, 0)} | ${f(m('p99Ms') * 1000, 0)} | ${f(m('reqPerSec'), 0)} | ${f(m('selfCpuUsPerRequest'), 0)} | ${f(m('cpuUsPerRequest'), 0)} | ${f(m('handlerMeanUs'), 0)} |`,
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
