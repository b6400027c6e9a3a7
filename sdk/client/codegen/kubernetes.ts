/**
 * The generator of `sdk/client/generated/`: from kube-apiserver's OpenAPI v3 documents (spec.ts) to
 *
 * - one module per Go API package (`core-v1.ts`, `apps-v1.ts`, `meta-v1.ts`, …) with an interface or alias for every
 *   schema, a resource descriptor for every kind served as a resource (a value with the type's name), and a typed
 *   client interface per resource (`PodClient`) restricted to the verbs and subresources the API declares;
 * - `clientset.ts`: the group-version clients (`CoreV1Client`), the `Clientset` interface and the table from which
 *   the hand-written runtime in `../typed.ts` builds one;
 * - `index.ts`: every module as a namespace (`corev1`, `appsv1`, `metav1`, …) and flat names for the kinds that
 *   only one stable group-version has.
 *
 * Everything it decides comes from the documents: scope, verbs and subresources from the paths and their
 * `x-kubernetes-action`/`x-kubernetes-group-version-kind`, the kind's schema from its `x-kubernetes-group-version-kind`.
 * Output is deterministic: same snapshot, same bytes.
 */
import type { JsonSchema } from './schema.js';
import type { OpenApiOperation, SpecSnapshot } from './spec.js';
import { docComment, docLines, pascalCase, quote, SchemaMapper } from './typescript.js';

export interface GeneratedFile {
  /** Relative to the output folder. */
  path: string;
  content: string;
}

/** A Go API package: `io.k8s.api.core.v1` is module `core-v1.ts`, namespace `corev1`. */
interface GoPackage {
  id: string;
  /** The namespace name, as Go code imports the package: `corev1`, `metav1`, `apiextensionsv1`. */
  alias: string;
  /** Module file name without extension: `core-v1`. */
  file: string;
}

const apimachinery: GoPackage = { id: 'apimachinery', alias: 'apimachinery', file: 'apimachinery' };

function goPackage(id: string): GoPackage {
  const patterns: [RegExp, (m: RegExpExecArray) => [string, string]][] = [
    [/^io\.k8s\.api\.([a-z0-9]+)\.(v\d+(?:(?:alpha|beta)\d+)?)$/, (m) => [m[1]!, m[2]!]],
    [/^io\.k8s\.apiextensions-apiserver\.pkg\.apis\.(apiextensions)\.(v\w+)$/, (m) => [m[1]!, m[2]!]],
    [/^io\.k8s\.kube-aggregator\.pkg\.apis\.(apiregistration)\.(v\w+)$/, (m) => [m[1]!, m[2]!]],
    [/^io\.k8s\.apimachinery\.pkg\.apis\.(meta)\.(v1)$/, (m) => [m[1]!, m[2]!]],
  ];
  if (/^io\.k8s\.apimachinery\.pkg\.(util\.intstr|api\.resource|runtime)$/.test(id)) return apimachinery;
  for (const [pattern, parts] of patterns) {
    const m = pattern.exec(id);
    if (m) {
      const [name, version] = parts(m);
      return { id, alias: `${name}${version}`, file: `${name}-${version}` };
    }
  }
  throw new Error(`codegen: no module for Go package ${id}; add it to goPackage() in sdk/client/codegen/kubernetes.ts`);
}

/** Schemas whose JSON shape the OpenAPI document cannot state; everything else follows the schema. */
const specialTypes: Record<string, string> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': 'number | string',
  // Sent as a number by some clients and accepted so; the server always answers with a string.
  'io.k8s.apimachinery.pkg.api.resource.Quantity': 'string',
  'io.k8s.apimachinery.pkg.runtime.RawExtension': 'Record<string, unknown>',
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1': 'Record<string, unknown>',
  'io.k8s.apimachinery.pkg.apis.meta.v1.Patch': 'Record<string, unknown>',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON': 'unknown',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrArray':
    'JSONSchemaProps | JSONSchemaProps[]',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrBool': 'JSONSchemaProps | boolean',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaPropsOrStringArray': 'JSONSchemaProps | string[]',
};

const verbOrder = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] as const;
type Verb = (typeof verbOrder)[number];

