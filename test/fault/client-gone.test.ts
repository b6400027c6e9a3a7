import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { type ApiError, createDynamicClient, isGone } from '../../sdk/client/index.js';
import { startControlPlane, type ControlPlane } from '../../sdk/envtest/index.js';

/** Compacts etcd's history up to its current revision through its JSON gateway. */
async function compactEtcd(etcdUrl: string): Promise<void> {
  const status = await request(`${etcdUrl}/v3/maintenance/status`, { method: 'POST', body: '{}' });
  const revision = ((await status.body.json()) as { header: { revision: string } }).header.revision;
  const res = await request(`${etcdUrl}/v3/kv/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision, physical: true }),
  });
  expect(res.statusCode).toBe(200);
  await res.body.dump();
}

// 410 Gone needs history that etcd has forgotten. With the watch cache off, watches and lists go to etcd, so a
// compaction makes an old resourceVersion or continue token expire at once.
describe('410 Gone from a compacted history (own control plane, watch cache off)', () => {
  let env: ControlPlane;

  beforeAll(async () => {
    env = await startControlPlane({ apiServerFlags: ['--watch-cache=false'] });
  });
  afterAll(async () => {
    await env?.stop();
  });

  it('raises an in-stream 410 for a watch from a compacted resourceVersion, and an expired continue token', async () => {
    const cms = createDynamicClient(env.config)
      .resource({ group: '', version: 'v1', resource: 'configmaps' })
      .namespace('default');
    for (let i = 0; i < 6; i++) await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `c${i}` } });
    const first = await cms.list({ limit: 2 });
    const oldVersion = first.metadata.resourceVersion!;
    // Writes after the list, then a compaction up to the latest of them: the list's revision + 1 is forgotten.
    for (let i = 0; i < 3; i++)
      await cms.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `later${i}` } });
    await compactEtcd(env.etcdUrl);

    const watchErr = await (async () => {
      for await (const _ of cms.watch({ resourceVersion: oldVersion })) {
        // the error comes first
      }
    })().catch((e: unknown) => e);
    expect(isGone(watchErr)).toBe(true);
    expect((watchErr as ApiError).message).toMatch(
      /410 Expired: The resourceVersion for the provided watch is too old/,
    );

    const pageErr = await cms.list({ limit: 2, continue: first.metadata.continue! }).catch((e: unknown) => e);
    expect(isGone(pageErr)).toBe(true);
    expect((pageErr as ApiError).reason).toBe('Expired');
    // listAll starts over from a fresh list instead.
    expect((await cms.listAll({ limit: 2 })).items.length).toBeGreaterThanOrEqual(9);
  });
});
