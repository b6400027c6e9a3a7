// The certificate provisioner's caBundle publishing: the CA bundle set in every webhook of the named
// Mutating/ValidatingWebhookConfigurations and in the conversion webhook of the named CRDs.
import type { JsonPatchOperation, apiextensionsv1 } from '../../client/index.js';
import type { WebhookLogger } from '../admission.js';
import type { CaBundleTarget, CaBundleTargetObject, CertApi } from './cert-api.js';
import { targetName } from './provisioner-common.js';

/**
 * The JSON patch that sets `value` as the caBundle of a target: every webhook entry of a configuration (each guarded by
 * a test of its name, so a reordered list fails instead of patching the wrong entry), or a CRD's conversion webhook.
 * Empty when nothing differs; a string saying why when the target cannot carry one.
 */
export function caBundlePatch(
  target: CaBundleTarget,
  obj: CaBundleTargetObject,
  value: string,
): JsonPatchOperation[] | string {
  if (target.kind === 'CustomResourceDefinition') {
    const conversion = (obj as apiextensionsv1.CustomResourceDefinition).spec?.conversion;
    if (conversion?.strategy !== 'Webhook' || !conversion.webhook?.clientConfig) {
      return 'has no conversion webhook (spec.conversion.strategy is not Webhook): nothing to set';
    }
    if (conversion.webhook.clientConfig.caBundle === value) return [];
    return [
      { op: 'test', path: '/spec/conversion/strategy', value: 'Webhook' },
      { op: 'add', path: '/spec/conversion/webhook/clientConfig/caBundle', value },
    ];
  }
  const webhooks = (obj as { webhooks?: { name: string; clientConfig?: { caBundle?: string } }[] }).webhooks ?? [];
  return webhooks.flatMap((w, i): JsonPatchOperation[] =>
    w.clientConfig?.caBundle === value
      ? []
      : [
          { op: 'test', path: `/webhooks/${i}/name`, value: w.name },
          { op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value },
        ],
  );
}

/** Sets the bundle in every target, reporting each target's problem once (not at every check). */
export class CaBundlePublisher {
  /** The last problem logged per target, so that a missing target is reported once, not every check. */
  private readonly targetNotes = new Map<string, string>();

  constructor(
    private readonly api: CertApi,
    private readonly targets: readonly CaBundleTarget[],
    private readonly log: WebhookLogger,
  ) {}

  /** Sets the bundle in every target; resolves the targets that failed (a missing target is not a failure). */
  async publish(bundlePem: string, signal: AbortSignal): Promise<{ target: CaBundleTarget; err: unknown }[]> {
    const value = Buffer.from(bundlePem, 'utf8').toString('base64');
    const failed: { target: CaBundleTarget; err: unknown }[] = [];
    for (const target of this.targets) {
      try {
        const obj = await this.api.getTarget(target, signal);
        const ops = obj ? caBundlePatch(target, obj, value) : 'does not exist (yet): its caBundle is set once it does';
        if (typeof ops === 'string') {
          this.note(target, ops);
          continue;
        }
        this.targetNotes.delete(targetName(target));
        if (ops.length === 0) continue;
        await this.api.patchTarget(target, ops, signal);
        this.log.info({ kind: target.kind, name: target.name }, 'set the caBundle');
      } catch (err) {
        if (signal.aborted) throw err;
        failed.push({ target, err });
      }
    }
    return failed;
  }

  private note(target: CaBundleTarget, message: string): void {
    if (this.targetNotes.get(targetName(target)) === message) return;
    this.targetNotes.set(targetName(target), message);
    this.log.warn({ kind: target.kind, name: target.name }, `caBundle not set: ${targetName(target)} ${message}`);
  }
}
