import { ArgumentError, objectKey, type KubeObject } from '../client/index.js';

/** Makes an object's key. The default, {@link metaNamespaceKey}, gives `namespace/name` (or `name`). */
export type KeyFunc<T> = (obj: T) => string;

/** An index function: the values under which an object is filed in one named index. */
export type IndexFunc<T> = (obj: T) => readonly string[];

/** Named index functions. */
export type Indexers<T> = Record<string, IndexFunc<T>>;

/** The name of the index every informer has: objects by `metadata.namespace` (`''` for cluster-scoped ones). */
export const namespaceIndex = 'namespace';

/** The key of an object in a cache and in a work queue: `namespace/name`, or `name` for cluster-scoped objects. */
export function metaNamespaceKey(
  obj: KubeObject | { readonly metadata?: { readonly namespace?: string; readonly name?: string } },
): string {
  return objectKey(obj as KubeObject);
}

/** The index function of {@link namespaceIndex}. */
export function metaNamespaceIndexFunc(obj: {
  readonly metadata?: { readonly namespace?: string };
}): readonly string[] {
  return [obj.metadata?.namespace ?? ''];
}

/** What every cache offers its readers: lookups by key and whole listings. */
export interface StoreReader<T> {
  /** The object stored under `key`, or undefined. */
  getByKey(key: string): T | undefined;
  /** The stored object with the same key as `obj`, or undefined. */
  get(obj: T): T | undefined;
  /** Every stored object, in no particular order. */
  list(): T[];
  /** Every key, in no particular order. */
  listKeys(): string[];
  /** How many objects are stored. */
  readonly size: number;
}

/**
 * A keyed collection of objects: client-go's Store.
 *
 * Guarantees: one object per key; `replace` swaps the whole content in one synchronous step, so a reader never sees a
 * half-replaced store.
 */
export interface Store<T> extends StoreReader<T> {
  /** Adds or replaces the object under its key. */
  add(obj: T): void;
  /** Same as `add`: the store does not tell the two apart. */
  update(obj: T): void;
  /** Removes the object with `obj`'s key, if any. */
  delete(obj: T): void;
  /** Removes the object under `key`, if any. */
  deleteByKey(key: string): void;
  /** Replaces the whole content with `items`. */
  replace(items: Iterable<T>): void;
}

/** The read side of an {@link Indexer}: what informers hand out. */
export interface IndexerReader<T> extends StoreReader<T> {
  /** Objects filed under `indexedValue` in the index `indexName`. */
  byIndex(indexName: string, indexedValue: string): T[];
  /** Keys of the objects filed under `indexedValue` in the index `indexName`. */
  indexKeys(indexName: string, indexedValue: string): string[];
  /** Objects that share at least one value of the index `indexName` with `obj`. */
  index(indexName: string, obj: T): T[];
  /** Every value of the index `indexName` that has at least one object. */
  listIndexFuncValues(indexName: string): string[];
  /** The index functions, by name. */
  getIndexers(): Readonly<Indexers<T>>;
}

/**
 * A {@link Store} that also files objects under named indexes: client-go's Indexer.
 *
 * Guarantees: indexes are kept in step with the content on every write. Index functions run before anything changes,
 * so one that throws leaves the store as it was (the error propagates to the writer).
 *
 * Errors: asking for an index that does not exist throws an `ArgumentError` (`ERR_KUBE_INVALID_ARGUMENT`, a
 * `TypeError`) naming it; so does adding an index whose name is taken.
 */
export interface Indexer<T> extends Store<T>, IndexerReader<T> {
  /** Adds index functions; existing objects are filed under the new indexes at once. */
  addIndexers(indexers: Indexers<T>): void;
}

export interface IndexerOptions<T> {
  /** Default: {@link metaNamespaceKey}. */
  keyFunc?: KeyFunc<T>;
  /** Default: only the {@link namespaceIndex}. Pass `{}` in `indexers` and `namespaceIndex: false` for none. */
  indexers?: Indexers<T>;
  /** Whether to add the built-in namespace index. Default: true. */
  namespaceIndex?: boolean;
}

