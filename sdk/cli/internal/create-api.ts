/**
 * `kubeloop create api`: a resource module (types, descriptor and CRD version), a reconciler registered in
 * `src/main.ts`, and a test of it against a real API server. Every file is checked before any is written.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './errors.js';
import { applyFileChanges } from './files.js';
import { camelCase, checkKind, checkPlural, checkVersion, fullGroup, kebabCase, pluralOf } from './names.js';
import type { Output } from './output.js';
import { projectFileName, projectFileText, type Project, type ProjectApi } from './project.js';
import { renderTemplateFile } from './render.js';
import { importPath, refuseExisting, registerInMain, renderResourceModule } from './scaffold.js';

export interface CreateApiOptions {
  project: Project;
  /** A short group (`webapp`, gets the project's domain) or a full one (`webapp.example.com`). */
  group: string;
  version: string;
  kind: string;
  /** Default: the kind's English plural in lower case. */
  plural?: string;
  /** Default: true. */
  namespaced?: boolean;
  /** Make a reconciler (and its test). Default: true, unless the kind already exists in another version. */
  reconciler?: boolean;
  out: Output;
}

export { importsMarker, registerMarker } from './scaffold.js';

export const samplesKustomization = 'config/samples/kustomization.yaml';

/**
 * config/samples, as kubebuilder writes it: one sample object per API (`<group>_<version>_<kind>.yaml`) and a
 * kustomization listing the samples of kubeloop.json's APIs that are still there, the new one included.
 */
function sampleFiles(
  project: Project,
  api: { group: string; version: string; kind: string },
): { path: string; kustomization: string; existed: boolean } {
  const fileName = (a: { group: string; version: string; kind: string }): string =>
    `${a.group}_${a.version}_${a.kind.toLowerCase()}.yaml`;
  const present = project.file.apis.map(fileName).filter((n) => existsSync(join(project.dir, 'config/samples', n)));
  const names = [...new Set([...present, fileName(api)])].toSorted();
  const kustomization =
    "# The sample objects of this project's APIs (`kubeloop create api` adds each): kubectl apply -k config/samples\n" +
    'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n' +
    names.map((n) => `  - ${n}\n`).join('');
  return {
    path: `config/samples/${fileName(api)}`,
    kustomization,
    existed: existsSync(join(project.dir, samplesKustomization)),
  };
}

/** The API to add, checked against the project: its names, scope, and whether it gets a reconciler. */
interface ApiTarget {
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
  /** The kind's versions already in kubeloop.json. */
  sameKind: ProjectApi[];
  withReconciler: boolean;
}

/** Adds the API; returns the project-relative paths written. */
export async function createApi(options: CreateApiOptions): Promise<string[]> {
  const { project, out } = options;
  const target = apiTarget(options);
  const { kind, group, version, plural, namespaced, sameKind, withReconciler } = target;
  const { writes, mainPath, sampleExisted } = await planApi(project, target);

  await applyFileChanges([...writes].map(([path, text]) => ({ path: join(project.dir, path), text })));
  out.info(`Added ${kind} ${group}/${version} (${namespaced ? 'namespaced' : 'cluster-scoped'}, plural ${plural}):`);
  const updated = new Set([mainPath, projectFileName, ...(sampleExisted ? [samplesKustomization] : [])]);
  for (const path of writes.keys()) out.info(`  ${updated.has(path) ? 'updated' : 'created'} ${path}`);
  if (!withReconciler && sameKind.length > 0) {
    out.info(
      `  (a new version of an existing kind: storage: false, no reconciler; the storage version stays ${sameKind.find((a) => a.reconciler)?.version ?? sameKind[0]!.version})`,
    );
  }
  out.info('Next: describe the spec and status in the resource module (its interfaces and its schema), then');
  out.info('  npm run manifests && npm test');
  return [...writes.keys()];
}

