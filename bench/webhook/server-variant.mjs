// One webhook server for bench/webhook/server-bench.mjs (see there), serving S9's ConfigMap validator at
// /validate-core-v1-configmap on 127.0.0.1:<port> with the certificate in <certDir>:
//
//   node bench/webhook/server-variant.mjs <variant> <port> <certDir> [<kubeloop webhook module>]
//
// Prints {"ready":true,"path":…} once listening, then on each line "stats" prints its webhook latency histogram
// (sum, count) when it has one; exits when stdin closes.
import { createServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '../../..');
const [variant, portArg, certDir, moduleArg] = process.argv.slice(2);
const port = Number(portArg);
const maxPayload = 4096;
const path = '/validate-core-v1-configmap';
const emit = (v) => process.stdout.write(`${JSON.stringify(v)}\n`);

/**
 * The variants. `kl` is what a manager serves (`createManager({ webhook })` + `webhookFor(mgr).withValidator(v)`):
 * the server with the manager's registry and a pino child logger at warn, the validator through
 * `validatingHandler`. The others take one thing away each, to price it.
 */
const variants = {
  kl: { registry: true, log: true, handler: 'validator' },
  'kl-silent': { registry: true, log: false, handler: 'validator' },
  'kl-nometrics': { registry: false, log: true, handler: 'validator' },
  'kl-noclone': { registry: true, log: true, handler: 'raw' },
  'kl-bare': { registry: false, log: false, handler: 'raw' },
  'node-floor': { floor: true },
};
const v = variants[variant];
if (!v) throw new Error(`unknown variant ${variant}; one of ${Object.keys(variants).join(', ')}`);

const check = (cm, fail) => {
  const payload = cm?.data?.payload;
  if (!payload) return fail('data.payload', 'Required value');
  if (payload.length > maxPayload) return fail('data.payload', `may not be more than ${maxPayload} bytes`);
  return undefined;
};

let stats = async () => ({});
if (v.floor) {
  // Node's https server with the least a webhook can do: read the body, JSON.parse, check, answer.
  const server = createServer(
    { cert: readFileSync(join(certDir, 'tls.crt')), key: readFileSync(join(certDir, 'tls.key')) },
    (req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const review = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const denied = check(review.request.object, (field, message) => ({ field, message }));
        const body = JSON.stringify({
          apiVersion: review.apiVersion,
          kind: 'AdmissionReview',
          response: {
            uid: review.request.uid,
            allowed: !denied,
            ...(denied && { status: { code: 422, message: denied.message } }),
          },
        });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
    },
  );
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
} else {
  const webhookModule = moduleArg ? resolve(moduleArg) : join(root, 'dist/sdk/webhook/index.js');
  const { createWebhookServer, validatingHandler, allowed, ValidationError, fieldError } = await import(webhookModule);
  const { Registry } = await import('prom-client');
  const { default: pino } = await import('pino');
  const registry = v.registry ? new Registry() : undefined;
  const log = v.log ? pino({ level: 'warn' }, process.stderr).child({ component: 'webhook' }) : undefined;
  const server = createWebhookServer({
    port,
    host: '127.0.0.1',
    certDir,
    ...(registry && { registry }),
    ...(log && { log }),
  });
  const fail = (field, message) => {
    throw new ValidationError([fieldError(field, message)]);
  };
  const validator = {
    validateCreate: (cm) => (check(cm, fail), []),
    validateUpdate: (_old, cm) => (check(cm, fail), []),
    validateDelete: () => [],
  };
  // The raw handler does what validatingHandler does for a CREATE, without copying the object first.
  const raw = (request) => (check(request.object, fail), allowed());
  server.register(path, v.handler === 'raw' ? raw : validatingHandler(validator), { timeoutMs: 9000 });
  void server.start(new AbortController().signal);
  await server.listening();
  if (registry) {
    stats = async () => {
      let sum = 0;
      let count = 0;
      for (const x of (await registry.getSingleMetric('controller_runtime_webhook_latency_seconds').get()).values) {
        if (x.metricName.endsWith('_sum')) sum += x.value;
        else if (x.metricName.endsWith('_count')) count += x.value;
      }
      return { sum, count };
    };
  }
}
emit({ ready: true, path });
const input = createInterface({ input: process.stdin });
input.on('line', async (line) => {
  if (line.trim() === 'stats')
    emit({ ...(await stats()), cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000 });
});
input.on('close', () => process.exit(0));
