// Type tests of kubeloop/webhook as a user writes it: a @Webhook class registered on the manager, the builder typed
// by the descriptor, and conversions whose functions are typed by each spoke's own descriptor.
import { expectTypeOf } from 'vitest';
import { ConfigMap, defineResource, type CustomObject } from '../../sdk/client/index.js';
import type { Manager } from '../../sdk/manager/index.js';
import {
  Webhook,
  defineConversion,
  webhookFor,
  type AdmissionContext,
  type AdmissionHandler,
  type Defaulter,
  type Validator,
  type Warnings,
} from '../../sdk/webhook/index.js';

declare const mgr: Manager;

const Gadget = defineResource<{ size: number }, { ready?: boolean }>({
  group: 'example.com',
  version: 'v2',
  kind: 'Gadget',
  namespaced: true,
});
const GadgetV1 = defineResource<{ sizeText: string }, { ready?: boolean }>({
  group: 'example.com',
  version: 'v1',
  kind: 'Gadget',
  namespaced: true,
});
type Gadget = CustomObject<{ size: number }, { ready?: boolean }>;

@Webhook({ for: Gadget, defaulting: true, validating: true, failurePolicy: 'Ignore', timeoutSeconds: 3 })
class GadgetWebhook implements Defaulter<Gadget>, Validator<Gadget> {
  default(obj: Gadget, ctx: AdmissionContext<Gadget>): void {
    expectTypeOf(ctx.oldObject).toEqualTypeOf<Gadget | undefined>();
    expectTypeOf(ctx.dryRun).toBeBoolean();
    obj.spec ??= { size: 1 };
  }
  async validateCreate(obj: Gadget, ctx: AdmissionContext<Gadget>): Promise<Warnings> {
    expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
    return obj.spec?.size === 0 ? ['empty'] : [];
  }
  validateUpdate(_oldObj: Gadget, _obj: Gadget, _ctx: AdmissionContext<Gadget>): Warnings {
    return [];
  }
  validateDelete(_obj: Gadget, _ctx: AdmissionContext<Gadget>): void {}
}

mgr.register(GadgetWebhook);

// The builder is typed by the descriptor: a defaulter of another kind does not fit.
webhookFor(mgr).for(Gadget).withDefaulter(new GadgetWebhook()).withValidator(new GadgetWebhook()).complete();
webhookFor(mgr)
  .for(Gadget)
  // @ts-expect-error a ConfigMap defaulter is not a Gadget defaulter
  .withDefaulter({ default: (cm: { data: Record<string, string> }) => void cm.data });
webhookFor(mgr)
  .for(ConfigMap)
  .withValidator({
    validateCreate: (cm) => (expectTypeOf(cm.data).toEqualTypeOf<Record<string, string> | undefined>(), []),
    validateUpdate: () => [],
    validateDelete: () => [],
  });

// Each spoke's functions are typed by its own descriptor, without annotations.
const conversion = defineConversion({
  hub: Gadget,
  spokes: [
    {
      resource: GadgetV1,
      toHub: (old) => {
        expectTypeOf(old.spec).toEqualTypeOf<{ sizeText: string } | undefined>();
        return { ...old, spec: { size: Number(old.spec?.sizeText) } };
      },
      fromHub: (hub) => ({ ...hub, spec: { sizeText: String(hub.spec?.size) } }),
    },
  ],
});
mgr.register(conversion);

const raw: AdmissionHandler = (request) => ({ allowed: request.operation !== 'DELETE' });
mgr.webhookServer.register('/validate-anything', raw);
