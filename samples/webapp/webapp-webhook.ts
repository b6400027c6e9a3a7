import type { admissionregistrationv1 } from 'kubeloop/client';
import {
  Webhook,
  ValidationError,
  defaultingPath,
  defineConversion,
  fieldError,
  validatingPath,
  type AdmissionContext,
  type Defaulter,
  type FieldError,
  type Validator,
  type Warnings,
} from 'kubeloop/webhook';
import { WebApp, WebAppV1alpha1, webhookService } from './webapp.js';

export const maxReplicas = 10;

/**
 * Admission for WebApps: defaults (1 replica, port 8080), and validation (an image is required, 0 to 10 replicas, the
 * port cannot change once set). Warnings go back to kubectl for what is allowed but unwise.
 *
 * The API server calls `default` first (mutating admission), then checks the schema, then calls `validate…`
 * (validating admission): a validator sees the defaults. Requests in v1alpha1 are converted to v1 before they reach
 * these methods (matchPolicy `Equivalent`).
 */
@Webhook({ for: WebApp, defaulting: true, validating: true, failurePolicy: 'Fail', timeoutSeconds: 5 })
export class WebAppWebhook implements Defaulter<WebApp>, Validator<WebApp> {
  default(obj: WebApp, _ctx: AdmissionContext<WebApp>): void {
    obj.spec ??= { image: '' };
    obj.spec.replicas ??= 1;
    obj.spec.port ??= 8080;
  }

  validateCreate(obj: WebApp, _ctx: AdmissionContext<WebApp>): Warnings {
    throwIfInvalid(validateSpec(obj));
    return warningsFor(obj);
  }

  validateUpdate(oldObj: WebApp, obj: WebApp, _ctx: AdmissionContext<WebApp>): Warnings {
    const errors = validateSpec(obj);
    if (oldObj.spec?.port !== undefined && obj.spec?.port !== oldObj.spec.port) {
      errors.push(fieldError('spec.port', 'field is immutable', { value: obj.spec?.port }));
    }
    throwIfInvalid(errors);
    return warningsFor(obj);
  }

  validateDelete(_obj: WebApp, _ctx: AdmissionContext<WebApp>): Warnings {
    return [];
  }
}

function validateSpec(obj: WebApp): FieldError[] {
  const errors: FieldError[] = [];
  if (!obj.spec?.image) errors.push(fieldError('spec.image', 'Required value'));
  const replicas = obj.spec?.replicas;
  if (replicas !== undefined && (replicas < 0 || replicas > maxReplicas)) {
    errors.push(fieldError('spec.replicas', `must be between 0 and ${maxReplicas}`, { value: replicas }));
  }
  return errors;
}

function throwIfInvalid(errors: FieldError[]): void {
  if (errors.length > 0) throw new ValidationError(errors);
}

function warningsFor(obj: WebApp): Warnings {
  const warnings: Warnings = [];
  const image = obj.spec?.image ?? '';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  if (!image.includes('@') && (!lastSegment.includes(':') || lastSegment.endsWith(':latest'))) {
    warnings.push(`spec.image ${image} has no fixed tag: pin a version so every replica runs the same code`);
  }
  if (obj.spec?.replicas === 0) warnings.push('spec.replicas is 0: the WebApp serves nothing');
  return warnings;
}

/**
 * v1alpha1 ⇄ v1 through the hub, v1: `spec.containerPort` became `spec.port`; everything else is the same. A round
 * trip is lossless.
 */
export const webAppConversion = defineConversion({
  hub: WebApp,
  spokes: [
    {
      resource: WebAppV1alpha1,
      toHub: (old: WebAppV1alpha1): WebApp => {
        const { containerPort, ...rest } = old.spec ?? { image: '' };
        return { ...old, spec: { ...rest, ...(containerPort !== undefined && { port: containerPort }) } };
      },
      fromHub: (hub: WebApp): WebAppV1alpha1 => {
        const { port, ...rest } = hub.spec ?? { image: '' };
        return { ...hub, spec: { ...rest, ...(port !== undefined && { containerPort: port }) } };
      },
    },
  ],
});

/**
 * The webhook configurations of WebAppWebhook, as `kubeloop generate manifests` would write them: the API server
 * calls the operator's Service at the webhook's paths. `namespaceSelector` narrows them (tests on a shared control
 * plane); envtest's `installWebhooks` rewrites the clientConfig to its local server.
 */
export function webAppWebhookConfigurations(
  options: {
    nameSuffix?: string;
    namespaceSelector?: admissionregistrationv1.MutatingWebhook['namespaceSelector'];
  } = {},
): [admissionregistrationv1.MutatingWebhookConfiguration, admissionregistrationv1.ValidatingWebhookConfiguration] {
  const suffix = options.nameSuffix ? `-${options.nameSuffix}` : '';
  const rules: admissionregistrationv1.RuleWithOperations[] = [
    {
      apiGroups: [WebApp.group],
      apiVersions: [WebApp.version],
      resources: ['webapps'],
      operations: ['CREATE', 'UPDATE'],
    },
  ];
  const common = {
    admissionReviewVersions: ['v1'],
    sideEffects: 'None' as const,
    failurePolicy: 'Fail' as const,
    matchPolicy: 'Equivalent' as const,
    timeoutSeconds: 5,
    rules,
    ...(options.namespaceSelector && { namespaceSelector: options.namespaceSelector }),
  };
  return [
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: `webapp-mutating-webhook-configuration${suffix}` },
      webhooks: [
        {
          name: `mwebapp-v1.${WebApp.group}`,
          clientConfig: { service: { ...webhookService, path: defaultingPath(WebApp) } },
          reinvocationPolicy: 'Never',
          ...common,
        },
      ],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: `webapp-validating-webhook-configuration${suffix}` },
      webhooks: [
        {
          name: `vwebapp-v1.${WebApp.group}`,
          clientConfig: { service: { ...webhookService, path: validatingPath(WebApp) } },
          ...common,
        },
      ],
    },
  ];
}