/** Checks the options' names, then the API against kubeloop.json's: a duplicate or a clash is a usage error. */
function apiTarget(options: CreateApiOptions): ApiTarget {
  const file = options.project.file;
  const kind = checkKind(options.kind);
  const version = checkVersion(options.version);
  const group = fullGroup(options.group, file.domain);
  const plural = options.plural !== undefined ? checkPlural(options.plural) : pluralOf(kind);
  const namespaced = options.namespaced ?? true;
  if (file.apis.some((a) => a.group === group && a.kind === kind && a.version === version)) {
    throw new CliError(
      'ERR_CLI_USAGE',
      `${kind} ${group}/${version} already exists in this project (${projectFileName}); choose another kind or version`,
    );
  }
  const sameKind = file.apis.filter((a) => a.group === group && a.kind === kind);
  if (sameKind.some((a) => a.plural !== plural || a.namespaced !== namespaced)) {
    throw new CliError(
      'ERR_CLI_USAGE',
      `${kind} exists in ${group} with another plural or scope; every version of a kind shares them`,
    );
  }
  const pluralClash = file.apis.find((a) => a.group === group && a.plural === plural && a.kind !== kind);
  if (pluralClash)
    throw new CliError(
      'ERR_CLI_USAGE',
      `${pluralClash.kind} in ${group} already has the plural "${plural}"; pass another --plural`,
    );
  const withReconciler = options.reconciler ?? sameKind.length === 0;
  if (withReconciler && sameKind.some((a) => a.reconciler)) {
    throw new CliError(
      'ERR_CLI_USAGE',
      `${kind} already has a reconciler (${sameKind.find((a) => a.reconciler)!.reconciler}); pass --no-reconciler to add the version alone`,
    );
  }
  return { group, version, kind, plural, namespaced, sameKind, withReconciler };
}

/**
 * Renders every file the API adds or updates, in the order they are written, without writing any: the resource
 * module, the reconciler and its tests, the sample, the samples' kustomization, src/main.ts and kubeloop.json.
 * A file to create that exists already is refused.
 */
async function planApi(
  project: Project,
  target: ApiTarget,
): Promise<{ writes: Map<string, string>; mainPath: string | undefined; sampleExisted: boolean }> {
  const file = project.file;
  const { group, version, kind, plural, namespaced, sameKind, withReconciler } = target;
  const base = kebabCase(kind);
  const resource = await renderResourceModule(
    project,
    { group, version, kind, plural, namespaced },
    sameKind.length === 0,
  );
  const reconcilerPath = `${file.reconcilersDir}/${base}-reconciler.ts`;
  const writes = new Map<string, string>();
  writes.set(resource.path, resource.text);
  if (withReconciler) {
    for (const [path, text] of await reconcilerFiles(target, base, reconcilerPath, resource.path))
      writes.set(path, text);
  }
  const sample = sampleFiles(project, { group, version, kind });
  writes.set(
    sample.path,
    await renderTemplateFile('api/sample.yaml.tmpl', {
      name: file.name,
      group,
      version,
      kind,
      kindLower: kind.toLowerCase(),
    }),
  );
  refuseExisting(project, writes.keys(), 'choose another kind');
  writes.set(samplesKustomization, sample.kustomization);

  let mainPath: string | undefined;
  if (withReconciler) {
    const main = await registerInMain(
      project,
      [{ name: `${kind}Reconciler`, module: reconcilerPath }],
      'the reconciler',
      ', or pass --no-reconciler',
    );
    mainPath = main.path;
    writes.set(main.path, main.text);
  }

  const api: ProjectApi = { ...resource.api, ...(withReconciler && { reconciler: reconcilerPath }) };
  writes.set(projectFileName, projectFileText({ ...file, apis: [...file.apis, api] }));
  return { writes, mainPath, sampleExisted: sample.existed };
}

/** The reconciler, its test against a real API server and its unit test with the fake client, rendered. */
async function reconcilerFiles(
  { kind, namespaced }: ApiTarget,
  base: string,
  reconcilerPath: string,
  resourcePath: string,
): Promise<[string, string][]> {
  const testPath = `test/${base}-reconciler.test.ts`;
  const values = {
    kind,
    kindCamel: camelCase(kind),
    kindLower: kind.toLowerCase(),
    namespaced,
    resourceImport: importPath(reconcilerPath, resourcePath),
    testResourceImport: importPath(testPath, resourcePath),
    testReconcilerImport: importPath(testPath, reconcilerPath),
    testSupportImport: './support.js',
  };
  return [
    [reconcilerPath, await renderTemplateFile('api/reconciler.ts.tmpl', values)],
    [testPath, await renderTemplateFile('api/reconciler.test.ts.tmpl', values)],
    // The same folder as testPath, so the same imports: a unit test with the fake client, no control plane.
    [`test/${base}-reconciler.unit.test.ts`, await renderTemplateFile('api/reconciler.unit.test.ts.tmpl', values)],
  ];
}
