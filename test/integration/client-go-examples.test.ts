import { describe, expect, it } from 'vitest';
import {
  createDynamicClient,
  isConflict,
  isNotFound,
  restClientFor,
  type KubeObject,
  type RestConfig,
  type Unstructured,
} from '../../sdk/client/index.js';
import { createDiscoveryClient } from '../../sdk/client/discovery/discovery-client.js';
import { isGroupDiscoveryFailed } from '../../sdk/client/discovery/errors.js';
import type { APIGroup, APIResourceList } from '../../sdk/client/discovery/types.js';
import { createTestNamespace, sharedCluster } from '../support/cluster.js';

// What the client-go examples of the Kubernetes documentation do (out-of-cluster client configuration,
// dynamic-create-update-delete-deployment, and listing the server's API resources), written with kubeloop as one
// program. It prints through `print` so the test can read what a user would see.

interface PodLike extends KubeObject {
  spec?: { nodeName?: string; containers?: { name: string; image?: string }[] };
  status?: { phase?: string };
}

interface DeploymentLike extends Unstructured {
  spec?: {
    replicas?: number;
    template?: { spec?: { containers?: { name: string; image?: string }[] } };
  };
}

const podsGVR = { group: '', version: 'v1', resource: 'pods' };
const deploymentsGVR = { group: 'apps', version: 'v1', resource: 'deployments' };

function pod(name: string): Unstructured {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'example' } },
    spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] },
  };
}

/** client-go's retry.RetryOnConflict, in short: re-run `work` on a 409 Conflict, a few times. */
async function retryOnConflict(work: () => Promise<void>, attempts = 5): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await work();
      return;
    } catch (err) {
      if (!isConflict(err) || i >= attempts) throw err;
    }
  }
}

async function clientGoExamples(config: RestConfig, namespace: string, print: (line: string) => void): Promise<void> {
  const dyn = createDynamicClient(config);
  const pods = dyn.resource(podsGVR).namespace(namespace);

  // 1. Pods: create two (nothing schedules them: they stay Pending), list them with their status.
  for (const name of ['example-a', 'example-b']) {
    await pods.create(pod(name));
    print(`Created pod ${name}`);
  }
  const podList = await pods.list({ labelSelector: 'app=example' });
  print(`There are ${podList.items.length} pods in namespace ${namespace}`);
  for (const item of podList.items as PodLike[]) {
    print(`  ${item.metadata?.name}\t${item.status?.phase ?? 'Unknown'}`);
  }

  // 2. A pod through a RESTClient built by hand, and a pod that does not exist.
  const rc = restClientFor(config, { groupVersion: { group: '', version: 'v1' } });
  for (const name of ['example-a', 'example-missing']) {
    try {
      const found = await rc.get().namespace(namespace).resource('pods').name(name).do().into<PodLike>();
      print(
        `Found pod ${found.metadata?.name} in namespace ${namespace} (phase ${found.status?.phase}, node ${found.spec?.nodeName || '<none>'})`,
      );
    } catch (err) {
      if (!isNotFound(err)) throw err;
      print(`Pod ${name} in namespace ${namespace} not found`);
    }
  }

  // 3. A Deployment from an unstructured object: create, read back, update on conflict, list, delete.
  const deployments = dyn.resource(deploymentsGVR).namespace(namespace);
  const deployment: Unstructured = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'demo-deployment' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'demo' } },
      template: {
        metadata: { labels: { app: 'demo' } },
        spec: {
          containers: [
            { name: 'web', image: 'nginx:1.12', ports: [{ name: 'http', protocol: 'TCP', containerPort: 80 }] },
          ],
        },
      },
    },
  };
  print('Creating deployment...');
  const created = await deployments.create(deployment);
  print(`Created deployment "${created.metadata?.name}".`);
  const readBack = (await deployments.get('demo-deployment')) as DeploymentLike;
  print(
    `Read deployment "${readBack.metadata?.name}": ${readBack.spec?.replicas} replicas, image ${readBack.spec?.template?.spec?.containers?.[0]?.image}`,
  );
  print('Updating deployment...');
  await retryOnConflict(async () => {
    const current = (await deployments.get('demo-deployment')) as DeploymentLike;
    const container = current.spec?.template?.spec?.containers?.[0];
    if (!current.spec || !container) throw new Error('the deployment read back has no container');
    current.spec.replicas = 1;
    container.image = 'nginx:1.13';
    await deployments.update(current);
  });
  print('Updated deployment...');
  print(`Listing deployments in namespace "${namespace}":`);
  for (const d of (await deployments.list()).items as DeploymentLike[]) {
    print(` * ${d.metadata?.name} (${d.spec?.replicas} replicas)`);
  }
  print('Deleting deployment...');
  await deployments.delete('demo-deployment', { propagationPolicy: 'Background' });
  print('Deleted deployment.');

  // 4. Every group, version and resource the server serves (kubectl api-versions / api-resources).
  const discovery = createDiscoveryClient(config);
  let groups: APIGroup[];
  let lists: APIResourceList[];
  try {
    [groups, lists] = await discovery.serverGroupsAndResources();
  } catch (err) {
    // As kubectl: say what could not be listed, and list the rest.
    if (!isGroupDiscoveryFailed(err)) throw err;
    print(`warning: ${err.message}`);
    ({ groups, resources: lists } = err);
  }
  for (const group of groups) {
    print(
      `group ${group.name || '(core)'}: versions ${group.versions.map((v) => v.version).join(', ')} (preferred ${group.preferredVersion?.version})`,
    );
  }
  for (const list of lists) {
    for (const r of list.resources) {
      if (r.name.includes('/')) continue;
      print(
        `${list.groupVersion}\t${r.name}\t${r.kind}\t${r.namespaced ? 'namespaced' : 'cluster'}\t${r.verbs.join(',')}`,
      );
    }
  }
}

