/**
 * kubeloop/envtest: a real etcd + kube-apiserver on 127.0.0.1, for kubeloop's tests and for operator authors' tests.
 *
 * Binaries come from `KUBEBUILDER_ASSETS` (the setup-envtest convention: a folder with `kube-apiserver`, `etcd`,
 * `kubectl`), else from kubeloop's cache, else they are built once from the Go module proxy
 * (`npm run envtest:setup` in a kubeloop checkout, or {@link ensureBinaries}).
 *
 * ```ts
 * const env = await startControlPlane({ kubernetesVersion: '1.37.2' });
 * const user = await env.addUser({ name: 'op', groups: ['system:authenticated'] });
 * await env.stop();
 * ```
 *
 * With webhooks: `startControlPlane({ crds: { paths: ['config/crd/bases'] }, webhooks: { paths: ['config/webhook'] } })`
 * installs the CRDs and the webhook configurations, pointed at a local HTTPS server; run the manager with
 * `createManager({ config: env.config, webhook: env.webhookOptions })`.
 *
 * With a test kubelet: `startControlPlane({ kubelet: true })` registers a Ready Node (`env.kubelet.nodeName`) that runs
 * pods' containers as local processes (`command` required: the image is ignored), so exec, attach, port-forward and
 * logs (followed too) go through the API server as on a real cluster; see {@link KubeletOptions}.
 */
export {
  startControlPlane,
  connectToControlPlane,
  type ControlPlane,
  type ControlPlaneAccess,
  type ControlPlaneOptions,
  type EnvtestUser,
  type KubeletInfo,
  type KubeletOptions,
} from './control-plane.js';
export {
  installWebhooks,
  installCrds,
  type WebhookInstallOptions,
  type WebhookInstallation,
  type WebhookServingOptions,
  type CrdInstallOptions,
} from './webhooks.js';
export { ensureBinaries, type Binaries, type EnsureBinariesOptions } from './internal/binaries.js';
export { EnvtestError } from './errors.js';
