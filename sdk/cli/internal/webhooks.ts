/**
 * The manifests of a project's webhooks, from plain data read out of its compiled modules: the `@Webhook` metadata
 * of its classes (`webhookOptionsOf`) and the `defineConversion` values it exports. Pure: no I/O, the same input gives
 * the same objects.
 *
 * | input | output |
 * | --- | --- |
 * | `@Webhook({ for: K, defaulting: true })` | an entry `m<kind>-<version>.<group>` in the MutatingWebhookConfiguration |
 * | `@Webhook({ for: K, validating: true })` | an entry `v<kind>-<version>.<group>` in the ValidatingWebhookConfiguration |
 * | `defineConversion({ hub, spokes })` | `spec.conversion` (strategy Webhook, path `/convert`) on K's CRD |
 * | any of them | the webhook Service (443 → 9443), the Deployment's port and certificate volume, the certificate |
 *
 * Each entry is kubebuilder's: `admissionReviewVersions: [v1]`, rules on the kind's group, version and plural, the
 * call through `<name>-webhook-service` in the operator's namespace, and the options of `@Webhook` (failure policy,
 * side effects, timeout, selectors, match and reinvocation policies) with their defaults filled in.
 *
 * Certificates, two ways (kubeloop.json `webhookCertificates`):
 * - `cert-manager` (the default), as kubebuilder scaffolds it: a self-signed Issuer and a Certificate for the Service's
 *   DNS names writing the Secret `webhook-server-cert`, mounted where the manager's webhook server reads it;
 *   cert-manager's CA injector fills in the `caBundle` of the webhook configurations and the converted CRDs from their
 *   `cert-manager.io/inject-ca-from` annotation ({@link certManagerProvisioning}).
 * - `kubeloop`, for clusters without cert-manager: kubeloop/webhook's own provisioner
 *   (`createManager({ webhook: { certProvisioner } })`): the leader keeps a CA and the serving certificate in the
 *   Secret and patches each `caBundle`; every replica writes the pair into an emptyDir at the certificate folder. The
 *   Deployment hands the provisioner's options to main.ts as `WEBHOOK_CERT_PROVISIONER` (JSON), and the provisioner
 *   gets exactly the RBAC it uses ({@link kubeloopProvisioning}).
 */
import type { admissionregistrationv1, apiextensionsv1, KubeObject, ResourceDescriptor } from '../../client/index.js';
import { isObject, isResourceDescriptor } from './crd.js';
import type { Conversion, Operation, WebhookOptions } from '../../webhook/index.js';
import { conversionPath, resolveWebhookOptions } from '../../webhook/internal.js';

/** A `@Webhook` class found in a module: its export name, module, and recorded options. */
export interface WebhookMetadata {
  name: string;
  source: string;
  options: WebhookOptions;
}

/** A `defineConversion` value found in a module: its export name, module, and the conversion. */
export interface ConversionMetadata {
  name: string;
  source: string;
  conversion: Conversion;
}

/** What the webhook manifests are named after: the project's name and namespace (kubeloop.json). */
export interface WebhookProject {
  name: string;
  namespace: string;
  /** The project's domain: it qualifies the names of webhooks for kinds of a group without a dot (`apps`, core). */
  domain: string;
  /** Who provisions the serving certificate. Default: `cert-manager`. */
  webhookCertificates?: CertificateProvisioning;
}

/** Who provisions the webhook server's certificate: cert-manager, or kubeloop's built-in provisioner. */
export type CertificateProvisioning = 'cert-manager' | 'kubeloop';

/** How a way of provisioning shows in the manifests. */
export interface Provisioning {
  /** Objects of their own: cert-manager's Issuer and Certificate, or the provisioner's RBAC. */
  objects: object[];
  /** Annotations on the webhook configurations and converted CRDs. */
  caAnnotations: Record<string, string>;
  /** What the manager's container gets: the certificate folder's volume, and the environment. */
  volume: object;
  env: { name: string; value: string }[];
}

