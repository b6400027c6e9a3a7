/**
 * Helpers for the CLI's integration and end-to-end tests: running the built `kubeloop` command, giving a scaffolded
 * project this checkout's packages without an install, and reading and submitting its manifests.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, symlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadAll } from 'js-yaml';
import {
  createDiscoveryClient,
  createDynamicClient,
  createRESTMapper,
  type RestConfig,
  type Unstructured,
} from '../../../sdk/client/index.js';

export const repoRoot = resolve(import.meta.dirname, '../../..');

const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));

/**
 * The command line that runs `command` so that the kernel kills it when this process dies (util-linux `setpriv
 * --pdeathsig`, where present, as kubeloop/envtest does): an interrupted test run leaves no operator or npm behind.
 */
export function dyingWithParent(command: string, args: readonly string[]): [string, string[]] {
  return setpriv ? [setpriv, ['--pdeathsig', 'SIGKILL', '--', command, ...args]] : [command, [...args]];
}
/** The built CLI (`npm run build`, which `npm test` runs first). */
export const cliBin = join(repoRoot, 'dist/sdk/cli/bin.js');

export interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end, collecting its output. */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Ran> {
  return new Promise((resolvePromise, reject) => {
    const [file, argv] = dyingWithParent(command, args);
    const child = spawn(file, argv, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Throws, with the command's output, unless it exited 0: for set-up steps outside tests. */
export function succeeded(ran: Ran, what: string): Ran {
  if (ran.code !== 0)
    throw new Error(`${what} failed (exit code ${ran.code}, signal ${ran.signal}):\n${ran.stdout}\n${ran.stderr}`);
  return ran;
}

/** Runs this checkout's built `kubeloop` with `args`. */
export function runCli(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<Ran> {
  if (!existsSync(cliBin)) throw new Error(`${cliBin} does not exist: run \`npm run build\` first`);
  return runCommand(process.execPath, [cliBin, ...args], options);
}

/** Runs this checkout's TypeScript compiler in `cwd`. */
export function runTsc(args: readonly string[], cwd: string): Promise<Ran> {
  return runCommand(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), ...args], { cwd });
}

/**
 * Gives a project made with `--skip-install` the packages it depends on, as symlinks into this checkout: `kubeloop`
 * (the checkout itself, built) and its typescript, vitest, js-yaml, reflect-metadata and @types/node. Enough to
 * build it and generate its manifests in a second, without npm.
 */
export async function linkCheckout(projectDir: string): Promise<void> {
  const modules = join(projectDir, 'node_modules');
  await mkdir(join(modules, '@types'), { recursive: true });
  await symlink(repoRoot, join(modules, 'kubeloop'), 'dir');
  for (const pkg of ['typescript', 'vitest', 'js-yaml', 'reflect-metadata', '@types/node']) {
    await symlink(join(repoRoot, 'node_modules', pkg), join(modules, pkg), 'dir');
  }
}

/** Every file under `dir` with its text, by relative path: to show that a refused command changed nothing. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const out: Record<string, string> = {};
  for (const e of entries
    .filter((x) => x.isFile())
    .toSorted((a, b) => (join(a.parentPath, a.name) < join(b.parentPath, b.name) ? -1 : 1))) {
    const path = join(e.parentPath, e.name);
    out[path.slice(dir.length + 1)] = await readFile(path, 'utf8');
  }
  return out;
}

/** The objects in YAML text. */
export function parseObjects(text: string): Unstructured[] {
  return loadAll(text).filter((d): d is Unstructured => typeof d === 'object' && d !== null);
}

/**
 * The folders under a project's config/ that config/default leaves out: the opt-in ServiceMonitor and NetworkPolicy
 * (commented out there, as kubebuilder does) and the sample objects.
 */
export const optInConfigFolders: readonly string[] = ['prometheus', 'network-policy', 'samples'];

/**
 * Every object in the YAML files under `dir` (recursively; kustomizations and patches aside, and the subfolders named
 * in `except`), files in name order.
 */
export async function objectsUnder(dir: string, except: readonly string[] = []): Promise<Unstructured[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const skipped = except.map((f) => join(dir, f));
  const files = entries
    .filter(
      (e) =>
        e.isFile() && e.name.endsWith('.yaml') && e.name !== 'kustomization.yaml' && !e.name.endsWith('_patch.yaml'),
    )
    .filter((e) => !skipped.some((f) => e.parentPath === f || e.parentPath.startsWith(`${f}/`)))
    .map((e) => join(e.parentPath, e.name))
    .toSorted();
  const objects: Unstructured[] = [];
  for (const file of files) objects.push(...parseObjects(await readFile(file, 'utf8')));
  return objects;
}

export interface Submitted {
  object: Unstructured;
  /** The server's answer to the dry run. */
  accepted: Unstructured;
}

/**
 * Submits each object with a server-side dry-run create (validated and admitted, nothing stored) through kubeloop's
 * dynamic client, finding each resource with the RESTMapper. Namespaces in the list are created for real first
 * (namespaced objects need theirs) unless `createNamespaces` is false.
 */
export async function dryRunCreate(
  config: RestConfig,
  objects: readonly Unstructured[],
  options: { createNamespaces?: boolean } = {},
): Promise<Submitted[]> {
  const dyn = createDynamicClient(config);
  const mapper = createRESTMapper(createDiscoveryClient(config));
  const ordered = [...objects.filter((o) => o.kind === 'Namespace'), ...objects.filter((o) => o.kind !== 'Namespace')];
  const out: Submitted[] = [];
  for (const object of ordered) {
    const apiVersion = object.apiVersion ?? '';
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const mapping = await mapper.restMapping({ group: group!, kind: object.kind ?? '', version: version! });
    const resource = dyn.resource(mapping.resource);
    const client =
      mapping.scope === 'Namespaced' ? resource.namespace(object.metadata?.namespace ?? 'default') : resource;
    if (object.kind === 'Namespace' && options.createNamespaces !== false) {
      out.push({ object, accepted: await client.create(object) });
    } else {
      out.push({ object, accepted: await client.create(object, { dryRun: ['All'] }) });
    }
  }
  return out;
}

/** Creates each object for real, in order. */
export async function createAll(config: RestConfig, objects: readonly Unstructured[]): Promise<void> {
  const dyn = createDynamicClient(config);
  const mapper = createRESTMapper(createDiscoveryClient(config));
  for (const object of objects) {
    const apiVersion = object.apiVersion ?? '';
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const mapping = await mapper.restMapping({ group: group!, kind: object.kind ?? '', version: version! });
    const resource = dyn.resource(mapping.resource);
    await (
      mapping.scope === 'Namespaced' ? resource.namespace(object.metadata?.namespace ?? 'default') : resource
    ).create(object);
  }
}
