// S9 admission webhook, kubeloop's side (bench/scenarios/s9.mjs has the harness's; bench/peers/go/s9.go the Go
// peer's, which does the same thing step by step). A Manager whose webhook server (127.0.0.1:<port>, the harness's
// certificate in <certDir>) serves a validator for ConfigMaps built by webhookFor(mgr).for(ConfigMap).withValidator:
// data.payload is required and at most p.maxPayload bytes long. The harness decides when the measured phase starts
// and ends (it drives the load through the API server):
//
//   {"ready":true,"path":…}  the webhook server listens; the path the validator is served at
//   ← go                     the measured phase starts: CPU and the webhook latency histogram are snapshot
//   {"started":true}
//   ← stop                   the load is over: snapshot again, print the result, wait for stdin to close
import { cpuMs, dist, emit, finish, line, p, quietManagerOptions, ready } from './protocol.mjs';

/** Sum and count of controller_runtime_webhook_latency_seconds over every webhook of the registry. */
async function webhookLatency(registry) {
  const h = registry.getSingleMetric('controller_runtime_webhook_latency_seconds');
  let sum = 0;
  let count = 0;
  for (const v of (await h?.get())?.values ?? []) {
    if (v.metricName?.endsWith('_sum')) sum += v.value;
    else if (v.metricName?.endsWith('_count')) count += v.value;
  }
  return { sum, count };
}

export async function run(peer) {
  if (peer !== 'kl') throw new Error(`s9 has no ${peer} peer`);
  const { createManager } = await import(dist('manager/index.js'));
  const { webhookFor, ValidationError, fieldError, validatingPath } = await import(dist('webhook/index.js'));
  const { ConfigMap } = await import(dist('client/index.js'));

  const mgr = await createManager({
    ...(await quietManagerOptions()),
    webhook: { port: p.port, host: '127.0.0.1', certDir: p.certDir },
  });
  const check = (cm) => {
    const payload = cm.data?.payload;
    if (!payload) throw new ValidationError([fieldError('data.payload', 'Required value')]);
    if (payload.length > p.maxPayload) {
      throw new ValidationError([
        fieldError('data.payload', `may not be more than ${p.maxPayload} bytes`, { type: 'FieldValueTooLong' }),
      ]);
    }
  };
  webhookFor(mgr)
    .for(ConfigMap)
    .withValidator({
      validateCreate(cm) {
        check(cm);
        return [];
      },
      validateUpdate(_old, cm) {
        check(cm);
        return [];
      },
      validateDelete() {
        return [];
      },
    })
    .complete();

  const running = mgr.start(new AbortController().signal);
  await mgr.webhookServer.listening();
  await ready({ path: validatingPath(ConfigMap) });
  const before = await webhookLatency(mgr.metrics.registry);
  const cpu0 = cpuMs();
  emit({ started: true });
  await line('stop');
  const cpu = cpuMs() - cpu0;
  const after = await webhookLatency(mgr.metrics.registry);
  const n = after.count - before.count;
  const result = {
    cpuMs: cpu,
    handled: n,
    handlerSumMs: (after.sum - before.sum) * 1000,
    ...(n > 0 && { handlerMeanUs: ((after.sum - before.sum) * 1e6) / n, cpuUsPerRequest: (cpu * 1000) / n }),
  };
  // finish() ends the process (the manager with it) once the harness closes stdin; stopping the manager first would
  // put its shutdown into the CPU profile of the measured phase (--cpu-prof).
  void running;
  await finish(result);
}
