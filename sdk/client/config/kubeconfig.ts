/**
 * The kubeconfig file: its types, with the file's own field names, and the reader.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import { ConfigError } from '../errors.js';
import { describeFileError } from './internal/files.js';
import { YamlNode, parseYaml } from './internal/yaml-fields.js';

/** A kubeconfig file (`apiVersion: v1`, `kind: Config`). Lists are never undefined; empty when the file has none. */
export interface Kubeconfig {
  apiVersion?: string;
  kind?: string;
  preferences?: KubeconfigPreferences;
  clusters: NamedCluster[];
  users: NamedUser[];
  contexts: NamedContext[];
  'current-context'?: string;
  extensions?: NamedExtension[];
}

export interface KubeconfigPreferences {
  colors?: boolean;
  extensions?: NamedExtension[];
}

/** Extra data for tools, as in `extensions: [{ name, extension }]`; `extension` is any JSON-like value. */
export interface NamedExtension {
  name: string;
  extension: unknown;
}

export interface NamedCluster {
  name: string;
  cluster: KubeconfigCluster;
}

/** How to reach an API server. */
export interface KubeconfigCluster {
  /** `https://host:port`, optionally with a path prefix. */
  server?: string;
  /** Name to check the server's certificate against (SNI), instead of the server's host name. */
  'tls-server-name'?: string;
  'insecure-skip-tls-verify'?: boolean;
  /** Path of a PEM CA bundle; relative paths were resolved against the kubeconfig's folder. */
  'certificate-authority'?: string;
  /** Base64 of a PEM CA bundle. */
  'certificate-authority-data'?: string;
  /** `http://`, `https://` or `socks5://` proxy for this cluster. */
  'proxy-url'?: string;
  'disable-compression'?: boolean;
  extensions?: NamedExtension[];
}

export interface NamedUser {
  name: string;
  user: KubeconfigUser;
}

/** Who to be (kubeconfig's `AuthInfo`). */
export interface KubeconfigUser {
  /** Path of a PEM client certificate; relative paths were resolved against the kubeconfig's folder. */
  'client-certificate'?: string;
  /** Base64 of a PEM client certificate. */
  'client-certificate-data'?: string;
  /** Path of the PEM key of the client certificate. */
  'client-key'?: string;
  /** Base64 of the PEM key of the client certificate. */
  'client-key-data'?: string;
  token?: string;
  /** Path of a file holding a bearer token. */
  tokenFile?: string;
  /** Impersonate this user name. */
  as?: string;
  'as-uid'?: string;
  'as-groups'?: string[];
  'as-user-extra'?: Record<string, string[]>;
  username?: string;
  password?: string;
  /** Removed in-tree plugins (gcp, azure, oidc); kubeloop refuses them and suggests an exec plugin. */
  'auth-provider'?: { name: string; config?: Record<string, string> };
  exec?: KubeconfigExec;
  extensions?: NamedExtension[];
}

/** A `users[].user.exec` credential plugin, as written in the file (checked when it is used). */
export interface KubeconfigExec {
  /** The program; a path with a slash was resolved against the kubeconfig's folder, a bare name is looked up in PATH. */
  command?: string;
  args?: string[];
  env?: { name: string; value: string }[];
  apiVersion?: string;
  installHint?: string;
  provideClusterInfo?: boolean;
  interactiveMode?: string;
}

export interface NamedContext {
  name: string;
  context: KubeconfigContext;
}

/** A cluster and user pair, with a default namespace. */
export interface KubeconfigContext {
  cluster?: string;
  user?: string;
  namespace?: string;
  extensions?: NamedExtension[];
}

export interface ParseKubeconfigOptions {
  /**
   * The file the text came from: named in errors, and the folder that relative paths in it resolve against.
   * Default: none; relative paths are left as they are (relative to the working directory).
   */
  file?: string;
}

