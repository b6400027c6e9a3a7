// Type tests of code generated from CRDs (test/types/crd/, written by generateTypesFromCrd, checked against it by
// sdk/client/codegen/crd.test.ts): the types say what the schemas say, and the descriptors type the clients.
import { expectTypeOf } from 'vitest';
import type { RestConfig } from '../../sdk/client/config/types.js';
import type { ResourceDescriptor } from '../../sdk/client/meta/descriptor.js';
import type { KubeObject, ObjectMeta } from '../../sdk/client/meta/types.js';
import { typedClient } from '../../sdk/client/rest/resource.js';
import { CertificateRequest, type CertificateRequestSpec } from './crd/certificaterequests.js';
import { ServiceMonitor, type ServiceMonitorSpecEndpoints } from './crd/servicemonitors.js';
import {
  WidgetV1,
  WidgetV1alpha1,
  type WidgetSpecExtrasV1,
  type WidgetSpecTemplateV1,
  type WidgetSpecV1,
  type WidgetStatusConditionsV1,
} from './crd/widgets.js';

declare const config: RestConfig;

// Descriptors type their clients.
expectTypeOf(CertificateRequest).toEqualTypeOf<ResourceDescriptor<CertificateRequest>>();
expectTypeOf(typedClient(config, CertificateRequest).namespace('x').get('r')).toEqualTypeOf<
  Promise<CertificateRequest>
>();
expectTypeOf(typedClient(config, WidgetV1).namespace('x').get('w')).toEqualTypeOf<Promise<WidgetV1>>();
expectTypeOf<CertificateRequest>().toExtend<KubeObject>();

// Required fields, enums, maps, formats.
const request: CertificateRequest = {
  apiVersion: 'cert-manager.io/v1',
  kind: 'CertificateRequest',
  metadata: { name: 'r' },
  spec: {
    issuerRef: { name: 'ca' },
    request: 'LS0t',
    usages: ['digital signature', 'server auth'],
    extra: { team: ['a'] },
  },
};
void request;
// @ts-expect-error issuerRef is required
const noIssuer: CertificateRequestSpec = { request: 'LS0t' };
void noIssuer;
const badUsage: CertificateRequestSpec = {
  issuerRef: { name: 'ca' },
  request: 'LS0t',
  // @ts-expect-error usages are an enum
  usages: ['signing', 'everything'],
};
void badUsage;
expectTypeOf<NonNullable<NonNullable<CertificateRequest['status']>['conditions']>[number]['status']>().toEqualTypeOf<
  'True' | 'False' | 'Unknown'
>();

// A legacy (v1beta1) schema: untyped objects are open, an untagged anyOf is a union.
expectTypeOf<NonNullable<ServiceMonitorSpecEndpoints['targetPort']>>().toEqualTypeOf<string | number>();
expectTypeOf<NonNullable<ServiceMonitorSpecEndpoints['params']>>().toEqualTypeOf<Record<string, unknown>>();
expectTypeOf(ServiceMonitor.version).toEqualTypeOf<string>();

// nullable, int-or-string, preserve-unknown-fields, embedded resources, additionalProperties.
expectTypeOf<WidgetSpecV1['port']>().toEqualTypeOf<number | string>();
expectTypeOf<WidgetSpecV1['weight']>().toEqualTypeOf<number | null | undefined>();
expectTypeOf<WidgetSpecV1['mode']>().toEqualTypeOf<'fast' | 'slow' | null | undefined>();
expectTypeOf<WidgetSpecV1['level']>().toEqualTypeOf<1 | 2 | 3 | undefined>();
expectTypeOf<WidgetSpecV1['config']>().toEqualTypeOf<Record<string, unknown> | undefined>();
expectTypeOf<WidgetSpecV1['anything']>().toEqualTypeOf<unknown>();
expectTypeOf<WidgetSpecV1['empty']>().toEqualTypeOf<Record<string, never> | undefined>();
expectTypeOf<WidgetSpecTemplateV1['metadata']>().toEqualTypeOf<ObjectMeta | undefined>();
expectTypeOf<NonNullable<WidgetSpecV1['limits']>[string]['max']>().toEqualTypeOf<number>();
const extras: WidgetSpecExtrasV1 = { owner: 'me', anythingElse: [1, 2] };
void extras;
const spec: WidgetSpecV1 = { color: 'red', port: 'http', 'app.kubernetes.io/part-of': 'shop', weight: null };
void spec;
// @ts-expect-error color is an enum
const wrongColor: WidgetSpecV1 = { color: 'purple', port: 80 };
void wrongColor;
// @ts-expect-error a misspelled field of a pruned (structural) schema
const misspelled: WidgetSpecV1 = { color: 'red', port: 80, replica: 2 };
void misspelled;
// @ts-expect-error conditions need a status
const noStatus: WidgetStatusConditionsV1 = { type: 'Ready' };
void noStatus;
expectTypeOf(WidgetV1alpha1.version).toEqualTypeOf<string>();
expectTypeOf<NonNullable<WidgetV1alpha1['spec']>>().toEqualTypeOf<{ size?: number }>();