const emptyValues: readonly string[] = [];

/**
 * The in-memory {@link Indexer}. Exported for the informer, which builds a relist's content keyed and hands it over
 * with `replaceKeyed`; not part of the package's exports.
 */
export class MapIndexer<T> implements Indexer<T> {
  private items = new Map<string, T>();
  private readonly keyFunc: KeyFunc<T>;
  private readonly indexers = new Map<string, IndexFunc<T>>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  /**
   * Indexes not built yet: the built-in namespace index waits for its first query (a lister's `list(namespace)`), so
   * an informer that is never asked by namespace does not file every object under it (at 10k objects, about a tenth of
   * a cold sync's work besides the parse). Its function cannot throw, so building it late changes no outcome.
   */
  private readonly deferred = new Set<string>();

  constructor(options: IndexerOptions<T>) {
    this.keyFunc = options.keyFunc ?? (metaNamespaceKey as KeyFunc<T>);
    const indexers: Indexers<T> = {
      ...(options.namespaceIndex !== false && { [namespaceIndex]: metaNamespaceIndexFunc as IndexFunc<T> }),
      ...options.indexers,
    };
    this.addIndexers(indexers);
    if (this.indexers.get(namespaceIndex) === metaNamespaceIndexFunc) {
      this.deferred.add(namespaceIndex);
      this.indices.delete(namespaceIndex);
    }
  }

  get size(): number {
    return this.items.size;
  }

  getByKey(key: string): T | undefined {
    return this.items.get(key);
  }

  get(obj: T): T | undefined {
    return this.items.get(this.keyFunc(obj));
  }

  list(): T[] {
    return [...this.items.values()];
  }

  listKeys(): string[] {
    return [...this.items.keys()];
  }

  /** Every key with its object, without a copy: for the informer's relist, which reads them before it replaces. */
  entries(): MapIterator<[string, T]> {
    return this.items.entries();
  }

  add(obj: T): void {
    this.addKeyed(this.keyFunc(obj), obj);
  }

  /**
   * Adds or replaces `obj` under `key`, keyed already, and returns the object it replaced: for the informer, which keys
   * each change once. `key` must be what the key function gives for `obj`.
   */
  addKeyed(key: string, obj: T): T | undefined {
    const old = this.items.get(key);
    if (this.indices.size === 0) {
      this.items.set(key, obj);
      return old;
    }
    const values = this.valuesOf(obj);
    if (old !== undefined) this.unfile(key, old);
    this.items.set(key, obj);
    this.file(key, values);
    return old;
  }

  update(obj: T): void {
    this.add(obj);
  }

  delete(obj: T): void {
    this.deleteByKey(this.keyFunc(obj));
  }

  deleteByKey(key: string): void {
    const old = this.items.get(key);
    if (old === undefined) return;
    this.unfile(key, old);
    this.items.delete(key);
  }

  replace(items: Iterable<T>): void {
    const next = new Map<string, T>();
    // The same key twice: the last one wins, in the first one's place.
    for (const obj of items) next.set(this.keyFunc(obj), obj);
    this.replaceKeyed(next);
  }

  /**
   * Replaces the whole content with `items`, keyed already: the store takes the map itself (the caller must not touch
   * it afterwards) and only builds the indexes. Each key must be what the key function gives for its object.
   */
  replaceKeyed(items: Map<string, T>): void {
    // Indexes built aside and swapped in: an index function that throws leaves the store as it was.
    const names = [...this.indices.keys()];
    const fns = names.map((name) => this.indexers.get(name)!);
    const targets = fns.map(() => new Map<string, Set<string>>());
    if (fns.length > 0) {
      for (const [key, obj] of items) {
        for (let i = 0; i < fns.length; i++) {
          for (const value of fns[i]!(obj) ?? emptyValues) addTo(targets[i]!, value, key);
        }
      }
    }
    this.items = items;
    for (let i = 0; i < names.length; i++) this.indices.set(names[i]!, targets[i]!);
  }

