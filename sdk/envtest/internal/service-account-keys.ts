import { generateKeyPairSync } from 'node:crypto';

/** An ECDSA key pair for signing service-account tokens: private key (PKCS#8) and public key (SPKI), PEM. */
export function createServiceAccountKeys(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