/** Where the webhook server's certificate is mounted in the manager's container: controller-runtime's default. */
export const servingCertDir = '/tmp/k8s-webhook-server/serving-certs';
/** The Secret holding the serving certificate (`tls.crt`, `tls.key`, `ca.crt`). */
export const servingCertSecret = 'webhook-server-cert';
/** The container port of the webhook server: controller-runtime's default. */
export const webhookServerPort = 9443;

/** True for a value made by `defineConversion` (of this copy of kubeloop or another). */
export function isConversion(value: unknown): value is Conversion {
  return (
    isObject(value) &&
    typeof value['group'] === 'string' &&
    typeof value['kind'] === 'string' &&
    isResourceDescriptor(value['hub']) &&
    Array.isArray(value['spokes']) &&
    typeof value['convert'] === 'function'
  );
}

/** The names of the objects the webhook manifests create and refer to. */
export function webhookNames(project: WebhookProject) {
  return {
    service: `${project.name}-webhook-service`,
    mutating: `${project.name}-mutating-webhook-configuration`,
    validating: `${project.name}-validating-webhook-configuration`,
    issuer: `${project.name}-selfsigned-issuer`,
    certificate: `${project.name}-serving-cert`,
    deployment: `${project.name}-controller-manager`,
  };
}

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * The name of a webhook entry, as kubebuilder names them: `m` (mutating) or `v` (validating), the kind in lower case,
 * the version, then the group (`mguestbook-v1.webapp.example.com`). The API server wants a name of at least three
 * labels, so a group without a dot (a built-in one such as `apps`, or the core group) is followed by the project's domain.
 */
export function webhookEntryName(prefix: 'm' | 'v', resource: ResourceDescriptor, domain: string): string {
  const group = resource.group.includes('.') ? resource.group : `${resource.group || 'core'}.${domain}`;
  return `${prefix}${resource.kind.toLowerCase()}-${resource.version}.${group}`;
}

function entryNameProblems(name: string): string[] {
  const labels = name.split('.');
  if (name.length > 253 || labels.length < 3 || !labels.every((l) => l.length <= 63 && dnsLabel.test(l))) {
    return [`the webhook name ${name} is not a DNS name of at least three labels of at most 63 characters each`];
  }
  return [];
}

const labelsOf = (project: WebhookProject): Record<string, string> => ({ 'app.kubernetes.io/name': project.name });

/**
 * How the serving certificate is provisioned: cert-manager's self-signed Issuer and a Certificate for the webhook
 * Service's DNS names, and the annotation that has cert-manager's CA injector fill in each `caBundle`.
 */
export function certManagerProvisioning(project: WebhookProject): Provisioning {
  const names = webhookNames(project);
  const { namespace } = project;
  return {
    objects: [
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Issuer',
        metadata: { name: names.issuer, namespace, labels: labelsOf(project) },
        spec: { selfSigned: {} },
      },
      {
        apiVersion: 'cert-manager.io/v1',
        kind: 'Certificate',
        metadata: { name: names.certificate, namespace, labels: labelsOf(project) },
        spec: {
          dnsNames: [`${names.service}.${namespace}.svc`, `${names.service}.${namespace}.svc.cluster.local`],
          issuerRef: { kind: 'Issuer', name: names.issuer },
          secretName: servingCertSecret,
        },
      },
    ],
    caAnnotations: { 'cert-manager.io/inject-ca-from': `${namespace}/${names.certificate}` },
    volume: { name: 'webhook-certs', secret: { secretName: servingCertSecret } },
    env: [],
  };
}

/** The names the built-in provisioner is given: the configurations and CRDs whose caBundle it keeps. */
export interface ProvisionedNames {
  mutatingWebhookConfigurations: string[];
  validatingWebhookConfigurations: string[];
  crds: string[];
}

/**
 * kubeloop's built-in provisioner: its options as `WEBHOOK_CERT_PROVISIONER` (JSON, read by main.ts), the certificate
 * folder as an emptyDir every replica writes into, and the RBAC it uses: Secrets in the operator's namespace (get,
 * list, watch, create, update), and get and patch on its own webhook configurations and CRDs, by name.
 */
