import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../client/index.js';
import { MapIndexer, createIndexer, createStore, metaNamespaceKey, namespaceIndex } from './store.js';

const obj = (namespace: string | undefined, name: string, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { ...(namespace !== undefined && { namespace }), name, labels },
});

const byApp = (o: KubeObject): string[] => (o.metadata?.labels?.['app'] ? [o.metadata.labels['app']] : []);

describe('keys', () => {
  it('is namespace/name, or name for cluster-scoped objects', () => {
    expect(metaNamespaceKey(obj('ns', 'a'))).toBe('ns/a');
    expect(metaNamespaceKey(obj(undefined, 'node-1'))).toBe('node-1');
  });
});

describe('Store', () => {
  it('adds, updates, gets, lists and deletes by key', () => {
    const s = createStore<KubeObject>();
    s.add(obj('a', 'x'));
    s.add(obj('a', 'y'));
    s.update(obj('a', 'x', { v: '2' }));
    expect(s.size).toBe(2);
    expect(s.getByKey('a/x')?.metadata?.labels).toEqual({ v: '2' });
    expect(s.get(obj('a', 'y'))?.metadata?.name).toBe('y');
    expect(s.listKeys().toSorted()).toEqual(['a/x', 'a/y']);
    s.delete(obj('a', 'x'));
    s.deleteByKey('a/missing');
    expect(s.listKeys()).toEqual(['a/y']);
  });

  it('replaces its whole content', () => {
    const s = createStore<KubeObject>();
    s.add(obj('a', 'old'));
    s.replace([obj('b', 'new1'), obj('b', 'new2')]);
    expect(s.listKeys().toSorted()).toEqual(['b/new1', 'b/new2']);
  });
});

