/**
 * The `kubeloop` command: a scaffold and generators for operator projects, what kubebuilder and controller-gen are to
 * Go operators.
 *
 * ```sh
 * npx kubeloop init guestbook-operator --domain example.com     # a project: package.json, src/main.ts, config/, Dockerfile, tests
 * npx kubeloop create api --group webapp --version v1 --kind Guestbook
 * npx kubeloop create webhook --group webapp --version v1 --kind Guestbook --defaulting --programmatic-validation
 * npm run manifests                                             # npm run build && kubeloop generate manifests
 * npx kubeloop generate types --crd certificates.yaml --out src/api/certificates.ts
 * ```
 *
 * - `init <dir>` renders kubeloop's `templates/init` into a new or empty folder and runs `npm install` there; the
 *   project appears only when complete.
 * - `create api` adds a resource module (TypeScript types, a `defineResource` descriptor, and the version's CRD schema
 *   as a plain object typed `apiextensionsv1.CustomResourceDefinitionVersion`), a reconciler registered in
 *   `src/main.ts`, and a test of it against a real API server (`kubeloop/envtest`).
 * - `create webhook` adds, for a kind made by `create api`, a `@Webhook` class (`--defaulting`,
 *   `--programmatic-validation`) in `src/webhooks/`, and/or a `defineConversion` module (`--conversion`, the hub being
 *   `--version`; `--spoke` versions the project lacks are added), each registered in `src/main.ts` with a test of it
 *   against a real API server that calls it.
 * - `generate manifests` imports the compiled resource, reconciler and webhook modules (`dist/`), reads the
 *   descriptors, CRD versions, `@Reconciler` and `@Webhook` metadata and exported conversions, and writes
 *   `config/crd/bases/*.yaml` (a converted kind's CRD with its conversion webhook), `config/crd/kustomization.yaml`,
 *   `config/rbac/role.yaml`, and the webhook set-up: `config/webhook` (the Mutating- and
 *   ValidatingWebhookConfiguration, their Service, the Deployment's webhook port) and `config/certmanager` (the
 *   serving certificate from cert-manager). Nothing connects to a cluster; the same modules give the same bytes.
 * - `generate types --crd <file>` runs kubeloop/client's `generateTypesFromCrd`.
 *
 * The project file, `kubeloop.json`, records the project's name, domain, namespace, folders and kinds.
 *
 * Errors: every failure is a {@link CliError} whose message says what is wrong and what to do next: `ERR_CLI_USAGE`
 * (bad names, flags, a non-empty target folder, a webhook for a kind the project lacks, a file in the way),
 * `ERR_CLI_PROJECT` (no or broken kubeloop.json, a missing or stale compiled module), `ERR_CLI_MANIFESTS` (a schema
 * that is not structural, descriptors and CRD versions that disagree, malformed `rbac` rules, two webhooks of one kind,
 * a conversion whose versions are not the CRD's), `ERR_CLI_INSTALL` (npm failed). A failed command leaves the project as it was.
 */
export { run, type RunOptions } from './internal/program.js';
export { CliError, type CliErrorCode } from './internal/errors.js';
export { initProject, type InitOptions } from './internal/init.js';
export { createApi, importsMarker, registerMarker, type CreateApiOptions } from './internal/create-api.js';
export { createWebhook, type CreateWebhookOptions } from './internal/create-webhook.js';
export { generateManifests, computeManifests, generatedMarker, type GeneratedManifests } from './internal/manifests.js';
export { generateTypes, type GenerateTypesOptions } from './internal/types.js';
export { loadProject, projectFileName, type Project, type ProjectFile, type ProjectApi } from './internal/project.js';
export { buildCrds, structuralProblems, type ResourceDefinition, type GeneratedCrd } from './internal/crd.js';
export { rulesFor, type ReconcilerMetadata } from './internal/rbac.js';
export {
  webhookEntries,
  webhookEntryName,
  webhookObjects,
  withConversions,
  isConversion,
  type WebhookMetadata,
  type ConversionMetadata,
} from './internal/webhooks.js';
export { createOutput, type Output, type OutputStreams } from './internal/output.js';
