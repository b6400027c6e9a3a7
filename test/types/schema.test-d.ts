// Type tests of defineCustomResource and the s builder: the types inferred from one definition say what its schema
// says, misspelled fields and wrong types are compile errors, and the descriptor types clients and reconcilers.
import { expectTypeOf } from 'vitest';
import type { RestConfig } from '../../sdk/client/config/types.js';
import type { ObjectOf, ResourceDescriptor } from '../../sdk/client/meta/descriptor.js';
import type { KubeObject } from '../../sdk/client/meta/types.js';
import type { batchv1, corev1 } from '../../sdk/client/generated/index.js';
import { typedClient } from '../../sdk/client/rest/resource.js';
import { s, type Infer } from '../../sdk/client/schema/builder.js';
import { defineCustomResource, type SpecOf, type StatusOf } from '../../sdk/client/schema/resource.js';
import { validateObject, type FieldError } from '../../sdk/client/schema/validate.js';

const Widget = defineCustomResource({
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  namespaced: true,
  spec: s.object({
    replicas: s.integer({ minimum: 0 }),
    mode: s.enum(['Fast', 'Slow']).optional(),
    port: s.intOrString().optional(),
    memory: s.quantity().optional(),
    labels: s.map(s.string()).optional(),
    ports: s
      .array(s.object({ name: s.string(), port: s.integer() }), { listType: 'map', mapKeys: ['name'] })
      .optional(),
    template: s.embeddedResource().optional(),
    extra: s.unknown().optional(),
    note: s.string().nullable().optional(),
  }),
  status: s.object({ ready: s.boolean().optional() }),
});
type Widget = ObjectOf<typeof Widget>;

declare const config: RestConfig;

// The inferred types: required and optional keys, enums as unions, maps as records, int-or-string as number | string.
expectTypeOf<SpecOf<typeof Widget>>().toEqualTypeOf<{
  replicas: number;
  mode?: 'Fast' | 'Slow';
  port?: number | string;
  memory?: number | string;
  labels?: Record<string, string>;
  ports?: { name: string; port: number }[];
  template?: KubeObject;
  extra?: unknown;
  note?: string | null;
}>();
expectTypeOf<StatusOf<typeof Widget>>().toEqualTypeOf<{ ready?: boolean }>();
expectTypeOf(Widget).toExtend<ResourceDescriptor<Widget>>();
expectTypeOf(typedClient(config, Widget).namespace('x').get('w')).toEqualTypeOf<Promise<Widget>>();
expectTypeOf(
  validateObject(Widget, { apiVersion: 'example.com/v1', kind: 'Widget', spec: { replicas: 1 } }),
).toEqualTypeOf<FieldError[]>();

const ok: Widget = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w' },
  spec: { replicas: 1, mode: 'Fast', port: 'http' },
};
expectTypeOf(ok.spec?.replicas).toEqualTypeOf<number | undefined>();

// Misspelled fields fail to compile.
const misspelled: Widget = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  // @ts-expect-error: `mod` is not a field of the spec
  spec: { replicas: 1, mod: 'Fast' },
};
const misspelledNested: Widget = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  // @ts-expect-error: `prot` is not a field of a port
  spec: { replicas: 1, ports: [{ name: 'http', port: 80, prot: 'TCP' }] },
};
const misspelledStatus: Widget = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  // @ts-expect-error: `redy` is not a field of the status
  status: { redy: true },
};

// Wrong types, values outside an enum, and missing required fields fail too.
const wrongType: Widget = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  // @ts-expect-error: replicas is an integer, not a string
  spec: { replicas: '1' },
};
const outsideEnum: Widget = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  // @ts-expect-error: 'Medium' is not one of the modes
  spec: { replicas: 1, mode: 'Medium' },
};
const missingRequired: Widget = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  // @ts-expect-error: replicas is required
  spec: { mode: 'Fast' },
};
const notNullable: Widget = {
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  // @ts-expect-error: mode is not nullable
  spec: { replicas: 1, mode: null },
};
void [misspelled, misspelledNested, misspelledStatus, wrongType, outsideEnum, missingRequired, notNullable];

// A default must be a value of the field's type.
// @ts-expect-error: the default of an integer is a number
s.integer({ default: 'one' });
// @ts-expect-error: the default of an enum is one of its values
s.enum(['a', 'b'], { default: 'c' });

// Infer works on any node.
expectTypeOf<Infer<ReturnType<typeof s.array<ReturnType<typeof s.dateTime>>>>>().toEqualTypeOf<string[]>();

// Built-in types embedded with their schema carry their generated types.
expectTypeOf<Infer<ReturnType<typeof s.podTemplateSpec>>>().toEqualTypeOf<corev1.PodTemplateSpec>();
expectTypeOf<Infer<ReturnType<typeof s.jobTemplateSpec>>>().toEqualTypeOf<batchv1.JobTemplateSpec>();
