/**
 * The objects of a kustomization, as `kustomize build` renders them, for the subset of kustomize that kubeloop's
 * scaffold writes: `resources` (files, and folders with a kustomization), `components`, `patches` by path (strategic
 * merge patches, each naming its target by kind and name), and `images` (newName, newTag). Any other field is refused
 * with a coded error that names it, rather than rendered wrongly: `kubectl kustomize` renders it.
 * `kubeloop generate install` and `kubeloop generate helm` build config/default with it.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { loadAll } from 'js-yaml';
import { CliError } from './errors.js';

/** A Kubernetes object as plain data. */
export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string } & Record<string, unknown>;
};

interface Kustomization {
  resources?: string[];
  components?: string[];
  patches?: { path?: string; patch?: string; target?: unknown }[];
  images?: { name: string; newName?: string; newTag?: string }[];
}

const supported = new Set(['apiVersion', 'kind', 'resources', 'components', 'patches', 'images']);
const kustomizationNames = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readDocuments(file: string, shown: string): Promise<unknown[]> {
  try {
    return loadAll(await readFile(file, 'utf8')).filter((d) => d !== null && d !== undefined);
  } catch (err) {
    throw new CliError('ERR_CLI_MANIFESTS', `${shown} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
}

function kustomizationFile(dir: string): string | undefined {
  return kustomizationNames.map((n) => join(dir, n)).find((f) => existsSync(f));
}

async function readKustomization(dir: string, root: string): Promise<Kustomization> {
  const file = kustomizationFile(dir);
  const shown = relative(root, join(dir, 'kustomization.yaml')) || 'kustomization.yaml';
  if (!file)
    throw new CliError(
      'ERR_CLI_MANIFESTS',
      `${shown} does not exist: a folder named in resources or components needs one`,
    );
  const [doc] = await readDocuments(file, shown);
  if (!isObject(doc)) return {};
  const unknown = Object.keys(doc).filter((k) => !supported.has(k));
  if (unknown.length) {
    throw new CliError(
      'ERR_CLI_MANIFESTS',
      `${shown} uses ${unknown.join(', ')}, which kubeloop's renderer does not support (it knows ${[...supported].slice(2).join(', ')}): ` +
        'render the kustomization with `kubectl kustomize` instead, or remove those fields',
    );
  }
  return doc as Kustomization;
}

/** The merge keys of the lists a strategic merge patch of the scaffold's objects merges by (others are replaced). */
const mergeKeys: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
};

/** A strategic merge patch applied to `base` (new values; `null` removes a field; keyed lists merge by their key). */
export function strategicMerge(base: unknown, patch: unknown, field = ''): unknown {
  if (isObject(base) && isObject(patch)) {
    const out: Record<string, unknown> = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete out[key];
      else out[key] = key in base ? strategicMerge(base[key], value, key) : value;
    }
    return out;
  }
  const key = mergeKeys[field];
  if (key && Array.isArray(base) && Array.isArray(patch)) {
    // Items the base lacks come first, in the patch's order, as kustomize puts them.
    const out = [...base];
    const added: unknown[] = [];
    for (const item of patch) {
      const at = isObject(item) ? out.findIndex((b) => isObject(b) && b[key] === item[key]) : -1;
      if (at >= 0) out[at] = strategicMerge(out[at], item, '');
      else added.push(item);
    }
    return [...added, ...out];
  }
  return patch;
}

function checkObject(doc: unknown, shown: string): KubeObject {
  if (
    !isObject(doc) ||
    typeof doc['apiVersion'] !== 'string' ||
    typeof doc['kind'] !== 'string' ||
    !isObject(doc['metadata']) ||
    typeof doc['metadata']['name'] !== 'string'
  ) {
    throw new CliError('ERR_CLI_MANIFESTS', `${shown} holds a document without apiVersion, kind and metadata.name`);
  }
  return doc as KubeObject;
}

