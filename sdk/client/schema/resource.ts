/**
 * `defineCustomResource`: one definition of a custom resource (names, the spec and status schemas, printer columns,
 * CEL rules) from which come its TypeScript types, its resource descriptor (for clients, informers and
 * `@Reconciler`), and the CRD version that `kubeloop generate manifests` writes.
 */
import type {
  CustomResourceColumnDefinition,
  CustomResourceDefinitionVersion,
  CustomResourceSubresourceScale,
  JSONSchemaProps,
} from '../generated/apiextensions-v1.js';
import {
  defineResource,
  type CustomObject,
  type DefineResourceOptions,
  type ResourceDescriptor,
} from '../meta/descriptor.js';
import type { CelRule, Infer, SchemaNode } from './builder.js';

/** Options of {@link defineCustomResource}: the names of {@link defineResource}, and the schema. */
export interface DefineCustomResourceOptions<
  Spec extends SchemaNode,
  Status extends SchemaNode | undefined,
> extends Omit<DefineResourceOptions, 'subresources'> {
  /** The spec's schema: `s.object({ … })`. */
  spec: Spec;
  /** The status's schema; with it the `status` subresource is on. Default: none (no status). */
  status?: Status;
  /** The kind's description (the root schema's). */
  description?: string;
  /** CEL rules on the whole object (`self.metadata.name`, `self.spec`, …). */
  validations?: readonly CelRule[];
  /** Columns `kubectl get` shows: `{ name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' }`. */
  printerColumns?: readonly CustomResourceColumnDefinition[];
  /** The scale subresource: `{ specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' }`. */
  scale?: CustomResourceSubresourceScale;
  /** Default: true. */
  served?: boolean;
  /** Default: true (the one version stored); set false on the other versions of a multi-version kind. */
  storage?: boolean;
  deprecated?: boolean;
  deprecationWarning?: string;
}

/** A custom resource's descriptor that also carries its CRD version (so its schema): what {@link defineCustomResource} returns. */
export interface CustomResource<Spec = unknown, Status = unknown> extends ResourceDescriptor<
  CustomObject<Spec, Status>
> {
  /** The version as it goes into the CRD: `kubeloop generate manifests` writes it, `validateObject` applies its schema. */
  readonly crdVersion: CustomResourceDefinitionVersion;
}

/** The spec type of a custom resource made by {@link defineCustomResource}: `SpecOf<typeof Widget>`. */
export type SpecOf<R> = R extends CustomResource<infer S, unknown> ? S : never;
/** The status type of a custom resource made by {@link defineCustomResource}: `StatusOf<typeof Widget>`. */
export type StatusOf<R> = R extends CustomResource<unknown, infer S> ? S : never;

type InferStatus<S> = S extends SchemaNode ? Infer<S> : unknown;

/**
 * Defines a custom resource from its schema:
 * `const Widget = defineCustomResource({ group: 'example.com', version: 'v1', kind: 'Widget', namespaced: true, spec: s.object({ size: s.integer({ minimum: 1 }) }) })`,
 * then `type Widget = ObjectOf<typeof Widget>`. `Widget` is a descriptor (`client.get(Widget, key)`,
 * `@Reconciler({ for: Widget })`), `Widget.crdVersion` the CRD version, and `validateObject(Widget, obj)` checks an
 * object as the API server would.
 */
export function defineCustomResource<Spec extends SchemaNode, Status extends SchemaNode | undefined = undefined>(
  options: DefineCustomResourceOptions<Spec, Status>,
): CustomResource<Infer<Spec>, InferStatus<Status>> {
  const subresources = [...(options.status ? ['status'] : []), ...(options.scale ? ['scale'] : [])];
  const descriptor = defineResource<Infer<Spec>, InferStatus<Status>>({ ...options, subresources });
  const properties: Record<string, JSONSchemaProps> = { spec: options.spec.schema };
  if (options.status) properties['status'] = options.status.schema;
  const root: JSONSchemaProps = {
    type: 'object',
    ...(options.description && { description: options.description }),
    properties,
    ...(options.validations?.length && { 'x-kubernetes-validations': options.validations.map((r) => ({ ...r })) }),
  };
  const crdVersion: CustomResourceDefinitionVersion = {
    name: options.version,
    served: options.served ?? true,
    storage: options.storage ?? true,
    ...(options.deprecated && { deprecated: true }),
    ...(options.deprecationWarning && { deprecationWarning: options.deprecationWarning }),
    ...(subresources.length && {
      subresources: { ...(options.status && { status: {} }), ...(options.scale && { scale: { ...options.scale } }) },
    }),
    ...(options.printerColumns?.length && { additionalPrinterColumns: options.printerColumns.map((c) => ({ ...c })) }),
    schema: { openAPIV3Schema: root },
  };
  return { ...descriptor, crdVersion };
}
