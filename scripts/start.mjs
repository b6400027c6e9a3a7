// `npm start`: the WebApp sample operator, end to end.
// With no kubeconfig given (`npm start -- --kubeconfig FILE`, or $KUBECONFIG), it starts etcd + kube-apiserver v1.37.2
// on 127.0.0.1 first, with the WebApp CRD and webhook configurations pointed at the operator's local webhook server.
// It runs the operator (a kubeloop Manager with the WebApp reconciler, and on a local control plane its defaulting,
// validating and conversion webhooks), creates a WebApp and shows what the operator made of it. Then it keeps running,
// so you can use kubectl against it, until Ctrl-C.
import 'reflect-metadata';
import { pino } from 'pino';
import { createClientset, createDynamicClient, loadClientConfig } from '../dist/sdk/client/index.js';
import { startControlPlane } from '../dist/sdk/envtest/index.js';
import { createManager } from '../dist/sdk/manager/index.js';
import { WebApp, webAppCrd } from '../dist/samples/webapp/webapp.js';
import { WebAppReconciler } from '../dist/samples/webapp/webapp-reconciler.js';
import { WebAppWebhook, webAppConversion, webAppWebhookConfigurations } from '../dist/samples/webapp/webapp-webhook.js';

const say = (text) => process.stdout.write(`${text}\n`);
const flag = process.argv.indexOf('--kubeconfig');
const kubeconfig = flag >= 0 ? process.argv[flag + 1] : process.env.KUBECONFIG;
// A given cluster is used as it is; otherwise a local control plane is started (and stopped on exit), with the CRD
// and the webhook configurations installed against this process's webhook server.
const env = kubeconfig
  ? undefined
  : await startControlPlane({
      kubernetesVersion: '1.37.2',
      crds: { objects: [webAppCrd] },
      webhooks: { configurations: webAppWebhookConfigurations() },
    });
const config = env ? env.config : (await loadClientConfig({ kubeconfig })).config;
const stop = new AbortController();
let running;
const shutdown = async () => {
  say('\nstopping the operator and the control plane');
  stop.abort();
  await running?.catch(() => undefined);
  await env?.stop();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());

if (!env) {
  // A cluster of its own cannot call back into this process: the CRD goes in without its conversion webhook (the
  // API server then only rewrites apiVersion between v1alpha1 and v1), and the admission webhooks are not installed.
  const crds = createDynamicClient(config).resource({
    group: 'apiextensions.k8s.io',
    version: 'v1',
    resource: 'customresourcedefinitions',
  });
  await crds.create({ ...webAppCrd, spec: { ...webAppCrd.spec, conversion: { strategy: 'None' } } }).catch((err) => {
    if (err.statusCode !== 409) throw err; // installed before
  });
  for (;;) {
    const crd = await crds.get(webAppCrd.metadata.name);
    if ((crd.status?.conditions ?? []).some((c) => c.type === 'Established' && c.status === 'True')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}
say(
  `installed the CRD ${webAppCrd.metadata.name}${env ? ` and the webhook configurations (webhook server on 127.0.0.1:${env.webhookOptions.port})` : ' (no webhooks: they need the operator in the cluster)'}`,
);

const mgr = await createManager({
  config,
  leaderElection: { enabled: true, id: 'webapp-operator', namespace: 'default' },
  metricsBindAddress: '127.0.0.1:8080',
  healthProbeBindAddress: '127.0.0.1:8081',
  logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }),
  ...(env && { webhook: env.webhookOptions }),
});
mgr.register(WebAppReconciler);
if (env) {
  mgr.register(WebAppWebhook);
  mgr.register(webAppConversion);
}
running = mgr.start(stop.signal);
await mgr.elected();
say('the WebApp operator is running (leader elected; metrics on 127.0.0.1:8080/metrics, probes on 127.0.0.1:8081)');

const apps = createDynamicClient(config)
  .resource({ group: WebApp.group, version: 'v1', resource: 'webapps' })
  .namespace('default');
await apps
  .create({
    apiVersion: `${WebApp.group}/v1`,
    kind: 'WebApp',
    metadata: { name: 'hello' },
    spec: { image: 'nginx:1.27', replicas: 2 },
  })
  .catch((err) => {
    if (err.statusCode !== 409) throw err;
  });
say('created WebApp default/hello (nginx:1.27, 2 replicas)');
const cs = createClientset(config);
for (let i = 0; i < 100; i++) {
  const app = await apps.get('hello');
  if (app.status?.conditions?.length) {
    const d = await cs.appsV1().deployments('default').get('hello');
    const s = await cs.coreV1().services('default').get('hello');
    say(
      `the operator made Deployment ${d.metadata.name} (${d.spec.replicas} replicas of ${d.spec.template.spec.containers[0].image})`,
    );
    say(`                 and Service ${s.metadata.name} (port ${s.spec.ports[0].port})`);
    say(`WebApp status: ${JSON.stringify(app.status.conditions[0])}`);
    say('(no kubelet runs here, so the replicas never become ready: the operator looks again every 10 s)');
    break;
  }
  await new Promise((r) => setTimeout(r, 100));
}
const kubectl = env?.binaries.kubectl ?? 'kubectl';
say(`
Try it:
  export KUBECONFIG=${env?.kubeconfigPath ?? kubeconfig}
  ${kubectl} get webapps,deployments,services
  ${kubectl} patch webapp hello --type merge -p '{"spec":{"replicas":3}}'
  ${kubectl} patch webapp hello --type merge -p '{"spec":{"replicas":30}}'     # refused by the validating webhook
  ${kubectl} get webapps.v1alpha1.${WebApp.group} hello -o yaml             # converted by the conversion webhook
  curl -s 127.0.0.1:8080/metrics | grep controller_runtime_reconcile_total

Press Ctrl-C to stop.${env ? ` The control plane's folder ${env.workDir} is removed on exit.` : ''}`);
