import { defineResource, type CustomObject } from 'kubeloop/client';

/** A web application: an image served by a Deployment behind a Service. */
export interface WebAppSpec {
  /** Required (the validating webhook says so). */
  image: string;
  /** 0 to 10. Default: 1 (set by the defaulting webhook). */
  replicas?: number;
  /** The container port, and the Service's; cannot change once set. Default: 8080 (set by the defaulting webhook). */
  port?: number;
}

/** v1alpha1, the first version: the port was called `containerPort`. Served still, converted through v1 (the hub). */
export interface WebAppV1alpha1Spec {
  image: string;
  replicas?: number;
  containerPort?: number;
}

export interface WebAppCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface WebAppStatus {
  observedGeneration?: number;
  readyReplicas?: number;
  conditions?: WebAppCondition[];
}

export type WebApp = CustomObject<WebAppSpec, WebAppStatus>;

export const group = 'apps.kubeloop.dev';

/** The finalizer the operator puts on each WebApp, so it can clean up before the WebApp goes. */
export const cleanupFinalizer = `${group}/cleanup`;

/** The descriptor: `client.get(WebApp, { namespace, name })`, `@Reconciler({ for: WebApp })`. */
export const WebApp = defineResource<WebAppSpec, WebAppStatus>({
  group,
  version: 'v1',
  kind: 'WebApp',
  plural: 'webapps',
  namespaced: true,
  subresources: ['status'],
});

export type WebAppV1alpha1 = CustomObject<WebAppV1alpha1Spec, WebAppStatus>;

/** The v1alpha1 descriptor, for clients that still speak it. */
export const WebAppV1alpha1 = defineResource<WebAppV1alpha1Spec, WebAppStatus>({
  group,
  version: 'v1alpha1',
  kind: 'WebApp',
  plural: 'webapps',
  namespaced: true,
  subresources: ['status'],
});

/** Where the operator's webhook Service is: the CRD's conversion calls reach it there. */
export const webhookService = { name: 'webapp-webhook-service', namespace: 'webapp-system' };

const statusSchema = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer' },
    readyReplicas: { type: 'integer' },
    conditions: {
      type: 'array',
      items: {
        type: 'object',
        required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
        properties: {
          type: { type: 'string' },
          status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
          reason: { type: 'string' },
          message: { type: 'string' },
          lastTransitionTime: { type: 'string', format: 'date-time' },
          observedGeneration: { type: 'integer' },
        },
      },
    },
  },
};

const printerColumns = [
  { name: 'Image', type: 'string', jsonPath: '.spec.image' },
  { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

/**
 * The CustomResourceDefinition of WebApp, as `kubeloop generate manifests` would write it: v1 (stored, the hub) and
 * v1alpha1, converted by the operator's webhook at `/convert`. Required fields, bounds, defaults and immutability are
 * the admission webhooks' job (webapp-webhook.ts), so the schema only types the fields: the API server runs schema
 * defaulting before admission, which would leave the defaulting webhook nothing to do.
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
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: printerColumns,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  image: { type: 'string' },
                  replicas: { type: 'integer' },
                  port: { type: 'integer', minimum: 1, maximum: 65535 },
                },
              },
              status: statusSchema,
            },
          },
        },
      },
      {
        name: 'v1alpha1',
        served: true,
        storage: false,
        deprecated: true,
        deprecationWarning: `${group}/v1alpha1 WebApp is deprecated; use ${group}/v1`,
        subresources: { status: {} },
        additionalPrinterColumns: printerColumns,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  image: { type: 'string' },
                  replicas: { type: 'integer' },
                  containerPort: { type: 'integer', minimum: 1, maximum: 65535 },
                },
              },
              status: statusSchema,
            },
          },
        },
      },
    ],
  },
};
