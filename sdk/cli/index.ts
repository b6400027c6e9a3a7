/**
 * The `kubeloop` command: a scaffold and generators for operator projects, what kubebuilder and controller-gen are to
 * Go operators.
 *
 * ```sh
 * npx kubeloop init guestbook-operator --domain example.com     # a project: package.json, src/main.ts, config/, Dockerfile, tests
 * npx kubeloop create api --group webapp --version v1 --kind Guestbook
 * npm run manifests                                             # npm run build && kubeloop generate manifests
 * npx kubeloop generate types --crd certificates.yaml --out src/api/certificates.ts
 * ```
 *
 * - `init <dir>` renders kubeloop's `templates/init` into a new or empty folder and runs `npm install` there; the
 *   project appears only when complete.
 * - `create api` adds a resource module (TypeScript types, a `defineResource` descriptor, and the version's CRD schema
 *   as a plain object typed `apiextensionsv1.CustomResourceDefinitionVersion`), a reconciler registered in
 *   `src/main.ts`, and a test of it against a real API server (`kubeloop/envtest`).
 * - `generate manifests` imports the compiled resource and reconciler modules (`dist/`), reads the descriptors, CRD
 *   versions and `@Reconciler` metadata, and writes `config/crd/bases/*.yaml`, `config/crd/kustomization.yaml` and
 *   `config/rbac/role.yaml`. Nothing connects to a cluster; the same modules give the same bytes.
 * - `generate types --crd <file>` runs kubeloop/client's `generateTypesFromCrd`.
 *
 * The project file, `kubeloop.json`, records the project's name, domain, namespace, folders and kinds.
 *
 * Errors: every failure is a {@link CliError} whose message says what is wrong and what to do next: `ERR_CLI_USAGE`
 * (bad names, flags, a non-empty target folder), `ERR_CLI_PROJECT` (no or broken kubeloop.json, a missing or stale
 * compiled module), `ERR_CLI_MANIFESTS` (a schema that is not structural, descriptors and CRD versions that disagree,
 * malformed `rbac` rules), `ERR_CLI_INSTALL` (npm failed). A failed command leaves the project as it was.
 */
export { run, type RunOptions } from './internal/program.js';
export { CliError, type CliErrorCode } from './internal/errors.js';
export { initProject, type InitOptions } from './internal/init.js';
export { createApi, importsMarker, registerMarker, type CreateApiOptions } from './internal/create-api.js';
export { generateManifests, computeManifests, generatedMarker, type GeneratedManifests } from './internal/manifests.js';
export { generateTypes, type GenerateTypesOptions } from './internal/types.js';
export { loadProject, projectFileName, type Project, type ProjectFile, type ProjectApi } from './internal/project.js';
export { buildCrds, structuralProblems, type ResourceDefinition, type GeneratedCrd } from './internal/crd.js';
export { rulesFor, type ReconcilerMetadata } from './internal/rbac.js';
export { createOutput, type Output, type OutputStreams } from './internal/output.js';
