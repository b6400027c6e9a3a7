import { describe, expect, it } from 'vitest';
import {
  ApiError,
  ConfigMap,
  Deployment,
  Namespace,
  Pod,
  Secret,
  defineCustomResource,
  defineResource,
  hasErrorCode,
  isInvalid,
  isConflict,
  isGone,
  isNoMatch,
  isNotFound,
  isTooManyRequests,
  type KubeObject,
  type ObjectOf,
  type appsv1,
  type corev1,
  s,
} from '../client/index.js';
import { createSharedInformerFactory } from '../cache/index.js';
import { createFakeClock } from '../workqueue/index.js';
import { fieldIndex } from './client.js';
import { createFakeClient } from './fake-client.js';
import { delayBy, describeAction, failWith, intercept, isWriteAction } from './interceptors.js';
import { eventually } from '../../test/support/wait.js';

const Widget = defineResource<{ size?: number }, { phase?: string }>({
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  namespaced: true,
});

const cm = (name: string, data: Record<string, string> = {}, ns = 'ns'): corev1.ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns },
  data,
});

async function rejection(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe('createFakeClient: starting objects', () => {
  it('keeps what a starting object says about itself and fills the rest', async () => {
    const client = createFakeClient({
      resources: [Widget],
      objects: [
        {
          apiVersion: 'example.com/v1',
          kind: 'Widget',
          metadata: {
            name: 'w',
            namespace: 'ns',
            uid: 'u-1',
            generation: 4,
            finalizers: ['f'],
            deletionTimestamp: '2026-01-01T00:00:00Z',
          },
          status: { phase: 'Seeded' },
        } as KubeObject,
        cm('a'),
      ],
    });
    const w = await client.get(Widget, { namespace: 'ns', name: 'w' });
    expect(w.metadata).toMatchObject({ uid: 'u-1', generation: 4, deletionTimestamp: '2026-01-01T00:00:00Z' });
    expect(w.status).toEqual({ phase: 'Seeded' });
    const a = await client.get(ConfigMap, { namespace: 'ns', name: 'a' });
    expect(a.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(client.actions.map(describeAction)).toEqual(['get widgets.example.com ns/w', 'get configmaps ns/a']);
  });

  it('refuses starting objects the server could not hold', () => {
    expect(() => createFakeClient({ objects: [{ metadata: { name: 'x' } }] })).toThrow(/apiVersion and kind/);
    expect(() =>
      createFakeClient({
        objects: [{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'x', namespace: 'ns' } }],
      }),
    ).toThrow(/pass its descriptor in `resources`/);
    expect(() =>
      createFakeClient({ objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }] }),
    ).toThrow(/needs metadata.namespace/);
    expect(() =>
      createFakeClient({
        objects: [
          {
            apiVersion: 'v1',
            kind: 'ConfigMap',
            metadata: { name: 'x', namespace: 'ns', deletionTimestamp: '2026-01-01T00:00:00Z' },
          },
        ],
      }),
    ).toThrow(/no finalizers/);
  });
});

