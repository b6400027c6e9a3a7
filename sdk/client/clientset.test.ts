// How the generated Clientset routes calls: to which resource, in which namespace, through which ResourceInterface
// method, with which subresource and parameters. A recording factory stands in for HTTP (the real thing is proven in
// test/integration/clientset-*.test.ts).
import { describe, expect, it } from 'vitest';
import { createClientsetFromFactory } from './clientset.js';
import type { ResourceDescriptor } from './meta/descriptor.js';
import type { KubeList, KubeObject } from './meta/types.js';
import type { NamespaceableResourceInterface } from './rest/resource-interface.js';
import type { ResourceClientFactory } from './rest/resource.js';

interface Call {
  resource: string;
  namespace: string;
  method: string;
  args: unknown[];
}

function recordingFactory(): { factory: ResourceClientFactory; calls: Call[]; made: string[] } {
  const calls: Call[] = [];
  const made: string[] = [];
  const client = (d: ResourceDescriptor, namespace: string): NamespaceableResourceInterface<KubeObject> =>
    new Proxy({} as NamespaceableResourceInterface<KubeObject>, {
      get(_target, method) {
        if (method === 'namespace') return (ns: string) => client(d, ns);
        return (...args: unknown[]) => {
          calls.push({ resource: `${d.group}/${d.version}/${d.plural}`, namespace, method: String(method), args });
          return Promise.resolve({ answer: String(method) });
        };
      },
    });
  const factory: ResourceClientFactory = {
    resource<T extends KubeObject, L extends KubeList<T> = KubeList<T>>(d: ResourceDescriptor<T> | { plural: string }) {
      const descriptor = d as ResourceDescriptor;
      made.push(descriptor.plural);
      return client(descriptor, '') as unknown as NamespaceableResourceInterface<T, L>;
    },
  };
  return { factory, calls, made };
}

describe('createClientsetFromFactory', () => {
  it('scopes namespaced resources to the namespace given, and to none for "" and cluster-scoped ones', async () => {
    const { factory, calls } = recordingFactory();
    const cs = createClientsetFromFactory(factory);
    await cs.appsV1().deployments('web').get('d');
    await cs.coreV1().pods('').list({ labelSelector: 'a=b' });
    await cs.coreV1().nodes().get('n');
    await cs.rbacAuthorizationV1().clusterRoles().delete('r');
    expect(calls).toEqual([
      { resource: 'apps/v1/deployments', namespace: 'web', method: 'get', args: ['d'] },
      { resource: '/v1/pods', namespace: '', method: 'list', args: [{ labelSelector: 'a=b' }] },
      { resource: '/v1/nodes', namespace: '', method: 'get', args: ['n'] },
      { resource: 'rbac.authorization.k8s.io/v1/clusterroles', namespace: '', method: 'delete', args: ['r'] },
    ]);
  });

  it('makes each group client once and each resource interface once', () => {
    const { factory, made } = recordingFactory();
    const cs = createClientsetFromFactory(factory);
    expect(cs.coreV1()).toBe(cs.coreV1());
    cs.coreV1().pods('a');
    cs.coreV1().pods('b');
    cs.coreV1().configMaps('a');
    expect(made).toEqual(['pods', 'configmaps']);
  });

  it('maps named subresource methods onto the subresource calls', async () => {
    const { factory, calls } = recordingFactory();
    const cs = createClientsetFromFactory(factory);
    const scale = { spec: { replicas: 3 } };
    await cs.appsV1().statefulSets('db').getScale('pg');
    await cs
      .appsV1()
      .statefulSets('db')
      .updateScale('pg', scale, { dryRun: ['All'] });
    await cs
      .appsV1()
      .deployments('db')
      .applyScale(
        'web',
        { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' } },
        { fieldManager: 'me' },
      );
    await cs
      .coreV1()
      .pods('ns')
      .evict('p', { metadata: { name: 'p' } });
    await cs
      .coreV1()
      .pods('ns')
      .bind('p', { metadata: { name: 'p' }, target: { name: 'n1' } });
    await cs.coreV1().pods('ns').getEphemeralContainers('p');
    await cs
      .coreV1()
      .serviceAccounts('ns')
      .createToken('sa', { spec: { audiences: ['x'] } });
    await cs
      .certificatesV1()
      .certificateSigningRequests()
      .updateApproval('csr', { metadata: { name: 'csr' }, spec: { request: '', signerName: 's' } });
    await cs
      .coreV1()
      .namespaces()
      .updateFinalize('ns', { metadata: { name: 'ns' } });
    expect(calls.map((c) => [c.resource, c.namespace, c.method, ...c.args])).toEqual([
      ['apps/v1/statefulsets', 'db', 'getSubresource', 'pg', 'scale', undefined],
      ['apps/v1/statefulsets', 'db', 'updateSubresource', 'pg', 'scale', scale, { dryRun: ['All'] }],
      [
        'apps/v1/deployments',
        'db',
        'patch',
        'web',
        { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web' } },
        { fieldManager: 'me', patchType: 'apply', subresource: 'scale' },
      ],
      ['/v1/pods', 'ns', 'createSubresource', 'p', 'eviction', { metadata: { name: 'p' } }, undefined],
      [
        '/v1/pods',
        'ns',
        'createSubresource',
        'p',
        'binding',
        { metadata: { name: 'p' }, target: { name: 'n1' } },
        undefined,
      ],
      ['/v1/pods', 'ns', 'getSubresource', 'p', 'ephemeralcontainers', undefined],
      ['/v1/serviceaccounts', 'ns', 'createSubresource', 'sa', 'token', { spec: { audiences: ['x'] } }, undefined],
      [
        'certificates.k8s.io/v1/certificatesigningrequests',
        '',
        'updateSubresource',
        'csr',
        'approval',
        { metadata: { name: 'csr' }, spec: { request: '', signerName: 's' } },
        undefined,
      ],
      ['/v1/namespaces', '', 'updateSubresource', 'ns', 'finalize', { metadata: { name: 'ns' } }, undefined],
    ]);
  });

  it('streams logs with every option but the signal and timeout as a query parameter', () => {
    const { factory, calls } = recordingFactory();
    const cs = createClientsetFromFactory(factory);
    const signal = AbortSignal.timeout(10_000);
    cs.coreV1()
      .pods('ns')
      .getLogs('p', { container: 'c', follow: true, tailLines: 10, sinceSeconds: undefined, signal, timeoutMs: 5 });
    cs.coreV1().pods('ns').getLogs('q');
    expect(calls).toEqual([
      {
        resource: '/v1/pods',
        namespace: 'ns',
        method: 'streamSubresource',
        args: ['p', 'log', { signal, timeoutMs: 5, params: { container: 'c', follow: true, tailLines: 10 } }],
      },
      {
        resource: '/v1/pods',
        namespace: 'ns',
        method: 'streamSubresource',
        args: ['q', 'log', { signal: undefined, timeoutMs: undefined, params: {} }],
      },
    ]);
  });

  it('binds the verb methods to the resource interface', async () => {
    const { factory, calls } = recordingFactory();
    const { updateStatus, apply, deleteCollection } = createClientsetFromFactory(factory).appsV1().replicaSets('x');
    await updateStatus({ metadata: { name: 'r' }, spec: { selector: {} } });
    await apply({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r' } }, { fieldManager: 'me' });
    await deleteCollection({ labelSelector: 'a' });
    expect(calls.map((c) => c.method)).toEqual(['updateStatus', 'apply', 'deleteCollection']);
  });
});
