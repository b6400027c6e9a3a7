/**
 * The `kubeloop` command: init, create api, generate manifests and types.
 *
 * Not built yet (issue: Scaffolding).
 */
export {};
