// `npm start`: starts a local control plane (etcd + kube-apiserver v1.37.2 on 127.0.0.1) and prints how to reach it.
// Stop it with Ctrl-C. Later, this becomes the sample operator's demo.
import { startControlPlane } from '../dist/sdk/envtest/index.js';

const env = await startControlPlane({ kubernetesVersion: '1.37.2' });
console.log(`
kube-apiserver is listening on ${env.host} (etcd on ${env.etcdUrl}).

  export KUBECONFIG=${env.kubeconfigPath}
  ${env.binaries.kubectl ?? 'kubectl'} get namespaces

Press Ctrl-C to stop it; its folder ${env.workDir} is removed on exit.
`);
const shutdown = async () => {
  await env.stop();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
setInterval(() => {}, 1 << 30);