const verbOfAction: Record<string, Verb> = {
  get: 'get',
  list: 'list',
  watch: 'watch',
  watchlist: 'watch',
  post: 'create',
  put: 'update',
  patch: 'patch',
  delete: 'delete',
  deletecollection: 'deletecollection',
};

interface Operation {
  method: string;
  action: string;
  op: OpenApiOperation;
}

interface Resource {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  verbs: Set<Verb>;
  subresources: Map<string, Operation[]>;
  /** Component schema name of the kind. */
  schema: string;
  /** Component schema name of its list kind, when there is one. */
  listSchema: string | undefined;
}

interface GroupVersion {
  group: string;
  version: string;
  /** `coreV1`, `appsV1`, `rbacAuthorizationV1`. */
  accessor: string;
  resources: Resource[];
}

/** A named method of a typed client for a subresource, and how the runtime makes it. */
interface SubresourceMethod {
  name: string;
  kind: 'get' | 'update' | 'create' | 'apply' | 'stream' | StreamingKind;
  subresource: string;
  signature: string;
  doc: string[];
}

const isStable = (version: string): boolean => /^v\d+$/.test(version);
const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1);
const localName = (schemaName: string): string => schemaName.slice(schemaName.lastIndexOf('.') + 1);
const packageId = (schemaName: string): string => schemaName.slice(0, schemaName.lastIndexOf('.'));
const refName = (ref: string): string => ref.replace(/^#\/components\/schemas\//, '');

/** `APIService` → `apiService`, `CSIDriver` → `csiDriver`, `ServiceCIDR` → `serviceCIDR`, `Pod` → `pod`. */
export function camelCaseKind(kind: string): string {
  const run = /^[A-Z]+/.exec(kind)?.[0].length ?? 0;
  if (run <= 1) return lowerFirst(kind);
  if (run === kind.length) return kind.toLowerCase();
  return kind.slice(0, run - 1).toLowerCase() + kind.slice(run - 1);
}

/** The resource accessor: the plural with the kind's word boundaries (`configmaps` → `configMaps`). */
export function resourceAccessor(kind: string, plural: string): string {
  const camel = camelCaseKind(kind);
  const lower = kind.toLowerCase();
  let i = 0;
  while (i < lower.length && i < plural.length && lower[i] === plural[i]) i++;
  return camel.slice(0, i) + plural.slice(i);
}

/**
 * The group-version accessor: the group without `.k8s.io` (and `.apiserver`, as client-go does), camelCased, then
 * the version: `coreV1`, `appsV1`, `rbacAuthorizationV1`, `flowcontrolV1`, `autoscalingV2`.
 */
export function groupVersionAccessor(group: string, version: string): string {
  const name = group === '' ? 'core' : group.replace(/\.k8s\.io$/, '').replace(/\.apiserver$/, '');
  const [first = '', ...rest] = name.split('.');
  return first + rest.map(pascalCase).join('') + pascalCase(version);
}

/** PascalCase of subresource names, which Kubernetes writes in one lower-case word. */
const subresourceWords: Record<string, string> = { ephemeralcontainers: 'EphemeralContainers' };

/** Subresources with a client-go-like name of their own; the others get `get<Sub>`/`update<Sub>`/`create<Sub>`. */
const namedSubresources: Record<string, Partial<Record<string, [name: string, kind: SubresourceMethod['kind']]>>> = {
  scale: { get: ['getScale', 'get'], put: ['updateScale', 'update'], patch: ['applyScale', 'apply'] },
  eviction: { post: ['evict', 'create'] },
  log: { get: ['getLogs', 'stream'] },
  token: { post: ['createToken', 'create'] },
  binding: { post: ['bind', 'create'] },
};

/** The hand-written streaming methods of `typed.ts` (`kubeloop.StreamingCallKind`): each method is named as its kind. */
type StreamingKind =
  | 'exec'
  | 'execStream'
  | 'attach'
  | 'attachStream'
  | 'portForward'
  | 'portForwardStream'
  | 'streamLogs'
  | 'copyToPod'
  | 'copyFromPod';

/**
 * The streaming methods of a resource's subresources (`plural/subresource` of the core group): exec, attach and
 * portforward are `connect` operations (WebSocket upgrades), which the OpenAPI document describes without their
 * protocol; their signatures are written here and their runtime is `streaming/pods.ts`.
 */
const streamingMethods: Record<string, readonly [kind: StreamingKind, signature: string, doc: string][]> = {
  'pods/exec': [
    [
      'exec',
      'exec(name: string, options: kubeloop.ExecOptions): Promise<kubeloop.ExecResult>',
      'Runs a command in a container to its end: its stdout, stderr and exit code (pods/exec over WebSocket).',
    ],
    [
      'execStream',
      'execStream(name: string, options: kubeloop.ExecStreamOptions): kubeloop.ExecStream',
      'Runs a command in a container with its stdin, stdout and stderr as Node streams (pods/exec over WebSocket).',
    ],
    [
      'copyToPod',
      'copyToPod(name: string, options: kubeloop.CopyToPodOptions): Promise<void>',
      'Copies a local file or folder into a container, as `kubectl cp` does (tar over pods/exec).',
    ],
    [
      'copyFromPod',
      'copyFromPod(name: string, options: kubeloop.CopyFromPodOptions): Promise<kubeloop.CopyFromPodResult>',
      'Copies a file or folder of a container to a local path, as `kubectl cp` does (tar over pods/exec).',
    ],
  ],
  'pods/attach': [
    [
      'attach',
      'attach(name: string, options?: kubeloop.AttachOptions): Promise<kubeloop.ExecResult>',
      "Attaches to a container's process and collects its output until it ends (pods/attach over WebSocket).",
    ],
    [
      'attachStream',
      'attachStream(name: string, options?: kubeloop.AttachStreamOptions): kubeloop.ExecStream',
      "Attaches to a container's process with its stdin, stdout and stderr as Node streams (pods/attach over WebSocket).",
    ],
  ],
  'pods/portforward': [
    [
      'portForward',
      'portForward(name: string, options: kubeloop.PortForwardOptions): Promise<kubeloop.PortForward>',
      "Forwards local TCP ports to the pod's ports, as `kubectl port-forward` does (pods/portforward over WebSocket).",
    ],
    [
      'portForwardStream',
      'portForwardStream(name: string, options: kubeloop.PortForwardStreamOptions): kubeloop.PortForwardStream',
      "One connection to each of the pod's ports, as Duplex streams (pods/portforward over WebSocket).",
    ],
  ],
  'pods/log': [
    [
      'streamLogs',
      'streamLogs(name: string, options?: kubeloop.StreamLogsOptions): AsyncIterable<string>',
      'Follows the log of a container, line by line, until it ends or the signal aborts (GET pods/log).',
    ],
  ],
};

/**
 * What a subresource call answers where the document says otherwise: pods/eviction answers with a metav1.Status
 * (`{ status: 'Success' }`), not with the Eviction it was sent.
 */
const responseOverrides: Record<string, string> = { 'pods/eviction': 'kubeloop.Status' };

class Generator {
  private readonly schemas = new Map<string, JsonSchema>();
  private readonly groupVersions: GroupVersion[] = [];
  /** Kinds served as resources, by schema name. */
  private readonly resourceBySchema = new Map<string, Resource>();

  private readonly snapshot: SpecSnapshot;

  constructor(snapshot: SpecSnapshot) {
    this.snapshot = snapshot;
    for (const { document } of snapshot.documents) {
      for (const [name, schema] of Object.entries(document.components.schemas)) {
        if (!this.schemas.has(name)) this.schemas.set(name, schema);
      }
    }
    const schemaByGvk = new Map<string, string[]>();
    for (const [name, schema] of this.schemas) {
      if (goPackage(packageId(name)).alias === 'metav1') continue;
      for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) {
        const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
        schemaByGvk.set(key, [...(schemaByGvk.get(key) ?? []), name]);
      }
    }
    for (const { path, document } of snapshot.documents) {
      const [group, version] = path === 'api/v1' ? ['', 'v1'] : path.split('/').slice(1);
      if (group === undefined || !version) throw new Error(`codegen: unexpected document ${path}`);
      const resources = this.resourcesOf(path, group, version, document.paths, schemaByGvk);
      this.groupVersions.push({ group, version, accessor: groupVersionAccessor(group, version), resources });
    }
  }

  private resourcesOf(
    docPath: string,
    group: string,
    version: string,
    paths: Record<string, Record<string, unknown>>,
    schemaByGvk: Map<string, string[]>,
  ): Resource[] {
    const prefix = `/${docPath}/`;
    const found = new Map<
      string,
      { namespaced: boolean; kinds: Set<string>; verbs: Set<Verb>; subresources: Map<string, Operation[]> }
    >();
    for (const [path, item] of Object.entries(paths)) {
      if (!path.startsWith(prefix)) continue;
      let segments = path.slice(prefix.length).split('/');
      if (segments[0] === 'watch') segments = segments.slice(1);
      let namespaced = false;
      if (segments[0] === 'namespaces' && segments[1] === '{namespace}' && segments.length >= 3) {
        namespaced = true;
        segments = segments.slice(2);
      }
      const [plural, name, subresource, rest] = segments;
      if (!plural || plural.startsWith('{') || (name !== undefined && !name.startsWith('{')) || rest !== undefined)
        continue;
      let r = found.get(plural);
      if (!r)
        found.set(plural, (r = { namespaced: false, kinds: new Set(), verbs: new Set(), subresources: new Map() }));
      if (namespaced) r.namespaced = true;
      for (const [method, value] of Object.entries(item)) {
        if (method === 'parameters') continue;
        const op = value as OpenApiOperation;
        const action = op['x-kubernetes-action'];
        if (!action) continue;
        if (subresource) {
          r.subresources.set(subresource, [...(r.subresources.get(subresource) ?? []), { method, action, op }]);
          continue;
        }
        const gvk = op['x-kubernetes-group-version-kind'];
        if (gvk) r.kinds.add(gvk.kind);
        const verb = verbOfAction[action];
        if (verb) r.verbs.add(verb);
      }
    }
    const resources: Resource[] = [];
    for (const [plural, r] of [...found].toSorted(([a], [b]) => (a < b ? -1 : 1))) {
      if (r.kinds.size !== 1)
        throw new Error(`codegen: ${docPath} ${plural} has kinds ${[...r.kinds].join(', ') || 'none'}`);
      const kind = [...r.kinds][0]!;
      const schemas = schemaByGvk.get(`${group}/${version}/${kind}`) ?? [];
      if (schemas.length !== 1)
        throw new Error(`codegen: ${docPath} ${plural}: ${schemas.length} schemas for kind ${kind}`);
      const schema = schemas[0]!;
      const listCandidates = schemaByGvk.get(`${group}/${version}/${kind}List`) ?? [];
      const resource: Resource = {
        group,
        version,
        plural,
        kind,
        namespaced: r.namespaced,
        verbs: r.verbs,
        subresources: new Map([...r.subresources].toSorted(([a], [b]) => (a < b ? -1 : 1))),
        schema,
        listSchema: listCandidates.length === 1 ? listCandidates[0] : undefined,
      };
      const other = this.resourceBySchema.get(schema);
      if (other) throw new Error(`codegen: kind ${kind} is served as ${other.plural} and ${plural}`);
      this.resourceBySchema.set(schema, resource);
      resources.push(resource);
    }
    return resources;
  }

  generate(): GeneratedFile[] {
    const header =
      `// Code generated by sdk/client/codegen (npm run codegen) from the OpenAPI v3 documents of Kubernetes\n` +
      `// ${this.snapshot.gitVersion} in sdk/client/codegen/spec/. DO NOT EDIT.\n`;
    const byPackage = new Map<string, { pkg: GoPackage; names: string[] }>();
    for (const name of [...this.schemas.keys()].toSorted()) {
      const pkg = goPackage(packageId(name));
      let entry = byPackage.get(pkg.file);
      if (!entry) byPackage.set(pkg.file, (entry = { pkg, names: [] }));
      entry.names.push(name);
    }
    const files: GeneratedFile[] = [];
    for (const { pkg, names } of [...byPackage.values()].toSorted((a, b) => (a.pkg.file < b.pkg.file ? -1 : 1))) {
      files.push({ path: `${pkg.file}.ts`, content: header + this.packageModule(pkg, names) });
    }
    files.push({ path: 'clientset.ts', content: header + this.clientsetModule() });
    files.push({ path: 'resources.ts', content: header + this.resourcesModule() });
    files.push({ path: 'index.ts', content: header + this.indexModule([...byPackage.values()].map((e) => e.pkg)) });
    return files;
  }

  /** The TypeScript name of a schema seen from module `from`: local, or qualified by its namespace. */
  private typeName(schemaName: string, from: GoPackage, imports: Map<string, GoPackage>): string {
    const pkg = goPackage(packageId(schemaName));
    if (!this.schemas.has(schemaName)) throw new Error(`codegen: unknown schema ${schemaName}`);
    if (pkg.file === from.file) return localName(schemaName);
    imports.set(pkg.file, pkg);
    return `${pkg.alias}.${localName(schemaName)}`;
  }

  private packageModule(pkg: GoPackage, names: string[]): string {
    const imports = new Map<string, GoPackage>();
    const resolve = (ref: string): string => this.typeName(refName(ref), pkg, imports);
    const mapper = new SchemaMapper({ resolveRef: resolve, reservedNames: ['kubeloop'] });
    const locals = new Set(names.map(localName));
    let usesKubeloop = false;

    for (const name of names) {
      const local = localName(name);
      const raw = this.schemas.get(name)!;
      const special = specialTypes[name];
      if (special !== undefined) {
        mapper.alias(local, special, docLines(raw));
        continue;
      }
      mapper.declare(
        local,
        this.isList(raw) ? { ...raw, required: [...new Set([...(raw.required ?? []), 'metadata'])] } : raw,
      );
      const resource = this.resourceBySchema.get(name);
      if (resource) {
        const clientName = `${local}Client`;
        if (locals.has(clientName))
          throw new Error(`codegen: ${clientName} would hide the schema of that name in ${pkg.id}`);
        usesKubeloop = true;
        mapper.add(`${local} (descriptor)`, this.descriptorText(resource, local));
        mapper.add(clientName, this.clientInterfaceText(resource, pkg, imports, resolve));
      }
    }
    const body = mapper.render();
    const importLines = [...imports.values()]
      .toSorted((a, b) => (a.alias < b.alias ? -1 : 1))
      .map((p) => `import type * as ${p.alias} from './${p.file}.js';\n`);
    if (usesKubeloop) importLines.unshift(`import type * as kubeloop from '../typed.js';\n`);
    return `${importLines.length ? `\n${importLines.join('')}` : ''}\n${body}`;
  }

  /** `XList` kinds: the server always sends their `metadata` (Go never omits a struct), so it is required here. */
  private isList(schema: JsonSchema): boolean {
    const gvk = schema['x-kubernetes-group-version-kind']?.[0];
    return !!gvk && gvk.kind.endsWith('List') && !!schema.properties?.['items'] && !!schema.properties['metadata'];
  }

  private verbsOf(r: Resource): Verb[] {
    return verbOrder.filter((v) => r.verbs.has(v));
  }

  private descriptorText(r: Resource, local: string): string {
    const gv = r.group ? `${r.group}/${r.version}` : r.version;
    const fields = [
      `group: ${quote(r.group)}`,
      `version: ${quote(r.version)}`,
      `kind: ${quote(r.kind)}`,
      `plural: ${quote(r.plural)}`,
      `singular: ${quote(r.kind.toLowerCase())}`,
      `namespaced: ${r.namespaced}`,
      `verbs: [${this.verbsOf(r).map(quote).join(', ')}]`,
      `subresources: [${[...r.subresources.keys()].map(quote).join(', ')}]`,
    ];
    const doc = docComment([
      `The \`${r.plural}\` resource (${gv}, ${r.namespaced ? 'namespaced' : 'cluster-scoped'}) of kind ${r.kind}.`,
    ]);
    return `${doc}export const ${local}: kubeloop.ResourceDescriptor<${local}> = {\n${fields.map((f) => `  ${f},\n`).join('')}};\n`;
  }

  /** The named subresource methods of a resource's typed client. */
  private subresourceMethods(r: Resource, from: GoPackage, resolve: (ref: string) => string): SubresourceMethod[] {
    const methods: SubresourceMethod[] = [];
    for (const [subresource, ops] of r.subresources) {
      if (subresource === 'status') continue; // updateStatus / applyStatus, from ResourceInterface
      const streaming = r.group === '' ? (streamingMethods[`${r.plural}/${subresource}`] ?? []) : [];
      for (const { method, action, op } of ops) {
        if (action === 'connect') continue; // exec, attach, portforward, proxy: not plain HTTP calls
        const named = namedSubresources[subresource]?.[method];
        const word = subresourceWords[subresource] ?? pascalCase(subresource);
        const generic: Record<string, [string, SubresourceMethod['kind']]> = {
          get: [`get${word}`, 'get'],
          put: [`update${word}`, 'update'],
          post: [`create${word}`, 'create'],
        };
        const [name, kind] = named ?? generic[method] ?? [];
        if (!name || !kind) continue; // PATCH of other subresources: patch(name, body, { subresource })
        const response = responseOverrides[`${r.plural}/${subresource}`] ?? this.responseType(op, resolve);
        // A PATCH body is a metav1.Patch; what an apply sends is a partial of what a PUT sends.
        const put = ops.find((o) => o.method === 'put')?.op;
        const body = kind === 'apply' ? this.requestType(put, resolve) : this.requestType(op, resolve);
        const param = body ? lowerFirst(body.slice(body.lastIndexOf('.') + 1)) : 'body';
        let signature: string;
        switch (kind) {
          case 'get':
            signature = `${name}(name: string, options?: kubeloop.RequestOptions): Promise<${response}>`;
            break;
          case 'stream':
            if (subresource !== 'log')
              throw new Error(`codegen: no options type for streaming ${r.plural}/${subresource}`);
            signature = `${name}(name: string, options?: kubeloop.GetLogsOptions): AsyncIterable<string>`;
            break;
          case 'update':
            signature = `${name}(name: string, ${param}: ${body}, options?: kubeloop.UpdateOptions): Promise<${response}>`;
            break;
          case 'create':
            signature = `${name}(name: string, ${param}: ${body}, options?: kubeloop.CreateOptions): Promise<${response}>`;
            break;
          case 'apply':
            signature = `${name}(name: string, ${param}: kubeloop.ApplyConfiguration<${body}>, options: kubeloop.ApplyOptions): Promise<${response}>`;
            break;
          default:
            throw new Error(`codegen: ${kind} is a streaming method, listed in streamingMethods`);
        }
        if ((kind === 'update' || kind === 'create' || kind === 'apply') && !body) {
          throw new Error(`codegen: no request body type for ${method} ${r.plural}/${subresource} in ${from.id}`);
        }
        const description = op.description ? op.description.charAt(0).toUpperCase() + op.description.slice(1) : '';
        const what = `${method.toUpperCase()} ${r.plural}/${subresource}`;
        methods.push({
          name,
          kind,
          subresource,
          signature,
          doc: [description ? `${description} (${what}).` : `${what}.`],
        });
      }
      for (const [kind, signature, doc] of streaming)
        methods.push({ name: kind, kind, subresource, signature, doc: [doc] });
    }
    return methods;
  }

  private responseType(op: OpenApiOperation, resolve: (ref: string) => string): string {
    const responses = op.responses ?? {};
    const content = (responses['200'] ?? responses['201'])?.content ?? {};
    const schema = content['application/json']?.schema ?? Object.values(content)[0]?.schema;
    if (schema?.$ref) return resolve(schema.$ref);
    if (schema?.type === 'string') return 'string';
    return 'unknown';
  }

  private requestType(op: OpenApiOperation | undefined, resolve: (ref: string) => string): string | undefined {
    const schema = Object.values(op?.requestBody?.content ?? {})[0]?.schema;
    return schema?.$ref ? resolve(schema.$ref) : undefined;
  }

  private clientInterfaceText(
    r: Resource,
    from: GoPackage,
    imports: Map<string, GoPackage>,
    resolve: (ref: string) => string,
  ): string {
    const local = localName(r.schema);
    const list = r.listSchema ? this.typeName(r.listSchema, from, imports) : `kubeloop.KubeList<${local}>`;
    const verbs = this.verbsOf(r);
    const args = [local];
    if (verbs.length !== verbOrder.length || r.listSchema) args.push(list);
    if (verbs.length !== verbOrder.length) args.push(verbs.length ? verbs.map(quote).join(' | ') : 'never');
    const heritage = [`kubeloop.ResourceClient<${args.join(', ')}>`];
    const status = r.subresources.get('status');
    if (status?.some((o) => o.method === 'put' || o.method === 'patch'))
      heritage.push(`kubeloop.StatusMethods<${local}>`);
    const methods = this.subresourceMethods(r, from, resolve);
    const gv = r.group ? `${r.group}/${r.version}` : r.version;
    const doc = docComment([
      `Typed client of \`${r.plural}\` (${gv}, ${r.namespaced ? 'namespaced' : 'cluster-scoped'}): verbs ${verbs.join(', ') || 'none'}` +
        (r.subresources.size ? `; subresources ${[...r.subresources.keys()].join(', ')}.` : '.'),
    ]);
    const members = methods.map((m) => `${docComment(m.doc, '  ')}  ${m.signature};\n`).join('');
    return `${doc}export interface ${local}Client extends ${heritage.join(', ')} {${members ? `\n${members}` : ''}}\n`;
  }

  private clientsetModule(): string {
    const imports = new Map<string, GoPackage>();
    const interfaces: string[] = [];
    const table: string[] = [];
    const accessors: string[] = [];
    for (const gv of this.groupVersions) {
      if (!gv.resources.length) continue;
      const interfaceName = `${pascalCase(gv.accessor)}Client`;
      const apiVersion = gv.group ? `${gv.group}/${gv.version}` : gv.version;
      const members: string[] = [];
      const entries: string[] = [];
      for (const r of gv.resources) {
        const pkg = goPackage(packageId(r.schema));
        imports.set(pkg.file, pkg);
        const type = `${pkg.alias}.${localName(r.schema)}`;
        const accessor = resourceAccessor(r.kind, r.plural);
        const across = r.verbs.has('list') ? `; \`''\` lists and watches across all namespaces` : '';
        const doc = r.namespaced
          ? `\`${r.plural}\` (${r.kind}) in a namespace${across}.`
          : `\`${r.plural}\` (${r.kind}), cluster-scoped.`;
        members.push(
          `${docComment([doc], '  ')}  ${accessor}(${r.namespaced ? 'namespace: string' : ''}): ${type}Client;\n`,
        );
        const calls = this.subresourceMethods(r, pkg, (ref) => ref).map(
          (m) => `[${quote(m.name)}, ${quote(m.kind)}, ${quote(m.subresource)}]`,
        );
        entries.push(`    ${accessor}: [${type}, [${calls.join(', ')}]],\n`);
      }
      interfaces.push(
        `${docComment([`The resources of ${gv.group ? apiVersion : 'v1, the core group'}.`])}export interface ${interfaceName} {\n${members.join('')}}\n`,
      );
      accessors.push(`${docComment([`Typed clients of ${apiVersion}.`], '  ')}  ${gv.accessor}(): ${interfaceName};\n`);
      table.push(`  ${gv.accessor}: {\n${entries.join('')}  },\n`);
    }
    const importLines = [...imports.values()]
      .toSorted((a, b) => (a.alias < b.alias ? -1 : 1))
      .map((p) => `import * as ${p.alias} from './${p.file}.js';\n`)
      .join('');
    const clientset =
      docComment([
        'Typed clients of every built-in group-version, alpha and beta included: `cs.appsV1().deployments(namespace)`.',
        'Each group accessor returns the same client every time; resource accessors are cheap.',
      ]) + `export interface Clientset {\n${accessors.join('')}}\n`;
    const build =
      docComment([
        'A Clientset whose resource clients come from `factory`: `createClientset(config)` passes the HTTP one, tests may pass',
        'their own.',
      ]) +
      `export function createClientsetFromFactory(factory: kubeloop.ResourceClientFactory): Clientset {\n` +
      `  return buildClientset<Clientset>(factory, groups);\n}\n`;
    return (
      `\nimport { buildClientset } from '../typed.js';\nimport type * as kubeloop from '../typed.js';\n${importLines}\n` +
      `${interfaces.join('\n')}\n${clientset}\n` +
      `/** Every resource of every group-version: its descriptor and its named subresource methods. */\n` +
      `const groups: Readonly<Record<string, Readonly<Record<string, kubeloop.ResourceEntry>>>> = {\n${table.join('')}};\n\n${build}`
    );
  }

  /** The table of every built-in resource's descriptor, so nothing has to find them among the exports at run time. */
  private resourcesModule(): string {
    const imports = new Map<string, GoPackage>();
    const entries: { key: string; ref: string }[] = [];
    for (const [schema, r] of this.resourceBySchema) {
      const pkg = goPackage(packageId(schema));
      imports.set(pkg.file, pkg);
      entries.push({ key: `${r.group}/${r.version}/${r.kind}`, ref: `${pkg.alias}.${localName(schema)}` });
    }
    const importLines = [...imports.values()]
      .toSorted((a, b) => (a.alias < b.alias ? -1 : 1))
      .map((p) => `import * as ${p.alias} from './${p.file}.js';\n`)
      .join('');
    const rows = entries.toSorted((a, b) => (a.key < b.key ? -1 : 1)).map((e) => `  ${e.ref},\n`);
    const doc = docComment([
      'The descriptor of every built-in kind served as a resource, alpha and beta included, sorted by group, version and',
      'kind: what tells the resource of a built-in object from its apiVersion and kind.',
    ]);
    return (
      `\nimport type * as kubeloop from '../typed.js';\n${importLines}\n` +
      `${doc}export const builtinResources: readonly kubeloop.ResourceDescriptor[] = [\n${rows.join('')}];\n`
    );
  }

  private indexModule(packages: GoPackage[]): string {
    const lines: string[] = [];
    const sorted = [...packages].toSorted((a, b) => (a.alias < b.alias ? -1 : 1));
    for (const pkg of sorted) {
      if (pkg === apimachinery) continue;
      lines.push(`export * as ${pkg.alias} from './${pkg.file}.js';\n`);
    }
    // Flat names: kinds that exactly one stable group-version has.
    const stableKinds = new Map<string, string[]>();
    for (const [name, schema] of this.schemas) {
      const pkg = goPackage(packageId(name));
      if (pkg.alias === 'metav1' || pkg === apimachinery) continue;
      for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) {
        if (isStable(gvk.version)) stableKinds.set(gvk.kind, [...(stableKinds.get(gvk.kind) ?? []), name]);
      }
    }
    const values = new Map<string, string[]>();
    const types = new Map<string, string[]>();
    for (const [kind, names] of [...stableKinds].toSorted(([a], [b]) => (a < b ? -1 : 1))) {
      if (names.length !== 1) continue;
      const name = names[0]!;
      const file = goPackage(packageId(name)).file;
      const target = this.resourceBySchema.has(name) ? values : types;
      target.set(file, [...(target.get(file) ?? []), kind]);
    }
    lines.push(
      '\n// Kinds that only one stable group-version has, by their own name. Resource kinds are types and descriptors.\n',
    );
    for (const pkg of sorted) {
      const v = values.get(pkg.file);
      const t = types.get(pkg.file);
      if (v) lines.push(`export { ${v.join(', ')} } from './${pkg.file}.js';\n`);
      if (t) lines.push(`export type { ${t.join(', ')} } from './${pkg.file}.js';\n`);
    }
    lines.push(`export type { IntOrString, Quantity, RawExtension } from './apimachinery.js';\n`);
    const clientNames = this.groupVersions
      .filter((gv) => gv.resources.length)
      .map((gv) => `type ${pascalCase(gv.accessor)}Client`);
    lines.push(
      `\nexport { createClientsetFromFactory, type Clientset, ${clientNames.join(', ')} } from './clientset.js';\n`,
    );
    lines.push(`export { builtinResources } from './resources.js';\n`);
    return `\n${lines.join('')}`;
  }
}

/** Generates the files of `sdk/client/generated/` from a snapshot. */
export function generateKubernetes(snapshot: SpecSnapshot): GeneratedFile[] {
  return new Generator(snapshot).generate();
}
