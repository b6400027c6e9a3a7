/**
 * kubeloop/leaderelection: leader election over coordination.k8s.io/v1 Lease objects.
 *
 * Not built yet: this entry point exists so the package layout and its exports map are fixed (issue:
 * sdk/leaderelection and sdk/manager).
 */
export {};
