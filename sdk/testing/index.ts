/**
 * kubeloop/testing: a fake client, reconcile test helpers and fault injection for operator authors' tests.
 *
 * Not built yet: this entry point exists so the package layout and its exports map are fixed (issue:
 * kubeloop/testing).
 */
export {};
