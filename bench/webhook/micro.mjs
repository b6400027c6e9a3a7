// In-process costs of the steps kubeloop's webhook server takes per request (sdk/webhook/server.ts, admission.ts),
// each against a cheaper way to do the same thing, on S9's AdmissionReview: no network, no TLS, so the figures are
// steadier than bench/webhook/server-bench.mjs's on a shared machine. Prints ns per operation (median of 7 rounds).
//
//   NODE_ENV=production node bench/webhook/micro.mjs
import { Readable } from 'node:stream';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { review as sampleReview } from './review.mjs';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const { default: pino } = await import('pino');
const { Histogram, Counter, Gauge, Registry } = await import('prom-client');
await import(join(root, 'dist/sdk/webhook/index.js'));

const review = sampleReview('2026-01-01T00:00:00Z');
const body = Buffer.from(JSON.stringify(review));
const object = review.request.object;

/** ns per call of fn (sync or async), median of 7 rounds of n calls. */
async function time(n, fn) {
  const rounds = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      const x = fn(i);
      if (x && typeof x.then === 'function') await x;
    }
    rounds.push(Number(process.hrtime.bigint() - t0) / n);
  }
  return rounds.toSorted((a, b) => a - b)[3];
}

const log = pino({ level: 'warn' }, process.stderr).child({ component: 'webhook' });
const registry = new Registry();
const latency = new Histogram({
  name: 'controller_runtime_webhook_latency_seconds',
  help: 'h',
  labelNames: ['webhook'],
  registers: [registry],
});
const total = new Counter({
  name: 'controller_runtime_webhook_requests_total',
  help: 'h',
  labelNames: ['webhook', 'code'],
  registers: [registry],
});
const inFlight = new Gauge({
  name: 'controller_runtime_webhook_requests_in_flight',
  help: 'h',
  labelNames: ['webhook'],
  registers: [registry],
});
const path = '/validate-core-v1-configmap';
const children = { latency: latency.labels(path), total: total.labels(path, '200'), inFlight: inFlight.labels(path) };
const handler = async () => ({ allowed: true });
/** A request body as the HTTP parser hands it over: a readable with the whole body pushed in one chunk, then ended. */
function oneChunk() {
  const r = new Readable({ read() {} });
  r.push(body);
  r.push(null);
  return r;
}

const cases = [
  ['copy the object: structuredClone (admission.ts validatingHandler)', 20_000, () => structuredClone(object)],
  ['copy the object: JSON.parse(JSON.stringify())', 20_000, () => JSON.parse(JSON.stringify(object))],
  ['parse the body: JSON.parse(body.toString())', 20_000, () => JSON.parse(body.toString('utf8'))],
  [
    'per-request logger: pino child with 6 bindings (admit)',
    100_000,
    (i) =>
      log.child({
        webhook: path,
        uid: `u${i}`,
        kind: 'ConfigMap',
        namespace: 'bench-s9',
        name: 's9-1',
        operation: 'CREATE',
      }),
  ],
  [
    'metrics: inc + dec + inc + observe with label objects (handle)',
    100_000,
    () => {
      inFlight.inc({ webhook: path });
      inFlight.dec({ webhook: path });
      total.inc({ webhook: path, code: '200' });
      latency.observe({ webhook: path }, 0.0002);
    },
  ],
  [
    'metrics: the same on children made once per path',
    100_000,
    () => {
      children.inFlight.inc();
      children.inFlight.dec();
      children.total.inc();
      children.latency.observe(0.0002);
    },
  ],
  [
    'path: new URL(req.url, base).pathname (handle)',
    100_000,
    () => new URL(`${path}?timeout=10s`, 'https://webhook').pathname,
  ],
  [
    'path: split at "?"',
    100_000,
    () => {
      const u = `${path}?timeout=10s`;
      const q = u.indexOf('?');
      return q < 0 ? u : u.slice(0, q);
    },
  ],
  [
    'signals: 2 AbortControllers + listener add/remove + res close listener (handle, admit)',
    100_000,
    () => {
      const gone = new AbortController();
      const c = new AbortController();
      const onGone = () => c.abort(gone.signal.reason);
      gone.signal.addEventListener('abort', onGone, { once: true });
      gone.signal.removeEventListener('abort', onGone);
      return c.signal;
    },
  ],
  ['signals: 1 AbortController', 100_000, () => new AbortController().signal],
  [
    'handler call: Promise.race with a setTimeout promise + clearTimeout (admit)',
    50_000,
    async () => {
      let timer;
      const timeout = new Promise((r) => {
        timer = setTimeout(() => r('timeout'), 9000);
      });
      const answer = await Promise.race([Promise.resolve().then(() => handler()), timeout]);
      clearTimeout(timer);
      return answer;
    },
  ],
  [
    'handler call: await the handler, setTimeout + clearTimeout',
    50_000,
    async () => {
      const timer = setTimeout(() => undefined, 9000);
      const answer = await handler();
      clearTimeout(timer);
      return answer;
    },
  ],
  [
    'body: for await over a stream of one chunk (readBody)',
    50_000,
    async () => {
      const chunks = [];
      for await (const chunk of oneChunk()) chunks.push(chunk);
      return Buffer.concat(chunks);
    },
  ],
  [
    'body: data/end events over a stream of one chunk',
    50_000,
    () =>
      new Promise((resolvePromise) => {
        const chunks = [];
        const r = oneChunk();
        r.on('data', (c) => chunks.push(c));
        r.once('end', () => resolvePromise(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
      }),
  ],
  ['body: the stream alone (made, one chunk pushed, ended)', 50_000, () => oneChunk()],
];
for (const [name, n, fn] of cases) await time(Math.min(n, 2000), fn); // warm-up
const rows = ['| step | ns per request |', '| --- | ---: |'];
for (const [name, n, fn] of cases) rows.push(`| ${name} | ${(await time(n, fn)).toFixed(0)} |`);
process.stdout.write(`S9's AdmissionReview is ${body.length} bytes; Node ${process.version}.\n\n${rows.join('\n')}\n`);
