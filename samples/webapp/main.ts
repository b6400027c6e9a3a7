import 'reflect-metadata';
import { createManager, setupSignalHandler } from 'kubeloop/manager';
import { WebAppReconciler } from './webapp-reconciler.js';
import { WebAppWebhook, webAppConversion } from './webapp-webhook.js';

/**
 * The WebApp operator's entry point: a manager with leader election, metrics on :8080 and probes on :8081, running
 * the WebApp reconciler until SIGINT/SIGTERM, and the WebApp webhooks (defaulting, validation, v1alpha1 ⇄ v1
 * conversion) on :9443 with the certificate mounted at /tmp/k8s-webhook-server/serving-certs, on every replica.
 * Configuration comes from $KUBECONFIG, ~/.kube/config or the pod.
 */
export async function main(): Promise<void> {
  const mgr = await createManager({
    leaderElection: { enabled: process.env['LEADER_ELECT'] !== 'false', id: 'webapp-operator' },
    metricsBindAddress: process.env['METRICS_BIND_ADDRESS'] ?? ':8080',
    healthProbeBindAddress: process.env['HEALTH_PROBE_BIND_ADDRESS'] ?? ':8081',
  });
  mgr.register(WebAppReconciler);
  mgr.register(WebAppWebhook);
  mgr.register(webAppConversion);
  await mgr.start(setupSignalHandler());
}