describe('createFakeClient: one store, three views', () => {
  it('shows a write through one view in the others', async () => {
    const client = createFakeClient({ resources: [Widget] });
    await client.clientset
      .coreV1()
      .configMaps('ns')
      .create(cm('from-clientset', { a: '1' }));
    expect((await client.get(ConfigMap, { namespace: 'ns', name: 'from-clientset' })).data).toEqual({ a: '1' });
    await client.create({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'ns' },
      spec: { size: 1 },
    });
    const dyn = await client.dynamic
      .resource({ group: 'example.com', version: 'v1', resource: 'widgets' })
      .namespace('ns')
      .list();
    expect(dyn.items.map((i) => [i.kind, i.metadata?.name])).toEqual([['Widget', 'w']]);
    expect(client.tracker.objects().map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'ConfigMap/from-clientset',
      'Widget/w',
    ]);
  });

  it('serves cluster-scoped resources without a namespace, and answers 405 to a namespaced create without one', async () => {
    const client = createFakeClient();
    const created = await client.create<corev1.Namespace>({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-a' },
    });
    expect(created.metadata?.namespace).toBeUndefined();
    expect((await client.list(Namespace)).items.map((n) => n.metadata?.name)).toEqual(['team-a']);
    const err = await rejection(client.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } }));
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).statusCode).toBe(405);
  });

  it('answers 404 for a resource it does not serve, and NoMatchError for an unknown kind', async () => {
    const client = createFakeClient();
    const err = await rejection(
      client.dynamic.resource({ group: 'nope.io', version: 'v1', resource: 'things' }).list(),
    );
    expect(isNotFound(err)).toBe(true);
    expect(
      isNoMatch(
        await rejection(
          client.create({ apiVersion: 'nope.io/v1', kind: 'Thing', metadata: { name: 'x', namespace: 'ns' } }),
        ),
      ),
    ).toBe(true);
  });

  it('filters lists by registered field indexes; an unindexed field throws ERR_CACHE_MISSING_INDEX as the cache does, unless uncached', async () => {
    const client = createFakeClient({
      objects: [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p1', namespace: 'ns' },
          spec: { nodeName: 'n1', containers: [] },
        } as KubeObject,
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p2', namespace: 'ns' },
          spec: { nodeName: 'n2', containers: [] },
        } as KubeObject,
      ],
      indexes: [fieldIndex(Pod, 'node', (p) => [p.spec?.nodeName ?? ''])],
    });
    expect((await client.list(Pod, { matchingFields: { node: 'n2' } })).items.map((p) => p.metadata?.name)).toEqual([
      'p2',
    ]);
    expect(
      (await client.list(Pod, { matchingFields: { 'metadata.name': 'p1' } })).items.map((p) => p.metadata?.name),
    ).toEqual(['p1']);
    const err = await rejection(client.list(Pod, { matchingFields: { 'spec.nodeName': 'n1' } }));
    expect(hasErrorCode(err, 'ERR_CACHE_MISSING_INDEX')).toBe(true);
    expect((err as Error).message).toContain('no field index "spec.nodeName" for v1/pods');
    expect(
      (await client.list(Pod, { matchingFields: { 'spec.nodeName': 'n1' }, uncached: true })).items.map(
        (p) => p.metadata?.name,
      ),
    ).toEqual(['p1']);
  });

  it('reads field selectors with the API server grammar: ==, !=, escapes, nothing trimmed; 400 for a bad one', async () => {
    const client = createFakeClient({ objects: [cm('a', { k: 'x,y' }), cm('b', { k: 'p=q' }), cm('c')] });
    const names = async (fieldSelector: string): Promise<string[]> =>
      (await client.clientset.coreV1().configMaps('ns').list({ fieldSelector })).items.map(
        (i) => i.metadata?.name ?? '',
      );
    expect(await names('metadata.name==a')).toEqual(['a']);
    expect(await names('metadata.name!=a,metadata.namespace=ns')).toEqual(['b', 'c']);
    expect(await names('data.k=x\\,y')).toEqual(['a']);
    expect(await names('data.k=p\\=q')).toEqual(['b']);
    expect(await names('data.k=')).toEqual(['c']);
    expect(await names('metadata.name= a')).toEqual([]);
    for (const bad of ['metadata.name', 'metadata.name=a=b', 'metadata.name=a\\x']) {
      const err = await rejection(client.clientset.coreV1().configMaps('ns').list({ fieldSelector: bad }));
      expect((err as ApiError).statusCode, bad).toBe(400);
    }
    // The generic client escapes matchingFields values when it sends them.
    expect(
      (await client.list(ConfigMap, { matchingFields: { 'data.k': 'x,y' }, uncached: true })).items.map(
        (i) => i.metadata?.name,
      ),
    ).toEqual(['a']);
  });

  it('answers watches from an old resourceVersion with 410 after compact()', async () => {
    const client = createFakeClient({ objects: [cm('a')] });
    const rv = client.tracker.resourceVersion;
    await client.update({ ...(await client.get(ConfigMap, { namespace: 'ns', name: 'a' })), data: { v: '1' } });
    client.tracker.compact();
    const err = await rejection(
      (async () => {
        for await (const _ of client.clientset.coreV1().configMaps('ns').watch({ resourceVersion: rv })) break;
      })(),
    );
    expect(isGone(err)).toBe(true);
  });

  it('applies status through applyStatus, leaving the rest alone', async () => {
    const client = createFakeClient({
      resources: [Widget],
      objects: [
        { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'ns' }, spec: { size: 1 } },
      ],
    });
    const w = await client.status().apply<ObjectOf<typeof Widget>>(
      {
        apiVersion: 'example.com/v1',
        kind: 'Widget',
        metadata: { name: 'w', namespace: 'ns' },
        spec: { size: 9 },
        status: { phase: 'Ready' },
      },
      { fieldManager: 'ctrl' },
    );
    expect(w.status).toEqual({ phase: 'Ready' });
    expect(w.spec).toEqual({ size: 1 });
    expect(w.metadata?.managedFields).toEqual([
      expect.objectContaining({
        manager: 'ctrl',
        operation: 'Apply',
        subresource: 'status',
        fieldsV1: { 'f:status': { 'f:phase': {} } },
      }),
    ]);
  });

  it('ends open watches normally, or with an error, on endWatches()', async () => {
    const client = createFakeClient({ objects: [cm('a')] });
    const seen: string[] = [];
    const consumed = (async () => {
      for await (const e of client.clientset.coreV1().configMaps('ns').watch()) seen.push(e.type);
      return 'ended';
    })();
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 1));
    client.tracker.endWatches();
    expect(await consumed).toBe('ended');
    const failing = rejection(
      (async () => {
        for await (const _ of client.clientset
          .coreV1()
          .configMaps('ns')
          .watch({ resourceVersion: client.tracker.resourceVersion }))
          break;
      })(),
    );
    await new Promise((r) => setTimeout(r, 5));
    client.tracker.endWatches(new Error('cut'));
    expect(((await failing) as Error).message).toBe('cut');
    expect(seen).toEqual(['ADDED']);
  });

  it('starts from objects of any kind written inline with their fields, and from typed ones', async () => {
    const deployment: appsv1.Deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'ns' },
      spec: {
        selector: { matchLabels: { app: 'web' } },
        template: { spec: { containers: [{ name: 'web', image: 'nginx' }] } },
      },
    };
    const client = createFakeClient({
      resources: [Widget],
      objects: [
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'settings', namespace: 'ns' },
          data: { mode: 'fast' },
        },
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: 'creds', namespace: 'ns' },
          stringData: { token: 't' },
          type: 'Opaque',
        },
        { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'ns' }, spec: { size: 3 } },
        deployment,
      ],
    });
    expect((await client.get(ConfigMap, { namespace: 'ns', name: 'settings' })).data).toEqual({ mode: 'fast' });
    expect((await client.get(Secret, { namespace: 'ns', name: 'creds' })).type).toBe('Opaque');
    expect((await client.get(Widget, { namespace: 'ns', name: 'w' })).spec).toEqual({ size: 3 });
    expect(
      (await client.get(Deployment, { namespace: 'ns', name: 'web' })).spec?.template.spec?.containers[0]?.image,
    ).toBe('nginx');
    const added = client.tracker.add({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'more', namespace: 'ns' },
      data: { a: 'b' },
    });
    expect(added.data).toEqual({ a: 'b' });
    expect(added.metadata.resourceVersion).toBeDefined();
  });

  it('feeds a shared informer factory given its clientset, as NewSharedInformerFactory(clientset, …)', async () => {
    const client = createFakeClient({
      objects: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'ns' }, data: { v: '0' } }],
    });
    const informers = createSharedInformerFactory(client.clientset, { namespace: 'ns' });
    const { informer, lister } = informers.forResource(ConfigMap);
    const seen: string[] = [];
    informer.addEventHandler({
      onAdd: (o, initial) => void seen.push(`add ${o.metadata?.name}=${o.data?.['v']}${initial ? ' initial' : ''}`),
    });
    const stop = new AbortController();
    const running = informers.start(stop.signal);
    expect(await informers.waitForCacheSync(stop.signal)).toBe(true);
    expect(lister.namespace('ns').get('a')?.data).toEqual({ v: '0' });
    await client.clientset
      .coreV1()
      .configMaps('ns')
      .create({ metadata: { name: 'b' }, data: { v: '1' } });
    await eventually('the second add', () => seen.length >= 2, { timeoutMs: 5000, intervalMs: 5 });
    expect(seen).toEqual(['add a=0 initial', 'add b=1']);
    // The informer watched through the fake (a WatchList: its initial state and then changes on one stream).
    expect(
      client.actions
        .filter((a) => a.verb === 'list' || a.verb === 'watch')
        .map((a) => `${a.verb} ${a.resource} ${a.namespace}`),
    ).toEqual(['watch configmaps ns']);
    stop.abort();
    await running;
  });

  it('feeds a shared informer factory given its factory', async () => {
    const client = createFakeClient({ objects: [cm('a', { v: '0' })] });
    const informers = createSharedInformerFactory(client.factory, { namespace: 'ns' });
    const { informer, lister } = informers.forResource(ConfigMap);
    const seen: string[] = [];
    informer.addEventHandler({ onUpdate: (_, o) => void seen.push(`${o.metadata?.name}=${o.data?.['v']}`) });
    const stop = new AbortController();
    const running = informers.start(stop.signal);
    await informers.waitForCacheSync(stop.signal);
    expect(lister.namespace('ns').get('a')?.data).toEqual({ v: '0' });
    await client.patch(cm('a'), { data: { v: '1' } }, { patchType: 'merge' });
    await eventually('the update', () => seen.length > 0, { timeoutMs: 5000, intervalMs: 5 });
    expect(seen).toEqual(['a=1']);
    stop.abort();
    await running;
  });
});