export function kubeloopProvisioning(project: WebhookProject, provisioned: ProvisionedNames): Provisioning {
  const names = webhookNames(project);
  const { namespace } = project;
  const labels = labelsOf(project);
  const role = `${project.name}-webhook-certificates`;
  const subjects = [{ kind: 'ServiceAccount', name: names.deployment, namespace }];
  const byName = (apiGroup: string, resource: string, list: string[]): object[] =>
    list.length > 0
      ? [{ apiGroups: [apiGroup], resources: [resource], resourceNames: list, verbs: ['get', 'patch'] }]
      : [];
  const options = {
    secretName: servingCertSecret,
    serviceName: names.service,
    ...(provisioned.mutatingWebhookConfigurations.length > 0 && {
      mutatingWebhookConfigurations: provisioned.mutatingWebhookConfigurations,
    }),
    ...(provisioned.validatingWebhookConfigurations.length > 0 && {
      validatingWebhookConfigurations: provisioned.validatingWebhookConfigurations,
    }),
    ...(provisioned.crds.length > 0 && { crds: provisioned.crds }),
  };
  return {
    objects: [
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: role, namespace, labels },
        rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch', 'create', 'update'] }],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: role, namespace, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role },
        subjects,
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: { name: role, labels },
        rules: [
          ...byName(
            'admissionregistration.k8s.io',
            'mutatingwebhookconfigurations',
            provisioned.mutatingWebhookConfigurations,
          ),
          ...byName(
            'admissionregistration.k8s.io',
            'validatingwebhookconfigurations',
            provisioned.validatingWebhookConfigurations,
          ),
          ...byName('apiextensions.k8s.io', 'customresourcedefinitions', provisioned.crds),
        ],
      },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: role, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
        subjects,
      },
    ],
    caAnnotations: {},
    volume: { name: 'webhook-certs', emptyDir: {} },
    env: [{ name: 'WEBHOOK_CERT_PROVISIONER', value: JSON.stringify(options) }],
  };
}

/** The provisioning the project chose (kubeloop.json `webhookCertificates`). */
export function provisioningFor(project: WebhookProject, provisioned: ProvisionedNames): Provisioning {
  return project.webhookCertificates === 'kubeloop'
    ? kubeloopProvisioning(project, provisioned)
    : certManagerProvisioning(project);
}

/** The webhook configurations' entries and what is wrong with the webhooks, each problem naming its class and module. */
export interface WebhookConfigurations {
  mutating: admissionregistrationv1.MutatingWebhook[];
  validating: admissionregistrationv1.ValidatingWebhook[];
  problems: string[];
}

