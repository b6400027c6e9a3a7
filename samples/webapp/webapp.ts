import { defineResource, type CustomObject } from 'kubeloop/client';

/** A web application: an image served by a Deployment behind a Service. */
export interface WebAppSpec {
  image: string;
  /** Default: 1. */
  replicas?: number;
  /** The container port, and the Service's. Default: 8080. */
  port?: number;
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

/** The CustomResourceDefinition of WebApp, as `kubeloop generate manifests` would write it. */
export const webAppCrd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `webapps.${group}` },
  spec: {
    group,
    scope: 'Namespaced',
    names: { plural: 'webapps', singular: 'webapp', kind: 'WebApp', listKind: 'WebAppList', shortNames: ['wa'] },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Image', type: 'string', jsonPath: '.spec.image' },
          { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['image'],
                properties: {
                  image: { type: 'string', minLength: 1 },
                  replicas: { type: 'integer', minimum: 0, default: 1 },
                  port: { type: 'integer', minimum: 1, maximum: 65535, default: 8080 },
                },
              },
              status: {
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
              },
            },
          },
        },
      },
    ],
  },
};
