import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ApiError,
  createDynamicClient,
  isConflict,
  isInvalid,
  isNotFound,
  type Unstructured,
} from '../../sdk/client/index.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';
import { eventually } from '../support/wait.js';

const configMaps = { group: '', version: 'v1', resource: 'configmaps' };
const deployments = { group: 'apps', version: 'v1', resource: 'deployments' };
const crds = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };

function deployment(name: string, replicas = 1): Unstructured {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
      },
    },
  };
}

describe('DynamicClient against the real API server', () => {
  const { config } = sharedCluster();
  const dyn = createDynamicClient(config);

  it('creates, gets, lists, updates and deletes, returning the server JSON unchanged', async () => {
    const ns = await createTestNamespace(config, 'dyn');
    const cms = dyn.resource(configMaps).namespace(ns);
    const created = await cms.create({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', labels: { t: 'x' } },
      data: { k: 'v' },
    });
    expect(created.metadata?.managedFields?.[0]?.manager).toBeTruthy();
    const got = await cms.get('a');
    expect(got).toEqual(created);
    const list = await cms.list({ labelSelector: 't=x' });
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ apiVersion: 'v1', kind: 'ConfigMap' });
    const updated = await cms.update({ ...got, data: { k: 'w' } });
    expect(updated.data).toEqual({ k: 'w' });
    await cms.delete('a');
    await expect(cms.get('a')).rejects.toSatisfy(isNotFound);
  });

  it('patches with json, merge, strategic and apply, each with its content type', async () => {
    const ns = await createTestNamespace(config, 'patch');
    const deps = dyn.resource(deployments).namespace(ns);
    await deps.create(deployment('web'));
    const merged = await deps.patch('web', { metadata: { labels: { tier: 'front' } } }, { patchType: 'merge' });
    expect((merged.metadata?.labels ?? {})['tier']).toBe('front');
    const jsonPatched = await deps.patch('web', [{ op: 'replace', path: '/spec/replicas', value: 3 }], {
      patchType: 'json',
    });
    expect((jsonPatched['spec'] as { replicas: number }).replicas).toBe(3);
    // A strategic merge patch merges the containers list by name instead of replacing it.
    const strategic = await deps.patch(
      'web',
      { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:1.36' }] } } } },
      { patchType: 'strategic' },
    );
    const containers = (strategic['spec'] as { template: { spec: { containers: { name: string }[] } } }).template.spec
      .containers;
    expect(containers.map((c) => c.name).toSorted()).toEqual(['sidecar', 'web']);
    const applied = await deps.apply(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', annotations: { owner: 'me' } } },
      { fieldManager: 'kubeloop-test' },
    );
    expect(applied.metadata?.annotations?.['owner']).toBe('me');
    expect(applied.metadata?.managedFields?.some((f) => f.manager === 'kubeloop-test' && f.operation === 'Apply')).toBe(
      true,
    );
  });

  it('reports server-side apply conflicts with the fields and managers involved, and force takes them', async () => {
    const ns = await createTestNamespace(config, 'apply');
    const deps = dyn.resource(deployments).namespace(ns);
    const first = {
      ...deployment('api', 2),
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: ns },
    };
    await deps.apply(first, { fieldManager: 'alice' });
    const second = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api' }, spec: { replicas: 5 } };
    const err = await deps.apply(second, { fieldManager: 'bob' }).catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
    expect((err as ApiError).fieldConflicts).toEqual([
      expect.objectContaining({ field: '.spec.replicas', manager: 'alice' }),
    ]);
    const forced = await deps.apply(second, { fieldManager: 'bob', force: true });
    expect((forced['spec'] as { replicas: number }).replicas).toBe(5);
    await expect(deps.apply(second, { fieldManager: '' })).rejects.toThrow('fieldManager');
  });

  it('honours dryRun and fieldValidation', async () => {
    const ns = await createTestNamespace(config, 'dryrun');
    const cms = dyn.resource(configMaps).namespace(ns);
    const dry = await cms.create(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dry' } },
      { dryRun: ['All'] },
    );
    expect(dry.metadata?.name).toBe('dry');
    await expect(cms.get('dry')).rejects.toSatisfy(isNotFound);
    const strict = await cms
      .create(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 's' }, bogus: true },
        { fieldValidation: 'Strict' },
      )
      .catch((e: unknown) => e);
    expect((strict as ApiError).statusCode).toBe(400);
    expect((strict as ApiError).message).toContain('unknown field "bogus"');
    const warnings: string[] = [];
    const warned = createDynamicClient({ ...config, warningHandler: (w) => warnings.push(w) });
    await warned
      .resource(configMaps)
      .namespace(ns)
      .create(
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w' }, bogus: true },
        { fieldValidation: 'Warn' },
      );
    expect(warnings).toEqual([expect.stringContaining('unknown field "bogus"')]);
  });

  it('paginates with limit/continue, lists all pages, and deletes a collection', async () => {
    const ns = await createTestNamespace(config, 'pages');
    const cms = dyn.resource(configMaps).namespace(ns);
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { batch: 'p' } } }),
      ),
    );
    const page = await cms.list({ limit: 10, labelSelector: 'batch=p' });
    expect(page.items).toHaveLength(10);
    expect(page.metadata.continue).toBeTruthy();
    const all = await cms.listAll({ limit: 10, labelSelector: 'batch=p' });
    expect(all.items).toHaveLength(25);
    expect(new Set(all.items.map((i) => i.metadata?.name)).size).toBe(25);
    expect(all.metadata.continue).toBeUndefined();
    await cms.deleteCollection({ labelSelector: 'batch=p' });
    expect((await cms.list({ labelSelector: 'batch=p' })).items).toHaveLength(0);
  });

  describe('custom resources', () => {
    const group = `${uniqueName('widgets')}.example.com`;
    const widgets = { group, version: 'v1', resource: 'widgets' };
    let ns: string;

    beforeAll(async () => {
      await dyn.resource(crds).create({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: `widgets.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              subresources: {
                status: {},
                scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
              },
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: {
                      type: 'object',
                      properties: { replicas: { type: 'integer', minimum: 0 }, color: { type: 'string' } },
                    },
                    status: {
                      type: 'object',
                      properties: { replicas: { type: 'integer' }, phase: { type: 'string' } },
                    },
                  },
                },
              },
            },
          ],
        },
      });
      await eventually(
        'the CRD to be established',
        async () => {
          const crd = await dyn.resource(crds).get(`widgets.${group}`);
          const conditions =
            (crd['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
          return conditions.some((c) => c.type === 'Established' && c.status === 'True');
        },
        { timeoutMs: 30_000, intervalMs: 100 },
      );
      ns = await createTestNamespace(config, 'crd');
    });
    afterAll(async () => {
      await dyn.resource(crds).delete(`widgets.${group}`);
    });

    it('does CRUD, the status subresource and the scale subresource on a CRD created at run time', async () => {
      const ws = dyn.resource(widgets).namespace(ns);
      const created = await ws.create({
        apiVersion: `${group}/v1`,
        kind: 'Widget',
        metadata: { name: 'w1' },
        spec: { replicas: 1, color: 'red' },
      });
      expect(created.metadata?.generation).toBe(1);
      const withStatus = await ws.updateStatus({ ...created, status: { replicas: 1, phase: 'Ready' } });
      expect(withStatus['status']).toEqual({ replicas: 1, phase: 'Ready' });
      expect(withStatus.metadata?.generation).toBe(1); // status writes do not bump generation
      // The main resource ignores status changes; the status subresource ignores spec changes.
      const ignored = await ws.update({ ...withStatus, status: { phase: 'Changed' } });
      expect((ignored['status'] as { phase: string }).phase).toBe('Ready');

      const scale = await ws.getSubresource<{ spec: { replicas: number }; status: { replicas: number } }>(
        'w1',
        'scale',
      );
      expect(scale).toMatchObject({ kind: 'Scale', spec: { replicas: 1 }, status: { replicas: 1 } });
      await ws.updateSubresource('w1', 'scale', { ...scale, spec: { replicas: 4 } });
      expect(((await ws.get('w1'))['spec'] as { replicas: number }).replicas).toBe(4);

      const patchedStatus = await ws.patch(
        'w1',
        { status: { phase: 'Scaling' } },
        { patchType: 'merge', subresource: 'status' },
      );
      expect((patchedStatus['status'] as { phase: string }).phase).toBe('Scaling');
      const invalid = await ws.patch('w1', { spec: { replicas: -1 } }, { patchType: 'merge' }).catch((e: unknown) => e);
      expect(isInvalid(invalid)).toBe(true);
      expect((invalid as ApiError).details?.causes?.[0]?.field).toBe('spec.replicas');
      await ws.delete('w1');
      await expect(ws.get('w1')).rejects.toSatisfy(isNotFound);
    });
  });
});
