/**
 * kubeloop/workqueue: rate-limited, delaying, de-duplicating work queues with client-go's semantics.
 * It imports nothing from Kubernetes.
 *
 * Not built yet: this entry point exists so the package layout and its exports map are fixed (issue: sdk/cache and
 * sdk/workqueue).
 */
export {};
