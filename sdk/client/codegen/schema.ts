/**
 * The part of OpenAPI v3 / JSON Schema that Kubernetes uses, as the code generators read it: the component schemas of
 * kube-apiserver's `/openapi/v3` documents and the `openAPIV3Schema` of CustomResourceDefinitions (which adds
 * `nullable` and the `x-kubernetes-*` extensions).
 */
export interface JsonSchema {
  $ref?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';
  format?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  allOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
  [extension: string]: unknown;
}