describe('createFakeClient: actions and interceptors', () => {
  it('records every call with what a table-driven test compares', async () => {
    const client = createFakeClient({ resources: [Widget], objects: [cm('a')] });
    const a = await client.get(ConfigMap, { namespace: 'ns', name: 'a' });
    await client.update({ ...a, data: { x: '1' } }, { fieldManager: 'me' });
    await client.apply(
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'ns' }, data: {} },
      { fieldManager: 'me' },
    );
    await client.create(
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'ns' } },
      { dryRun: ['All'] },
    );
    await client.list(ConfigMap, { namespace: 'ns', labelSelector: 'a=b' });
    await client.deleteAllOf(ConfigMap, { namespace: 'ns', labelSelector: 'gone=yes' });
    expect(client.actions.map(describeAction)).toEqual([
      'get configmaps ns/a',
      'update configmaps ns/a',
      'patch configmaps ns/b (apply)',
      'create widgets.example.com ns/w',
      'list configmaps ns',
      'deletecollection configmaps ns',
    ]);
    expect(client.actions[1]).toMatchObject({
      verb: 'update',
      group: '',
      version: 'v1',
      resource: 'configmaps',
      fieldManager: 'me',
      body: { data: { x: '1' } },
    });
    expect(client.actions[3]).toMatchObject({ dryRun: true });
    expect(client.actions[4]).toMatchObject({ labelSelector: 'a=b' });
    expect(client.actions.filter(isWriteAction)).toHaveLength(4);
    client.clearActions();
    expect(client.actions).toEqual([]);
  });

  it('fails the nth matching call only: the third update of Widgets returns 409', async () => {
    const client = createFakeClient({ resources: [Widget] });
    const handle = client.intercept({ verb: 'update', resource: Widget }, failWith(409), { nth: 3 });
    let w = await client.create({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'ns' },
      spec: { size: 0 },
    });
    const outcomes: string[] = [];
    const messages: string[] = [];
    for (let i = 1; i <= 4; i++) {
      try {
        w = await client.update({ ...w, spec: { size: i } });
        outcomes.push('ok');
      } catch (err) {
        outcomes.push(isConflict(err) ? 'conflict' : 'other');
        messages.push((err as ApiError).message);
      }
    }
    expect(outcomes).toEqual(['ok', 'ok', 'conflict', 'ok']);
    expect(messages).toEqual([
      'PUT /apis/example.com/v1/namespaces/ns/widgets/w: 409 Conflict: Operation cannot be fulfilled on widgets.example.com "w": the object has been modified; please apply your changes to the latest version and try again',
    ]);
    expect(handle).toMatchObject({ matched: 4, handled: 1 });
    expect((await client.get(Widget, { namespace: 'ns', name: 'w' })).spec).toEqual({ size: 4 });
  });

  it('limits an interceptor with times, matches subresources, and can be removed', async () => {
    const client = createFakeClient({
      resources: [Widget],
      objects: [{ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'ns' } }],
    });
    const busy = client.intercept({ subresource: 'status' }, failWith(429, { retryAfterSeconds: 2 }), { times: 2 });
    const w = await client.get(Widget, { namespace: 'ns', name: 'w' });
    const first = await rejection(client.status().update({ ...w, status: { phase: 'A' } }));
    expect(isTooManyRequests(first)).toBe(true);
    expect((first as ApiError).retryAfterSeconds).toBe(2);
    expect(isTooManyRequests(await rejection(client.status().update({ ...w, status: { phase: 'A' } })))).toBe(true);
    expect((await client.status().update({ ...w, status: { phase: 'A' } })).status).toEqual({ phase: 'A' });
    const notFound = client.intercept({ verb: 'get' }, failWith(404));
    expect(((await rejection(client.get(Widget, { namespace: 'ns', name: 'w' }))) as ApiError).status.message).toBe(
      'widgets.example.com "w" not found',
    );
    notFound.remove();
    expect((await client.get(Widget, { namespace: 'ns', name: 'w' })).status).toEqual({ phase: 'A' });
    expect(busy.handled).toBe(2);
  });

  it('runs handlers around the call: observe, change the answer, or delay on a fake clock', async () => {
    const clock = createFakeClock();
    const seen: string[] = [];
    const client = createFakeClient({
      objects: [cm('a', { v: '1' })],
      interceptors: [
        intercept({ verb: 'get' }, async (call, next) => {
          seen.push(`before ${call.name}`);
          const answer = (await next()) as corev1.ConfigMap;
          seen.push(`after ${answer.data?.['v']}`);
          return { ...answer, data: { v: 'rewritten' } };
        }),
        intercept({ verb: 'list' }, delayBy(1000, { clock })),
      ],
    });
    expect((await client.get(ConfigMap, { namespace: 'ns', name: 'a' })).data).toEqual({ v: 'rewritten' });
    expect(seen).toEqual(['before a', 'after 1']);
    let listed = false;
    const listing = client.list(ConfigMap, { namespace: 'ns' }).then((l) => {
      listed = true;
      return l;
    });
    await new Promise((r) => setTimeout(r, 10));
    expect(listed).toBe(false);
    clock.advance(999);
    await new Promise((r) => setTimeout(r, 10));
    expect(listed).toBe(false);
    clock.advance(1);
    expect((await listing).items).toHaveLength(1);
  });

  it('surfaces a watch failure on iteration, as the real client does', async () => {
    const client = createFakeClient({
      interceptors: [intercept({ verb: 'watch' }, failWith(500, { message: 'boom' }))],
    });
    const w = client.clientset.coreV1().configMaps('ns').watch();
    const err = await rejection(
      (async () => {
        for await (const _ of w) break;
      })(),
    );
    expect((err as ApiError).statusCode).toBe(500);
    expect((err as ApiError).status.message).toBe('boom');
  });
});