/** The entries of the webhook configurations, sorted by name. */
export function webhookEntries(webhooks: readonly WebhookMetadata[], project: WebhookProject): WebhookConfigurations {
  const service = { name: webhookNames(project).service, namespace: project.namespace };
  const mutating: admissionregistrationv1.MutatingWebhook[] = [];
  const validating: admissionregistrationv1.ValidatingWebhook[] = [];
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const claim = (key: string, owner: string, what: string): boolean => {
    const earlier = seen.get(key);
    if (earlier) {
      problems.push(
        `${owner} and ${earlier} both ${what}: the API server can call only one webhook by that name and path; keep one`,
      );
      return false;
    }
    seen.set(key, owner);
    return true;
  };
  for (const { name, source, options } of webhooks) {
    const owner = `${source} (${name})`;
    let resolved: ReturnType<typeof resolveWebhookOptions>;
    try {
      resolved = resolveWebhookOptions(options, owner);
    } catch (err) {
      problems.push((err as Error).message);
      continue;
    }
    const resource = resolved.for;
    const common = {
      admissionReviewVersions: ['v1'],
      failurePolicy: resolved.failurePolicy,
      matchPolicy: resolved.matchPolicy,
      sideEffects: resolved.sideEffects,
      timeoutSeconds: resolved.timeoutSeconds,
      ...(resolved.namespaceSelector && { namespaceSelector: resolved.namespaceSelector }),
      ...(resolved.objectSelector && { objectSelector: resolved.objectSelector }),
    };
    const rule = (operations: readonly Operation[]): admissionregistrationv1.RuleWithOperations[] => [
      {
        apiGroups: [resource.group],
        apiVersions: [resource.version],
        operations: [...operations],
        resources: [resource.plural],
      },
    ];
    const kindName = `${resource.kind} ${resource.group ? `${resource.group}/` : ''}${resource.version}`;
    if (resolved.defaulting) {
      const entry = webhookEntryName('m', resource, project.domain);
      problems.push(...entryNameProblems(entry).map((p) => `${owner}: ${p}`));
      if (
        claim(`m ${entry}`, owner, `default ${kindName} (${entry})`) &&
        claim(`path ${resolved.defaultingPath}`, owner, `serve ${resolved.defaultingPath}`)
      ) {
        mutating.push({
          ...common,
          name: entry,
          clientConfig: { service: { ...service, path: resolved.defaultingPath } },
          reinvocationPolicy: resolved.reinvocationPolicy,
          rules: rule(resolved.defaultingOperations),
        });
      }
    }
    if (resolved.validating) {
      const entry = webhookEntryName('v', resource, project.domain);
      problems.push(...entryNameProblems(entry).map((p) => `${owner}: ${p}`));
      if (
        claim(`v ${entry}`, owner, `validate ${kindName} (${entry})`) &&
        claim(`path ${resolved.validatingPath}`, owner, `serve ${resolved.validatingPath}`)
      ) {
        validating.push({
          ...common,
          name: entry,
          clientConfig: { service: { ...service, path: resolved.validatingPath } },
          rules: rule(resolved.validatingOperations),
        });
      }
    }
  }
  const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return { mutating: mutating.toSorted(byName), validating: validating.toSorted(byName), problems };
}

/**
 * Puts each conversion on the CRD of its kind: `spec.conversion` with strategy Webhook, called at `/convert` through
 * the webhook Service, and the CA annotation. Returns the CRDs (the others as they were) and the problems: a
 * conversion for a kind the project has no CRD of, two conversions of one kind, versions served by the CRD that the
 * conversion does not name (or the reverse), and a hub that is not the storage version.
 */
export function withConversions(
  crds: readonly apiextensionsv1.CustomResourceDefinition[],
  conversions: readonly ConversionMetadata[],
  project: WebhookProject,
  caAnnotations: Record<string, string>,
): { crds: apiextensionsv1.CustomResourceDefinition[]; problems: string[] } {
  const problems: string[] = [];
  const byKind = new Map<string, ConversionMetadata>();
  for (const c of conversions) {
    const key = `${c.conversion.kind}.${c.conversion.group}`;
    const owner = `${c.source} (${c.name})`;
    const earlier = byKind.get(key);
    if (earlier) {
      problems.push(
        `${owner} and ${earlier.source} (${earlier.name}) both convert ${key}: one conversion per kind; keep one`,
      );
      continue;
    }
    byKind.set(key, c);
    if (!crds.some((crd) => crd.spec.group === c.conversion.group && crd.spec.names.kind === c.conversion.kind)) {
      problems.push(
        `${owner} converts ${key}, but the project defines no CRD of that kind (kubeloop.json lists its kinds)`,
      );
    }
  }
  const service = { name: webhookNames(project).service, namespace: project.namespace, path: conversionPath };
  const out = crds.map((crd) => {
    const found = byKind.get(`${crd.spec.names.kind}.${crd.spec.group}`);
    if (!found) return crd;
    const { conversion } = found;
    const owner = `${found.source} (${found.name})`;
    const converted = new Set([conversion.hub.version, ...conversion.spokes.map((s) => s.resource.version)]);
    const served = new Set(crd.spec.versions.map((v) => v.name));
    for (const v of served) {
      if (!converted.has(v))
        problems.push(
          `${owner}: ${crd.metadata?.name} serves ${v}, which the conversion does not name: add a spoke for it`,
        );
    }
    for (const v of converted) {
      if (!served.has(v))
        problems.push(
          `${owner}: the conversion names ${v}, which no resource module of ${conversion.kind} defines: run \`kubeloop create api\` for it, or drop the spoke`,
        );
    }
    const storage = crd.spec.versions.find((v) => v.storage)?.name;
    if (storage !== undefined && storage !== conversion.hub.version) {
      problems.push(
        `${owner}: the hub is ${conversion.hub.version} but ${storage} is the storage version of ${crd.metadata?.name}: ` +
          `the hub is the version stored, so move storage: true to ${conversion.hub.version}'s CRD version`,
      );
    }
    return {
      ...crd,
      metadata: { ...crd.metadata, annotations: { ...crd.metadata?.annotations, ...caAnnotations } },
      spec: {
        ...crd.spec,
        conversion: { strategy: 'Webhook', webhook: { conversionReviewVersions: ['v1'], clientConfig: { service } } },
      },
    } satisfies apiextensionsv1.CustomResourceDefinition;
  });
  return { crds: out, problems };
}