describe('Indexer', () => {
  it('has the namespace index built in', () => {
    const ix = createIndexer<KubeObject>();
    ix.add(obj('a', '1'));
    ix.add(obj('a', '2'));
    ix.add(obj('b', '3'));
    ix.add(obj(undefined, 'cluster'));
    expect(
      ix
        .byIndex(namespaceIndex, 'a')
        .map((o) => o.metadata?.name)
        .toSorted(),
    ).toEqual(['1', '2']);
    expect(ix.indexKeys(namespaceIndex, 'b')).toEqual(['b/3']);
    expect(ix.indexKeys(namespaceIndex, '')).toEqual(['cluster']);
    expect(ix.listIndexFuncValues(namespaceIndex).toSorted()).toEqual(['', 'a', 'b']);
  });

  it('builds the namespace index at its first query and keeps it in step from then on', () => {
    const ix = createIndexer<KubeObject>({ indexers: { app: byApp } });
    ix.replace([obj('a', '1', { app: 'x' }), obj('b', '2')]);
    ix.add(obj('a', '3'));
    ix.delete(obj('b', '2'));
    expect(ix.indexKeys(namespaceIndex, 'a').toSorted()).toEqual(['a/1', 'a/3']);
    expect(ix.listIndexFuncValues(namespaceIndex)).toEqual(['a']);
    ix.update(obj('c', '3'));
    ix.deleteByKey('a/1');
    ix.replace([...ix.list(), obj('d', '4', { app: 'x' })]);
    expect(ix.listIndexFuncValues(namespaceIndex).toSorted()).toEqual(['a', 'c', 'd']);
    expect(ix.indexKeys(namespaceIndex, 'd')).toEqual(['d/4']);
    expect(ix.indexKeys('app', 'x')).toEqual(['d/4']);
    expect(ix.index(namespaceIndex, obj('a', 'other')).map(metaNamespaceKey)).toEqual(['a/3']);
  });

  it('keeps named indexes in step with updates, deletes and replace', () => {
    const ix = createIndexer<KubeObject>({ indexers: { app: byApp } });
    ix.add(obj('a', '1', { app: 'web' }));
    ix.add(obj('a', '2', { app: 'web' }));
    ix.add(obj('a', '3', { app: 'db' }));
    expect(ix.indexKeys('app', 'web').toSorted()).toEqual(['a/1', 'a/2']);

    ix.update(obj('a', '2', { app: 'db' }));
    expect(ix.indexKeys('app', 'web')).toEqual(['a/1']);
    expect(ix.indexKeys('app', 'db').toSorted()).toEqual(['a/2', 'a/3']);

    ix.delete(obj('a', '1'));
    expect(ix.indexKeys('app', 'web')).toEqual([]);
    expect(ix.listIndexFuncValues('app')).toEqual(['db']);

    expect(
      ix
        .index('app', obj('x', 'probe', { app: 'db' }))
        .map((o) => o.metadata?.name)
        .toSorted(),
    ).toEqual(['2', '3']);

    ix.replace([obj('c', '9', { app: 'cache' })]);
    expect(ix.listIndexFuncValues('app')).toEqual(['cache']);
    expect(ix.byIndex(namespaceIndex, 'a')).toEqual([]);
    expect(ix.byIndex(namespaceIndex, 'c')).toHaveLength(1);
  });

  it("keeps the last of two objects with one key in a replace, in the first one's place, filed once", () => {
    const ix = createIndexer<KubeObject>({ indexers: { app: byApp } });
    ix.replace([obj('a', '1', { app: 'web' }), obj('a', '2', { app: 'web' }), obj('a', '1', { app: 'db' })]);
    expect(ix.listKeys()).toEqual(['a/1', 'a/2']);
    expect(ix.getByKey('a/1')?.metadata?.labels).toEqual({ app: 'db' });
    expect(ix.indexKeys('app', 'web')).toEqual(['a/2']);
    expect(ix.indexKeys('app', 'db')).toEqual(['a/1']);
    expect(ix.listIndexFuncValues('app').toSorted()).toEqual(['db', 'web']);
  });

  it('adopts a keyed map in replaceKeyed and builds every index over it', () => {
    const ix = new MapIndexer<KubeObject>({ indexers: { app: byApp } });
    ix.add(obj('old', 'gone', { app: 'web' }));
    const next = new Map([
      ['a/1', obj('a', '1', { app: 'web' })],
      ['b/2', obj('b', '2', { app: 'db' })],
      ['b/3', obj('b', '3')],
    ]);
    ix.replaceKeyed(next);
    expect(ix.listKeys()).toEqual(['a/1', 'b/2', 'b/3']);
    expect(ix.getByKey('b/2')).toBe(next.get('b/2'));
    expect(ix.get(obj('a', '1'))).toBe(next.get('a/1'));
    expect(ix.listIndexFuncValues(namespaceIndex).toSorted()).toEqual(['a', 'b']);
    expect(ix.indexKeys(namespaceIndex, 'b')).toEqual(['b/2', 'b/3']);
    expect(ix.indexKeys('app', 'web')).toEqual(['a/1']);
    expect(ix.listIndexFuncValues('app').toSorted()).toEqual(['db', 'web']);
    expect([...ix.entries()].map(([key]) => key)).toEqual(['a/1', 'b/2', 'b/3']);
    // Later writes go through the usual paths and keep the indexes in step.
    ix.delete(obj('b', '2'));
    ix.add(obj('c', '4', { app: 'web' }));
    expect(ix.indexKeys('app', 'web').toSorted()).toEqual(['a/1', 'c/4']);
    expect(ix.listIndexFuncValues('app').toSorted()).toEqual(['web']);
    expect(ix.indexKeys(namespaceIndex, 'b')).toEqual(['b/3']);
  });

  it('files existing objects under an index added later', () => {
    const ix = createIndexer<KubeObject>();
    ix.add(obj('a', '1', { app: 'web' }));
    ix.addIndexers({ app: byApp });
    expect(ix.indexKeys('app', 'web')).toEqual(['a/1']);
    expect(Object.keys(ix.getIndexers()).toSorted()).toEqual(['app', 'namespace']);
  });

  it('names a missing or duplicate index', () => {
    const ix = createIndexer<KubeObject>();
    expect(() => ix.byIndex('nope', 'x')).toThrow(/index "nope" does not exist/);
    expect(() => ix.addIndexers({ namespace: byApp })).toThrow(/index "namespace" already exists/);
  });

  it('leaves the store unchanged when an index function throws', () => {
    const ix = createIndexer<KubeObject>({
      indexers: {
        picky: (o) => {
          if (o.metadata?.labels?.['bad']) throw new Error('bad object');
          return ['ok'];
        },
      },
    });
    ix.add(obj('a', '1'));
    expect(() => ix.update(obj('a', '1', { bad: 'yes' }))).toThrow('bad object');
    expect(ix.getByKey('a/1')?.metadata?.labels).toEqual({});
    expect(ix.indexKeys('picky', 'ok')).toEqual(['a/1']);
    expect(() => ix.replace([obj('a', '2', { bad: 'yes' })])).toThrow('bad object');
    expect(ix.listKeys()).toEqual(['a/1']);
    expect(ix.indexKeys(namespaceIndex, 'a')).toEqual(['a/1']);
    expect(ix.indexKeys('picky', 'ok')).toEqual(['a/1']);
  });
});
