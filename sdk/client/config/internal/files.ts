/** Reading the files a configuration names, with errors that say which file and field, and never their content. */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../errors.js';

/** Where a value came from: the kubeconfig (or other file) and the field within it. */
export interface Place {
  file?: string | undefined;
  field?: string | undefined;
}

export function describeFileError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'it is a directory';
  if (code) return code;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Reads a file that a configuration field names. The error names the referenced file in its message and the
 * configuration's file and field as its place.
 */
export async function readReferencedFile(path: string, what: string, place: Place): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the ${what} ${path}: ${describeFileError(err)}`, { ...place, cause: err });
  }
}

/** Decodes a base64 field (already checked by the kubeconfig reader) to text. */
export function decodeBase64(data: string): string {
  return Buffer.from(data, 'base64').toString('utf8');
}

const certificateBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const privateKeyBlock = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z0-9 ]*PRIVATE KEY-----/;

/** Checks that text holds at least one PEM certificate. */
export function requireCertificatePem(text: string, what: string, place: Place): string {
  if (!certificateBlock.test(text))
    throw new ConfigError(`the ${what} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`, place);
  return text;
}

/** Checks that text holds a PEM private key. The message never quotes the text. */
export function requirePrivateKeyPem(text: string, what: string, place: Place): string {
  if (!privateKeyBlock.test(text))
    throw new ConfigError(`the ${what} holds no PEM private key (-----BEGIN … PRIVATE KEY-----)`, place);
  return text;
}
