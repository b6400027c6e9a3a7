/**
 * `kubeloop.json`, the project file: what `kubeloop init` wrote and `kubeloop create api` added. `generate manifests`
 * reads it to know the project's name, namespace, folders and the kinds whose CRDs it owns.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CliError } from './errors.js';

export const projectFileName = 'kubeloop.json';

/** One version of a kind this project defines (and whose CRD it generates). */
export interface ProjectApi {
  /** The full group: `webapp.example.com`. */
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** The resource module, relative to the project: `src/api/webapp/v1/guestbook.ts`. */
  path: string;
  /** The reconciler module made with it, if any. */
  reconciler?: string;
}

export interface ProjectFile {
  /** The format of this file. */
  version: 1;
  /** The project's name, also the prefix of its Kubernetes objects. */
  name: string;
  /** The domain of its API groups. */
  domain: string;
  /** The namespace the operator runs in (`config/`). */
  namespace: string;
  /** Where the TypeScript sources are, and where `npm run build` puts the JavaScript. Default: `src`, `dist`. */
  sourceDir: string;
  outDir: string;
  /** The folder holding reconciler modules; every module in it is read by `generate manifests`. Default: `src/reconcilers`. */
  reconcilersDir: string;
  /**
   * The folder holding `@Webhook` classes (`kubeloop create webhook` writes them there); every module in it is read by
   * `generate manifests`. Default: `src/webhooks`.
   */
  webhooksDir: string;
  /**
   * The namespaces the operator watches; empty for every namespace. `generate manifests` turns it into a Role per
   * namespace (instead of one ClusterRole) and the Deployment's `WATCH_NAMESPACES`. Default: empty.
   */
  watchNamespaces: string[];
  /**
   * Who provisions the webhook server's certificate: `cert-manager` (an Issuer and a Certificate; cert-manager must run
   * in the cluster) or `kubeloop` (the operator's built-in provisioner keeps it in a Secret and patches each caBundle).
   * Default: `cert-manager`.
   */
  webhookCertificates: 'cert-manager' | 'kubeloop';
  apis: ProjectApi[];
}

export interface Project {
  /** The project's folder. */
  dir: string;
  file: ProjectFile;
}

function projectError(message: string, cause?: unknown): CliError {
  return new CliError('ERR_CLI_PROJECT', message, { cause });
}

/** The folder at or above `from` holding a kubeloop.json, or undefined. */
export function findProjectDir(from: string): string | undefined {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, projectFileName))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Checks a parsed kubeloop.json; the error names the field at fault. */
export function checkProjectFile(value: unknown, where: string): ProjectFile {
  const bad = (field: string, what: string): CliError =>
    projectError(`${where}: "${field}" ${what}; fix it by hand, or make a new project with \`kubeloop init\``);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('(root)', 'must be a JSON object');
  const v = value as Record<string, unknown>;
  if (v['version'] !== 1) throw bad('version', `is ${JSON.stringify(v['version'])}; this kubeloop reads version 1`);
  for (const field of ['name', 'domain', 'namespace'] as const)
    if (!isString(v[field])) throw bad(field, 'must be a non-empty string');
  for (const field of ['sourceDir', 'outDir', 'reconcilersDir', 'webhooksDir'] as const) {
    if (v[field] !== undefined && !isString(v[field])) throw bad(field, 'must be a non-empty string');
  }
  const watchNamespaces = v['watchNamespaces'] ?? [];
  if (
    !Array.isArray(watchNamespaces) ||
    !watchNamespaces.every((n) => typeof n === 'string' && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n))
  ) {
    throw bad('watchNamespaces', 'must be a list of namespace names');
  }
  const webhookCertificates = v['webhookCertificates'] ?? 'cert-manager';
  if (webhookCertificates !== 'cert-manager' && webhookCertificates !== 'kubeloop') {
    throw bad('webhookCertificates', `is ${JSON.stringify(webhookCertificates)}; use "cert-manager" or "kubeloop"`);
  }
  const apis = v['apis'] ?? [];
  if (!Array.isArray(apis)) throw bad('apis', 'must be a list');
  const checked = apis.map((api: unknown, i): ProjectApi => {
    const a = (typeof api === 'object' && api !== null ? api : {}) as Record<string, unknown>;
    for (const field of ['group', 'version', 'kind', 'plural', 'path'] as const) {
      if (!isString(a[field])) throw bad(`apis[${i}].${field}`, 'must be a non-empty string');
    }
    if (typeof a['namespaced'] !== 'boolean') throw bad(`apis[${i}].namespaced`, 'must be true or false');
    if (a['reconciler'] !== undefined && !isString(a['reconciler']))
      throw bad(`apis[${i}].reconciler`, 'must be a non-empty string');
    return {
      group: a['group'] as string,
      version: a['version'] as string,
      kind: a['kind'] as string,
      plural: a['plural'] as string,
      namespaced: a['namespaced'],
      path: a['path'] as string,
      ...(a['reconciler'] !== undefined && { reconciler: a['reconciler'] as string }),
    };
  });
  return {
    version: 1,
    name: v['name'] as string,
    domain: v['domain'] as string,
    namespace: v['namespace'] as string,
    sourceDir: (v['sourceDir'] as string | undefined) ?? 'src',
    outDir: (v['outDir'] as string | undefined) ?? 'dist',
    reconcilersDir: (v['reconcilersDir'] as string | undefined) ?? 'src/reconcilers',
    webhooksDir: (v['webhooksDir'] as string | undefined) ?? 'src/webhooks',
    watchNamespaces: watchNamespaces as string[],
    webhookCertificates,
    apis: checked,
  };
}

/**
 * The project at or above `from`. Errors (`ERR_CLI_PROJECT`): no kubeloop.json found (run `kubeloop init`, or run
 * the command inside the project), or one that is not valid JSON or lacks a field.
 */
export async function loadProject(from: string): Promise<Project> {
  const dir = findProjectDir(from);
  if (!dir) {
    throw projectError(
      `no ${projectFileName} in ${resolve(from)} or any folder above it: run this inside a project made by ` +
        '`kubeloop init <dir>`, or pass --project <dir>',
    );
  }
  const path = join(dir, projectFileName);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    throw projectError(`cannot read ${path}: ${(err as Error).message}`, err);
  }
  return { dir, file: checkProjectFile(parsed, path) };
}

/** The text of a kubeloop.json: stable key order, two-space indent, a final newline. */
export function projectFileText(file: ProjectFile): string {
  return `${JSON.stringify(file, null, 2)}\n`;
}
