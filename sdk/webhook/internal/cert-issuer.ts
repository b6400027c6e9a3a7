// The certificate provisioner's issuing: the signing CA (made anew ahead of its expiry; older CAs stay in the bundle
// until they expire) and serving certificates signed by it. What is made goes into `changes`, for the Secret.
import type { WebhookLogger } from '../admission.js';
import { createCertificateAuthority, loadCertificateAuthority } from '../certificates.js';
import { parseCert, secretKeys, validAt, type ParsedCert, type SecretState } from './cert-state.js';
import { describeCert, fingerprintOf, type Settings } from './provisioner-common.js';

/** A CA that signs: its certificate and key. */
export interface Signer {
  cert: ParsedCert;
  keyPem: string;
}

/**
 * The signing CA: the Secret's, or a new one when there is none, it is not valid now or it is due for renewal. The
 * bundle is that CA first, then the Secret's other CAs not yet expired.
 */
export async function signingCa(
  state: SecretState,
  s: Settings,
  now: number,
  changes: Record<string, string>,
  log: WebhookLogger,
): Promise<{ signer: Signer; bundle: ParsedCert[] }> {
  let signer = state.signer;
  const caProblem = !signer
    ? 'there is no CA (or ca.key belongs to no certificate of ca.crt)'
    : !validAt(signer.cert, now)
      ? 'the CA is not valid now'
      : signer.cert.notAfterMs - now <= s.caRenewBeforeMs
        ? 'the CA is due for renewal'
        : undefined;
  if (!signer || caProblem) {
    const ca = await createCertificateAuthority(`webhook CA for ${s.dnsNames[0]}`, {
      validityMs: s.caValidityMs,
      now: new Date(now),
    });
    signer = { cert: parseCert(ca.certPem)!, keyPem: ca.keyPem };
    changes[secretKeys.caKey] = ca.keyPem;
    log.info({ reason: caProblem, ...describeCert(signer.cert) }, 'created a webhook CA');
  }
  const signerCert = signer.cert;
  const bundle = [
    signerCert,
    ...state.bundle.filter((c) => fingerprintOf(c) !== fingerprintOf(signerCert) && c.notAfterMs > now),
  ];
  return { signer, bundle };
}

/** Issues a serving certificate for the settings' names, valid for certValidityMs but never past its CA. */
export async function issueServing(
  signer: Signer,
  now: number,
  reason: string,
  changes: Record<string, string>,
  s: Settings,
  log: WebhookLogger,
): Promise<{ cert: ParsedCert; keyPem: string }> {
  const ca = await loadCertificateAuthority(signer.cert.pem, signer.keyPem);
  const pair = await ca.sign({
    commonName: s.dnsNames[0]!,
    usage: 'server',
    dnsNames: s.dnsNames,
    ipAddresses: s.ipAddresses,
    validityMs: Math.min(s.certValidityMs, signer.cert.notAfterMs - now),
    now: new Date(now),
  });
  const cert = parseCert(pair.certPem)!;
  changes[secretKeys.cert] = pair.certPem;
  changes[secretKeys.key] = pair.keyPem;
  log.info(
    { reason, dnsNames: s.dnsNames, ipAddresses: s.ipAddresses, ...describeCert(cert) },
    'issued a webhook serving certificate',
  );
  return { cert, keyPem: pair.keyPem };
}
