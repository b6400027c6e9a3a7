import { describe, expect, it } from 'vitest';
import { Deployment, Pod, defineResource, type apiextensionsv1 } from '../../client/index.js';
import { defineConversion } from '../../webhook/index.js';
import {
  certManagerProvisioning,
  isConversion,
  webhookEntries,
  webhookEntryName,
  webhookObjects,
  withConversions,
  type ConversionMetadata,
  type WebhookMetadata,
} from './webhooks.js';

const project = { name: 'shop', namespace: 'shop-system', domain: 'shop.example' };
const WebApp = defineResource({
  group: 'apps.shop.example',
  version: 'v1',
  kind: 'WebApp',
  plural: 'webapps',
  namespaced: true,
});
const WebAppV1beta1 = defineResource({
  group: 'apps.shop.example',
  version: 'v1beta1',
  kind: 'WebApp',
  plural: 'webapps',
  namespaced: true,
});
const Cluster = defineResource({
  group: 'infra.shop.example',
  version: 'v1alpha1',
  kind: 'Cluster',
  namespaced: false,
});
const service = { name: 'shop-webhook-service', namespace: 'shop-system' };

const conversionOf = (spokes = [WebAppV1beta1]): ConversionMetadata => ({
  name: 'webAppConversion',
  source: 'src/api/apps/web-app-conversion.ts',
  conversion: defineConversion({
    hub: WebApp,
    spokes: spokes.map((resource) => ({ resource, toHub: (o) => o, fromHub: (o) => o })),
  }),
});

