/**
 * kubeloop/cache: in-memory caches of Kubernetes objects, kept in step with the API server by list and watch.
 *
 * - {@link createSharedInformerFactory}: one shared informer per (resource, namespace, selectors, metadata-only) in
 *   the process, with listers. What an operator uses.
 * - {@link SharedIndexInformer}: a cache of one resource plus handlers (`onAdd`, `onUpdate`, `onDelete`), each with
 *   its own buffer; health for `/readyz`.
 * - {@link Reflector}: list, then watch from the list's resourceVersion, resume, relist on 410, back off on errors.
 * - {@link createDeltaFIFO}: client-go's DeltaFIFO, a queue of each key's changes that a reflector can write to, and
 *   {@link createInformer} (client-go's NewInformer) built on it: reflector → DeltaFIFO → cache and one handler.
 * - {@link createIndexer} / {@link createStore}: keyed stores with named indexes; {@link createLister}.
 * - {@link parseLabelSelector}: the API server's label selector syntax, evaluated in memory.
 * - {@link FakeListerWatcher}: an in-memory API server for one resource, for unit tests of code built on informers.
 *
 * Objects in a cache are shared: typed {@link DeepReadonly} and frozen unless `NODE_ENV=production`. Copy before
 * changing one (`structuredClone`).
 *
 * Between the reflector and a SharedIndexInformer's cache there is no DeltaFIFO: the reflector applies each change
 * synchronously to the informer's store (see {@link ReflectorStore}), and each handler has its own buffer. JavaScript
 * runs one event at a time, so this keeps client-go's guarantees (in-order per key, store updated before handlers hear
 * of a change, relist as one replacement with tombstones for vanished objects, one deletion reported once) without a
 * queue of deltas per key. The DeltaFIFO is there for code written against client-go's, and for {@link createInformer}.
 */
export {
  createIndexer,
  createStore,
  metaNamespaceKey,
  metaNamespaceIndexFunc,
  namespaceIndex,
  type Store,
  type StoreReader,
  type Indexer,
  type IndexerReader,
  type IndexerOptions,
  type IndexFunc,
  type Indexers,
  type KeyFunc,
} from './store.js';
export {
  parseLabelSelector,
  labelSelectorFromObject,
  everything,
  InvalidSelectorError,
  type LabelSelector,
  type LabelSelectorObject,
  type SelectorRequirement,
  type SelectorOperator,
} from './label-selector.js';
export type { BackoffOptions } from './backoff.js';
export {
  DeletedFinalStateUnknown,
  isDeletedFinalStateUnknown,
  deletedObject,
  type DeepReadonly,
  type ResourceEventHandler,
  type ListerWatcher,
  type ListWatchHints,
  type CacheLogger,
  type InformerError,
  type InformerHealth,
} from './types.js';
export { Reflector, type ReflectorOptions, type ReflectorStore, type InitialListStrategy } from './reflector.js';
export {
  SharedIndexInformer,
  createSharedIndexInformer,
  stripManagedFields,
  type SharedIndexInformerOptions,
  type AddEventHandlerOptions,
  type HandlerRegistration,
  type TransformFunc,
} from './shared-informer.js';
export {
  createDeltaFIFO,
  isRequeueError,
  RequeueError,
  DeltaFIFOClosedError,
  type DeltaFIFO,
  type DeltaFIFOOptions,
  type Delta,
  type Deltas,
  type DeltaType,
  type KeyListerGetter,
  type PopProcessFunc,
} from './delta-fifo.js';
export { createInformer, type Informer, type InformerOptions } from './informer.js';
export { FakeListerWatcher, type FakeListerWatcherOptions } from './fake-list-watch.js';
export { createLister, type Lister, type NamespaceLister, type ListerListOptions } from './lister.js';
export {
  type ResourceRef,
  type GroupVersionResourceRef,
  InformerSourceError,
  type InformerSource,
  type ResourceFactoryLike,
} from './list-watch.js';
export {
  createSharedInformerFactory,
  type SharedInformerFactory,
  type MetadataInformerFactory,
  type SharedInformerFactoryOptions,
  type InformerScope,
  type InformerAndLister,
  type FactoryInformerHealth,
} from './factory.js';