  byIndex(indexName: string, indexedValue: string): T[] {
    const keys = this.indexOf(indexName).get(indexedValue);
    if (!keys) return [];
    const out: T[] = [];
    for (const key of keys) out.push(this.items.get(key)!);
    return out;
  }

  indexKeys(indexName: string, indexedValue: string): string[] {
    return [...(this.indexOf(indexName).get(indexedValue) ?? [])];
  }

  index(indexName: string, obj: T): T[] {
    const fn = this.indexers.get(indexName);
    if (!fn) throw new ArgumentError(`index ${JSON.stringify(indexName)} does not exist`);
    const index = this.indexOf(indexName);
    const keys = new Set<string>();
    for (const value of fn(obj)) for (const key of index.get(value) ?? []) keys.add(key);
    return [...keys].map((key) => this.items.get(key)!);
  }

  listIndexFuncValues(indexName: string): string[] {
    return [...this.indexOf(indexName).keys()];
  }

  getIndexers(): Readonly<Indexers<T>> {
    return Object.freeze(Object.fromEntries(this.indexers));
  }

  addIndexers(indexers: Indexers<T>): void {
    for (const name of Object.keys(indexers)) {
      if (this.indexers.has(name)) throw new ArgumentError(`index ${JSON.stringify(name)} already exists`);
    }
    for (const [name, fn] of Object.entries(indexers)) {
      const index = new Map<string, Set<string>>();
      for (const [key, obj] of this.items) {
        for (const value of fn(obj)) addTo(index, value, key);
      }
      this.indexers.set(name, fn);
      this.indices.set(name, index);
    }
  }

  private indexOf(indexName: string): Map<string, Set<string>> {
    let index = this.indices.get(indexName);
    if (!index && this.deferred.delete(indexName)) {
      const fn = this.indexers.get(indexName)!;
      index = new Map<string, Set<string>>();
      for (const [key, obj] of this.items) {
        for (const value of fn(obj) ?? emptyValues) addTo(index, value, key);
      }
      this.indices.set(indexName, index);
    }
    if (!index) throw new ArgumentError(`index ${JSON.stringify(indexName)} does not exist`);
    return index;
  }

  /** The values of every built index for `obj`, in the order of `indices`, computed before anything changes. */
  private valuesOf(obj: T): (readonly string[])[] {
    const out: (readonly string[])[] = [];
    for (const name of this.indices.keys()) out.push(this.indexers.get(name)!(obj) ?? emptyValues);
    return out;
  }

  private file(key: string, values: (readonly string[])[]): void {
    let i = 0;
    for (const index of this.indices.values()) {
      for (const value of values[i++]!) addTo(index, value, key);
    }
  }

  private unfile(key: string, old: T): void {
    for (const [name, index] of this.indices) {
      const fn = this.indexers.get(name)!;
      for (const value of fn(old) ?? emptyValues) {
        const keys = index.get(value);
        if (!keys) continue;
        keys.delete(key);
        if (keys.size === 0) index.delete(value);
      }
    }
  }
}

function addTo(index: Map<string, Set<string>>, value: string, key: string): void {
  const keys = index.get(value);
  if (keys) keys.add(key);
  else index.set(value, new Set([key]));
}

/**
 * An in-memory {@link Indexer}, with the namespace index built in. Not safe to share across writers by design: an
 * informer is its only writer and hands out the read side ({@link IndexerReader}).
 */
export function createIndexer<T>(options: IndexerOptions<T> = {}): Indexer<T> {
  return new MapIndexer<T>(options);
}

/** An in-memory {@link Store} without indexes. */
export function createStore<T>(keyFunc?: KeyFunc<T>): Store<T> {
  return new MapIndexer<T>({ ...(keyFunc && { keyFunc }), namespaceIndex: false });
}
