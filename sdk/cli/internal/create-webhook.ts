/**
 * `kubeloop create webhook`: for a kind the project already has (`kubeloop create api`), a `@Webhook` class that
 * defaults and/or validates it, and a conversion between its versions (`defineConversion`), each registered in
 * `src/main.ts` with a test of it against a real API server. Every file is checked before any is written.
 */
import { join } from 'node:path';
import { defaultingPath, validatingPath } from '../../webhook/index.js';
import { CliError } from './errors.js';
import { applyFileChanges } from './files.js';
import { camelCase, checkKind, checkVersion, fullGroup, kebabCase, shortGroup } from './names.js';
import type { Output } from './output.js';
import { projectFileName, projectFileText, type Project, type ProjectApi } from './project.js';
import { renderTemplateFile, type TemplateValues } from './render.js';
import { importPath, refuseExisting, registerInMain, renderResourceModule, type Registration } from './scaffold.js';

export interface CreateWebhookOptions {
  project: Project;
  /** A short group (`webapp`, gets the project's domain) or a full one (`webapp.example.com`). */
  group: string;
  /** The version the webhooks admit; with `conversion`, the hub. */
  version: string;
  kind: string;
  /** A `default` method: a mutating webhook. Default: false. */
  defaulting?: boolean;
  /** `validateCreate`, `validateUpdate`, `validateDelete`: a validating webhook. Default: false. */
  programmaticValidation?: boolean;
  /** A conversion between `version` (the hub) and the spokes. Default: false. */
  conversion?: boolean;
  /**
   * The spoke versions of the conversion; one the project does not have yet gets a resource module (as `kubeloop
   * create api` writes it, not stored). Default: every other version of the kind in kubeloop.json.
   */
  spokes?: string[];
  out: Output;
}

/** The default message of the example defaulter, and what its test expects. */
const defaultMessage = 'Hello';

/** Local names the scaffolded methods use; a kind whose camelCase is one of them calls its object `obj`. */
const localNames = new Set(['ctx', 'errors', 'text', 'spec', 'status', 'rest']);

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** The exported names of kubeloop/webhook the class needs, in the order the import lists them. */
function webhookImports(defaulting: boolean, validating: boolean): string[] {
  return [
    ...(validating ? ['ValidationError'] : []),
    'Webhook',
    ...(validating ? ['fieldError'] : []),
    'type AdmissionContext',
    ...(defaulting ? ['type Defaulter'] : []),
    ...(validating ? ['type FieldError', 'type Validator', 'type Warnings'] : []),
  ];
}

/** The kind the webhooks are for, checked against the project: its api entry and every version of it. */
interface WebhookTarget {
  project: Project;
  kind: string;
  version: string;
  group: string;
  /** The kind's entry of the version given. */
  api: ProjectApi;
  /** Every version of the kind in the project. */
  sameKind: ProjectApi[];
  base: string;
  kindCamel: string;
}

/** What the scaffold writes (project-relative path → text), registers in main.ts, adds to kubeloop.json and notes. */
interface WebhookPlan {
  writes: Map<string, string>;
  registrations: Registration[];
  newApis: ProjectApi[];
  notes: string[];
}

/** Checks the options: something to scaffold, and a kind and version the project has. */
function webhookTarget(
  options: CreateWebhookOptions,
): WebhookTarget & { defaulting: boolean; validating: boolean; conversion: boolean } {
  const { project } = options;
  const file = project.file;
  const kind = checkKind(options.kind);
  const version = checkVersion(options.version);
  const group = fullGroup(options.group, file.domain);
  const defaulting = options.defaulting ?? false;
  const validating = options.programmaticValidation ?? false;
  const conversion = options.conversion ?? false;
  if (!defaulting && !validating && !conversion) {
    throw new CliError(
      'ERR_CLI_USAGE',
      `say what to scaffold for ${kind}: --defaulting (a defaulter), --programmatic-validation (a validator), --conversion (a conversion between its versions), or several`,
    );
  }
  if (options.spokes !== undefined && !conversion)
    throw new CliError('ERR_CLI_USAGE', '--spoke names the versions of a conversion: pass --conversion with it');
  const sameKind = file.apis.filter((a) => a.group === group && a.kind === kind);
  const api = sameKind.find((a) => a.version === version);
  if (!api) {
    const createApi = `kubeloop create api --group ${shortGroup(group)} --version ${version} --kind ${kind}`;
    throw new CliError(
      'ERR_CLI_USAGE',
      sameKind.length === 0
        ? `${kind} is not a kind of this project in ${group} (${projectFileName} lists ${file.apis.length ? [...new Set(file.apis.map((a) => `${a.kind} ${a.group}`))].join(', ') : 'none'}): ` +
            `run \`${createApi}\` first`
        : `${kind} ${group} has no version ${version} in this project (it has ${sameKind.map((a) => a.version).join(', ')}): pass one of those, ` +
            `or run \`${createApi}\` first`,
    );
  }
  return {
    project,
    kind,
    version,
    group,
    api,
    sameKind,
    base: kebabCase(kind),
    kindCamel: camelCase(kind),
    defaulting,
    validating,
    conversion,
  };
}

