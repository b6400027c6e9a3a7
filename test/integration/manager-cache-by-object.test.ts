import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ConfigMap, Secret, createClientset, hasErrorCode, type KubeObject } from '../../sdk/client/index.js';
import { stripManagedFields } from '../../sdk/cache/index.js';
import {
  CLIENT,
  Reconciler,
  createManager,
  inject,
  metadataOnly,
  type Client,
  type Manager,
  type ReconcileRequest,
  type ReconcileResult,
} from '../../sdk/manager/index.js';
import { createTestNamespace, sharedCluster } from '../support/cluster.js';
import { managerRunner } from '../support/managers.js';
import { eventually } from '../support/wait.js';

const run = managerRunner();
const quiet = { metricsBindAddress: '0', healthProbeBindAddress: '0', logger: pino({ level: 'silent' }) } as const;
const names = (items: readonly KubeObject[]): string[] => items.map((i) => i.metadata?.name ?? '').toSorted();

/** Reads one gauge's samples as `labels → value`. */
async function objectsGauge(mgr: Manager): Promise<Map<string, number>> {
  const text = await mgr.metrics.registry.getSingleMetricAsString('kubeloop_informer_objects');
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^kubeloop_informer_objects\{(.*)\} (\d+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

describe('cache.byObject against the real API server', () => {
  const { config } = sharedCluster();

  it('scopes a resource to its own namespaces and selector, transforms it, hands out shared objects, and caches Secrets as metadata only', async () => {
    const nsA = await createTestNamespace(config, 'byobj-a');
    const nsB = await createTestNamespace(config, 'byobj-b');
    const cs = createClientset(config);
    for (const ns of [nsA, nsB]) {
      await cs
        .coreV1()
        .configMaps(ns)
        .create({ metadata: { name: 'kept', labels: { keep: 'yes' } }, data: { big: 'x'.repeat(100), small: 's' } });
      await cs
        .coreV1()
        .configMaps(ns)
        .create({ metadata: { name: 'other' }, data: { small: 's' } });
      await cs
        .coreV1()
        .secrets(ns)
        .create({ metadata: { name: 'token', labels: { team: 'a' } }, stringData: { password: 'hunter2' } });
    }
    const mgr = await createManager({
      config,
      ...quiet,
      cache: {
        namespaces: [nsA],
        byObject: [
          {
            resource: ConfigMap,
            namespaces: [nsB],
            labelSelector: 'keep=yes',
            transform: (obj) => {
              const cm = stripManagedFields(obj) as KubeObject & { data?: Record<string, string> };
              const { big: _, ...data } = cm.data ?? {};
              return { ...cm, data };
            },
            unsafeDisableDeepCopy: true,
          },
          { resource: Secret, metadataOnly: true },
        ],
      },
    });
    run(mgr);
    const client = mgr.client;

    // ConfigMaps: nsB only (its own namespaces), the labelled one only, without `big`, the shared frozen object.
    const cms = await client.list(ConfigMap, {});
    expect(cms.items.map((c) => `${c.metadata?.namespace}/${c.metadata?.name}`)).toEqual([`${nsB}/kept`]);
    expect(cms.items[0]!.data).toEqual({ small: 's' });
    expect(cms.items[0]!.metadata?.managedFields).toBeUndefined();
    expect(Object.isFrozen(cms.items[0])).toBe(true);
    await expect(client.get(ConfigMap, { namespace: nsB, name: 'other' })).rejects.toMatchObject({
      reason: 'NotFound',
    });
    await expect(client.get(ConfigMap, { namespace: nsA, name: 'kept' })).rejects.toMatchObject({ reason: 'NotFound' });
    // A read's own choice wins over the entry's.
    const copied = await client.get(ConfigMap, { namespace: nsB, name: 'kept' }, { unsafeDisableDeepCopy: false });
    expect(Object.isFrozen(copied)).toBe(false);
    copied.data = { changed: 'yes' };
    expect((await client.get(ConfigMap, { namespace: nsB, name: 'kept' })).data).toEqual({ small: 's' });

    // Secrets: the cache's namespace, metadata only; a whole-object read is refused rather than caching bodies.
    const err = await client.get(Secret, { namespace: nsA, name: 'token' }).catch((e: unknown) => e);
    expect(hasErrorCode(err, 'ERR_CACHE_METADATA_ONLY')).toBe(true);
    const meta = await client.get(metadataOnly(Secret), { namespace: nsA, name: 'token' });
    expect(meta.apiVersion).toBe('v1');
    expect(meta.kind).toBe('Secret');
    expect(meta.metadata.labels).toEqual({ team: 'a' });
    expect(JSON.stringify(meta)).not.toContain('hunter2');
    expect(meta).not.toHaveProperty('data');
    const metaList = await client.list(metadataOnly(Secret), { labelSelector: 'team=a' });
    expect(metaList.kind).toBe('PartialObjectMetadataList');
    expect(names(metaList.items)).toEqual(['token']);
    expect(metaList.items[0]!.metadata.namespace).toBe(nsA);
    // The metadata can be written back: the object carries Secret's apiVersion and kind.
    await client.patch(meta, { metadata: { labels: { team: 'b' } } }, { patchType: 'merge' });
    expect((await client.get(metadataOnly(Secret), { namespace: nsA, name: 'token' })).metadata.labels).toEqual({
      team: 'b',
    });
    // Uncached metadata reads cut the whole object down.
    const direct = await client.get(metadataOnly(Secret), { namespace: nsB, name: 'token' }, { uncached: true });
    expect(direct).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: expect.objectContaining({ name: 'token', namespace: nsB }),
    });

    const health = mgr.cache.health();
    expect(health.filter((h) => h.resource === 'v1/secrets').map((h) => [h.namespace, h.metadataOnly])).toEqual([
      [nsA, true],
    ]);
    expect(health.filter((h) => h.resource === 'v1/configmaps').map((h) => [h.namespace, h.labelSelector])).toEqual([
      [nsB, 'keep=yes'],
    ]);

    // kubeloop_informer_objects counts what each informer holds, and follows changes.
    expect(await objectsGauge(mgr)).toEqual(
      new Map([
        [`resource="v1/configmaps",namespace="${nsB}",metadata_only="false"`, 1],
        [`resource="v1/secrets",namespace="${nsA}",metadata_only="true"`, 1],
      ]),
    );
    await cs
      .coreV1()
      .configMaps(nsB)
      .create({ metadata: { name: 'kept-2', labels: { keep: 'yes' } } });
    await eventually(
      'two cached ConfigMaps',
      async () =>
        (await objectsGauge(mgr)).get(`resource="v1/configmaps",namespace="${nsB}",metadata_only="false"`) === 2,
    );
  });

  it('reads the deprecated byResource as byObject, and refuses two entries for one resource', async () => {
    const ns = await createTestNamespace(config, 'byres');
    const cms = createClientset(config).coreV1().configMaps(ns);
    await cms.create({ metadata: { name: 'in', labels: { pick: 'me' } } });
    await cms.create({ metadata: { name: 'out' } });
    const mgr = await createManager({
      config,
      ...quiet,
      cache: { namespaces: [ns], byResource: [{ resource: ConfigMap, labelSelector: 'pick=me' }] },
    });
    run(mgr);
    expect(names((await mgr.client.list(ConfigMap, { namespace: ns })).items)).toEqual(['in']);

    const twice = await createManager({
      config,
      ...quiet,
      cache: {
        byResource: [{ resource: ConfigMap, labelSelector: 'a=b' }],
        byObject: [{ resource: ConfigMap, metadataOnly: true }],
      },
    }).catch((e: unknown) => e);
    expect(hasErrorCode(twice, 'ERR_CACHE_OPTIONS')).toBe(true);
    expect((twice as Error).message).toContain('v1/configmaps');
  });
});

