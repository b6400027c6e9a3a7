/** The `kubeloop` command line, on commander: parsing, help, and turning errors into messages and exit codes. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { isKubeloopError } from '../../client/index.js';
import { createApi } from './create-api.js';
import { createWebhook, type CreateWebhookOptions } from './create-webhook.js';
import { CliError } from './errors.js';
import { initProject } from './init.js';
import { chartDir, generateHelm, generateInstall, installFile, projectVersion } from './install.js';
import { generateManifests } from './manifests.js';
import { createOutput, type Output, type OutputStreams } from './output.js';
import { loadProject } from './project.js';
import { packageRoot } from './render.js';
import { generateTypes, writeTypes } from './types.js';

export interface RunOptions {
  /** Where output goes. Default: the process's standard output and error. */
  streams?: OutputStreams;
  /** The folder relative paths and the project are found from. Default: `process.cwd()`. */
  cwd?: string;
  /** Environment of child processes (npm). Default: `process.env`. */
  env?: NodeJS.ProcessEnv;
}

function parseBoolean(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new CliError('ERR_CLI_USAGE', `expected true or false, got "${value}"`);
}

const projectOption = (): Option =>
  new Option('--project <dir>', 'the project folder (default: the nearest folder with kubeloop.json)');

/** What the commands' actions need: where output goes, the working folder, the environment of child processes. */
interface CommandContext {
  out: Output;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** `kubeloop init <dir>`. */
function addInitCommand(program: Command, { out, cwd, env }: CommandContext): void {
  program
    .command('init')
    .description('create a new operator project in <dir> (a new or empty folder)')
    .argument('<dir>', 'the folder to create')
    .option(
      '--name <name>',
      "the project's name, and the prefix of its Kubernetes objects (default: the folder's name)",
    )
    .option('--domain <domain>', 'the domain of its API groups', 'example.com')
    .option(
      '--watch-namespaces <list>',
      'comma-separated namespaces the operator watches, with a Role in each (default: every namespace, one ClusterRole)',
    )
    .option('--skip-install', 'do not run npm install')
    .option(
      '--kubeloop-from <tarball|dir|range>',
      'install kubeloop from a packed tarball, a folder (./path or /path), or a version range (default: this version from npm)',
    )
    .action(
      async (
        dir: string,
        opts: { name?: string; domain: string; watchNamespaces?: string; skipInstall?: boolean; kubeloopFrom?: string },
      ) => {
        await initProject({
          dir,
          cwd,
          domain: opts.domain,
          out,
          env,
          ...(opts.name !== undefined && { name: opts.name }),
          ...(opts.watchNamespaces !== undefined && {
            watchNamespaces: opts.watchNamespaces.split(',').map((n) => n.trim()),
          }),
          ...(opts.skipInstall && { skipInstall: true }),
          ...(opts.kubeloopFrom !== undefined && { kubeloopFrom: opts.kubeloopFrom }),
        });
      },
    );
}

/** `kubeloop create api` and `kubeloop create webhook`. */
function addCreateCommands(program: Command, context: CommandContext): void {
  const create = program.command('create').description('add to a project');
  addCreateApiCommand(create, context);
  addCreateWebhookCommand(create, context);
}

/** `kubeloop create api`. */
function addCreateApiCommand(create: Command, { out, cwd }: CommandContext): void {
  create
    .command('api')
    .description(
      'add a kind: its resource module (types, descriptor, CRD schema), a reconciler registered in src/main.ts, and a test',
    )
    .requiredOption(
      '--group <group>',
      'API group: a short name (webapp, gets the project domain) or a full one (webapp.example.com)',
    )
    .requiredOption('--version <version>', 'API version: v1, v1beta1, v1alpha1, …')
    .requiredOption('--kind <Kind>', 'the kind, in PascalCase: Guestbook')
    .option('--plural <plural>', "the resource's plural (default: the kind's English plural, in lower case)")
    .addOption(
      new Option('--namespaced [bool]', 'namespaced (true, the default) or cluster-scoped (false)').argParser(
        parseBoolean,
      ),
    )
    .addOption(new Option('--no-namespaced', 'cluster-scoped: the same as --namespaced=false'))
    .option('--no-reconciler', 'add the resource alone, without a reconciler and its test')
    .addOption(projectOption())
    .action(
      async (opts: {
        group: string;
        version: string;
        kind: string;
        plural?: string;
        namespaced?: boolean;
        reconciler: boolean;
        project?: string;
      }) => {
        const project = await loadProject(resolve(cwd, opts.project ?? '.'));
        await createApi({
          project,
          group: opts.group,
          version: opts.version,
          kind: opts.kind,
          out,
          ...(opts.plural !== undefined && { plural: opts.plural }),
          ...(opts.namespaced !== undefined && { namespaced: opts.namespaced }),
          ...(!opts.reconciler && { reconciler: false }),
        });
      },
    );
}

/** `kubeloop create webhook`. */
function addCreateWebhookCommand(create: Command, { out, cwd }: CommandContext): void {
  create
    .command('webhook')
    .description(
      'add webhooks to a kind made by create api: a @Webhook class that defaults and/or validates it, a conversion between its versions; each registered in src/main.ts, with a test',
    )
    .requiredOption(
      '--group <group>',
      'API group of the kind: a short name (webapp) or a full one (webapp.example.com)',
    )
    .requiredOption('--version <version>', 'the version admitted; with --conversion, the hub (the version stored)')
    .requiredOption('--kind <Kind>', 'the kind, in PascalCase: Guestbook')
    .option('--defaulting', 'a defaulter: the mutating webhook sets defaults')
    .option(
      '--programmatic-validation',
      'a validator: the validating webhook refuses invalid creates and updates with field errors',
    )
    .option('--conversion', 'a conversion between the hub (--version) and the other versions, served at /convert')
    .option(
      '--spoke <list>',
      'with --conversion: comma-separated spoke versions, each added if new (default: the other versions of the kind)',
    )
    .addOption(projectOption())
    .action(
      async (
        opts: Pick<
          CreateWebhookOptions,
          'group' | 'version' | 'kind' | 'defaulting' | 'programmaticValidation' | 'conversion'
        > & { spoke?: string; project?: string },
      ) => {
        const project = await loadProject(resolve(cwd, opts.project ?? '.'));
        await createWebhook({
          project,
          group: opts.group,
          version: opts.version,
          kind: opts.kind,
          out,
          ...(opts.defaulting && { defaulting: true }),
          ...(opts.programmaticValidation && { programmaticValidation: true }),
          ...(opts.conversion && { conversion: true }),
          ...(opts.spoke !== undefined && {
            spokes: opts.spoke
              .split(',')
              .map((v) => v.trim())
              .filter(Boolean),
          }),
        });
      },
    );
}

/** `kubeloop generate manifests`, `install`, `helm` and `types`. */
function addGenerateCommands(program: Command, context: CommandContext): void {
  const generate = program.command('generate').description('generate code and manifests');
  addGenerateManifestsCommand(generate, context);
  addGenerateInstallCommand(generate, context);
  addGenerateHelmCommand(generate, context);
  addGenerateTypesCommand(generate, context);
}

/** `kubeloop generate manifests`. */
function addGenerateManifestsCommand(generate: Command, { out, cwd }: CommandContext): void {
  generate
    .command('manifests')
    .description(
      'write CRDs (config/crd), the RBAC roles (config/rbac/role.yaml), the watched namespaces (config/manager) and the webhook configurations ' +
        '(config/webhook, config/certmanager) from the compiled resource, reconciler and webhook modules',
    )
    .addOption(projectOption())
    .action(async (opts: { project?: string }) => {
      const project = await loadProject(resolve(cwd, opts.project ?? '.'));
      const { manifests, changes, notes } = await generateManifests(project);
      for (const c of changes) out.info(`${c.action.padEnd(9)} ${c.path}`);
      const count = (n: number, what: string, plural = `${what}s`): string => `${n} ${n === 1 ? what : plural}`;
      const { crds, reconcilers, webhooks, conversions } = manifests;
      const extra =
        webhooks.length || conversions.length
          ? `, ${count(webhooks.length, 'webhook class', 'webhook classes')}, ${count(conversions.length, 'conversion')}`
          : '';
      out.info(`${count(crds.length, 'CRD')}, RBAC from ${count(reconcilers.length, 'reconciler')}${extra}`);
      for (const note of notes) out.info(`note: ${note}`);
    });
}

/** `kubeloop generate install`. */
function addGenerateInstallCommand(generate: Command, { out, cwd }: CommandContext): void {
  generate
    .command('install')
    .description(
      `run \`generate manifests\`, then render config/default into one file, ${installFile} (kubectl apply --server-side -f ${installFile})`,
    )
    .addOption(projectOption())
    .action(async (opts: { project?: string }) => {
      const project = await loadProject(resolve(cwd, opts.project ?? '.'));
      const { objects, changes } = await generateInstall(project);
      for (const c of changes) out.info(`${c.action.padEnd(9)} ${c.path}`);
      out.info(`${installFile}: ${objects.length} objects`);
    });
}

/** `kubeloop generate helm`. */
function addGenerateHelmCommand(generate: Command, { out, cwd }: CommandContext): void {
  generate
    .command('helm')
    .description(
      `run \`generate manifests\`, then write a Helm chart of config/default (and config/prometheus, config/network-policy) into ${chartDir}`,
    )
    .addOption(projectOption())
    .action(async (opts: { project?: string }) => {
      const project = await loadProject(resolve(cwd, opts.project ?? '.'));
      const { files, changes } = await generateHelm(project, await projectVersion(project.dir));
      for (const c of changes) out.info(`${c.action.padEnd(9)} ${c.path}`);
      out.info(
        `${chartDir}: ${files.filter((f) => f.startsWith('templates/')).length} templates; helm install ${project.file.name} ${chartDir} --namespace ${project.file.namespace} --create-namespace`,
      );
    });
}

/** `kubeloop generate types`. */
function addGenerateTypesCommand(generate: Command, { out, cwd }: CommandContext): void {
  generate
    .command('types')
    .description('write TypeScript types and resource descriptors for the CustomResourceDefinitions in a YAML file')
    .requiredOption('--crd <file>', 'a YAML (or JSON) file with one or more CustomResourceDefinitions')
    .option('--out <file>', 'write to this file (default: standard output)')
    .option('--import-from <module>', 'the module the output imports kubeloop names from', 'kubeloop/client')
    .option('--versions <list>', 'comma-separated versions to generate (default: every served version)')
    .option(
      '--definition',
      'write defineCustomResource definitions (the s schema builder: types, descriptor and schema in one) instead of interfaces',
    )
    .action(
      async (opts: { crd: string; out?: string; importFrom: string; versions?: string; definition?: boolean }) => {
        const text = await generateTypes({
          crd: resolve(cwd, opts.crd),
          importFrom: opts.importFrom,
          ...(opts.definition && { definition: true }),
          ...(opts.versions !== undefined && {
            versions: opts.versions
              .split(',')
              .map((v) => v.trim())
              .filter(Boolean),
          }),
        });
        if (opts.out) {
          await writeTypes(resolve(cwd, opts.out), text);
          out.progress(`wrote ${opts.out}`);
        } else {
          out.data(text);
        }
      },
    );
}

/** The whole `kubeloop` command tree (commander), without parsing: `run` parses with it; docs/reference/cli.md is generated from it. */
export function buildProgram(out: Output, cwd: string, env: NodeJS.ProcessEnv): Command {
  const version = (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string })
    .version;
  const program = new Command('kubeloop')
    .description('Scaffold, generate and build Kubernetes operators in TypeScript with kubeloop.')
    .version(version, '-v, --version', "print kubeloop's version")
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const context: CommandContext = { out, cwd, env };
  addInitCommand(program, context);
  addCreateCommands(program, context);
  addGenerateCommands(program, context);
  return program;
}

/**
 * Runs the CLI with `argv` (the arguments after `kubeloop`); resolves to the exit code: 0, or 1 after an error
 * message on standard error. Never throws and never exits the process.
 */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<number> {
  const streams = options.streams ?? { stdout: process.stdout, stderr: process.stderr };
  const out = createOutput(streams);
  const program = buildProgram(out, options.cwd ?? process.cwd(), options.env ?? process.env);
  const write = {
    writeOut: (s: string) => void streams.stdout.write(s),
    writeErr: (s: string) => void streams.stderr.write(s),
  };
  program.configureOutput(write);
  for (const c of program.commands) {
    c.configureOutput(write).exitOverride();
    for (const sub of c.commands) sub.configureOutput(write).exitOverride();
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" that exit 0; commander has already printed its message.
      return err.exitCode;
    }
    if (err instanceof CliError || isKubeloopError(err)) {
      streams.stderr.write(`error: ${(err as Error).message}\n`);
      return 1;
    }
    streams.stderr.write(`error: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