/**
 * Reads and validates one kubeconfig file, as kubectl reads it: YAML 1.1 scalars as go-yaml v2 resolves them, so
 * boolean fields take `true`/`yes`/`on`/…, and a string field refuses an unquoted value that YAML reads as a number
 * or boolean (`token: 0123`, `namespace: no`), as kubectl does; relative file paths resolved against the file's
 * folder. An empty file is an empty kubeconfig.
 *
 * Guarantees: the result has only the fields above, each of its declared type; names within `clusters`, `users`,
 * `contexts` and `extensions` are unique (a missing name is `''`, as in client-go); `*-data` fields are valid base64.
 * What client-go also refuses for the whole file is refused here: a field of the wrong type, bad base64, a duplicate
 * name. Everything client-go checks only for the context in use (references between entries, servers, the files
 * named, exec plugins, conflicting credentials) is checked later, when a context is used (see `loadConfig`), so one
 * broken entry does not spoil the others.
 *
 * Errors: a {@link ConfigError} naming the file (and the field, e.g. `users[dev].user.client-key-data`) when the
 * file is missing or unreadable, the YAML is malformed (with its line), the document is not a mapping, or a field has
 * the wrong type. Messages never contain a field's value.
 *
 * Caveats: unknown fields are dropped. `~` in paths is not expanded (as in client-go). Duplicate YAML keys keep the
 * last value, as kubectl does. A second YAML document with content is refused, where kubectl silently reads only the
 * first.
 */
