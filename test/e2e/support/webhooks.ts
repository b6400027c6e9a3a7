/**
 * Running a scaffolded project's webhooks against a real API server without a cluster network or cert-manager: a CA
 * and a serving certificate for 127.0.0.1 made by kubeloop/webhook, and the generated webhook configurations and
 * conversion CRDs rewritten to call `https://127.0.0.1:<port><path>` with that CA, instead of the webhook Service with
 * the CA cert-manager injects. Also minimal CRDs of cert-manager's Issuer and Certificate, so that a server-side dry run
 * can admit the generated config/certmanager.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createDynamicClient, isAlreadyExists, type RestConfig, type Unstructured } from '../../../sdk/client/index.js';
import { createCertificateAuthority } from '../../../sdk/webhook/index.js';
import { eventually } from './cli.js';

export interface ServingCertificate {
  /** Holds `tls.crt` and `tls.key`, as the webhook server reads them. */
  certDir: string;
  /** PEM of the CA that signed it: what the API server is told to trust. */
  caPem: string;
}

/** A serving certificate for 127.0.0.1 and localhost, signed by a new CA, written into `certDir`. */
export async function writeServingCertificate(certDir: string): Promise<ServingCertificate> {
  const ca = await createCertificateAuthority('kubeloop-test-webhook-ca');
  const leaf = await ca.sign({ commonName: '127.0.0.1', usage: 'server', ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] });
  await mkdir(certDir, { recursive: true });
  await writeFile(join(certDir, 'tls.crt'), leaf.certPem);
  await writeFile(join(certDir, 'tls.key'), leaf.keyPem, { mode: 0o600 });
  return { certDir, caPem: ca.certPem };
}

/** A webhook's clientConfig: a service reference as generated, a URL as rewritten. */
interface ClientConfig {
  service?: { path?: string };
  url?: string;
  caBundle?: string;
}

/**
 * The objects with every webhook's and conversion webhook's service reference replaced by a URL on 127.0.0.1:`port`
 * (the same path) and the CA as its bundle. Other objects are returned as they are; nothing is changed in place.
 */
export function pointWebhooksAt(objects: readonly Unstructured[], port: number, caPem: string): Unstructured[] {
  const caBundle = Buffer.from(caPem).toString('base64');
  const clientConfig = (ref: ClientConfig | undefined): { url: string; caBundle: string } => ({
    url: `https://127.0.0.1:${port}${ref?.service?.path ?? ''}`,
    caBundle,
  });
  return objects.map((object) => {
    const copy = structuredClone(object) as Unstructured & {
      webhooks?: { clientConfig?: ClientConfig }[];
      spec?: { conversion?: { strategy?: string; webhook?: { clientConfig?: ClientConfig } } };
    };
    if (copy.kind === 'MutatingWebhookConfiguration' || copy.kind === 'ValidatingWebhookConfiguration') {
      for (const webhook of copy.webhooks ?? []) webhook.clientConfig = clientConfig(webhook.clientConfig);
    }
    const conversion = copy.kind === 'CustomResourceDefinition' ? copy.spec?.conversion : undefined;
    if (conversion?.strategy === 'Webhook' && conversion.webhook) conversion.webhook.clientConfig = clientConfig(conversion.webhook.clientConfig);
    return copy;
  });
}

/** Creates CRDs and waits until each is established. */
export async function installCrds(config: RestConfig, crds: readonly Unstructured[], options: { ignoreExisting?: boolean } = {}): Promise<void> {
  const client = createDynamicClient(config).resource({ group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' });
  for (const crd of crds) {
    await client.create(crd).catch((err: unknown) => {
      if (!(options.ignoreExisting && isAlreadyExists(err))) throw err;
    });
    await eventually(`the CRD ${crd.metadata?.name} to be established`, async () => {
      const status = (await client.get(crd.metadata!.name!))['status'] as { conditions?: { type: string; status: string }[] } | undefined;
      return status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
    });
  }
}

function stubCrd(kind: string, plural: string): Unstructured {
  const open = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.cert-manager.io` },
    spec: {
      group: 'cert-manager.io',
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      scope: 'Namespaced',
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: open, status: open } } } }],
    },
  };
}

/**
 * Stand-ins for cert-manager's Issuer and Certificate CRDs (cert-manager.io/v1, namespaced, any spec): enough for the
 * API server to know the kinds, so that a dry run admits config/certmanager. They check nothing of the spec.
 */
export const certManagerStubCrds: readonly Unstructured[] = [stubCrd('Issuer', 'issuers'), stubCrd('Certificate', 'certificates')];

/**
 * The kinds `kubectl kustomize config/default` renders for a project with two kinds, one of them with a webhook class
 * and a conversion, sorted: what the CLI tests and the end-to-end test expect.
 */
export const kindsWithWebhooks: readonly string[] = [
  'Certificate',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'CustomResourceDefinition',
  'Deployment',
  'Issuer',
  'MutatingWebhookConfiguration',
  'Namespace',
  'Role',
  'RoleBinding',
  'Service',
  'Service',
  'ServiceAccount',
  'ValidatingWebhookConfiguration',
];
