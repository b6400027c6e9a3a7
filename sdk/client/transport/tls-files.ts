/**
 * TLS material a RestConfig names by file (`caFile`, `certFile`/`keyFile`), re-read as it rotates: client-go's
 * reloading of certificate files (transport's cert_rotation.go and ca_rotation.go), for undici's pooled dispatchers.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describeFileError } from '../config/internal/files.js';
import { ConfigError } from '../errors.js';
import { retireDispatchers } from './dispatchers.js';

/** The PEM text in use now. */
export interface TlsMaterial {
  caData?: string;
  certData?: string;
  keyData?: string;
}

export interface TlsFilePaths {
  caFile?: string;
  certFile?: string;
  keyFile?: string;
}

export interface TlsFileSource {
  /** Names the files in the pool key, so the connections made from them are told apart from static ones. */
  readonly key: string;
  /** The material now: read before first use, then looked at again at most once per check interval. */
  current(): Promise<TlsMaterial>;
}

/** How often the files are looked at, at most, when requests are made (client-go caches certificate files 1 s). */
export const tlsFileCheckMs = 1000;
/** How often client certificate files are looked at when no request is made (client-go's CertCallbackRefreshDuration). */
export const tlsFilePollMs = 5 * 60_000;

const pemCertificate = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const pemPrivateKey = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z0-9 ]*PRIVATE KEY-----/;

/** Shared by every Transport naming the same files, so they all move to new material together. */
const sources = new Map<string, TlsFileSource>();

/**
 * The source of the files in `paths` (at least `caFile`, or both `certFile` and `keyFile`).
 *
 * Guarantees: a file is re-read when looked at, and its new content is used only when it is whole: a CA file that is
 * empty, unreadable or holds no PEM certificate, and a certificate and key that are unreadable or not a matching pair
 * (one written before the other), leave the material in hand as it was; the next look tries again (client-go keeps the
 * old CA likewise, and fails the handshake on a broken pair). When the client certificate or key changes, the pooled
 * connections made with the old pair are closed: requests in flight finish, streams (watches, logs) are cut and
 * restart with the new pair, as client-go closes its connections on rotation. When only the CA changes, new requests
 * go on new connections verified against it; streams open now run to their end, as client-go's old transport does.
 *
 * Errors: before any material was in hand (the config gave no `caData`/`certData` to start from), a
 * {@link ConfigError} naming the file that cannot be used.
 */
export function tlsFileSource(paths: TlsFilePaths, initial: TlsMaterial): TlsFileSource {
  const key = `${paths.caFile ?? ''}\0${paths.certFile ?? ''}\0${paths.keyFile ?? ''}`;
  let source = sources.get(key);
  if (!source) {
    source = createSource(paths, key, initial);
    sources.set(key, source);
  }
  return source;
}

function createSource(paths: TlsFilePaths, key: string, initial: TlsMaterial): TlsFileSource {
  const hasCa = Boolean(paths.caFile);
  const hasPair = Boolean(paths.certFile && paths.keyFile);
  let material: TlsMaterial | undefined =
    (!hasCa || initial.caData) && (!hasPair || (initial.certData && initial.keyData))
      ? pick(initial, hasCa, hasPair)
      : undefined;
  let checkedAt = material ? Date.now() : 0;
  let reading: Promise<TlsMaterial> | undefined;

  const check = (): Promise<TlsMaterial> => {
    reading ??= read(paths, material)
      .then((next) => {
        checkedAt = Date.now();
        const old = material;
        material = next;
        if (old) rotated(key, old, next);
        return next;
      })
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };

  if (hasPair) {
    const poll = setInterval(() => void check().catch(() => undefined), tlsFilePollMs);
    poll.unref();
  }
  return {
    key,
    current() {
      if (material && Date.now() - checkedAt < tlsFileCheckMs) return Promise.resolve(material);
      return check();
    },
  };
}

function pick(m: TlsMaterial, ca: boolean, pair: boolean): TlsMaterial {
  return {
    ...(ca && m.caData && { caData: m.caData }),
    ...(pair && m.certData && m.keyData && { certData: m.certData, keyData: m.keyData }),
  };
}

/** Reads the files; a part that cannot be used keeps what `held` has, or throws when nothing is held. */
async function read(paths: TlsFilePaths, held: TlsMaterial | undefined): Promise<TlsMaterial> {
  const out: TlsMaterial = {};
  if (paths.caFile) {
    const ca = await readPart(paths.caFile, 'certificate authority file', held?.caData, (text) =>
      pemCertificate.test(text) ? undefined : 'it holds no PEM certificate',
    );
    out.caData = ca;
  }
  if (paths.certFile && paths.keyFile) {
    const certFile = paths.certFile;
    const keyFile = paths.keyFile;
    try {
      const [certData, keyData] = await Promise.all([
        readText(certFile, 'client certificate file'),
        readText(keyFile, 'client key file'),
      ]);
      const problem = pairProblem(certData, keyData);
      if (problem)
        throw new ConfigError(`the client certificate ${certFile} and key ${keyFile} cannot be used: ${problem}`, {
          file: certFile,
        });
      out.certData = certData;
      out.keyData = keyData;
    } catch (err) {
      if (!held?.certData || !held.keyData) throw err;
      out.certData = held.certData;
      out.keyData = held.keyData;
    }
  }
  return out;
}

async function readPart(
  file: string,
  what: string,
  held: string | undefined,
  problemOf: (text: string) => string | undefined,
): Promise<string> {
  try {
    const text = await readText(file, what);
    const problem = problemOf(text);
    if (problem) throw new ConfigError(`the ${what} ${file} cannot be used: ${problem}`, { file });
    return text;
  } catch (err) {
    if (held === undefined) throw err;
    return held;
  }
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read the ${what} ${file}: ${describeFileError(err)}`, { file, cause: err });
  }
}

/** Why a certificate and key are not a usable pair, or undefined. Never quotes them. */
function pairProblem(certData: string, keyData: string): string | undefined {
  if (!pemCertificate.test(certData)) return 'the certificate file holds no PEM certificate';
  if (!pemPrivateKey.test(keyData)) return 'the key file holds no PEM private key';
  try {
    if (!new X509Certificate(certData).checkPrivateKey(createPrivateKey(keyData)))
      return 'the key is not the certificate’s';
  } catch {
    return 'the certificate or the key does not parse';
  }
  return undefined;
}

/** Lets the connections made with `old` go, as client-go does on rotation (see {@link tlsFileSource}). */
function rotated(key: string, old: TlsMaterial, next: TlsMaterial): void {
  const pairChanged = old.certData !== next.certData || old.keyData !== next.keyData;
  if (pairChanged && old.certData) {
    retireDispatchers(
      (spec) => spec.tlsFiles === key && spec.certData === old.certData && spec.keyData === old.keyData,
      'cut',
    );
  }
  if (old.caData !== next.caData) {
    retireDispatchers((spec) => spec.tlsFiles === key && spec.caData === old.caData, 'drain');
  }
}
