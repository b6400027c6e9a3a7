// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect polyfill loaded first.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const tenYearsMs = 10 * 365 * 24 * 3600 * 1000;

/** A certificate and its private key, both PEM. */
export interface KeyPair {
  certPem: string;
  keyPem: string;
}

/** A certificate authority that can sign more certificates. */
export interface CertificateAuthority extends KeyPair {
  sign(request: LeafRequest): Promise<KeyPair>;
  /** When the CA's certificate expires. */
  readonly notAfter: Date;
}

export interface LeafRequest {
  commonName: string;
  organizations?: string[];
  usage: 'server' | 'client';
  dnsNames?: string[];
  ipAddresses?: string[];
  /** How long the certificate is valid from now. Default: ten years. */
  validityMs?: number;
  /** What "now" is. Default: the real time. */
  now?: Date;
}

/** Escapes a value for an RFC 4514 distinguished name. */
function dnValue(value: string): string {
  return value
    .replace(/([,+"\\<>;=])/g, '\\$1')
    .replace(/^([ #])/, '\\$1')
    .replace(/ $/, '\\ ');
}

function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f; // positive
  return bytes.toString('hex');
}

async function exportKey(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

function window(validityMs = tenYearsMs, now = new Date()): { notBefore: Date; notAfter: Date } {
  // An hour back, for clocks that run behind.
  return { notBefore: new Date(now.getTime() - 3600_000), notAfter: new Date(now.getTime() + validityMs) };
}

/**
 * Creates a self-signed ECDSA P-256 certificate authority, valid for `validityMs` (default ten years) from `now`.
 * Its certificates are what the webhook server serves and what a webhook configuration's `caBundle` trusts.
 */
export async function createCertificateAuthority(
  commonName: string,
  options: { validityMs?: number; now?: Date } = {},
): Promise<CertificateAuthority> {
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${dnValue(commonName)}`,
    ...window(options.validityMs, options.now),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return authority(cert, keys.privateKey);
}

/** A certificate authority from its PEM certificate and PKCS#8 key, as written by {@link createCertificateAuthority}. */
export async function loadCertificateAuthority(certPem: string, keyPem: string): Promise<CertificateAuthority> {
  const cert = new x509.X509Certificate(certPem);
  const key = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(keyPem), algorithm, true, [
    'sign',
  ]);
  return authority(cert, key);
}

async function authority(cert: x509.X509Certificate, signingKey: CryptoKey): Promise<CertificateAuthority> {
  return {
    certPem: cert.toString('pem'),
    keyPem: await exportKey(signingKey),
    notAfter: cert.notAfter,
    async sign(request) {
      const leafKeys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
      const subject = [
        `CN=${dnValue(request.commonName)}`,
        ...(request.organizations ?? []).map((o) => `O=${dnValue(o)}`),
      ].join(', ');
      const names = [
        ...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
        ...(request.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
      ];
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject,
        issuer: cert.subject,
        ...window(request.validityMs, request.now),
        signingAlgorithm: algorithm,
        publicKey: leafKeys.publicKey,
        signingKey,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
          new x509.ExtendedKeyUsageExtension([
            request.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
          ]),
          await x509.AuthorityKeyIdentifierExtension.create(cert),
          ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
        ],
      });
      return { certPem: leaf.toString('pem'), keyPem: await exportKey(leafKeys.privateKey) };
    },
  };
}

/** When a PEM certificate expires. */
export function certificateNotAfter(certPem: string): Date {
  return new x509.X509Certificate(certPem).notAfter;
}