/** The `@Webhook` class that defaults and/or validates the kind, and its test. */
async function planAdmissionWebhook(
  target: WebhookTarget,
  defaulting: boolean,
  validating: boolean,
  plan: WebhookPlan,
): Promise<void> {
  const { kind, version, group, api, base, kindCamel } = target;
  const file = target.project.file;
  const { writes, registrations } = plan;
  const webhookPath = `${file.webhooksDir}/${base}-webhook.ts`;
  const testPath = `test/${base}-webhook.test.ts`;
  const obj = localNames.has(kindCamel) ? 'obj' : kindCamel;
  const values = {
    kind,
    kindCamel,
    kindLower: kind.toLowerCase(),
    group,
    version,
    namespaced: api.namespaced,
    defaulting,
    validating,
    both: defaulting && validating,
    obj,
    oldObj: `old${capitalize(obj)}`,
    defaultMessage,
    defaultingPath: defaultingPath({ group, version, kind, plural: api.plural, namespaced: api.namespaced }),
    validatingPath: validatingPath({ group, version, kind, plural: api.plural, namespaced: api.namespaced }),
    webhookImports: webhookImports(defaulting, validating)
      .map((name) => `  ${name},`)
      .join('\n'),
    implementsList: [...(defaulting ? [`Defaulter<${kind}>`] : []), ...(validating ? [`Validator<${kind}>`] : [])].join(
      ', ',
    ),
    resourceImport: importPath(webhookPath, api.path),
    testResourceImport: importPath(testPath, api.path),
    testWebhookImport: importPath(testPath, webhookPath),
  };
  writes.set(webhookPath, await renderTemplateFile('webhook/webhook.ts.tmpl', values));
  writes.set(testPath, await renderTemplateFile('webhook/webhook.test.ts.tmpl', values));
  registrations.push({ name: `${kind}Webhook`, module: webhookPath });
}

/** The conversion between the hub (the version given) and the spokes, its test, and resource modules of new spokes. */
async function planConversion(
  target: WebhookTarget,
  spokeOption: string[] | undefined,
  plan: WebhookPlan,
): Promise<void> {
  const { project, version, group, api, sameKind, base, kindCamel } = target;
  const { writes, registrations, notes } = plan;
  const spokeVersions = checkSpokeVersions(target, spokeOption);
  const conversionPath = `${project.file.sourceDir}/api/${shortGroup(group)}/${base}-conversion.ts`;
  const testPath = `test/${base}-conversion.test.ts`;
  const spokes = await planSpokes(target, spokeVersions, plan);
  const values = await conversionValues(target, spokes, conversionPath, testPath);
  writes.set(conversionPath, await renderTemplateFile('webhook/conversion.ts.tmpl', values));
  writes.set(testPath, await renderTemplateFile('webhook/conversion.test.ts.tmpl', values));
  registrations.push({ name: `${kindCamel}Conversion`, module: conversionPath });
  const stored = sameKind[0]!;
  if (stored.version !== version) {
    notes.push(
      `the hub, ${version}, must be the version stored: move \`storage: true\` from ${stored.version}'s CRD version (${stored.path}) to ${version}'s (${api.path}), ` +
        'or `kubeloop generate manifests` refuses the conversion',
    );
  }
}

/** The spoke versions: --spoke's (checked), or else the kind's other versions; at least one, never the hub. */
function checkSpokeVersions(
  { kind, version, group, sameKind }: WebhookTarget,
  spokeOption: string[] | undefined,
): string[] {
  const spokeVersions = [
    ...new Set((spokeOption ?? sameKind.filter((a) => a.version !== version).map((a) => a.version)).map(checkVersion)),
  ];
  if (spokeVersions.length === 0) {
    throw new CliError(
      'ERR_CLI_USAGE',
      `${kind} ${group} has only the version ${version}: a conversion needs another one. Pass --spoke <version> (e.g. --spoke v1alpha1) to add it, ` +
        `or run \`kubeloop create api --group ${shortGroup(group)} --version <version> --kind ${kind}\` first`,
    );
  }
  if (spokeVersions.includes(version)) {
    throw new CliError(
      'ERR_CLI_USAGE',
      `--spoke ${version} is the hub (--version): the spokes are the other versions of ${kind}`,
    );
  }
  return spokeVersions;
}

