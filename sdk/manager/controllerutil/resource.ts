// Which resource an object is, for createOrUpdate/createOrPatch: its descriptor when given, else the built-in kind of
// its apiVersion and kind. Part of controllerutil (../controllerutil.ts).
import {
  builtinResources,
  KubeloopError,
  parseGroupVersion,
  type KubeObject,
  type ResourceDescriptor,
} from '../../client/index.js';

/** The resource of an object cannot be told from its apiVersion and kind alone. */
export class UnknownResourceError extends KubeloopError {
  constructor(message: string) {
    super('ERR_UNKNOWN_RESOURCE', message);
  }
}

let builtins: Map<string, ResourceDescriptor> | undefined;

/** The descriptor of a built-in kind, by apiVersion and kind. */
function builtinDescriptor(apiVersion: string, kind: string): ResourceDescriptor | undefined {
  builtins ??= new Map(builtinResources.map((d) => [`${d.group}/${d.version}/${d.kind}`, d]));
  const gv = parseGroupVersion(apiVersion);
  return builtins.get(`${gv.group}/${gv.version}/${kind}`);
}

export function resolveResource<T extends KubeObject>(
  obj: T,
  resource: ResourceDescriptor<T> | undefined,
  caller: string,
): ResourceDescriptor<T> {
  if (resource) {
    obj.apiVersion ??= resource.group ? `${resource.group}/${resource.version}` : resource.version;
    obj.kind ??= resource.kind;
    return resource;
  }
  if (!obj.apiVersion || !obj.kind) {
    throw new UnknownResourceError(`${caller}: the object has no apiVersion or kind; set them, or pass { resource }`);
  }
  const found = builtinDescriptor(obj.apiVersion, obj.kind);
  if (!found) {
    throw new UnknownResourceError(
      `${caller}: ${obj.apiVersion} ${obj.kind} is not a built-in kind; pass its descriptor: ${caller}(client, obj, mutate, { resource: ${obj.kind} })`,
    );
  }
  return found as ResourceDescriptor<T>;
}
