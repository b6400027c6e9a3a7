/**
 * What `kubeloop create api` and `kubeloop create webhook` share: import paths between project files, the
 * registrations in `src/main.ts` (inserted before its marker lines), the resource module of a kind's version, and the
 * check that nothing is overwritten.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { CliError } from './errors.js';
import { camelCase, kebabCase, shortGroup } from './names.js';
import type { Project, ProjectApi } from './project.js';
import { renderTemplateFile } from './render.js';

export const importsMarker = '// kubeloop:scaffold:imports';
export const registerMarker = '// kubeloop:scaffold:reconcilers';
export const mainFile = 'main.ts';

const toPosix = (path: string): string => path.split(sep).join('/');

/** A relative ESM import specifier from one project file to another, `.ts` turned into `.js`. */
export function importPath(from: string, to: string): string {
  const rel = toPosix(relative(dirname(from), to)).replace(/\.ts$/, '.js');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** Inserts `line` before the marker line, with the marker's indentation. */
export function insertBefore(text: string, marker: string, line: string): string | undefined {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === marker);
  if (at < 0) return undefined;
  const indent = /^\s*/.exec(lines[at]!)![0];
  lines.splice(at, 0, indent + line);
  return lines.join('\n');
}

/** Something `src/main.ts` imports and hands to `mgr.register()`. */
export interface Registration {
  /** The exported name: `GuestbookReconciler`, `guestbookConversion`. */
  name: string;
  /** The project-relative module that exports it. */
  module: string;
}

/**
 * The text of `src/main.ts` with each registration imported and passed to `mgr.register()`, in order. `what` names
 * them in the error (`the webhook`) and `alternative` says how to do without, when there is a way.
 *
 * Errors: `ERR_CLI_PROJECT` when main.ts cannot be read or lacks a marker line.
 */
export async function registerInMain(
  project: Project,
  registrations: readonly Registration[],
  what: string,
  alternative = '',
): Promise<{ path: string; text: string }> {
  const path = `${project.file.sourceDir}/${mainFile}`;
  let text: string;
  try {
    text = await readFile(join(project.dir, path), 'utf8');
  } catch (err) {
    throw new CliError('ERR_CLI_PROJECT', `cannot read ${path} to register ${what}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  for (const r of registrations) {
    const withImport = insertBefore(text, importsMarker, `import { ${r.name} } from '${importPath(path, r.module)}';`);
    const withRegister = withImport && insertBefore(withImport, registerMarker, `mgr.register(${r.name});`);
    if (!withRegister) {
      throw new CliError(
        'ERR_CLI_PROJECT',
        `${path} lacks the line "${withImport ? registerMarker : importsMarker}" that marks where ${withImport ? 'registrations go' : 'imports go'}: ` +
          `put it back (see templates/init/src/main.ts.tmpl in kubeloop)${alternative}. Nothing was written`,
      );
    }
    text = withRegister;
  }
  return { path, text };
}

/** The path of a kind's resource module: `src/api/<short group>/<version>/<kind>.ts`. */
export function resourceModulePath(project: Project, group: string, version: string, kind: string): string {
  return `${project.file.sourceDir}/api/${shortGroup(group)}/${version}/${kebabCase(kind)}.ts`;
}

/** A version of a kind: its resource module's text, and its entry for kubeloop.json. */
export async function renderResourceModule(
  project: Project,
  api: Omit<ProjectApi, 'path' | 'reconciler'>,
  storage: boolean,
): Promise<{ path: string; text: string; api: ProjectApi }> {
  const path = resourceModulePath(project, api.group, api.version, api.kind);
  const text = await renderTemplateFile('api/resource.ts.tmpl', {
    kind: api.kind,
    kindCamel: camelCase(api.kind),
    group: api.group,
    version: api.version,
    plural: api.plural,
    namespaced: api.namespaced,
    storage,
  });
  return { path, text, api: { ...api, path } };
}

/** Throws `ERR_CLI_USAGE` naming the files of `paths` that exist already, and what to do. */
export function refuseExisting(project: Project, paths: Iterable<string>, instead: string): void {
  const existing = [...paths].filter((p) => existsSync(join(project.dir, p)));
  if (existing.length) {
    throw new CliError(
      'ERR_CLI_USAGE',
      `${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}: nothing was written; move ${existing.length === 1 ? 'it' : 'them'} away or ${instead}`,
    );
  }
}
