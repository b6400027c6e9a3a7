import { describe, expect, it } from 'vitest';
import { defineResource, type CustomObject } from '../client/index.js';
import {
  defaultingHandler,
  invalidStatus,
  validatingHandler,
  type AdmissionContext,
  type AdmissionHandlerContext,
  type Defaulter,
  type Validator,
} from './admission.js';
import { defaultingPath, resolveWebhookOptions, validatingPath, Webhook, webhookOptionsOf } from './decorator.js';
import { ValidationError, fieldError, isValidationError } from './errors.js';
import { applyJsonPatch, type JsonPatchOperation } from './internal/json-patch.js';
import type { AdmissionRequest, Operation, Warnings } from './types.js';

type Widget = CustomObject<{ size?: number; name?: string }>;
const Widget = defineResource<{ size?: number; name?: string }>({
  group: 'example.com',
  version: 'v1',
  kind: 'Widget',
  namespaced: true,
});

const ctx: AdmissionHandlerContext = {
  signal: new AbortController().signal,
  log: { info() {}, warn() {}, error() {}, debug() {}, child: () => ctx.log },
};

function request(operation: Operation, object?: Widget, oldObject?: Widget): AdmissionRequest {
  return {
    uid: 'u',
    kind: { group: 'example.com', version: 'v1', kind: 'Widget' },
    resource: { group: 'example.com', version: 'v1', resource: 'widgets' },
    name: 'w',
    namespace: 'ns',
    operation,
    userInfo: { username: 'alice' },
    ...(object && { object }),
    ...(oldObject && { oldObject }),
    dryRun: true,
  };
}

const widget = (spec: Widget['spec']): Widget => ({
  apiVersion: 'example.com/v1',
  kind: 'Widget',
  metadata: { name: 'w', namespace: 'ns' },
  spec,
});

describe('defaultingHandler', () => {
  it('sends the JSON patch from the object as it came to the object as default() left it', async () => {
    const defaulter: Defaulter<Widget> = {
      default(obj, c) {
        expect(c.dryRun).toBe(true);
        expect(c.userInfo.username).toBe('alice');
        obj.spec!.size ??= 3;
        obj.metadata!.labels = { 'example.com/defaulted': 'true' };
      },
    };
    const original = widget({ name: 'x' });
    const response = await defaultingHandler(defaulter)(request('CREATE', original), ctx);
    expect(response.allowed).toBe(true);
    expect(response.patchType).toBe('JSONPatch');
    const ops = JSON.parse(Buffer.from(response.patch!, 'base64').toString()) as JsonPatchOperation[];
    expect(ops).toEqual([
      { op: 'add', path: '/metadata/labels', value: { 'example.com/defaulted': 'true' } },
      { op: 'add', path: '/spec/size', value: 3 },
    ]);
    expect(applyJsonPatch(original, ops)).toEqual({
      ...original,
      metadata: { ...original.metadata, labels: { 'example.com/defaulted': 'true' } },
      spec: { name: 'x', size: 3 },
    });
    expect(original.spec).toEqual({ name: 'x' });
  });

  it('sends no patch when nothing changed, and admits deletes untouched', async () => {
    const defaulter: Defaulter<Widget> = { default: () => undefined };
    expect(await defaultingHandler(defaulter)(request('CREATE', widget({ size: 1 })), ctx)).toEqual({ allowed: true });
    expect(
      await defaultingHandler({ default: () => expect.unreachable() })(request('DELETE', undefined, widget({})), ctx),
    ).toEqual({ allowed: true });
  });
});

