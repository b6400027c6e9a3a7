// kubeloop's port-forward in a process of its own, as kubectl's is: `node forwarder.mjs <kubeconfig> <ns> <pod> <port>`
// prints `{"local":N}` once it listens, and forwards until stdin closes.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const { createClientset, loadConfig } = await import(join(root, 'dist/sdk/client/index.js'));
const [kubeconfig, ns, pod, port] = process.argv.slice(2);
const cs = createClientset(await loadConfig({ kubeconfig }));
const pf = await cs
  .coreV1()
  .pods(ns)
  .portForward(pod, { ports: [`:${port}`], onError: (err) => process.stderr.write(`${err.message}\n`) });
process.stdout.write(`${JSON.stringify({ local: pf.ports[0].local })}\n`);
process.stdin.resume();
process.stdin.on('end', () => void pf.close().then(() => process.exit(0)));
