import { objectKey, type KubeObject, type ObjectOf, type ResourceDescriptor, type Status } from '../client/index.js';
import { WebhookError } from './errors.js';
import type { ConversionRequest, ConversionResponse } from './types.js';

/** A spoke version of a kind and how it converts to and from the hub. */
export interface Spoke<H extends ResourceDescriptor, S extends ResourceDescriptor> {
  resource: S;
  /** The spoke object as the hub version. Its metadata should be carried over (kubeloop keeps it if left out). */
  toHub(obj: ObjectOf<S>): ObjectOf<H>;
  /** The hub object as this spoke version. */
  fromHub(hub: ObjectOf<H>): ObjectOf<S>;
}

/**
 * Hub-and-spoke conversion for one kind served in several versions (controller-runtime's conversion.Hub and
 * conversion.Convertible): one hub version, and for each other version a pair of functions to and from it. A request
 * from spoke A to spoke B goes A → hub → B.
 */
export interface Conversion {
  readonly group: string;
  readonly kind: string;
  readonly hub: ResourceDescriptor;
  readonly spokes: readonly Spoke<ResourceDescriptor, ResourceDescriptor>[];
  /** Converts one object to `group/version`. Throws `ERR_WEBHOOK_CONVERSION` for a version it does not know. */
  convert(obj: KubeObject, desiredAPIVersion: string): KubeObject;
}

/** The versions of one kind and how they convert: each spoke's functions are typed by its own descriptor. */
export interface ConversionOptions<H extends ResourceDescriptor, S extends readonly ResourceDescriptor[]> {
  hub: H;
  spokes: { [K in keyof S]: Spoke<H, S[K]> };
}

/**
 * Defines the conversion of one kind. Register it with `mgr.register(conversion)` (or
 * `server.registerConversion(conversion)`): it is served at `/convert`, where one handler serves every kind.
 *
 * ```ts
 * export const webAppConversion = defineConversion({
 *   hub: WebApp,   // v1
 *   spokes: [{ resource: WebAppV1alpha1, toHub: (old) => ({ ...old, apiVersion: 'apps.example.com/v1', spec: … }), fromHub: (hub) => … }],
 * });
 * ```
 *
 * Guarantees: `apiVersion` and `kind` of each result are set by kubeloop; `metadata` is the input's when a converter
 * returns none. An object already in the desired version is returned as it is.
 *
 * Errors: `ERR_WEBHOOK_OPTIONS` when a spoke is of another group or kind, or two spokes (or a spoke and the hub) name
 * the same version.
 */
export function defineConversion<H extends ResourceDescriptor, const S extends readonly ResourceDescriptor[]>(
  options: ConversionOptions<H, S>,
): Conversion {
  const { hub } = options;
  const spokes = options.spokes as unknown as Spoke<ResourceDescriptor, ResourceDescriptor>[];
  const versions = new Set([hub.version]);
  for (const s of spokes) {
    if (s.resource.group !== hub.group || s.resource.kind !== hub.kind) {
      throw new WebhookError(
        'ERR_WEBHOOK_OPTIONS',
        `defineConversion: spoke ${s.resource.group}/${s.resource.version} ${s.resource.kind} is not a version of the hub's kind ${hub.kind}.${hub.group}`,
      );
    }
    if (versions.has(s.resource.version))
      throw new WebhookError(
        'ERR_WEBHOOK_OPTIONS',
        `defineConversion: version ${s.resource.version} of ${hub.kind} is named twice`,
      );
    versions.add(s.resource.version);
  }
  const apiVersion = (version: string): string => (hub.group ? `${hub.group}/${version}` : version);
  const known = (): string => [...versions].map(apiVersion).join(', ');
  const spokeOf = (version: string): Spoke<ResourceDescriptor, ResourceDescriptor> | undefined =>
    spokes.find((s) => s.resource.version === version);
  const stamp = (result: KubeObject, from: KubeObject, version: string): KubeObject => ({
    ...result,
    apiVersion: apiVersion(version),
    kind: hub.kind,
    metadata: result.metadata ?? from.metadata,
  });

  return Object.freeze({
    group: hub.group,
    kind: hub.kind,
    hub,
    spokes: Object.freeze([...spokes]),
    convert(obj: KubeObject, desiredAPIVersion: string): KubeObject {
      if (obj.apiVersion === desiredAPIVersion) return obj;
      const fromVersion = versionOf(obj.apiVersion ?? '');
      const toVersion = versionOf(desiredAPIVersion);
      const unknown = [fromVersion, toVersion].filter((v) => !versions.has(v));
      if (unknown.length > 0) {
        throw new WebhookError(
          'ERR_WEBHOOK_CONVERSION',
          `cannot convert ${hub.kind} from ${obj.apiVersion} to ${desiredAPIVersion}: no conversion for ${unknown.map(apiVersion).join(' and ')} (known: ${known()})`,
        );
      }
      const asHub = fromVersion === hub.version ? obj : stamp(spokeOf(fromVersion)!.toHub(obj), obj, hub.version);
      if (toVersion === hub.version) return asHub;
      return stamp(spokeOf(toVersion)!.fromHub(asHub), asHub, toVersion);
    },
  });
}

function versionOf(apiVersion: string): string {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/**
 * Answers a ConversionReview request with the conversions registered: each object is converted by the conversion of
 * its group and kind. Any failure (an unknown kind or version, a converter that throws) fails the whole review with a
 * message naming the object and the versions; the converter's own message is kept, never its stack or the object.
 */
export function convertReview(
  conversions: ReadonlyMap<string, Conversion>,
  request: ConversionRequest,
): ConversionResponse {
  const failure = (message: string): ConversionResponse => ({
    uid: request.uid,
    convertedObjects: [],
    result: { status: 'Failure', message } satisfies Status,
  });
  const converted: KubeObject[] = [];
  for (const obj of request.objects ?? []) {
    const group = groupOf(obj.apiVersion ?? '');
    const conversion = conversions.get(conversionKey(group, obj.kind ?? ''));
    const name = objectKey(obj);
    if (!conversion) return failure(`no conversion is registered for ${obj.kind}.${group} (object ${name})`);
    try {
      converted.push(conversion.convert(obj, request.desiredAPIVersion));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return failure(
        (err as { code?: string }).code === 'ERR_WEBHOOK_CONVERSION'
          ? message
          : `converting ${obj.kind} ${name} from ${obj.apiVersion} to ${request.desiredAPIVersion} failed: ${message.replace(/\s+/g, ' ').slice(0, 1024)}`,
      );
    }
  }
  return { uid: request.uid, convertedObjects: converted, result: { status: 'Success' } };
}

/** The key conversions are found by: `kind.group`. */
export function conversionKey(group: string, kind: string): string {
  return `${kind}.${group}`;
}