export async function loadKubeconfig(path: string): Promise<Kubeconfig> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the kubeconfig: ${describeFileError(err)}`, { file, cause: err });
  }
  return parseKubeconfig(text, { file });
}

/** Parses kubeconfig text (for instance from a Secret). See {@link loadKubeconfig} for what is checked. */
export function parseKubeconfig(text: string, options: ParseKubeconfigOptions = {}): Kubeconfig {
  const file = options.file === undefined ? undefined : resolve(options.file);
  const doc = parseYaml(text, file);
  const config: Kubeconfig = { clusters: [], users: [], contexts: [] };
  if (doc.isNull()) return config;
  if (!doc.isMapping())
    throw new ConfigError('a kubeconfig must be a YAML mapping (apiVersion, kind, clusters, …)', { file });

  const apiVersion = doc.string('apiVersion');
  if (apiVersion !== undefined && apiVersion !== 'v1')
    throw doc.error(`unsupported apiVersion "${apiVersion}", expected v1`, 'apiVersion');
  const kind = doc.string('kind');
  if (kind !== undefined && kind !== 'Config')
    throw doc.error(`kind is "${kind}", expected Config: is this a kubeconfig?`, 'kind');
  const base = file === undefined ? undefined : dirname(file);

  const preferences = doc.mapping('preferences');
  assign(config, {
    apiVersion,
    kind,
    'current-context': doc.string('current-context'),
    preferences: preferences && strip({ colors: preferences.boolean('colors'), extensions: extensions(preferences) }),
    extensions: extensions(doc),
  });
  config.clusters = named(doc, 'clusters', 'cluster', (c) => readCluster(c, base)).map(([name, cluster]) => ({
    name,
    cluster,
  }));
  config.users = named(doc, 'users', 'user', (u) => readUser(u, base)).map(([name, user]) => ({ name, user }));
  config.contexts = named(doc, 'contexts', 'context', readContext).map(([name, context]) => ({ name, context }));
  return config;
}

function readCluster(node: YamlNode, base: string | undefined): KubeconfigCluster {
  return strip({
    server: node.string('server'),
    'tls-server-name': node.string('tls-server-name'),
    'insecure-skip-tls-verify': node.boolean('insecure-skip-tls-verify'),
    'certificate-authority': localPath(node.string('certificate-authority'), base),
    'certificate-authority-data': base64(node, 'certificate-authority-data'),
    'proxy-url': node.string('proxy-url'),
    'disable-compression': node.boolean('disable-compression'),
    extensions: extensions(node),
  });
}

function readUser(node: YamlNode, base: string | undefined): KubeconfigUser {
  const provider = node.mapping('auth-provider');
  const exec = node.mapping('exec');
  return strip({
    'client-certificate': localPath(node.string('client-certificate'), base),
    'client-certificate-data': base64(node, 'client-certificate-data'),
    'client-key': localPath(node.string('client-key'), base),
    'client-key-data': base64(node, 'client-key-data'),
    token: node.string('token'),
    tokenFile: localPath(node.string('tokenFile'), base),
    as: node.string('as'),
    'as-uid': node.string('as-uid'),
    'as-groups': node.strings('as-groups'),
    'as-user-extra': node.stringListMap('as-user-extra'),
    username: node.string('username'),
    password: node.string('password'),
    'auth-provider': provider && strip({ name: provider.string('name') ?? '', config: provider.stringMap('config') }),
    exec: exec && readExec(exec, base),
    extensions: extensions(node),
  });
}

function readContext(node: YamlNode): KubeconfigContext {
  return strip({
    cluster: node.string('cluster'),
    user: node.string('user'),
    namespace: node.string('namespace'),
    extensions: extensions(node),
  });
}

function readExec(node: YamlNode, base: string | undefined): KubeconfigExec {
  const command = node.string('command');
  return strip({
    // Only a path is resolved; a bare name is looked up in PATH when the plugin runs.
    command:
      command !== undefined && (command.includes('/') || command.includes(sep)) ? localPath(command, base) : command,
    args: node.strings('args'),
    // A variable without a name is an error only when the plugin is used (as in client-go).
    env: node.list('env')?.map((item) => {
      if (!item.isMapping()) throw item.error('must be a mapping with name and value');
      return { name: item.string('name') ?? '', value: item.string('value') ?? '' };
    }),
    apiVersion: node.string('apiVersion'),
    installHint: node.string('installHint'),
    provideClusterInfo: node.boolean('provideClusterInfo'),
    interactiveMode: node.string('interactiveMode'),
  });
}

/** A `[{ name, <key>: {...} }]` list, items addressed as `list[name]` in errors. Names must be unique (client-go refuses duplicates too). */
function named<T>(doc: YamlNode, list: string, key: string, read: (node: YamlNode) => T): [name: string, value: T][] {
  const items = doc.list(list) ?? [];
  const seen = new Set<string>();
  return items.map((item, index) => {
    if (!item.isMapping()) throw item.error(`must be a mapping with name and ${key}`);
    // A missing name is the empty name, as in client-go: harmless unless a context refers to it.
    const name = item.string('name') ?? '';
    if (seen.has(name)) throw doc.error(`holds "${name}" twice; names must be unique`, `${list}[${index}].name`);
    seen.add(name);
    const entry = item.at(`${list}[${name}]`);
    const value = read(entry.mapping(key) ?? YamlNode.emptyMapping(entry.fieldPath(key), entry.file));
    return [name, value];
  });
}

function extensions(node: YamlNode): NamedExtension[] | undefined {
  const items = node.list('extensions');
  if (!items) return undefined;
  const seen = new Set<string>();
  return items.map((item) => {
    if (!item.isMapping()) throw item.error('must be a mapping with name and extension');
    const name = item.string('name') ?? ''; // as in client-go; a second one without a name is a duplicate
    if (seen.has(name)) throw item.error(`holds "${name}" twice; names must be unique`, 'name');
    seen.add(name);
    return { name, extension: item.get('extension')?.plain() ?? null };
  });
}

const base64Text = /^[A-Za-z0-9+/]*={0,2}$/;

/** A `*-data` field: standard base64 (line breaks allowed, as Go's decoder allows them). */
function base64(node: YamlNode, key: string): string | undefined {
  const text = node.string(key);
  if (text === undefined) return undefined;
  const compact = text.replace(/[\r\n]/g, '');
  if (compact.length % 4 !== 0 || !base64Text.test(compact)) {
    throw node.error('is not valid base64 (it should hold the base64 of a PEM file)', key);
  }
  return compact;
}

function localPath(path: string | undefined, base: string | undefined): string | undefined {
  if (path === undefined || base === undefined || isAbsolute(path)) return path;
  return join(base, path);
}

/** Drops undefined fields, so results compare and print cleanly. */
function strip<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

function assign<T extends object>(target: T, fields: Partial<T>): void {
  Object.assign(target, strip(fields));
}