describe('validatingHandler', () => {
  const calls: string[] = [];
  const validator: Validator<Widget> = {
    validateCreate(obj: Widget, _c: AdmissionContext<Widget>): Warnings {
      calls.push(`create ${obj.spec?.size}`);
      if ((obj.spec?.size ?? 0) > 10)
        throw new ValidationError([fieldError('spec.size', 'must be at most 10', { value: obj.spec?.size })]);
      return obj.spec?.size === 0 ? ['size 0 does nothing'] : [];
    },
    validateUpdate(oldObj: Widget, obj: Widget, c: AdmissionContext<Widget>): void {
      calls.push(`update ${oldObj.spec?.size}→${obj.spec?.size} old=${c.oldObject?.spec?.size}`);
    },
    validateDelete(obj: Widget): Warnings {
      calls.push(`delete ${obj.spec?.size}`);
      return [];
    },
  };

  it('calls the method of the operation with the request objects, and returns warnings', async () => {
    const handler = validatingHandler(validator);
    expect(await handler(request('CREATE', widget({ size: 0 })), ctx)).toEqual({
      allowed: true,
      warnings: ['size 0 does nothing'],
    });
    expect(await handler(request('UPDATE', widget({ size: 2 }), widget({ size: 1 })), ctx)).toEqual({ allowed: true });
    expect(await handler(request('DELETE', undefined, widget({ size: 5 })), ctx)).toEqual({ allowed: true });
    expect(calls).toEqual(['create 0', 'update 1→2 old=1', 'delete 5']);
  });

  it('lets a ValidationError through for the server to turn into a 422 Invalid with causes', async () => {
    const err = await Promise.resolve(validatingHandler(validator)(request('CREATE', widget({ size: 11 })), ctx)).catch(
      (e: unknown) => e,
    );
    expect(isValidationError(err)).toBe(true);
    expect(invalidStatus(err as ValidationError, request('CREATE', widget({ size: 11 })))).toEqual({
      status: 'Failure',
      code: 422,
      reason: 'Invalid',
      message: 'Widget.example.com "w" is invalid: spec.size: Invalid value: 11: must be at most 10',
      details: {
        name: 'w',
        group: 'example.com',
        kind: 'Widget',
        causes: [{ reason: 'FieldValueInvalid', field: 'spec.size', message: 'Invalid value: 11: must be at most 10' }],
      },
    });
  });
});

describe('fieldError', () => {
  it('words messages and types as apimachinery does', () => {
    expect(fieldError('spec.image', 'Required value')).toEqual({
      field: 'spec.image',
      type: 'FieldValueRequired',
      message: 'Required value',
    });
    expect(fieldError('spec.a', 'not allowed here', { type: 'FieldValueForbidden' })).toEqual({
      field: 'spec.a',
      type: 'FieldValueForbidden',
      message: 'Forbidden: not allowed here',
    });
    expect(fieldError('spec.b', 'must be positive', { value: -1 })).toEqual({
      field: 'spec.b',
      type: 'FieldValueInvalid',
      message: 'Invalid value: -1: must be positive',
    });
    expect(new ValidationError([fieldError('a', 'Required value'), fieldError('b', 'bad')]).message).toBe(
      'a: Required value, b: bad',
    );
  });
});

describe('@Webhook and its options', () => {
  it('records plain metadata and names paths as controller-runtime does', () => {
    @Webhook({ for: Widget, validating: true, failurePolicy: 'Ignore' })
    class WidgetWebhook implements Pick<Validator<Widget>, 'validateCreate'> {
      validateCreate(): Warnings {
        return [];
      }
    }
    expect(webhookOptionsOf(WidgetWebhook)).toEqual({ for: Widget, validating: true, failurePolicy: 'Ignore' });
    expect(defaultingPath(Widget)).toBe('/mutate-example-com-v1-widget');
    expect(validatingPath(Widget)).toBe('/validate-example-com-v1-widget');
    expect(validatingPath(defineResource({ group: '', version: 'v1', kind: 'ConfigMap', namespaced: true }))).toBe(
      '/validate--v1-configmap',
    );
  });

  it('fills in defaults, and refuses options that cannot work with coded errors', () => {
    expect(resolveWebhookOptions({ for: Widget, defaulting: true })).toMatchObject({
      timeoutSeconds: 10,
      handlerTimeoutMs: 9000,
      failurePolicy: 'Fail',
      sideEffects: 'None',
      matchPolicy: 'Equivalent',
    });
    expect(resolveWebhookOptions({ for: Widget, defaulting: true, timeoutSeconds: 1 }).handlerTimeoutMs).toBe(500);
    expect(() => resolveWebhookOptions({ for: Widget })).toThrow(
      expect.objectContaining({
        code: 'ERR_WEBHOOK_OPTIONS',
        message: 'webhook: say defaulting: true, validating: true or both',
      }),
    );
    expect(() => resolveWebhookOptions({ for: Widget, validating: true, timeoutSeconds: 31 })).toThrow(
      /timeoutSeconds must be a whole number from 1 to 30, not 31/,
    );
    expect(() =>
      resolveWebhookOptions({ for: Widget, validating: true, timeoutSeconds: 2, handlerTimeoutMs: 2000 }),
    ).toThrow(/must be above 0 and below timeoutSeconds × 1000 \(2000\)/);
  });
});
