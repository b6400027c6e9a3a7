/**
 * `kubeloop init <dir>`: a new operator project from `templates/init`. The project is written into a hidden folder
 * beside the target, installed there (unless `skipInstall`), and only then renamed into place: an error or an
 * interruption leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { CliError } from './errors.js';
import { generateManifests } from './manifests.js';
import { checkDomain, checkNamespace, checkProjectName } from './names.js';
import { runNpm } from './npm.js';
import type { Output } from './output.js';
import { projectFileName, projectFileText, type ProjectFile } from './project.js';
import { packageRoot, renderTemplateSet, type TemplateValues } from './render.js';

export interface InitOptions {
  /** The folder to create (or an empty one to fill). */
  dir: string;
  /** Default: the folder's name. */
  name?: string;
  /** Default: `example.com`. */
  domain?: string;
  /** Watch these namespaces only (a Role in each, not a ClusterRole). Default: every namespace. */
  watchNamespaces?: string[];
  /** Do not run `npm install`. Default: false. */
  skipInstall?: boolean;
  /**
   * Where the project's `kubeloop` dependency comes from: a packed tarball or a folder (a `file:` dependency), or an
   * npm version range. Default: `^<this kubeloop's version>` from the registry.
   */
  kubeloopFrom?: string;
  out: Output;
  /** Environment for npm. Default: this process's. */
  env?: NodeJS.ProcessEnv;
  /** The folder relative paths (`dir`, `kubeloopFrom`) start from. Default: `process.cwd()`. */
  cwd?: string;
}

interface KubeloopManifest {
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function kubeloopManifest(): KubeloopManifest {
  return JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as KubeloopManifest;
}

/** The dependency spec of kubeloop for package.json. */
async function kubeloopDependency(from: string | undefined, version: string, cwd: string): Promise<string> {
  if (from === undefined) return `^${version}`;
  const looksLikePath = /^(\.{0,2}\/|~|[A-Za-z]:\\)/.test(from) || from.endsWith('.tgz') || from.startsWith('file:');
  if (!looksLikePath) return from;
  const path = resolve(cwd, from.replace(/^file:/, ''));
  try {
    await stat(path);
  } catch {
    throw new CliError(
      'ERR_CLI_USAGE',
      `--kubeloop-from ${from}: ${path} does not exist; give a tarball made by \`npm pack\`, a kubeloop folder, or a version range`,
    );
  }
  return `file:${path}`;
}

async function checkTarget(dir: string): Promise<'missing' | 'empty'> {
  let info;
  try {
    info = await stat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  if (!info.isDirectory())
    throw new CliError('ERR_CLI_USAGE', `${dir} exists and is not a folder: choose another path for the new project`);
  const entries = await readdir(dir);
  if (entries.length > 0) {
    throw new CliError(
      'ERR_CLI_USAGE',
      `${dir} is not empty (it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}): kubeloop init only writes ` +
        'into a new or empty folder; choose another one',
    );
  }
  return 'empty';
}

function range(deps: Record<string, string> | undefined, pkg: string): string {
  const r = deps?.[pkg];
  if (!r) throw new Error(`kubeloop's package.json has no ${pkg} to pin the new project's ${pkg} to`);
  return r;
}

/** The values of the init templates: the project's names and the versions the new project pins. */
async function initValues(
  name: string,
  domain: string,
  kubeloopFrom: string | undefined,
  cwd: string,
): Promise<TemplateValues> {
  const manifest = kubeloopManifest();
  return {
    name,
    domain,
    namespace: `${name}-system`,
    leaseName: `${name}.${domain}`,
    image: `${name}:latest`,
    kubeloopDependency: await kubeloopDependency(kubeloopFrom, manifest.version, cwd),
    kubeloopVersion: manifest.version,
    reflectMetadataVersion: range(manifest.dependencies, 'reflect-metadata'),
    jsYamlVersion: range(manifest.dependencies, 'js-yaml'),
    typescriptVersion: range(manifest.devDependencies, 'typescript'),
    vitestVersion: range(manifest.devDependencies, 'vitest'),
    typesNodeVersion: range(manifest.devDependencies, '@types/node'),
  };
}

/** Writes the project into `staging`: the rendered files, the generated manifests, and (unless skipped) its npm install. */
async function writeStaging(
  staging: string,
  files: Map<string, string>,
  projectFile: ProjectFile,
  options: InitOptions,
  values: TemplateValues,
): Promise<void> {
  const { out } = options;
  const { name, domain } = projectFile;
  out.progress(`Writing ${files.size} files for ${name} (API groups under ${domain})`);
  for (const [path, text] of files) {
    await mkdir(dirname(join(staging, path)), { recursive: true });
    await writeFile(join(staging, path), text);
  }
  // The generated files (an empty ClusterRole, no CRDs yet) come from the generator itself, so they never differ
  // from what `kubeloop generate manifests` writes.
  await generateManifests({ dir: staging, file: projectFile });
  await mkdir(join(staging, 'src', 'api'), { recursive: true });
  await mkdir(join(staging, 'src', 'reconcilers'), { recursive: true });
  if (!options.skipInstall) {
    out.progress(
      `Installing dependencies with npm (kubeloop ${values['kubeloopDependency']}, typescript, vitest); this takes a minute`,
    );
    const started = Date.now();
    await runNpm({
      cwd: staging,
      args: ['install', '--no-audit', '--no-fund'],
      activity: 'installing dependencies',
      out,
      ...(options.env && { env: options.env }),
    });
    out.progress(`Installed in ${Math.round((Date.now() - started) / 1000)} s`);
  }
}

/** Creates the project; returns its folder. See {@link InitOptions}. */
export async function initProject(options: InitOptions): Promise<string> {
  const { out } = options;
  const cwd = options.cwd ?? process.cwd();
  const dir = resolve(cwd, options.dir);
  const name = checkProjectName(options.name ?? basename(dir));
  const domain = checkDomain(options.domain ?? 'example.com');
  const watchNamespaces = (options.watchNamespaces ?? []).map(checkNamespace);
  const target = await checkTarget(dir);
  const namespace = `${name}-system`;
  const values = await initValues(name, domain, options.kubeloopFrom, cwd);
  const files = await renderTemplateSet('init', values);
  const projectFile: ProjectFile = {
    version: 1,
    name,
    domain,
    namespace,
    sourceDir: 'src',
    outDir: 'dist',
    reconcilersDir: 'src/reconcilers',
    webhooksDir: 'src/webhooks',
    watchNamespaces,
    webhookCertificates: 'cert-manager',
    apis: [],
  };
  files.set(projectFileName, projectFileText(projectFile));

  await mkdir(dirname(dir), { recursive: true });
  const staging = join(dirname(dir), `.${basename(dir)}.kubeloop-init-${randomBytes(4).toString('hex')}`);
  const shown = relative(cwd, dir) || '.';
  try {
    await writeStaging(staging, files, projectFile, options, values);
    if (target === 'empty') await rmdir(dir);
    await rename(staging, dir);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    if (err instanceof CliError && err.code === 'ERR_CLI_INSTALL') {
      throw new CliError(
        'ERR_CLI_INSTALL',
        `${err.message}\nNothing was written. Fix the cause and run kubeloop init again, or pass --skip-install and run npm install yourself`,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
  out.info(`Created ${name} in ${shown}.`);
  out.info('Next:');
  out.info(`  cd ${shown}`);
  if (options.skipInstall) out.info('  npm install');
  out.info('  npx kubeloop create api --group webapp --version v1 --kind Guestbook');
  out.info('  npm run manifests && npm test');
  return dir;
}
