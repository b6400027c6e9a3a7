// Type tests of the generated API types, descriptors and typed Clientset: checked by `tsc -p tsconfig.json --noEmit`
// (every `@ts-expect-error` line must fail to compile, every other line must compile).
import { expectTypeOf } from 'vitest';
import type { Clientset } from '../../sdk/client/clientset.js';
import type * as generated from '../../sdk/client/generated/index.js';
import {
  ConfigMap,
  Deployment,
  Node,
  Pod,
  type appsv1,
  type autoscalingv1,
  type autoscalingv2,
  type corev1,
  type eventsv1,
  type metav1,
  type policyv1,
  type DeploymentList,
  type IntOrString,
  type Scale,
} from '../../sdk/client/generated/index.js';
import type { ResourceDescriptor } from '../../sdk/client/meta/descriptor.js';
import type { KubeList, KubeObject, ListMeta, ObjectMeta, Status, WatchEvent } from '../../sdk/client/meta/types.js';
import { typedClient } from '../../sdk/client/rest/resource.js';
import type { RestConfig } from '../../sdk/client/config/types.js';

declare const cs: Clientset;
declare const config: RestConfig;

// Reads are typed by the resource.
expectTypeOf(cs.appsV1().deployments('x').get('y')).toEqualTypeOf<Promise<Deployment>>();
expectTypeOf(cs.appsV1().deployments('x').get('y')).toEqualTypeOf<Promise<appsv1.Deployment>>();
expectTypeOf(cs.appsV1().deployments('x').list({ labelSelector: 'app=web' })).toEqualTypeOf<Promise<DeploymentList>>();
for await (const event of cs.coreV1().pods('ns').watch({ allowWatchBookmarks: true })) {
  expectTypeOf(event).toEqualTypeOf<WatchEvent<corev1.Pod>>();
}
expectTypeOf(cs.autoscalingV2().horizontalPodAutoscalers('x').get('h')).toEqualTypeOf<
  Promise<autoscalingv2.HorizontalPodAutoscaler>
>();
expectTypeOf(cs.eventsV1().events('x').get('e')).toEqualTypeOf<Promise<eventsv1.Event>>();
expectTypeOf(cs.rbacAuthorizationV1().clusterRoles().get('admin')).toEqualTypeOf<
  Promise<generated.rbacv1.ClusterRole>
>();

// Namespaced resources take a namespace; cluster-scoped ones take none.
cs.coreV1().nodes();
cs.coreV1().namespaces();
cs.coreV1().pods('');
// @ts-expect-error nodes are cluster-scoped
cs.coreV1().nodes('default');
// @ts-expect-error pods need a namespace ('' for all of them)
cs.coreV1().pods();

// Objects are checked field by field.
const deployment: Deployment = {
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
  },
};
void cs
  .appsV1()
  .deployments('x')
  .create(deployment, { fieldManager: 'me', dryRun: ['All'] });
void cs
  .appsV1()
  .deployments('x')
  .create({
    metadata: { name: 'web' },
    // @ts-expect-error a misspelled field
    spec: { replica: 2, selector: {}, template: {} },
  });
// @ts-expect-error a Deployment needs a spec
const noSpec: Deployment = { metadata: { name: 'web' } };
void noSpec;
// @ts-expect-error a container needs a name
const nameless: corev1.Container = { image: 'nginx' };
void nameless;
const wrongEnum: corev1.Container = {
  name: 'c',
  // @ts-expect-error enums are unions of their values
  imagePullPolicy: 'Sometimes',
};
void wrongEnum;

// Patch bodies are typed by the patch type.
const deployments = cs.appsV1().deployments('x');
void deployments.patch('web', [{ op: 'replace', path: '/spec/replicas', value: 3 }], { patchType: 'json' });
void deployments.patch('web', { spec: { replicas: 3 } }, { patchType: 'merge' });
void deployments.patch('web', { metadata: { labels: { gone: null } } }, { patchType: 'strategic' });
// @ts-expect-error a JSON patch is a list of operations
void deployments.patch('web', { spec: { replicas: 3 } }, { patchType: 'json' });
// @ts-expect-error a merge patch is a partial Deployment
void deployments.patch('web', { spec: { replica: 3 } }, { patchType: 'merge' });
// @ts-expect-error the patch type is required
void deployments.patch('web', { spec: { replicas: 3 } }, {});
void deployments.apply(
  { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 1 } },
  { fieldManager: 'me', force: true },
);
// @ts-expect-error an apply configuration names itself
void deployments.apply({ spec: { replicas: 1 } }, { fieldManager: 'me' });

