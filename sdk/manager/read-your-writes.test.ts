import { describe, expect, it } from 'vitest';
import { hasErrorCode, type KubeObject, type ResourceDescriptor } from '../client/index.js';
import { ReadYourWrites, compareResourceVersions, type CacheView } from './read-your-writes.js';

const CM: ResourceDescriptor = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
const obj = (name: string, rv: string, extra: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { namespace: 'ns', name, resourceVersion: rv, uid: `uid-${name}`, ...extra },
});

/** A cache view the test moves by hand. */
function fakeView(): CacheView & { objects: Map<string, KubeObject>; rv: string } {
  const v = {
    objects: new Map<string, KubeObject>(),
    rv: '1',
    get: (key: string) => v.objects.get(key),
    resourceVersion: () => v.rv,
  };
  return v;
}

describe('compareResourceVersions', () => {
  it('orders decimal integers numerically, beyond 2^53, and ignores leading zeros', () => {
    expect(compareResourceVersions('9', '10')).toBeLessThan(0);
    expect(compareResourceVersions('10', '9')).toBeGreaterThan(0);
    expect(compareResourceVersions('007', '7')).toBe(0);
    expect(compareResourceVersions('18446744073709551616', '18446744073709551615')).toBeGreaterThan(0);
  });
  it('cannot order anything else', () => {
    expect(compareResourceVersions('abc', '1')).toBeUndefined();
    expect(compareResourceVersions('', '1')).toBeUndefined();
    expect(compareResourceVersions('1.5', '2')).toBeUndefined();
  });
});

describe('ReadYourWrites', () => {
  it('a get of a written object waits until the informer reaches its resourceVersion', async () => {
    const ryw = new ReadYourWrites({ timeoutMs: 5_000 });
    const view = fakeView();
    view.rv = '5';
    ryw.wrote(CM, obj('a', '7'));
    let done = false;
    const waiting = ryw.waitForKey(CM, 'ns', 'a', async () => view).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    view.objects.set('ns/a', obj('a', '7'));
    view.rv = '8';
    await waiting;
    expect(ryw.has(CM)).toBe(false); // satisfied entries are forgotten
  });

  it('a list waits for every write in its namespace and not for other namespaces', async () => {
    const ryw = new ReadYourWrites({ timeoutMs: 50 });
    const view = fakeView();
    ryw.wrote(CM, { ...obj('other', '9'), metadata: { ...obj('other', '9').metadata, namespace: 'elsewhere' } });
    await ryw.waitForList(CM, 'ns', async () => [view]); // nothing written in ns: at once
    await expect(ryw.waitForList(CM, '', async () => [view])).rejects.toSatisfy((e) =>
      hasErrorCode(e, 'ERR_READ_YOUR_WRITES_TIMEOUT'),
    );
  });

  it('after a delete, waits while the same object is alive; a terminating object or a new uid ends the wait', async () => {
    const ryw = new ReadYourWrites({ timeoutMs: 50 });
    const view = fakeView();
    view.objects.set('ns/a', obj('a', '3'));
    ryw.deleted(CM, obj('a', '3'));
    await expect(ryw.waitForKey(CM, 'ns', 'a', async () => view)).rejects.toSatisfy((e) =>
      hasErrorCode(e, 'ERR_READ_YOUR_WRITES_TIMEOUT'),
    );
    view.objects.set('ns/a', obj('a', '4', { deletionTimestamp: '2026-01-01T00:00:00Z' }));
    await ryw.waitForKey(CM, 'ns', 'a', async () => view);
    ryw.deleted(CM, obj('a', '4'));
    view.objects.set('ns/a', obj('a', '9', { uid: 'another' }));
    await ryw.waitForKey(CM, 'ns', 'a', async () => view);
  });

  it('with resourceVersions it cannot order, waits for the exact one and answers as is at the bound', async () => {
    const ryw = new ReadYourWrites({ timeoutMs: 40 });
    const view = fakeView();
    view.rv = 'opaque-1';
    view.objects.set('ns/a', obj('a', 'opaque-1'));
    ryw.wrote(CM, obj('a', 'opaque-2'));
    const t0 = performance.now();
    await ryw.waitForKey(CM, 'ns', 'a', async () => view); // no error: it cannot tell that the cache is behind
    expect(performance.now() - t0).toBeGreaterThanOrEqual(35);
    ryw.wrote(CM, obj('a', 'opaque-3'));
    view.objects.set('ns/a', obj('a', 'opaque-3'));
    const t1 = performance.now();
    await ryw.waitForKey(CM, 'ns', 'a', async () => view);
    expect(performance.now() - t1).toBeLessThan(35);
  });

  it('a read whose signal aborts stops waiting with the reason', async () => {
    const ryw = new ReadYourWrites();
    const view = fakeView();
    ryw.wrote(CM, obj('a', '7'));
    const reason = new Error('stop');
    await expect(ryw.waitForKey(CM, 'ns', 'a', async () => view, AbortSignal.abort(reason))).rejects.toBe(reason);
  });

  it('refuses a negative timeout', () => {
    expect(() => new ReadYourWrites({ timeoutMs: -1 })).toThrow(/timeoutMs/);
  });
});
