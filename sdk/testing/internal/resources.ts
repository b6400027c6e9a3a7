import {
  builtinResources,
  parseGroupVersion,
  type GroupVersionResource,
  type ResourceDescriptor,
  type ResourceLocation,
} from '../../client/index.js';

/** What the fake knows about one resource: where it lives and how the server treats its objects. */
export interface ResourceInfo {
  descriptor: ResourceDescriptor;
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** A built-in kind (strategic merge patch and its list merge keys apply). */
  builtin: boolean;
  /** `status` is a subresource: the main resource's writes leave it alone, and status writes change only it. */
  statusSubresource: boolean;
  /** The server keeps `metadata.generation` for this kind. */
  generation: boolean;
  /** `group/version/plural`. */
  key: string;
}

/**
 * Built-in kinds whose objects carry `metadata.generation` (observed on kube-apiserver v1.37): it starts at 1 and grows
 * with each change outside metadata and status, and when deletion starts. Other built-in kinds have none.
 */
const generationKinds = new Set([
  'apps/Deployment',
  'apps/ReplicaSet',
  'apps/StatefulSet',
  'apps/DaemonSet',
  'batch/Job',
  'batch/CronJob',
  '/Pod',
  '/ReplicationController',
  'autoscaling/HorizontalPodAutoscaler',
  'policy/PodDisruptionBudget',
  'networking.k8s.io/Ingress',
  'networking.k8s.io/IngressClass',
  'networking.k8s.io/NetworkPolicy',
  'discovery.k8s.io/EndpointSlice',
  'apiextensions.k8s.io/CustomResourceDefinition',
  'admissionregistration.k8s.io/MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicy',
  'admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding',
  'admissionregistration.k8s.io/MutatingAdmissionPolicy',
  'admissionregistration.k8s.io/MutatingAdmissionPolicyBinding',
  'flowcontrol.apiserver.k8s.io/FlowSchema',
  'flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration',
  'scheduling.k8s.io/PriorityClass',
  'resource.k8s.io/DeviceClass',
  'resource.k8s.io/ResourceSlice',
]);

function infoOf(d: ResourceDescriptor, builtin: boolean): ResourceInfo {
  return {
    descriptor: d,
    group: d.group,
    version: d.version,
    plural: d.plural,
    kind: d.kind,
    namespaced: d.namespaced,
    builtin,
    statusSubresource: (d.subresources ?? (builtin ? [] : ['status'])).includes('status'),
    generation: builtin ? generationKinds.has(`${d.group}/${d.kind}`) : true,
    key: `${d.group}/${d.version}/${d.plural}`,
  };
}

/** The resources a fake serves: every built-in one, and the custom ones it was given. Later additions win. */
export class ResourceRegistry {
  private readonly byResource = new Map<string, ResourceInfo>();
  private readonly byKind = new Map<string, ResourceInfo>();

  constructor(custom: readonly ResourceDescriptor[] = []) {
    for (const d of builtinResources) this.add(d, true);
    for (const d of custom) this.add(d, false);
  }

  add(d: ResourceDescriptor, builtin = false): ResourceInfo {
    const info = infoOf(d, builtin);
    this.byResource.set(info.key, info);
    this.byKind.set(`${d.group}/${d.version}/${d.kind}`, info);
    return info;
  }

  /** The resource at a location (descriptor, ResourceLocation or GVR), or undefined when the fake does not serve it. */
  resolve(location: ResourceDescriptor | ResourceLocation | GroupVersionResource): ResourceInfo | undefined {
    const plural = 'plural' in location ? location.plural : location.resource;
    return this.byResource.get(`${location.group}/${location.version}/${plural}`);
  }

  /** The resource of an object, from its apiVersion and kind. */
  forKind(apiVersion: string, kind: string): ResourceInfo | undefined {
    const { group, version } = parseGroupVersion(apiVersion);
    return this.byKind.get(`${group}/${version}/${kind}`);
  }
}