describe('createFakeClient: custom resources with a schema', () => {
  const Volume = defineCustomResource({
    group: 'example.com',
    version: 'v1',
    kind: 'Volume',
    namespaced: true,
    spec: s.object({
      size: s.integer({ minimum: 1 }),
      zone: s.string({ validations: [{ rule: 'self == oldSelf', message: 'zone is immutable' }] }).optional(),
    }),
    status: s.object({ phase: s.enum(['Pending', 'Bound']).optional() }),
  });
  type Volume = ObjectOf<typeof Volume>;
  const volume = (spec: Volume['spec']): Volume => ({
    apiVersion: 'example.com/v1',
    kind: 'Volume',
    metadata: { name: 'v', namespace: 'ns' },
    spec,
  });

  it('refuses a create that breaks the schema with the 422 and field causes of the API server', async () => {
    const client = createFakeClient({ resources: [Volume] });
    const err = await rejection(client.create(volume({ size: 0 })));
    expect(isInvalid(err)).toBe(true);
    expect((err as ApiError).details?.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.size',
        message: 'Invalid value: 0: spec.size in body should be greater than or equal to 1',
      },
    ]);
    expect((err as ApiError).status.message).toBe(
      'Volume.example.com "v" is invalid: spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1',
    );
  });

  it('checks transition rules on update and patch, server-side apply, and the status schema on status writes', async () => {
    const client = createFakeClient({ resources: [Volume] });
    const created = await client.create(volume({ size: 1, zone: 'a' }));
    const update = await rejection(client.update({ ...created, spec: { size: 1, zone: 'b' } }));
    expect((update as ApiError).details?.causes?.map((c) => `${c.field}: ${c.message}`)).toEqual([
      'spec.zone: Invalid value: "b": zone is immutable',
    ]);
    const patch = await rejection(client.patch(created, { spec: { zone: 'c' } }, { patchType: 'merge' }));
    expect(isInvalid(patch)).toBe(true);
    const applied = await rejection(
      client.apply(
        { apiVersion: 'example.com/v1', kind: 'Volume', metadata: { name: 'w', namespace: 'ns' }, spec: { size: -1 } },
        { fieldManager: 'test' },
      ),
    );
    expect((applied as ApiError).details?.causes?.map((c) => c.field)).toEqual(['spec.size']);
    const grown = await client.update({ ...created, spec: { size: 2, zone: 'a' } });
    expect(grown.spec?.size).toBe(2);
    const status = await rejection(client.status().update({ ...grown, status: { phase: 'Lost' as 'Bound' } }));
    // An enum miss blocks the CEL rules, which the server says at <nil>.
    expect((status as ApiError).details?.causes?.map((c) => c.field)).toEqual(['<nil>', 'status.phase']);
  });
});
