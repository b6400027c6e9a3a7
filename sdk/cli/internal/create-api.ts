/**
 * `kubeloop create api`: a resource module (types, descriptor and CRD version), a reconciler registered in
 * `src/main.ts`, and a test of it against a real API server. Every file is checked before any is written.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { CliError } from './errors.js';
import { applyFileChanges } from './files.js';
import { camelCase, checkKind, checkPlural, checkVersion, fullGroup, kebabCase, pluralOf, shortGroup } from './names.js';
import type { Output } from './output.js';
import { projectFileName, projectFileText, type Project, type ProjectApi } from './project.js';
import { renderTemplateFile } from './render.js';

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

export const importsMarker = '// kubeloop:scaffold:imports';
export const registerMarker = '// kubeloop:scaffold:reconcilers';
const mainFile = 'main.ts';

const toPosix = (path: string): string => path.split(sep).join('/');

/** A relative ESM import specifier from one project file to another, `.ts` turned into `.js`. */
function importPath(from: string, to: string): string {
  const rel = toPosix(relative(dirname(from), to)).replace(/\.ts$/, '.js');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** Inserts `line` before the marker line, with the marker's indentation. */
function insertBefore(text: string, marker: string, line: string): string | undefined {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === marker);
  if (at < 0) return undefined;
  const indent = /^\s*/.exec(lines[at]!)![0];
  lines.splice(at, 0, indent + line);
  return lines.join('\n');
}

/** Adds the API; returns the project-relative paths written. */
export async function createApi(options: CreateApiOptions): Promise<string[]> {
  const { project, out } = options;
  const file = project.file;
  const kind = checkKind(options.kind);
  const version = checkVersion(options.version);
  const group = fullGroup(options.group, file.domain);
  const plural = options.plural !== undefined ? checkPlural(options.plural) : pluralOf(kind);
  const namespaced = options.namespaced ?? true;
  if (file.apis.some((a) => a.group === group && a.kind === kind && a.version === version)) {
    throw new CliError('ERR_CLI_USAGE', `${kind} ${group}/${version} already exists in this project (${projectFileName}); choose another kind or version`);
  }
  const sameKind = file.apis.filter((a) => a.group === group && a.kind === kind);
  if (sameKind.some((a) => a.plural !== plural || a.namespaced !== namespaced)) {
    throw new CliError('ERR_CLI_USAGE', `${kind} exists in ${group} with another plural or scope; every version of a kind shares them`);
  }
  const pluralClash = file.apis.find((a) => a.group === group && a.plural === plural && a.kind !== kind);
  if (pluralClash) throw new CliError('ERR_CLI_USAGE', `${pluralClash.kind} in ${group} already has the plural "${plural}"; pass another --plural`);
  const withReconciler = options.reconciler ?? sameKind.length === 0;
  if (withReconciler && sameKind.some((a) => a.reconciler)) {
    throw new CliError('ERR_CLI_USAGE', `${kind} already has a reconciler (${sameKind.find((a) => a.reconciler)!.reconciler}); pass --no-reconciler to add the version alone`);
  }

  const base = kebabCase(kind);
  const resourcePath = `${file.sourceDir}/api/${shortGroup(group)}/${version}/${base}.ts`;
  const reconcilerPath = `${file.reconcilersDir}/${base}-reconciler.ts`;
  const testPath = `test/${base}-reconciler.test.ts`;
  const mainPath = `${file.sourceDir}/${mainFile}`;

  const values = {
    kind,
    kindCamel: camelCase(kind),
    kindLower: kind.toLowerCase(),
    group,
    version,
    plural,
    namespaced,
    storage: sameKind.length === 0,
    resourceImport: importPath(reconcilerPath, resourcePath),
    testResourceImport: importPath(testPath, resourcePath),
    testReconcilerImport: importPath(testPath, reconcilerPath),
    testSupportImport: './support.js',
    name: file.name,
  };
  const writes = new Map<string, string>();
  writes.set(resourcePath, await renderTemplateFile('api/resource.ts.tmpl', values));
  if (withReconciler) {
    writes.set(reconcilerPath, await renderTemplateFile('api/reconciler.ts.tmpl', values));
    writes.set(testPath, await renderTemplateFile('api/reconciler.test.ts.tmpl', values));
  }
  const existing = [...writes.keys()].filter((p) => existsSync(join(project.dir, p)));
  if (existing.length) {
    throw new CliError('ERR_CLI_USAGE', `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}: nothing was written; move ${existing.length === 1 ? 'it' : 'them'} away or choose another kind`);
  }

  if (withReconciler) {
    let main: string;
    try {
      main = await readFile(join(project.dir, mainPath), 'utf8');
    } catch (err) {
      throw new CliError('ERR_CLI_PROJECT', `cannot read ${mainPath} to register the reconciler: ${(err as Error).message}`, { cause: err });
    }
    const className = `${kind}Reconciler`;
    const withImport = insertBefore(main, importsMarker, `import { ${className} } from '${importPath(mainPath, reconcilerPath)}';`);
    const withRegister = withImport && insertBefore(withImport, registerMarker, `mgr.register(${className});`);
    if (!withRegister) {
      throw new CliError(
        'ERR_CLI_PROJECT',
        `${mainPath} lacks the line "${withImport ? registerMarker : importsMarker}" that marks where reconcilers are ${withImport ? 'registered' : 'imported'}: ` +
          'put it back (see templates/init/src/main.ts.tmpl in kubeloop), or pass --no-reconciler. Nothing was written',
      );
    }
    writes.set(mainPath, withRegister);
  }

  const api: ProjectApi = { group, version, kind, plural, namespaced, path: resourcePath, ...(withReconciler && { reconciler: reconcilerPath }) };
  writes.set(projectFileName, projectFileText({ ...file, apis: [...file.apis, api] }));

  await applyFileChanges([...writes].map(([path, text]) => ({ path: join(project.dir, path), text })));
  out.info(`Added ${kind} ${group}/${version} (${namespaced ? 'namespaced' : 'cluster-scoped'}, plural ${plural}):`);
  for (const path of writes.keys()) out.info(`  ${path === mainPath || path === projectFileName ? 'updated' : 'created'} ${path}`);
  if (!withReconciler && sameKind.length > 0) {
    out.info(`  (a new version of an existing kind: storage: false, no reconciler; the storage version stays ${sameKind.find((a) => a.reconciler)?.version ?? sameKind[0]!.version})`);
  }
  out.info('Next: describe the spec and status in the resource module (its interfaces and its schema), then');
  out.info('  npm run manifests && npm test');
  return [...writes.keys()];
}
