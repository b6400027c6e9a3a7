/**
 * kubeloop/manager: the Manager, @Reconciler, controllers, predicates, handlers, controllerutil, events, metrics,
 * health probes and DI tokens.
 *
 * Not built yet: this entry point exists so the package layout and its exports map are fixed (issue:
 * sdk/leaderelection and sdk/manager).
 */
export {};