async function applyPatches(
  objects: KubeObject[],
  patches: Kustomization['patches'],
  dir: string,
  root: string,
): Promise<KubeObject[]> {
  let out = objects;
  for (const entry of patches ?? []) {
    if (!entry.path || entry.patch !== undefined || entry.target !== undefined) {
      throw new CliError(
        'ERR_CLI_MANIFESTS',
        `${relative(root, dir) || '.'}: only patches given by path (strategic merge, naming their target) are supported`,
      );
    }
    const shown = relative(root, join(dir, entry.path));
    for (const patch of await readDocuments(join(dir, entry.path), shown)) {
      const p = checkObject(patch, shown);
      const at = out.findIndex((o) => o.kind === p.kind && o.metadata.name === p.metadata.name);
      if (at < 0)
        throw new CliError(
          'ERR_CLI_MANIFESTS',
          `${shown} patches ${p.kind} ${p.metadata.name}, which the kustomization does not hold`,
        );
      out = out.with(at, strategicMerge(out[at], p) as KubeObject);
    }
  }
  return out;
}

function setImages(objects: KubeObject[], images: Kustomization['images']): KubeObject[] {
  if (!images?.length) return objects;
  const rename = (image: string): string => {
    const name = image.replace(/[:@].*$/, '');
    const found = images.find((i) => i.name === name);
    if (!found) return image;
    const tag = found.newTag ?? (image.includes(':') ? image.slice(image.indexOf(':') + 1) : undefined);
    return `${found.newName ?? name}${tag ? `:${tag}` : ''}`;
  };
  const visit = (value: unknown, key: string): unknown => {
    if (Array.isArray(value)) return value.map((v) => visit(v, key));
    if (!isObject(value)) return value;
    if ((key === 'containers' || key === 'initContainers') && typeof value['image'] === 'string')
      return { ...value, image: rename(value['image']) };
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v, k)]));
  };
  return objects.map((o) => visit(o, '') as KubeObject);
}

/** The objects of the kustomization in `dir`, in kustomize's order of kinds (see {@link orderObjects}). */
export async function buildKustomization(dir: string, root: string = dir): Promise<KubeObject[]> {
  return orderObjects(await build(dir, root, [], new Set()));
}

async function build(dir: string, root: string, inherited: KubeObject[], seen: Set<string>): Promise<KubeObject[]> {
  if (seen.has(dir))
    throw new CliError('ERR_CLI_MANIFESTS', `${relative(root, dir)} includes itself through resources or components`);
  const k = await readKustomization(dir, root);
  let objects = [...inherited];
  for (const resource of k.resources ?? []) {
    const path = join(dir, resource);
    const shown = relative(root, path);
    if (!existsSync(path))
      throw new CliError(
        'ERR_CLI_MANIFESTS',
        `${shown}, named in ${relative(root, dir) || '.'}/kustomization.yaml, does not exist`,
      );
    if (statSync(path).isDirectory()) objects.push(...(await build(path, root, [], new Set([...seen, dir]))));
    else for (const doc of await readDocuments(path, shown)) objects.push(checkObject(doc, shown));
  }
  for (const component of k.components ?? [])
    objects = await build(join(dir, component), root, objects, new Set([...seen, dir]));
  objects = await applyPatches(objects, k.patches, dir, root);
  return setImages(objects, k.images);
}

/** kustomize's default ("legacy") order: what others depend on first, webhook configurations last. */
const kindOrder = [
  'Namespace',
  'ResourceQuota',
  'StorageClass',
  'CustomResourceDefinition',
  'ServiceAccount',
  'PodSecurityPolicy',
  'Role',
  'ClusterRole',
  'RoleBinding',
  'ClusterRoleBinding',
  'ConfigMap',
  'Secret',
  'Endpoints',
  'Service',
  'LimitRange',
  'PriorityClass',
  'PersistentVolume',
  'PersistentVolumeClaim',
  'Deployment',
  'StatefulSet',
  'CronJob',
  'PodDisruptionBudget',
];
const lastKinds = ['MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration'];

/** Sorts objects by kind as kustomize does, then by name; kinds it does not know come between. */
export function orderObjects(objects: readonly KubeObject[]): KubeObject[] {
  const rank = (kind: string): number => {
    const first = kindOrder.indexOf(kind);
    if (first >= 0) return first;
    const last = lastKinds.indexOf(kind);
    return last >= 0 ? 1000 + last : 500;
  };
  const name = (o: KubeObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  return objects.toSorted(
    (a, b) => rank(a.kind) - rank(b.kind) || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0),
  );
}
