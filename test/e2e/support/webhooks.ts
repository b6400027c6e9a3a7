/**
 * For tests of a scaffolded project with webhooks: stand-ins for cert-manager's CRDs, so that a server-side dry run can
 * admit the generated config/certmanager, and the kinds such a project renders. (kubeloop/envtest's installWebhooks
 * and installCrds point the generated configurations and conversion CRDs at a local webhook server.)
 */
import type { apiextensionsv1 } from '../../../sdk/client/index.js';

function stubCrd(kind: string, plural: string): apiextensionsv1.CustomResourceDefinition {
  const open = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.cert-manager.io` },
    spec: {
      group: 'cert-manager.io',
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      scope: 'Namespaced',
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: open, status: open } } },
        },
      ],
    },
  };
}

/**
 * Stand-ins for cert-manager's Issuer and Certificate CRDs (cert-manager.io/v1, namespaced, any spec): enough for the
 * API server to know the kinds, so that a dry run admits config/certmanager. They check nothing of the spec.
 */
export const certManagerStubCrds: apiextensionsv1.CustomResourceDefinition[] = [
  stubCrd('Issuer', 'issuers'),
  stubCrd('Certificate', 'certificates'),
];

/**
 * The kinds `kubectl kustomize config/default` renders for a project with two kinds, one of them with a webhook class
 * and a conversion, sorted: what the CLI tests and the end-to-end test expect.
 */
export const kindsWithWebhooks: readonly string[] = [
  'Certificate',
  // The manager's, the metrics authentication role, metrics-reader, and admin/editor/viewer for each of the two kinds.
  ...Array<string>(9).fill('ClusterRole'),
  // The manager's and the metrics authentication role's.
  'ClusterRoleBinding',
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