describe('the client-go examples, with kubeloop', () => {
  const { config } = sharedCluster();

  it('lists pods with their status, gets one through a RESTClient, manages a Deployment, and lists the API', async () => {
    const namespace = await createTestNamespace(config, 'examples');
    const lines: string[] = [];
    await clientGoExamples(config, namespace, (line) => lines.push(line));

    // 1 and 2: pods, in the order the program printed them.
    expect(lines.slice(0, 7)).toEqual([
      'Created pod example-a',
      'Created pod example-b',
      `There are 2 pods in namespace ${namespace}`,
      '  example-a\tPending',
      '  example-b\tPending',
      `Found pod example-a in namespace ${namespace} (phase Pending, node <none>)`,
      `Pod example-missing in namespace ${namespace} not found`,
    ]);

    // 3: the Deployment's life.
    expect(lines.slice(7, 16)).toEqual([
      'Creating deployment...',
      'Created deployment "demo-deployment".',
      'Read deployment "demo-deployment": 2 replicas, image nginx:1.12',
      'Updating deployment...',
      'Updated deployment...',
      `Listing deployments in namespace "${namespace}":`,
      ' * demo-deployment (1 replicas)',
      'Deleting deployment...',
      'Deleted deployment.',
    ]);
    // And on the server: the Deployment is gone.
    const deployments = createDynamicClient(config).resource(deploymentsGVR).namespace(namespace);
    await expect(deployments.get('demo-deployment')).rejects.toSatisfy(isNotFound);

    // 4: groups, versions and resources.
    const rest = lines.slice(16).filter((l) => !l.startsWith('warning: '));
    expect(rest).toEqual(
      expect.arrayContaining([
        'group (core): versions v1 (preferred v1)',
        'group apps: versions v1 (preferred v1)',
        'group autoscaling: versions v2, v1 (preferred v2)',
        'v1\tpods\tPod\tnamespaced\tcreate,delete,deletecollection,get,list,patch,update,watch',
        'v1\tnamespaces\tNamespace\tcluster\tcreate,delete,get,list,patch,update,watch',
        'apps/v1\tdeployments\tDeployment\tnamespaced\tcreate,delete,deletecollection,get,list,patch,update,watch',
        'autoscaling/v1\thorizontalpodautoscalers\tHorizontalPodAutoscaler\tnamespaced\tcreate,delete,deletecollection,get,list,patch,update,watch',
      ]),
    );
    expect(rest[0]).toBe('group (core): versions v1 (preferred v1)');
    expect(rest.filter((l) => l.startsWith('group ')).length).toBeGreaterThan(20);
    expect(rest.filter((l) => !l.startsWith('group ')).length).toBeGreaterThan(50);

    await createDynamicClient(config)
      .resource(podsGVR)
      .namespace(namespace)
      .deleteCollection({ labelSelector: 'app=example' });
  });
});
