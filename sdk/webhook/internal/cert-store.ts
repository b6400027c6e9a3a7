// The certificate provisioner's storage: the kubernetes.io/tls Secret that keeps the CA and the serving pair
// (reading it is ./cert-state.ts).
import type { Secret } from '../../client/index.js';
import type { WebhookLogger } from '../admission.js';
import { WebhookError } from '../errors.js';
import type { CertApi } from './cert-api.js';
import { errorMessage, type Settings } from './provisioner-common.js';

/** Writes `changes` (key → PEM) into the Secret, creating it when there is none; resolves what the API server stored. */
export async function writeCertSecret(
  api: CertApi,
  s: Settings,
  secret: Secret | undefined,
  changes: Record<string, string>,
  signal: AbortSignal,
  log: WebhookLogger,
): Promise<Secret> {
  const next: Secret = secret
    ? structuredClone(secret)
    : {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: s.secretName,
          namespace: s.namespace,
          labels: { 'app.kubernetes.io/managed-by': 'kubeloop' },
        },
        type: 'kubernetes.io/tls',
      };
  next.data = { ...next.data };
  for (const [key, text] of Object.entries(changes)) next.data[key] = Buffer.from(text, 'utf8').toString('base64');
  const written = await api.writeSecret(next, signal).catch((err: unknown) => {
    throw new WebhookError(
      'ERR_WEBHOOK_CERTIFICATE',
      `cannot ${secret ? 'update' : 'create'} the Secret ${s.namespace}/${s.secretName}: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  });
  log.info(
    { keys: Object.keys(changes).toSorted() },
    secret ? 'updated the webhook certificate Secret' : 'created the webhook certificate Secret',
  );
  return written;
}
