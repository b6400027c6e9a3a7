import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildKustomization, orderObjects, strategicMerge, type KubeObject } from './bundle.js';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

async function files(tree: Record<string, string>): Promise<string> {
  dir = await mkdtemp(join(tmpdir(), 'kubeloop-bundle-'));
  for (const [path, text] of Object.entries(tree)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: op
  namespace: op-system
spec:
  template:
    spec:
      containers:
        - name: manager
          image: op
          env:
            - name: A
              value: a
`;

describe('strategicMerge', () => {
  it('merges keyed lists by their key (new items first, as kustomize), replaces other lists, and removes fields set to null', () => {
    const base = {
      spec: { containers: [{ name: 'manager', env: [{ name: 'A', value: 'a' }], args: ['--x'] }], paused: true },
    };
    const patch = {
      spec: {
        containers: [
          {
            name: 'manager',
            env: [
              { name: 'B', value: 'b' },
              { name: 'A', value: 'z' },
            ],
            args: ['--y'],
          },
        ],
        paused: null,
      },
    };
    expect(strategicMerge(base, patch)).toEqual({
      spec: {
        containers: [
          {
            name: 'manager',
            env: [
              { name: 'B', value: 'b' },
              { name: 'A', value: 'z' },
            ],
            args: ['--y'],
          },
        ],
      },
    });
  });
});

describe('buildKustomization', () => {
  it('renders resources, folders, components, patches by path and images', async () => {
    const root = await files({
      'default/kustomization.yaml': 'resources: [../manager, service.yaml]\ncomponents: [../extra]\n',
      'default/service.yaml': 'apiVersion: v1\nkind: Service\nmetadata: { name: op-svc, namespace: op-system }\n',
      'manager/kustomization.yaml':
        'resources: [manager.yaml]\npatches:\n  - path: patch.yaml\nimages:\n  - name: op\n    newName: registry.example/op\n    newTag: "1.0"\n',
      'manager/manager.yaml': `apiVersion: v1\nkind: Namespace\nmetadata: { name: op-system }\n---\n${deployment}`,
      'manager/patch.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: op }\nspec: { template: { spec: { containers: [{ name: manager, env: [{ name: W, value: "" }] }] } } }\n',
      'extra/kustomization.yaml':
        'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [role.yaml]\n',
      'extra/role.yaml':
        'apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: { name: r }\nrules: []\n',
    });
    const objects = await buildKustomization(join(root, 'default'), root);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Namespace/op-system',
      'ClusterRole/r',
      'Service/op-svc',
      'Deployment/op',
    ]);
    const container = (
      objects[3]!['spec'] as { template: { spec: { containers: { image: string; env: unknown[] }[] } } }
    ).template.spec.containers[0]!;
    expect(container.image).toBe('registry.example/op:1.0');
    expect(container.env).toEqual([
      { name: 'W', value: '' },
      { name: 'A', value: 'a' },
    ]);
  });

  it('refuses a kustomization field it does not render, naming it and the way out', async () => {
    const root = await files({ 'default/kustomization.yaml': 'namePrefix: op-\nresources: []\n' });
    await expect(buildKustomization(join(root, 'default'), root)).rejects.toMatchObject({
      code: 'ERR_CLI_MANIFESTS',
      message: expect.stringContaining('default/kustomization.yaml uses namePrefix') as unknown,
    });
    await expect(buildKustomization(join(root, 'default'), root)).rejects.toThrow('`kubectl kustomize`');
  });

  it('refuses a resource that does not exist and a patch of an object it does not hold', async () => {
    const missing = await files({ 'k/kustomization.yaml': 'resources: [gone.yaml]\n' });
    await expect(buildKustomization(join(missing, 'k'), missing)).rejects.toThrow(
      'k/gone.yaml, named in k/kustomization.yaml, does not exist',
    );
    await rm(missing, { recursive: true, force: true });
    const stray = await files({
      'k/kustomization.yaml': 'resources: []\npatches: [{ path: p.yaml }]\n',
      'k/p.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: x }\n',
    });
    await expect(buildKustomization(join(stray, 'k'), stray)).rejects.toThrow(
      'k/p.yaml patches Deployment x, which the kustomization does not hold',
    );
  });
});

describe('orderObjects', () => {
  it("orders by kustomize's kinds: namespaces and CRDs first, webhook configurations last, unknown kinds between", () => {
    const o = (kind: string, name: string): KubeObject => ({ apiVersion: 'v1', kind, metadata: { name } });
    const sorted = orderObjects([
      o('ValidatingWebhookConfiguration', 'v'),
      o('Issuer', 'i'),
      o('Deployment', 'd'),
      o('CustomResourceDefinition', 'c'),
      o('Namespace', 'n'),
      o('ClusterRole', 'b'),
      o('ClusterRole', 'a'),
    ]);
    expect(sorted.map((x) => `${x.kind}/${x.metadata.name}`)).toEqual([
      'Namespace/n',
      'CustomResourceDefinition/c',
      'ClusterRole/a',
      'ClusterRole/b',
      'Deployment/d',
      'Issuer/i',
      'ValidatingWebhookConfiguration/v',
    ]);
  });
});
