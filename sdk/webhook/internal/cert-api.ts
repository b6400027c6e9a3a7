import { setTimeout as sleep } from 'node:timers/promises';
import {
  isAlreadyExists,
  isConflict,
  isNotFound,
  type Clientset,
  type JsonPatchOperation,
  type Secret,
  type admissionregistrationv1,
  type apiextensionsv1,
} from '../../client/index.js';

/** An object whose caBundle the provisioner keeps: a webhook configuration (every entry) or a CRD's conversion. */
export interface CaBundleTarget {
  kind: 'MutatingWebhookConfiguration' | 'ValidatingWebhookConfiguration' | 'CustomResourceDefinition';
  name: string;
}

export type CaBundleTargetObject =
  | admissionregistrationv1.MutatingWebhookConfiguration
  | admissionregistrationv1.ValidatingWebhookConfiguration
  | apiextensionsv1.CustomResourceDefinition;

/**
 * What the certificate provisioner needs of the API server: one Secret, read, written and watched, and the objects
 * that carry a caBundle, read and JSON-patched. The Clientset adapter below is the real one; unit tests use a fake.
 */
export interface CertApi {
  /** The Secret, or undefined when there is none. */
  getSecret(signal: AbortSignal): Promise<Secret | undefined>;
  /** Creates the Secret (no resourceVersion) or updates it (its resourceVersion guards against lost updates). */
  writeSecret(secret: Secret, signal: AbortSignal): Promise<Secret>;
  /**
   * Calls `onSecret` with the Secret as it is now, then with every change (undefined once deleted), until the signal
   * aborts. Failures are reported to `onError` and retried; the promise resolves once stopped.
   */
  watchSecret(
    signal: AbortSignal,
    onSecret: (secret: Secret | undefined) => void,
    onError: (err: unknown) => void,
  ): Promise<void>;
  /** The object, or undefined when there is none. */
  getTarget(target: CaBundleTarget, signal: AbortSignal): Promise<CaBundleTargetObject | undefined>;
  patchTarget(target: CaBundleTarget, ops: JsonPatchOperation[], signal: AbortSignal): Promise<void>;
}

/** How long a watch of the Secret lasts before it is renewed; the server ends it then, and it resumes from its resourceVersion. */
const watchSeconds = 300;

/** The {@link CertApi} of a Clientset, for the Secret `namespace/name`. */
export function clientsetCertApi(clientset: Clientset, namespace: string, name: string): CertApi {
  const secrets = clientset.coreV1().secrets(namespace);
  const clientOf = (target: CaBundleTarget) => {
    switch (target.kind) {
      case 'MutatingWebhookConfiguration':
        return clientset.admissionregistrationV1().mutatingWebhookConfigurations();
      case 'ValidatingWebhookConfiguration':
        return clientset.admissionregistrationV1().validatingWebhookConfigurations();
      case 'CustomResourceDefinition':
        return clientset.apiextensionsV1().customResourceDefinitions();
    }
  };
  const orUndefined = <T>(promise: Promise<T>): Promise<T | undefined> =>
    promise.catch((err: unknown) => (isNotFound(err) ? undefined : Promise.reject(err)));

  return {
    getSecret: (signal) => orUndefined(secrets.get(name, { signal })),
    writeSecret: (secret, signal) =>
      secret.metadata?.resourceVersion ? secrets.update(secret, { signal }) : secrets.create(secret, { signal }),
    getTarget: (target, signal) => orUndefined<CaBundleTargetObject>(clientOf(target).get(target.name, { signal })),
    async patchTarget(target, ops, signal) {
      await clientOf(target).patch(target.name, ops, { patchType: 'json', signal });
    },
    async watchSecret(signal, onSecret, onError) {
      const fieldSelector = `metadata.name=${name}`;
      let failures = 0;
      while (!signal.aborted) {
        try {
          const list = await secrets.list({ fieldSelector, signal });
          onSecret(list.items[0]);
          let resourceVersion = list.metadata?.resourceVersion;
          // The server ends each watch after watchSeconds; resume from the last resourceVersion seen.
          while (!signal.aborted) {
            for await (const event of secrets.watch({
              fieldSelector,
              resourceVersion,
              allowWatchBookmarks: true,
              timeoutSeconds: watchSeconds,
              signal,
            })) {
              resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
              if (event.type === 'ADDED' || event.type === 'MODIFIED') onSecret(event.object);
              else if (event.type === 'DELETED') onSecret(undefined);
              failures = 0;
            }
          }
        } catch (err) {
          if (signal.aborted) return;
          onError(err);
          // I/O retries wait in real time, whatever clock decides renewals: 0.5 s, doubling, at most 30 s.
          const delayMs = Math.min(30_000, 500 * 2 ** failures++);
          await sleep(delayMs, undefined, { signal }).catch(() => undefined);
        }
      }
    },
  };
}

/** True for the errors a concurrent writer causes (409 Conflict, AlreadyExists), or an error they caused: read again and retry. */
export function isWriteRace(err: unknown): boolean {
  const cause = typeof err === 'object' && err !== null ? (err as { cause?: unknown }).cause : undefined;
  return isConflict(err) || isAlreadyExists(err) || (cause !== undefined && isWriteRace(cause));
}
