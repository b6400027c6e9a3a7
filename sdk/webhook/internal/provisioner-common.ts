// What the certificate provisioner's parts (../provisioner.ts, ./cert-leader.ts, ./cert-replica.ts) share: its
// settings, resolved from the options, and what may be logged.
import type { WebhookLogger } from '../admission.js';
import type { CertClock } from '../provisioner.js';
import type { CaBundleTarget } from './cert-api.js';
import type { ParsedCert } from './cert-state.js';

/** The provisioner's options, checked and with their defaults. */
export interface Settings {
  namespace: string;
  secretName: string;
  dnsNames: string[];
  ipAddresses: string[];
  targets: CaBundleTarget[];
  certDir: string | undefined;
  certName: string;
  keyName: string;
  caValidityMs: number;
  caRenewBeforeMs: number;
  certValidityMs: number;
  renewBeforeMs: number;
  checkIntervalMs: number;
  caBundlePropagationMs: number;
  clock: CertClock;
  log: WebhookLogger;
}

export const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));
export const targetName = (t: CaBundleTarget): string => `${t.kind} ${t.name}`;
export const fingerprintOf = (c: ParsedCert): string => c.x509.fingerprint256;
/** What may be logged of a certificate: public facts only. */
export const describeCert = (c: ParsedCert): { notAfter: string; fingerprint: string } => ({
  notAfter: new Date(c.notAfterMs).toISOString(),
  fingerprint: fingerprintOf(c),
});
