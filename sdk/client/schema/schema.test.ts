import { describe, expect, it } from 'vitest';
import { s, type Infer } from './builder.js';
import { defineCustomResource } from './resource.js';
import { formatFieldError, validateObject } from './validate.js';

const Widget = defineCustomResource({
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  namespaced: true,
  shortNames: ['wd'],
  description: 'A widget.',
  spec: s.object(
    {
      size: s.integer({ minimum: 1, maximum: 10, description: 'How many.' }),
      color: s.enum(['red', 'blue'], { default: 'red' }).optional(),
      labels: s.map(s.string()).optional(),
      port: s.intOrString().optional(),
      items: s
        .array(s.object({ name: s.string(), weight: s.number().optional() }), { listType: 'map', mapKeys: ['name'] })
        .optional(),
      template: s.embeddedResource().optional(),
      extra: s.unknown().optional(),
      note: s.string().nullable().optional(),
    },
    { validations: [{ rule: 'self.size != 7', message: 'seven is unlucky', fieldPath: '.size' }] },
  ),
  status: s.object({ ready: s.boolean().optional(), at: s.dateTime().optional() }),
  printerColumns: [{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }],
});

const widget = (spec: Record<string, unknown>): Parameters<typeof validateObject>[1] => ({
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w', namespace: 'ns' },
  spec,
});

describe('defineCustomResource', () => {
  it('makes a descriptor and the CRD version from one definition', () => {
    expect(Widget).toMatchObject({
      group: 'example.com',
      version: 'v1',
      kind: 'Widget',
      plural: 'widgets',
      namespaced: true,
      subresources: ['status'],
    });
    const v = Widget.crdVersion;
    expect(v).toMatchObject({ name: 'v1', served: true, storage: true, subresources: { status: {} } });
    expect(v.additionalPrinterColumns).toEqual([{ name: 'Size', type: 'integer', jsonPath: '.spec.size' }]);
    const spec = v.schema?.openAPIV3Schema?.properties?.['spec'];
    expect(v.schema?.openAPIV3Schema?.description).toBe('A widget.');
    expect(spec?.required).toEqual(['size']);
    expect(spec?.properties?.['size']).toEqual({ type: 'integer', minimum: 1, maximum: 10, description: 'How many.' });
    expect(spec?.properties?.['color']).toEqual({ type: 'string', enum: ['red', 'blue'], default: 'red' });
    expect(spec?.properties?.['labels']).toEqual({ type: 'object', additionalProperties: { type: 'string' } });
    expect(spec?.properties?.['port']).toEqual({ 'x-kubernetes-int-or-string': true });
    expect(spec?.properties?.['items']).toMatchObject({
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    });
    expect(spec?.properties?.['template']).toEqual({
      type: 'object',
      'x-kubernetes-embedded-resource': true,
      'x-kubernetes-preserve-unknown-fields': true,
    });
    expect(spec?.properties?.['note']).toEqual({ type: 'string', nullable: true });
    expect(spec?.['x-kubernetes-validations']).toEqual([
      { rule: 'self.size != 7', message: 'seven is unlucky', fieldPath: '.size' },
    ]);
  });

  it('has no status subresource without a status schema, and a scale subresource when asked', () => {
    const Plain = defineCustomResource({
      group: 'example.com',
      version: 'v1',
      kind: 'Plain',
      namespaced: false,
      spec: s.object({ replicas: s.integer() }),
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
    });
    expect(Plain.subresources).toEqual(['scale']);
    expect(Plain.crdVersion.subresources).toEqual({
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
    });
  });
});

describe('validateObject', () => {
  it('accepts a valid object and types it', () => {
    const spec: Infer<typeof sizeOnly> = { size: 3 };
    expect(
      validateObject(Widget, widget({ ...spec, labels: { a: 'b' }, port: 'http', note: null, extra: { any: [1] } })),
    ).toEqual([]);
  });

  it('names each field as the API server does', () => {
    const errors = validateObject(
      Widget,
      widget({ size: 0, color: 'green', labels: { a: 1 }, items: [{ name: 'x' }, { name: 'x' }] }),
    );
    expect(errors.map(formatFieldError)).toEqual([
      '<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation',
      'spec.color: Unsupported value: "green": supported values: "red", "blue"',
      'spec.items[1]: Duplicate value: {"name":"x"}',
      'spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"',
      'spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1',
    ]);
  });

  it('evaluates CEL rules once the schema holds, at their fieldPath', () => {
    expect(validateObject(Widget, widget({ size: 7 }))).toEqual([
      { type: 'FieldValueInvalid', field: 'spec.size', message: 'Invalid value: seven is unlucky' },
    ]);
  });

  it('checks transition rules on update only, and ratchets unchanged values', () => {
    const Pinned = defineCustomResource({
      group: 'example.com',
      version: 'v1',
      kind: 'Pinned',
      namespaced: true,
      spec: s.object({
        zone: s.string({ validations: [{ rule: 'self == oldSelf', message: 'zone is immutable' }] }),
        size: s.integer({ maximum: 5 }).optional(),
      }),
    });
    const obj = (spec: object) => ({ apiVersion: 'example.com/v1', kind: 'Pinned', metadata: { name: 'p' }, spec });
    expect(validateObject(Pinned, obj({ zone: 'a' }))).toEqual([]);
    expect(validateObject(Pinned, obj({ zone: 'b' }), obj({ zone: 'a' })).map((e) => e.field)).toEqual(['spec.zone']);
    // size 9 was stored before the maximum existed: unchanged, it is not refused; changed, it is.
    expect(validateObject(Pinned, obj({ zone: 'a', size: 9 }), obj({ zone: 'a', size: 9 }))).toEqual([]);
    expect(
      validateObject(Pinned, obj({ zone: 'a', size: 8 }), obj({ zone: 'a', size: 9 })).map((e) => e.field),
    ).toEqual(['spec.size']);
  });

  it('reports a rule it cannot evaluate locally as an error naming the rule', () => {
    const Odd = defineCustomResource({
      group: 'example.com',
      version: 'v1',
      kind: 'Odd',
      namespaced: true,
      spec: s.object({ ip: s.string({ validations: [{ rule: 'isIP(self)' }] }) }),
    });
    const [error] = validateObject(Odd, {
      apiVersion: 'example.com/v1',
      kind: 'Odd',
      metadata: { name: 'o' },
      spec: { ip: '1.2.3.4' },
    });
    expect(error?.field).toBe('spec.ip');
    expect(error?.message).toContain('evaluating rule: isIP(self)');
  });

  it('returns nothing for a descriptor without a schema', () => {
    expect(
      validateObject(
        { group: 'g', version: 'v1', kind: 'K', plural: 'ks', namespaced: true },
        { apiVersion: 'g/v1', kind: 'K' },
      ),
    ).toEqual([]);
  });
});

const sizeOnly = s.object({ size: s.integer() });
