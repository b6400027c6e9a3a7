import { objectKey } from '../client/index.js';
import { parseLabelSelector, type LabelSelector } from './label-selector.js';
import { namespaceIndex, type IndexerReader } from './store.js';
import type { DeepReadonly } from './types.js';

/** Which objects a lister returns. */
export interface ListerListOptions {
  /** A selector in the API server's syntax (`app=web,tier in (a,b)`), or one already parsed. Default: everything. */
  labelSelector?: string | LabelSelector;
}

/** Reads of one namespace of a cache. */
export interface NamespaceLister<T> {
  /** The object named `name` in this namespace, or undefined. */
  get(name: string): DeepReadonly<T> | undefined;
  list(options?: ListerListOptions): DeepReadonly<T>[];
}

/**
 * Reads of an informer's cache by name, namespace and labels: client-go's listers. No I/O: every call answers from
 * memory. The objects are the cached ones, shared and read-only (frozen unless `NODE_ENV=production`); copy before
 * changing.
 *
 * Errors: an unparsable label selector throws {@link InvalidSelectorError}.
 */
export interface Lister<T> {
  /** Every cached object (in every namespace the informer watches) that matches. */
  list(options?: ListerListOptions): DeepReadonly<T>[];
  /** A cluster-scoped object by name, or undefined. */
  get(name: string): DeepReadonly<T> | undefined;
  namespace(namespace: string): NamespaceLister<T>;
}

interface HasLabels {
  readonly metadata?: { readonly labels?: Readonly<Record<string, string>> };
}

function selectorOf(options: ListerListOptions | undefined): LabelSelector | undefined {
  const sel = options?.labelSelector;
  if (sel === undefined || sel === '') return undefined;
  const parsed = typeof sel === 'string' ? parseLabelSelector(sel) : sel;
  return parsed.empty ? undefined : parsed;
}

function filter<T>(items: DeepReadonly<T>[], selector: LabelSelector | undefined): DeepReadonly<T>[] {
  if (!selector) return items;
  return items.filter((obj) => selector.matches((obj as HasLabels).metadata?.labels));
}

/** A lister over an indexer that has the built-in `namespace` index (every informer's has). */
export function createLister<T>(indexer: IndexerReader<DeepReadonly<T>>): Lister<T> {
  return {
    list: (options) => filter<T>(indexer.list(), selectorOf(options)),
    get: (name) => indexer.getByKey(name),
    namespace: (namespace) => ({
      get: (name) => indexer.getByKey(objectKey({ namespace, name })),
      list: (options) => filter<T>(indexer.byIndex(namespaceIndex, namespace), selectorOf(options)),
    }),
  };
}
