import { describe, expect, it } from 'vitest';
import {
  ApiError,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isInvalid,
  isNotFound,
  ignoreNotFound,
  restClientFor,
  type KubeObject,
} from '../../sdk/client/index.js';
import { connectToControlPlane } from '../../sdk/envtest/index.js';
import { createTestNamespace, sharedCluster, uniqueName } from '../support/cluster.js';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

describe('RESTClient against the real API server', () => {
  const { config, workDir } = sharedCluster();
  const core = restClientFor(config, { groupVersion: { group: '', version: 'v1' }, apiPath: '/api' });

  it('creates, reads, replaces and deletes a ConfigMap with the fluent builder', async () => {
    const ns = await createTestNamespace(config, 'rest');
    const name = uniqueName('cm');
    const created = await core
      .post()
      .namespace(ns)
      .resource('configmaps')
      .body({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' } })
      .do()
      .into<ConfigMap>();
    expect(created.metadata?.uid).toBeTruthy();

    const got = await core.get().namespace(ns).resource('configmaps').name(name).do().into<ConfigMap>();
    expect(got.data).toEqual({ a: '1' });

    const replaced = await core
      .put()
      .namespace(ns)
      .resource('configmaps')
      .name(name)
      .body({ ...got, data: { a: '2' } })
      .do()
      .into<ConfigMap>();
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(Number(got.metadata?.resourceVersion));

    const list = await core
      .get()
      .namespace(ns)
      .resource('configmaps')
      .param('labelSelector', undefined)
      .do()
      .into<{ items: ConfigMap[] }>();
    expect(list.items.map((i) => i.metadata?.name)).toContain(name);

    await core.delete().namespace(ns).resource('configmaps').name(name).do().raw();
    await expect(core.get().namespace(ns).resource('configmaps').name(name).do().into()).rejects.toSatisfy(isNotFound);
  });

  it('turns every failure into an ApiError carrying the parsed Status', async () => {
    const ns = await createTestNamespace(config, 'errors');
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dup' } };
    await core.post().namespace(ns).resource('configmaps').body(cm).do().into();

    const exists = await core
      .post()
      .namespace(ns)
      .resource('configmaps')
      .body(cm)
      .do()
      .into()
      .catch((e: unknown) => e);
    expect(exists).toBeInstanceOf(ApiError);
    expect(isAlreadyExists(exists)).toBe(true);
    expect(isConflict(exists)).toBe(false);
    expect(exists).toMatchObject({ code: 'ERR_KUBE_API', statusCode: 409, reason: 'AlreadyExists' });
    expect((exists as ApiError).message).toContain(`POST /api/v1/namespaces/${ns}/configmaps: 409 AlreadyExists`);

    const stale = await core
      .put()
      .namespace(ns)
      .resource('configmaps')
      .name('dup')
      .body({ ...cm, metadata: { name: 'dup', resourceVersion: '1' } })
      .do()
      .into()
      .catch((e: unknown) => e);
    expect(isConflict(stale)).toBe(true);

    const invalid = await core
      .post()
      .namespace(ns)
      .resource('configmaps')
      .body({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'Not_Valid' } })
      .do()
      .into()
      .catch((e: unknown) => e);
    expect(isInvalid(invalid)).toBe(true);
    expect((invalid as ApiError).statusCode).toBe(422);
    expect((invalid as ApiError).details?.causes?.[0]).toMatchObject({
      field: 'metadata.name',
      reason: 'FieldValueInvalid',
    });

    expect(
      await ignoreNotFound(core.get().namespace(ns).resource('configmaps').name('absent').do().into()),
    ).toBeUndefined();
  });

  it('gives 403 Forbidden to a user RBAC does not allow', async () => {
    const env = await connectToControlPlane(workDir);
    const user = await env.addUser({ name: uniqueName('nobody') });
    const rc = restClientFor(user, { groupVersion: { group: '', version: 'v1' } });
    const err = await rc
      .get()
      .namespace('default')
      .resource('secrets')
      .do()
      .into()
      .catch((e: unknown) => e);
    expect(isForbidden(err)).toBe(true);
    expect((err as ApiError).status.details).toMatchObject({ kind: 'secrets' });
  });

  it('reaches absolute paths and aborts through a signal', async () => {
    const version = await core.get().absPath('/version').do().into<{ gitVersion: string }>();
    expect(version.gitVersion).toBe('v1.37.2');
    const controller = new AbortController();
    controller.abort(new Error('caller gave up'));
    await expect(core.get().absPath('/version').do({ signal: controller.signal }).into()).rejects.toThrow(
      'caller gave up',
    );
  });
});
