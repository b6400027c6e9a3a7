// Which resource an object is, for createOrUpdate/createOrPatch: its descriptor when given, else the built-in kind of
// its apiVersion and kind. Part of controllerutil (../controllerutil.ts).
import * as kubeClient from '../../client/index.js';
import { KubeloopError, parseGroupVersion, type KubeObject, type ResourceDescriptor } from '../../client/index.js';

/** The resource of an object cannot be told from its apiVersion and kind alone. */
export class UnknownResourceError extends KubeloopError {
  constructor(message: string) {
    super('ERR_UNKNOWN_RESOURCE', message);
  }
}

let builtins: Map<string, ResourceDescriptor> | undefined;

function isDescriptor(value: unknown): value is ResourceDescriptor {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof ResourceDescriptor, unknown>>;
  return (
    typeof v.group === 'string' &&
    typeof v.version === 'string' &&
    typeof v.kind === 'string' &&
    typeof v.plural === 'string' &&
    typeof v.namespaced === 'boolean'
  );
}

/** The descriptor of a built-in kind, by apiVersion and kind. */
function builtinDescriptor(apiVersion: string, kind: string): ResourceDescriptor | undefined {
  if (!builtins) {
    builtins = new Map();
    for (const value of Object.values(kubeClient)) {
      if (typeof value !== 'object' || value === null) continue;
      for (const d of isDescriptor(value) ? [value] : Object.values(value as Record<string, unknown>)) {
        if (isDescriptor(d)) builtins.set(`${d.group}/${d.version}/${d.kind}`, d);
      }
    }
  }
  const gv = parseGroupVersion(apiVersion);
  return builtins.get(`${gv.group}/${gv.version}/${kind}`);
}

export function resolveResource<T extends KubeObject>(obj: T, resource: ResourceDescriptor<T> | undefined, caller: string): ResourceDescriptor<T> {
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