// Status and scale methods exist only where the API has those subresources.
void deployments.updateStatus(deployment);
expectTypeOf(cs.appsV1().statefulSets('db').getScale('pg')).toEqualTypeOf<Promise<autoscalingv1.Scale>>();
expectTypeOf(cs.appsV1().statefulSets('db').updateScale).parameter(1).toEqualTypeOf<Scale>();
// @ts-expect-error ConfigMaps have no status subresource
void cs.coreV1().configMaps('x').updateStatus({});
// @ts-expect-error ConfigMaps have no scale subresource
void cs.coreV1().configMaps('x').getScale('c');

// Pods: evict, logs, ephemeral containers, binding; service accounts: tokens.
const pods = cs.coreV1().pods('ns');
expectTypeOf(pods.evict).parameter(1).toEqualTypeOf<policyv1.Eviction>();
expectTypeOf(pods.evict('p', { metadata: { name: 'p' } })).toEqualTypeOf<Promise<Status>>();
expectTypeOf(pods.getLogs('p', { container: 'c', follow: true, tailLines: 10 })).toEqualTypeOf<AsyncIterable<string>>();
// @ts-expect-error log options are checked
void pods.getLogs('p', { folow: true });
expectTypeOf(pods.getEphemeralContainers('p')).toEqualTypeOf<Promise<corev1.Pod>>();
void pods.bind('p', { metadata: { name: 'p' }, target: { kind: 'Node', name: 'n1' } });
expectTypeOf(
  cs
    .coreV1()
    .serviceAccounts('ns')
    .createToken('sa', { spec: { audiences: ['x'] } }),
).toEqualTypeOf<Promise<generated.authenticationv1.TokenRequest>>();

// Verbs the API does not declare are absent.
void cs
  .authenticationV1()
  .tokenReviews()
  .create({ spec: { token: 't' } });
// @ts-expect-error TokenReviews can only be created
void cs.authenticationV1().tokenReviews().list();
// @ts-expect-error Namespaces cannot be deleted as a collection
void cs.coreV1().namespaces().deleteCollection();
// @ts-expect-error connect subresources (exec) have no methods
void pods.createExec;

// Wire types: IntOrString, Quantity, Time are plain JSON.
expectTypeOf<NonNullable<corev1.ServicePort['targetPort']>>().toEqualTypeOf<number | string>();
expectTypeOf<IntOrString>().toEqualTypeOf<number | string>();
expectTypeOf<NonNullable<corev1.ResourceRequirements['limits']>>().toEqualTypeOf<Record<string, string>>();
expectTypeOf<NonNullable<metav1.ObjectMeta['creationTimestamp']>>().toEqualTypeOf<string>();
expectTypeOf<NonNullable<metav1.ObjectMeta['generation']>>().toEqualTypeOf<number>();

// Generated types fit kubeloop's hand-written object model.
expectTypeOf<NonNullable<corev1.Pod['metadata']>>().toExtend<ObjectMeta>();
expectTypeOf<ObjectMeta>().toExtend<metav1.ObjectMeta>();
expectTypeOf<corev1.Pod>().toExtend<KubeObject>();
expectTypeOf<corev1.PodList>().toExtend<KubeList<corev1.Pod>>();
expectTypeOf<corev1.PodList['metadata']>().toExtend<ListMeta>();
expectTypeOf<metav1.Status>().toExtend<Status>();

// Types and descriptors share a name.
expectTypeOf(Pod).toEqualTypeOf<ResourceDescriptor<corev1.Pod>>();
expectTypeOf(Node.namespaced).toEqualTypeOf<boolean>();
expectTypeOf(ConfigMap).toEqualTypeOf<ResourceDescriptor<ConfigMap>>();
expectTypeOf(typedClient(config, Deployment).namespace('x').get('web')).toEqualTypeOf<Promise<Deployment>>();

// Flat names only for kinds that one stable group-version has.
expectTypeOf<typeof generated>().not.toHaveProperty('Event'); // core/v1 and events.k8s.io/v1
expectTypeOf<typeof generated>().not.toHaveProperty('HorizontalPodAutoscaler'); // autoscaling/v1 and v2
expectTypeOf<typeof generated>().not.toHaveProperty('LeaseCandidate'); // alpha and beta only
expectTypeOf<typeof generated>().toHaveProperty('Lease');
