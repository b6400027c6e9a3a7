import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { Secret } from '../../client/index.js';

/** The keys of the provisioner's Secret: a `kubernetes.io/tls` Secret plus the CA bundle and the signing CA's key. */
export const secretKeys = { cert: 'tls.crt', key: 'tls.key', caBundle: 'ca.crt', caKey: 'ca.key' } as const;

/** A parsed certificate and its PEM. */
export interface ParsedCert {
  pem: string;
  x509: X509Certificate;
  notAfterMs: number;
  notBeforeMs: number;
}

/** What a provisioner's Secret holds, checked: only parts that parse (and whose key matches) are here. */
export interface SecretState {
  /** The CA certificates of `ca.crt`, in order. */
  bundle: ParsedCert[];
  /** The CA of the bundle whose key is `ca.key`. */
  signer: { cert: ParsedCert; keyPem: string } | undefined;
  /** `tls.crt` and `tls.key`, when they form a pair. */
  serving: { cert: ParsedCert; keyPem: string } | undefined;
}

export function parseCert(pem: string): ParsedCert | undefined {
  try {
    const x509 = new X509Certificate(pem);
    return {
      pem: x509.toString(),
      x509,
      notAfterMs: x509.validToDate.getTime(),
      notBeforeMs: x509.validFromDate.getTime(),
    };
  } catch {
    return undefined;
  }
}

/** Every certificate of a PEM bundle that parses, in order. */
export function parseBundle(pem: string): ParsedCert[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => parseCert(`${b}\n`)).filter((c) => c !== undefined);
}

/** True when `keyPem` is the private key of `cert`. */
export function keyMatches(cert: ParsedCert, keyPem: string): boolean {
  try {
    return cert.x509.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** True when `ca` signed `cert`. */
export function issuedBy(cert: ParsedCert, ca: ParsedCert): boolean {
  try {
    return cert.x509.checkIssued(ca.x509) && cert.x509.verify(ca.x509.publicKey);
  } catch {
    return false;
  }
}

export function validAt(cert: ParsedCert, nowMs: number): boolean {
  return cert.notBeforeMs <= nowMs && nowMs < cert.notAfterMs;
}

/** A Secret's value as text ('' when absent or not base64). */
export function secretText(secret: Secret | undefined, key: string): string {
  const value = secret?.data?.[key];
  return value ? Buffer.from(value, 'base64').toString('utf8') : '';
}

/** Reads and checks a provisioner's Secret. Anything that does not parse counts as absent. */
export function readSecretState(secret: Secret | undefined): SecretState {
  const bundle = parseBundle(secretText(secret, secretKeys.caBundle)).filter((c) => c.x509.ca);
  const caKey = secretText(secret, secretKeys.caKey);
  const signerCert = caKey ? bundle.find((c) => keyMatches(c, caKey)) : undefined;
  return { bundle, signer: signerCert && { cert: signerCert, keyPem: caKey }, serving: servingPairOf(secret) };
}

/** The serving pair of a Secret, when `tls.crt` and `tls.key` form a pair: what every replica installs. */
export function servingPairOf(secret: Secret | undefined): { cert: ParsedCert; keyPem: string } | undefined {
  const cert = parseCert(secretText(secret, secretKeys.cert));
  const key = secretText(secret, secretKeys.key);
  return cert && key && keyMatches(cert, key) ? { cert, keyPem: key } : undefined;
}

/** An IP address in one spelling (IPv6 compressed, lower case), so that names compare equal. */
export function normalizeIp(ip: string): string {
  return ip.includes(':') ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/** The DNS names and IP addresses of a certificate's subjectAltName, normalized and sorted. */
export function subjectAltNames(cert: ParsedCert): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  for (const entry of (cert.x509.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) dnsNames.push(entry.slice(4));
    else if (entry.startsWith('IP Address:')) ipAddresses.push(normalizeIp(entry.slice(11)));
  }
  return { dnsNames: dnsNames.toSorted(), ipAddresses: ipAddresses.toSorted() };
}

/** Why the serving pair must be issued again at `nowMs`, or undefined when it is good. */
export function servingProblem(
  serving: SecretState['serving'],
  bundle: readonly ParsedCert[],
  want: { dnsNames: readonly string[]; ipAddresses: readonly string[]; renewBeforeMs: number },
  nowMs: number,
): string | undefined {
  if (!serving) return 'there is no serving certificate (or tls.crt and tls.key do not form a pair)';
  const cert = serving.cert;
  if (!validAt(cert, nowMs)) return 'the serving certificate is not valid now';
  if (!bundle.some((ca) => issuedBy(cert, ca))) return 'no CA of the bundle signed the serving certificate';
  const names = subjectAltNames(cert);
  if (
    names.dnsNames.join() !== want.dnsNames.toSorted().join() ||
    names.ipAddresses.join() !== want.ipAddresses.toSorted().join()
  ) {
    return 'the serving certificate is for other names';
  }
  if (cert.notAfterMs - nowMs <= want.renewBeforeMs) return 'the serving certificate is due for renewal';
  return undefined;
}

/** True when the serving pair is valid now and signed by a CA of the bundle: the API server trusts what is served. */
export function servingTrusted(serving: SecretState['serving'], bundle: readonly ParsedCert[], nowMs: number): boolean {
  return !!serving && validAt(serving.cert, nowMs) && bundle.some((ca) => issuedBy(serving.cert, ca));
}
