// The certificate provisioner's replica side: every replica installs the serving pair the Secret holds (writes it into
// the webhook server's certDir, where its certificate watcher picks it up).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Secret } from '../../client/index.js';
import type { WebhookLogger } from '../admission.js';
import type { CertApi } from './cert-api.js';
import { secretKeys, secretText, servingPairOf } from './cert-state.js';
import { describeCert, errorMessage, type Settings } from './provisioner-common.js';

/** Every replica's side: installs each new pair the Secret holds. */
export class Replica {
  private readonly log: WebhookLogger;
  private installed = '';
  private waitingLogged = false;

  constructor(
    private readonly api: CertApi,
    private readonly s: Settings,
    private readonly onInstalled: () => void,
  ) {
    this.log = s.log.child({ secret: `${s.namespace}/${s.secretName}` });
  }

  async run(signal: AbortSignal): Promise<void> {
    let latest: Secret | undefined;
    let retry: { cancel(): void } | undefined;
    let chain = Promise.resolve();
    const attempt = async (): Promise<void> => {
      try {
        // A write that failed (a full disk, a read-only folder) is tried again, with whatever the Secret holds then.
        if (!signal.aborted && !(await this.install(latest))) retry = this.s.clock.setTimer(enqueue, 5_000);
      } catch (err) {
        this.log.error({ error: errorMessage(err) }, 'cannot install the webhook serving certificate');
      }
    };
    const enqueue = (): void => {
      retry?.cancel();
      chain = chain.then(attempt);
    };
    await this.api.watchSecret(
      signal,
      (secret) => {
        latest = secret;
        enqueue();
      },
      (err) => this.log.warn({ error: errorMessage(err) }, 'watch of the webhook certificate Secret failed; retrying'),
    );
    retry?.cancel();
    await chain;
  }

  /** Installs the Secret's pair if new. False when it could not be written. */
  private async install(secret: Secret | undefined): Promise<boolean> {
    const pair = servingPairOf(secret);
    if (!pair) {
      if (!this.waitingLogged) this.log.info({}, 'waiting for the leader to issue the webhook serving certificate');
      this.waitingLogged = true;
      return true;
    }
    const certPem = secretText(secret, secretKeys.cert);
    const digest = createHash('sha256').update(certPem).update('\0').update(pair.keyPem).digest('hex');
    if (digest === this.installed) return true;
    const { certDir } = this.s;
    if (certDir) {
      try {
        await writeFilesAtomically(certDir, [
          [this.s.keyName, pair.keyPem, 0o600],
          [this.s.certName, certPem, 0o644],
        ]);
      } catch (err) {
        this.log.error(
          { certDir, error: errorMessage(err) },
          'cannot write the webhook serving certificate; retrying in 5 s',
        );
        return false;
      }
    }
    this.installed = digest;
    this.log.info(
      { certDir, ...describeCert(pair.cert) },
      certDir ? 'wrote the webhook serving certificate' : 'the webhook serving certificate is in the Secret',
    );
    this.onInstalled();
    return true;
  }
}

/**
 * Writes each file to a temporary name in `dir`, then renames them into place one after the other: a reader sees a
 * whole old file or a whole new one, never part of one.
 */
async function writeFilesAtomically(
  dir: string,
  files: [name: string, content: string, mode: number][],
): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = files.map(([name]) => join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`));
  try {
    await Promise.all(files.map(([, content, mode], i) => writeFile(temporary[i]!, content, { mode })));
    for (const [i, [name]] of files.entries()) await rename(temporary[i]!, join(dir, name));
  } finally {
    await Promise.all(temporary.map((path) => rm(path, { force: true })));
  }
}