/** Counts its owned Secrets' owner-triggered reconciles; creates one Secret per ConfigMap. */
@Reconciler({ for: ConfigMap, name: 'secret-owner', owns: [{ resource: Secret, metadataOnly: true }] })
class SecretOwner {
  static reconciles = new Map<string, number>();
  constructor(@inject(CLIENT) private readonly client: Client) {}
  async reconcile(req: ReconcileRequest): Promise<ReconcileResult> {
    SecretOwner.reconciles.set(req.name, (SecretOwner.reconciles.get(req.name) ?? 0) + 1);
    const cm = await this.client.get(ConfigMap, req);
    const owned = await this.client.list(metadataOnly(Secret), { namespace: req.namespace });
    if (owned.items.some((s) => s.metadata.name === `${req.name}-secret`)) return {};
    await this.client.create({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        namespace: req.namespace,
        name: `${req.name}-secret`,
        ownerReferences: [
          { apiVersion: 'v1', kind: 'ConfigMap', name: req.name, uid: cm.metadata!.uid!, controller: true },
        ],
      },
      stringData: { password: 'hunter2' },
    });
    return {};
  }
}

describe('metadata-only owns against the real API server', () => {
  const { config } = sharedCluster();

  it('watches owned Secrets through a metadata-only informer: an owned Secret change reconciles its owner, and no whole Secret is cached', async () => {
    const ns = await createTestNamespace(config, 'meta-owns');
    const mgr = await createManager({
      config,
      ...quiet,
      cache: { namespaces: [ns], readerFailOnMissingInformer: true },
    });
    mgr.register(SecretOwner);
    run(mgr);
    const cs = createClientset(config);
    await cs
      .coreV1()
      .configMaps(ns)
      .create({ metadata: { name: 'app' } });
    await eventually('the owned Secret', async () =>
      (await cs.coreV1().secrets(ns).list()).items.find((s) => s.metadata?.name === 'app-secret'),
    );
    const before = await eventually('a reconcile after the create', () => SecretOwner.reconciles.get('app'));

    // A change to the owned Secret alone wakes the owner.
    await cs
      .coreV1()
      .secrets(ns)
      .patch('app-secret', { metadata: { labels: { touched: 'yes' } } }, { patchType: 'merge' });
    await eventually('a reconcile after the Secret changed', () =>
      (SecretOwner.reconciles.get('app') ?? 0) > before ? true : undefined,
    );

    // Only a metadata-only Secrets informer exists; whole-object reads of Secrets were never declared.
    const secrets = mgr.cache.health().filter((h) => h.resource === 'v1/secrets');
    expect(secrets.map((h) => h.metadataOnly)).toEqual([true]);
    const err = await mgr.client.get(Secret, { namespace: ns, name: 'app-secret' }).catch((e: unknown) => e);
    expect(hasErrorCode(err, 'ERR_CACHE_MISSING_INFORMER')).toBe(true);
    const cached = mgr.cache.informers(metadataOnly(Secret))[0]!.getIndexer().list();
    expect(cached.map((s) => s.metadata?.name)).toEqual(['app-secret']);
    expect(JSON.stringify(cached)).not.toContain('hunter2');
    expect(JSON.stringify(cached)).not.toContain(Buffer.from('hunter2').toString('base64'));
  });
});
