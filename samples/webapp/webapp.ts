import { defineCustomResource, s, type CustomObject, type Infer, type SpecOf, type StatusOf } from 'kubeloop/client';

export const group = 'apps.kubeloop.dev';

/** The finalizer the operator puts on each WebApp, so it can clean up before the WebApp goes. */
export const cleanupFinalizer = `${group}/cleanup`;

const condition = s.object({
  type: s.string(),
  status: s.enum(['True', 'False', 'Unknown']),
  reason: s.string(),
  message: s.string(),
  lastTransitionTime: s.dateTime(),
  observedGeneration: s.integer().optional(),
});

const status = s.object({
  observedGeneration: s.integer().optional(),
  readyReplicas: s.integer().optional(),
  conditions: s.array(condition).optional(),
});

const printerColumns = [
  { name: 'Image', type: 'string', jsonPath: '.spec.image' },
  { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

const port = (description: string) => s.integer({ minimum: 1, maximum: 65535, description }).optional();

/**
 * The descriptor and the schema of WebApp v1 (stored, the hub), in one definition: `client.get(WebApp, { namespace,
 * name })`, `@Reconciler({ for: WebApp })`, `validateObject(WebApp, app)`. Required fields, bounds, defaults and
 * immutability are the admission webhooks' job (webapp-webhook.ts), so the schema types the fields and leaves them
 * optional: the API server runs schema defaulting before admission, which would leave the defaulting webhook nothing
 * to do.
 */
export const WebApp = defineCustomResource({
  group,
  version: 'v1',
  kind: 'WebApp',
  plural: 'webapps',
  shortNames: ['wa'],
  namespaced: true,
  description: 'A web application: an image served by a Deployment behind a Service.',
  spec: s.object({
    image: s.string({ description: 'Required (the validating webhook says so).' }).optional(),
    replicas: s.integer({ description: '0 to 10. Default: 1 (set by the defaulting webhook).' }).optional(),
    port: port(
      "The container port, and the Service's; cannot change once set. Default: 8080 (set by the defaulting webhook).",
    ),
  }),
  status,
  printerColumns,
});

/** v1alpha1, the first version: the port was called `containerPort`. Served still, converted through v1 (the hub). */
export const WebAppV1alpha1 = defineCustomResource({
  group,
  version: 'v1alpha1',
  kind: 'WebApp',
  plural: 'webapps',
  shortNames: ['wa'],
  namespaced: true,
  description: 'A web application: an image served by a Deployment behind a Service.',
  spec: s.object({
    image: s.string().optional(),
    replicas: s.integer().optional(),
    containerPort: port("The container port, and the Service's."),
  }),
  status,
  printerColumns,
  storage: false,
  deprecated: true,
  deprecationWarning: `${group}/v1alpha1 WebApp is deprecated; use ${group}/v1`,
});

export type WebAppSpec = SpecOf<typeof WebApp>;
export type WebAppStatus = StatusOf<typeof WebApp>;
export type WebAppCondition = Infer<typeof condition>;
export type WebApp = CustomObject<WebAppSpec, WebAppStatus>;
export type WebAppV1alpha1Spec = SpecOf<typeof WebAppV1alpha1>;
export type WebAppV1alpha1 = CustomObject<WebAppV1alpha1Spec, WebAppStatus>;

/** Where the operator's webhook Service is: the CRD's conversion calls reach it there. */
export const webhookService = { name: 'webapp-webhook-service', namespace: 'webapp-system' };

/**
 * The CustomResourceDefinition of WebApp: the versions are those of the definitions above, v1 (stored, the hub) and
 * v1alpha1, converted by the operator's webhook at `/convert`. `webapp-crd.test.ts` checks it is what `kubeloop
 * generate manifests` makes of the same definitions (config/crd/apps.kubeloop.dev_webapps.yaml, byte for byte).
 */
export const webAppCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `webapps.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural: 'webapps', singular: 'webapp', kind: 'WebApp', listKind: 'WebAppList', shortNames: ['wa'] },
    conversion: {
      strategy: 'Webhook',
      webhook: {
        conversionReviewVersions: ['v1'],
        clientConfig: { service: { ...webhookService, path: '/convert' } },
      },
    },
    versions: [WebApp.crdVersion, WebAppV1alpha1.crdVersion],
  },
};