function crdOf(
  versions: { name: string; storage: boolean }[],
  kind = 'WebApp',
  group = 'apps.shop.example',
): apiextensionsv1.CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${kind.toLowerCase()}s.${group}` },
    spec: {
      group,
      names: { kind, plural: `${kind.toLowerCase()}s` },
      scope: 'Namespaced',
      versions: versions.map((v) => ({ ...v, served: true, schema: { openAPIV3Schema: { type: 'object' } } })),
    },
  };
}

describe('webhookEntryName', () => {
  it('is kubebuilder’s m/v<kind>-<version>.<group>, with the domain after a group that has no dot', () => {
    expect(webhookEntryName('m', WebApp, 'shop.example')).toBe('mwebapp-v1.apps.shop.example');
    expect(webhookEntryName('v', Cluster, 'shop.example')).toBe('vcluster-v1alpha1.infra.shop.example');
    expect(webhookEntryName('v', Deployment, 'shop.example')).toBe('vdeployment-v1.apps.shop.example');
    expect(webhookEntryName('m', Pod, 'shop.example')).toBe('mpod-v1.core.shop.example');
  });
});

describe('webhookEntries', () => {
  it('makes one mutating and one validating entry per class and kind, with every default filled in, sorted by name', () => {
    const webhooks: WebhookMetadata[] = [
      {
        name: 'WebAppWebhook',
        source: 'src/webhooks/web-app-webhook.ts',
        options: { for: WebApp, defaulting: true, validating: true },
      },
      {
        name: 'ClusterWebhook',
        source: 'src/webhooks/cluster-webhook.ts',
        options: {
          for: Cluster,
          validating: true,
          failurePolicy: 'Ignore',
          sideEffects: 'NoneOnDryRun',
          timeoutSeconds: 5,
          matchPolicy: 'Exact',
          validatingOperations: ['CREATE', 'UPDATE', 'DELETE'],
          namespaceSelector: { matchLabels: { team: 'a' } },
          objectSelector: { matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] },
        },
      },
    ];
    const { mutating, validating, problems } = webhookEntries(webhooks, project);
    expect(problems).toEqual([]);
    expect(mutating).toEqual([
      {
        name: 'mwebapp-v1.apps.shop.example',
        admissionReviewVersions: ['v1'],
        clientConfig: { service: { ...service, path: '/mutate-apps-shop-example-v1-webapp' } },
        failurePolicy: 'Fail',
        matchPolicy: 'Equivalent',
        reinvocationPolicy: 'Never',
        sideEffects: 'None',
        timeoutSeconds: 10,
        rules: [
          {
            apiGroups: ['apps.shop.example'],
            apiVersions: ['v1'],
            operations: ['CREATE', 'UPDATE'],
            resources: ['webapps'],
          },
        ],
      },
    ]);
    expect(validating.map((w) => w.name)).toEqual([
      'vcluster-v1alpha1.infra.shop.example',
      'vwebapp-v1.apps.shop.example',
    ]);
    expect(validating[0]).toEqual({
      name: 'vcluster-v1alpha1.infra.shop.example',
      admissionReviewVersions: ['v1'],
      clientConfig: { service: { ...service, path: '/validate-infra-shop-example-v1alpha1-cluster' } },
      failurePolicy: 'Ignore',
      matchPolicy: 'Exact',
      sideEffects: 'NoneOnDryRun',
      timeoutSeconds: 5,
      namespaceSelector: { matchLabels: { team: 'a' } },
      objectSelector: { matchExpressions: [{ key: 'skip', operator: 'DoesNotExist' }] },
      rules: [
        {
          apiGroups: ['infra.shop.example'],
          apiVersions: ['v1alpha1'],
          operations: ['CREATE', 'UPDATE', 'DELETE'],
          resources: ['clusters'],
        },
      ],
    });
  });

  it('gives the same entries whatever the order of the classes', () => {
    const a: WebhookMetadata = { name: 'A', source: 'a.ts', options: { for: WebApp, defaulting: true } };
    const b: WebhookMetadata = {
      name: 'B',
      source: 'b.ts',
      options: { for: Cluster, defaulting: true, validating: true },
    };
    expect(webhookEntries([a, b], project)).toEqual(webhookEntries([b, a], project));
  });

  it('uses the paths a class chose', () => {
    const { mutating } = webhookEntries(
      [{ name: 'A', source: 'a.ts', options: { for: WebApp, defaulting: true, defaultingPath: '/default-webapps' } }],
      project,
    );
    expect(mutating[0]?.clientConfig.service?.path).toBe('/default-webapps');
  });

  it('reports two classes that default one kind, and options the decorator would refuse, naming each class', () => {
    const { mutating, problems } = webhookEntries(
      [
        { name: 'First', source: 'src/webhooks/a.ts', options: { for: WebApp, defaulting: true } },
        { name: 'Second', source: 'src/webhooks/b.ts', options: { for: WebApp, defaulting: true } },
        { name: 'Slow', source: 'src/webhooks/c.ts', options: { for: Cluster, validating: true, timeoutSeconds: 60 } },
      ],
      project,
    );
    expect(mutating).toHaveLength(1);
    expect(problems).toEqual([
      'src/webhooks/b.ts (Second) and src/webhooks/a.ts (First) both default WebApp apps.shop.example/v1 (mwebapp-v1.apps.shop.example): ' +
        'the API server can call only one webhook by that name and path; keep one',
      'src/webhooks/c.ts (Slow): timeoutSeconds must be a whole number from 1 to 30, not 60',
    ]);
  });

  it('reports a name the API server would refuse', () => {
    const Long = defineResource({ group: 'x.example', version: 'v1', kind: `K${'x'.repeat(60)}`, namespaced: true });
    const { problems } = webhookEntries(
      [{ name: 'L', source: 'l.ts', options: { for: Long, validating: true } }],
      project,
    );
    expect(problems).toEqual([
      expect.stringContaining('l.ts (L): the webhook name vk' + 'x'.repeat(60) + '-v1.x.example is not a DNS name'),
    ]);
  });
});

describe('webhookObjects', () => {
  it('makes the configurations (only those with entries), the Service, the Deployment patch and the certificate', () => {
    const entries = webhookEntries(
      [{ name: 'A', source: 'a.ts', options: { for: WebApp, validating: true } }],
      project,
    );
    const objects = webhookObjects(entries, project);
    expect(objects.configurations).toEqual([
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingWebhookConfiguration',
        metadata: {
          name: 'shop-validating-webhook-configuration',
          labels: { 'app.kubernetes.io/name': 'shop' },
          annotations: { 'cert-manager.io/inject-ca-from': 'shop-system/shop-serving-cert' },
        },
        webhooks: entries.validating,
      },
    ]);
    expect(objects.service).toMatchObject({
      kind: 'Service',
      metadata: { name: 'shop-webhook-service', namespace: 'shop-system' },
      spec: {
        selector: { 'app.kubernetes.io/name': 'shop', 'app.kubernetes.io/component': 'manager' },
        ports: [{ port: 443, targetPort: 9443, protocol: 'TCP' }],
      },
    });
    expect(objects.deploymentPatch).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'shop-controller-manager', namespace: 'shop-system' },
      spec: {
        template: {
          spec: {
            containers: [
              {
                name: 'manager',
                ports: [{ name: 'webhook-server', containerPort: 9443, protocol: 'TCP' }],
                volumeMounts: [
                  { name: 'webhook-certs', mountPath: '/tmp/k8s-webhook-server/serving-certs', readOnly: true },
                ],
              },
            ],
            volumes: [{ name: 'webhook-certs', secret: { secretName: 'webhook-server-cert' } }],
          },
        },
      },
    });
    expect(objects.certificates).toEqual(certManagerProvisioning(project).objects);
  });

  it('issues the certificate for the Service’s DNS names into webhook-server-cert, from a self-signed Issuer', () => {
    const { objects, caAnnotations } = certManagerProvisioning(project);
    expect(objects).toEqual([
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Issuer',
        metadata: {
          name: 'shop-selfsigned-issuer',
          namespace: 'shop-system',
          labels: { 'app.kubernetes.io/name': 'shop' },
        },
        spec: { selfSigned: {} },
      },
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { name: 'shop-serving-cert', namespace: 'shop-system', labels: { 'app.kubernetes.io/name': 'shop' } },
        spec: {
          dnsNames: ['shop-webhook-service.shop-system.svc', 'shop-webhook-service.shop-system.svc.cluster.local'],
          issuerRef: { kind: 'Issuer', name: 'shop-selfsigned-issuer' },
          secretName: 'webhook-server-cert',
        },
      },
    ]);
    expect(caAnnotations).toEqual({ 'cert-manager.io/inject-ca-from': 'shop-system/shop-serving-cert' });
  });
});

describe('webhookObjects with the built-in certificate provisioner (webhookCertificates: kubeloop)', () => {
  const builtIn = { ...project, webhookCertificates: 'kubeloop' as const };
  const entries = webhookEntries(
    [
      {
        name: 'WebAppWebhook',
        source: 'src/webhooks/web-app-webhook.ts',
        options: { for: WebApp, defaulting: true, validating: true },
      },
    ],
    builtIn,
  );

  it('hands the provisioner its names in WEBHOOK_CERT_PROVISIONER and gives the replicas a writable certificate folder', () => {
    const objects = webhookObjects(entries, builtIn, ['webapps.apps.shop.example']);
    const container = (
      objects.deploymentPatch as {
        spec: {
          template: {
            spec: {
              containers: { env: { name: string; value: string }[]; volumeMounts: object[] }[];
              volumes: object[];
            };
          };
        };
      }
    ).spec.template.spec;
    expect(JSON.parse(container.containers[0]!.env.find((e) => e.name === 'WEBHOOK_CERT_PROVISIONER')!.value)).toEqual({
      secretName: 'webhook-server-cert',
      serviceName: 'shop-webhook-service',
      mutatingWebhookConfigurations: ['shop-mutating-webhook-configuration'],
      validatingWebhookConfigurations: ['shop-validating-webhook-configuration'],
      crds: ['webapps.apps.shop.example'],
    });
    expect(container.containers[0]!.volumeMounts).toEqual([
      { name: 'webhook-certs', mountPath: '/tmp/k8s-webhook-server/serving-certs', readOnly: false },
    ]);
    expect(container.volumes).toEqual([{ name: 'webhook-certs', emptyDir: {} }]);
    for (const c of objects.configurations) expect(c.metadata?.annotations).toEqual({});
  });

  it('grants exactly the verbs the provisioner uses, its own configurations and CRDs by name', () => {
    const [role, roleBinding, clusterRole, clusterRoleBinding] = webhookObjects(entries, builtIn, [
      'webapps.apps.shop.example',
    ]).certificates as {
      kind: string;
      metadata: { name: string; namespace?: string };
      rules?: object[];
      subjects?: object[];
    }[];
    expect(role).toMatchObject({
      kind: 'Role',
      metadata: { name: 'shop-webhook-certificates', namespace: 'shop-system' },
    });
    expect(role!.rules).toEqual([
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'update'] },
    ]);
    expect(clusterRole!.rules).toEqual([
      {
        apiGroups: ['admissionregistration.k8s.io'],
        resources: ['mutatingwebhookconfigurations'],
        resourceNames: ['shop-mutating-webhook-configuration'],
        verbs: ['get', 'patch'],
      },
      {
        apiGroups: ['admissionregistration.k8s.io'],
        resources: ['validatingwebhookconfigurations'],
        resourceNames: ['shop-validating-webhook-configuration'],
        verbs: ['get', 'patch'],
      },
      {
        apiGroups: ['apiextensions.k8s.io'],
        resources: ['customresourcedefinitions'],
        resourceNames: ['webapps.apps.shop.example'],
        verbs: ['get', 'patch'],
      },
    ]);
    for (const binding of [roleBinding, clusterRoleBinding]) {
      expect(binding!.subjects).toEqual([
        { kind: 'ServiceAccount', name: 'shop-controller-manager', namespace: 'shop-system' },
      ]);
    }
  });
});

describe('withConversions', () => {
  const ca = { 'cert-manager.io/inject-ca-from': 'shop-system/shop-serving-cert' };

  it('gives the converted kind’s CRD a conversion webhook at /convert and the CA annotation, and leaves the others', () => {
    const other = crdOf([{ name: 'v1alpha1', storage: true }], 'Cluster', 'infra.shop.example');
    const { crds, problems } = withConversions(
      [
        crdOf([
          { name: 'v1', storage: true },
          { name: 'v1beta1', storage: false },
        ]),
        other,
      ],
      [conversionOf()],
      project,
      ca,
    );
    expect(problems).toEqual([]);
    expect(crds[1]).toBe(other);
    expect(crds[0]?.metadata?.annotations).toEqual(ca);
    expect(crds[0]?.spec.conversion).toEqual({
      strategy: 'Webhook',
      webhook: { conversionReviewVersions: ['v1'], clientConfig: { service: { ...service, path: '/convert' } } },
    });
    expect(crds[0]?.spec.versions.map((v) => v.name)).toEqual(['v1', 'v1beta1']);
  });

  it('reports versions the conversion and the CRD disagree on, a hub that is not stored, and a kind without a CRD', () => {
    const V2 = defineResource({
      group: 'apps.shop.example',
      version: 'v2',
      kind: 'WebApp',
      plural: 'webapps',
      namespaced: true,
    });
    const { problems } = withConversions(
      [
        crdOf([
          { name: 'v1', storage: false },
          { name: 'v1beta1', storage: true },
          { name: 'v1alpha1', storage: false },
        ]),
      ],
      [conversionOf([WebAppV1beta1, V2])],
      project,
      ca,
    );
    const owner = 'src/api/apps/web-app-conversion.ts (webAppConversion)';
    expect(problems).toEqual([
      `${owner}: webapps.apps.shop.example serves v1alpha1, which the conversion does not name: add a spoke for it`,
      `${owner}: the conversion names v2, which no resource module of WebApp defines: run \`kubeloop create api\` for it, or drop the spoke`,
      `${owner}: the hub is v1 but v1beta1 is the storage version of webapps.apps.shop.example: the hub is the version stored, so move storage: true to v1's CRD version`,
    ]);
    expect(withConversions([], [conversionOf()], project, ca).problems).toEqual([
      `${owner} converts WebApp.apps.shop.example, but the project defines no CRD of that kind (kubeloop.json lists its kinds)`,
    ]);
  });

  it('reports two conversions of one kind', () => {
    const second = { ...conversionOf(), name: 'again', source: 'src/webhooks/again.ts' };
    const { problems } = withConversions(
      [
        crdOf([
          { name: 'v1', storage: true },
          { name: 'v1beta1', storage: false },
        ]),
      ],
      [conversionOf(), second],
      project,
      ca,
    );
    expect(problems).toEqual([
      'src/webhooks/again.ts (again) and src/api/apps/web-app-conversion.ts (webAppConversion) both convert WebApp.apps.shop.example: one conversion per kind; keep one',
    ]);
  });
});

describe('isConversion', () => {
  it('tells a defineConversion value from descriptors and other objects', () => {
    expect(isConversion(conversionOf().conversion)).toBe(true);
    expect(isConversion(WebApp)).toBe(false);
    expect(isConversion({ group: 'a', kind: 'B', hub: {}, spokes: [] })).toBe(false);
    expect(isConversion(undefined)).toBe(false);
  });
});
