// CustomResourceDefinitions through apiextensionsV1, and custom resources through the types and descriptor that
// generateTypesFromCrd wrote for that CRD (test/types/crd/widgets.ts, kept equal to the generator's output).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { createClientset } from '../../sdk/client/clientset.js';
import { isInvalid, isNotFound } from '../../sdk/client/errors.js';
import type { apiextensionsv1 } from '../../sdk/client/generated/index.js';
import { typedClient } from '../../sdk/client/rest/resource.js';
import { WidgetV1, WidgetV1alpha1 } from '../types/crd/widgets.js';
import { createTestNamespace, sharedCluster } from '../support/cluster.js';
import { eventually, type EventuallyOptions } from '../support/wait.js';

const poll: EventuallyOptions = { intervalMs: 100 };

const fixture = join(import.meta.dirname, '../../sdk/client/codegen/testdata/widgets.example.com.yaml');

describe('Clientset: apiextensions.k8s.io/v1 and generated CRD types', () => {
  const { config } = sharedCluster();
  const cs = createClientset(config);

  it('creates a CRD, waits until it is established, and serves widgets typed by the generated descriptor', async () => {
    const crds = cs.apiextensionsV1().customResourceDefinitions();
    const crd = load(readFileSync(fixture, 'utf8')) as apiextensionsv1.CustomResourceDefinition;
    await crds.delete('widgets.example.com').catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
    await eventually(
      'the old CRD to go',
      async () => ((await crds.get('widgets.example.com').catch(() => undefined)) ? undefined : true),
      { ...poll, timeoutMs: 30_000 },
    );
    const created = await crds.create(crd);
    expect(created.spec.versions.map((v) => v.name)).toEqual(['v1alpha1', 'v1']);
    const established = await eventually(
      'the CRD to be established',
      async () => {
        const current = await crds.get('widgets.example.com');
        return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
          ? current
          : undefined;
      },
      { ...poll, timeoutMs: 30_000 },
    );
    expect(established.status?.acceptedNames?.kind).toBe('Widget');

    const ns = await createTestNamespace(config, 'cs-crd');
    const widgets = typedClient(config, WidgetV1).namespace(ns);
    // The new resource may take a moment to be served after Established.
    const widget = await eventually(
      'widgets to be served',
      () =>
        widgets
          .create({
            apiVersion: 'example.com/v1',
            kind: 'Widget',
            metadata: { name: 'w' },
            spec: {
              color: 'blue',
              port: 'http',
              weight: null,
              labels: { a: 'b' },
              config: { free: [1, 'x'] },
              tags: [{ key: 'k' }],
            },
          })
          .catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err))),
      { ...poll, timeoutMs: 30_000 },
    );
    // Defaults from the schema, values kept as sent (nullable, int-or-string, preserved unknown fields).
    expect(widget.spec).toMatchObject({
      color: 'blue',
      port: 'http',
      replicas: 1,
      config: { free: [1, 'x'] },
      schedule: { cron: '@daily' },
    });
    expect(widget.spec?.tags).toEqual([{ key: 'k', value: '' }]);
    expect(widget.spec?.weight).toBeNull();

    const withStatus = await widgets.updateStatus({
      ...widget,
      status: { replicas: 1, conditions: [{ type: 'Ready', status: 'True' }] },
    });
    expect(withStatus.status?.conditions?.[0]?.status).toBe('True');
    const scale = await widgets.getSubresource<{ spec?: { replicas?: number } }>('w', 'scale');
    expect(scale.spec?.replicas).toBe(1);

    // The schema's enum is enforced by the server as by the type.
    const invalid = await widgets
      .create({
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: 'bad' },
        spec: { color: 'purple' as 'red', port: 1 },
      })
      .catch((err: unknown) => err);
    expect(invalid).toSatisfy(isInvalid);

    // The other served version, through its own descriptor.
    const old = await typedClient(config, WidgetV1alpha1).namespace(ns).list();
    expect(old.items.map((w) => [w.apiVersion, w.metadata?.name])).toEqual([['example.com/v1alpha1', 'w']]);

    await crds.delete('widgets.example.com');
  });
});