/** Each spoke's resource module: the project's, or a new one (added to the plan's writes and kubeloop.json's APIs). */
async function planSpokes(
  { project, kind, group, api, sameKind }: WebhookTarget,
  spokeVersions: readonly string[],
  { writes, newApis }: WebhookPlan,
): Promise<{ version: string; path: string }[]> {
  const spokes: { version: string; path: string }[] = [];
  for (const spokeVersion of spokeVersions) {
    const existing = sameKind.find((a) => a.version === spokeVersion);
    if (existing) {
      spokes.push({ version: spokeVersion, path: existing.path });
      continue;
    }
    const resource = await renderResourceModule(
      project,
      { group, version: spokeVersion, kind, plural: api.plural, namespaced: api.namespaced },
      false,
    );
    writes.set(resource.path, resource.text);
    newApis.push(resource.api);
    spokes.push({ version: spokeVersion, path: resource.path });
  }
  return spokes;
}

/** The conversion templates' values: the hub's and spokes' imports, and each spoke's functions and tests rendered. */
async function conversionValues(
  { kind, version, api, kindCamel }: WebhookTarget,
  spokes: readonly { version: string; path: string }[],
  conversionPath: string,
  testPath: string,
): Promise<TemplateValues> {
  const spokeValues = spokes.map((s) => ({
    kind,
    namespaced: api.namespaced,
    hubVersion: version,
    spokeVersion: s.version,
    spokeSuffix: capitalize(s.version),
    spokeName: `${kind}${capitalize(s.version)}`,
    path: s.path,
  }));
  const importsOf = (from: string): string =>
    spokeValues.map((s) => `import { ${kind} as ${s.spokeName} } from '${importPath(from, s.path)}';`).join('\n');
  const renderEach = async (template: string): Promise<string> =>
    (await Promise.all(spokeValues.map((s) => renderTemplateFile(template, s)))).join('');
  return {
    kind,
    kindCamel,
    kindLower: kind.toLowerCase(),
    namespaced: api.namespaced,
    hubVersion: version,
    hubImport: importPath(conversionPath, api.path),
    spokeImports: importsOf(conversionPath),
    spokeEntries: spokeValues
      .map((s) => `    { resource: ${s.spokeName}, toHub: ${s.spokeVersion}ToHub, fromHub: hubTo${s.spokeSuffix} },`)
      .join('\n'),
    spokeFunctions: await renderEach('webhook/conversion-spoke.ts.tmpl'),
    testHubImport: importPath(testPath, api.path),
    testConversionImport: importPath(testPath, conversionPath),
    testSpokeImports: importsOf(testPath),
    spokeTests: await renderEach('webhook/conversion-spoke.test.ts.tmpl'),
  };
}

/** Adds the webhooks; returns the project-relative paths written. */
export async function createWebhook(options: CreateWebhookOptions): Promise<string[]> {
  const { project, out } = options;
  const file = project.file;
  const target = webhookTarget(options);
  const { kind, version, group, defaulting, validating, conversion } = target;
  const plan: WebhookPlan = { writes: new Map(), registrations: [], newApis: [], notes: [] };
  if (defaulting || validating) await planAdmissionWebhook(target, defaulting, validating, plan);
  if (conversion) await planConversion(target, options.spokes, plan);
  const { writes, registrations, newApis, notes } = plan;

  refuseExisting(project, writes.keys(), 'choose what to scaffold with the flags');
  const main = await registerInMain(project, registrations, registrations.map((r) => r.name).join(' and '));
  writes.set(main.path, main.text);
  if (newApis.length > 0) writes.set(projectFileName, projectFileText({ ...file, apis: [...file.apis, ...newApis] }));

  await applyFileChanges([...writes].map(([path, text]) => ({ path: join(project.dir, path), text })));
  const what = [
    ...(defaulting ? ['defaulting'] : []),
    ...(validating ? ['validation'] : []),
    ...(conversion ? ['conversion'] : []),
  ];
  out.info(`Added ${what.join(', ')} webhooks for ${kind} ${group}/${version}:`);
  for (const path of writes.keys())
    out.info(`  ${path === main.path || path === projectFileName ? 'updated' : 'created'} ${path}`);
  for (const note of notes) out.info(`note: ${note}`);
  out.info('Next: write your rules in place of the examples, then');
  out.info('  npm run manifests && npm test');
  out.info(
    'In a cluster, the webhooks need cert-manager (https://cert-manager.io) for their certificate: see config/certmanager.',
  );
  return [...writes.keys()];
}