/** The objects of the webhook set-up, besides the CRDs. */
export interface WebhookObjects {
  /** The MutatingWebhookConfiguration and ValidatingWebhookConfiguration, each only when it has an entry. */
  configurations: KubeObject[];
  /** The Service the API server calls (443 → the webhook server's 9443). */
  service: KubeObject;
  /** A strategic-merge patch of the Deployment: the webhook server's port and the certificate Secret's volume. */
  deploymentPatch: KubeObject;
  /** What provisions the serving certificate: cert-manager's Issuer and Certificate, or the built-in provisioner's RBAC. */
  certificates: object[];
}

/**
 * The webhook configurations, Service, Deployment patch and certificate objects for the given entries; `convertedCrds`
 * names the CRDs with a conversion webhook (the built-in provisioner keeps their caBundle).
 */
export function webhookObjects(
  entries: Pick<WebhookConfigurations, 'mutating' | 'validating'>,
  project: WebhookProject,
  convertedCrds: readonly string[] = [],
): WebhookObjects {
  const names = webhookNames(project);
  const { namespace } = project;
  const labels = labelsOf(project);
  const provisioning = provisioningFor(project, {
    mutatingWebhookConfigurations: entries.mutating.length > 0 ? [names.mutating] : [],
    validatingWebhookConfigurations: entries.validating.length > 0 ? [names.validating] : [],
    crds: [...convertedCrds],
  });
  const metadata = (name: string) => ({ name, labels, annotations: provisioning.caAnnotations });
  const configurations: KubeObject[] = [];
  if (entries.mutating.length > 0) {
    configurations.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: metadata(names.mutating),
      webhooks: entries.mutating,
    } as KubeObject);
  }
  if (entries.validating.length > 0) {
    configurations.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: metadata(names.validating),
      webhooks: entries.validating,
    } as KubeObject);
  }
  const selector = { 'app.kubernetes.io/name': project.name, 'app.kubernetes.io/component': 'manager' };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: names.service, namespace, labels: { ...labels, 'app.kubernetes.io/component': 'webhook' } },
    spec: { selector, ports: [{ name: 'webhook', port: 443, protocol: 'TCP', targetPort: webhookServerPort }] },
  } as KubeObject;
  const deploymentPatch = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: names.deployment, namespace },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'manager',
              ports: [{ name: 'webhook-server', containerPort: webhookServerPort, protocol: 'TCP' }],
              ...(provisioning.env.length > 0 && { env: provisioning.env }),
              // Written by each replica when the built-in provisioner keeps the certificate, else a Secret volume.
              volumeMounts: [
                {
                  name: 'webhook-certs',
                  mountPath: servingCertDir,
                  readOnly: project.webhookCertificates !== 'kubeloop',
                },
              ],
            },
          ],
          volumes: [provisioning.volume],
        },
      },
    },
  } as KubeObject;
  return { configurations, service, deploymentPatch, certificates: provisioning.objects };
}
