/**
 * The OpenAPI v3 snapshot of kube-apiserver that the built-in API types are generated from: `spec/manifest.json`
 * (version, flags, list of group-versions) and one gzipped document per group-version, written by
 * `capture-spec.mjs`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { JsonSchema } from './schema.js';

export interface OpenApiOperation {
  operationId?: string;
  description?: string;
  'x-kubernetes-action'?: string;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string };
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: JsonSchema }> }>;
}

export type OpenApiPathItem = Record<string, OpenApiOperation | unknown>;

export interface OpenApiDocument {
  paths: Record<string, OpenApiPathItem>;
  components: { schemas: Record<string, JsonSchema> };
}

/** One group-version document: `path` is `api/v1` or `apis/<group>/<version>`. */
export interface SpecDocument {
  path: string;
  document: OpenApiDocument;
}

export interface SpecSnapshot {
  /** `v1.37.2`: what the API server reported. */
  gitVersion: string;
  documents: SpecDocument[];
}

interface Manifest {
  gitVersion: string;
  groupVersions: string[];
}

/** The snapshot committed beside the generator. */
export const defaultSpecDir = join(import.meta.dirname, 'spec');

/** Reads the snapshot in `dir` (default: the committed one). */
export function loadSpecSnapshot(dir: string = defaultSpecDir): SpecSnapshot {
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const documents = manifest.groupVersions.map((path) => {
    const file = join(dir, `${path.replaceAll('/', '__')}.json.gz`);
    return { path, document: JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as OpenApiDocument };
  });
  return { gitVersion: manifest.gitVersion, documents };
}
