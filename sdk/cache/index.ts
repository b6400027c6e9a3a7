/**
 * kubeloop/cache: Store, Indexer, Reflector, SharedIndexInformer, SharedInformerFactory and listers.
 *
 * Not built yet: this entry point exists so the package layout and its exports map are fixed (issue: sdk/cache and
 * sdk/workqueue).
 */
export {};
