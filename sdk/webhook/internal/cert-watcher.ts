import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { WebhookError } from '../errors.js';

/** A certificate and its key, PEM. */
export interface ServingCertificate {
  cert: string;
  key: string;
}

/**
 * Reads a certificate and key pair and keeps it current (controller-runtime's certwatcher): a change in the folder
 * (a Secret volume's atomic symlink swap, cert-manager's rotation, a `cp`) or a poll every `pollIntervalMs` reloads
 * both files, and `onChange` gets the new pair once it loads as a matching pair. A half-written or mismatched pair
 * is skipped until the files agree; the last good pair stays in use.
 */
export class CertWatcher {
  private current: ServingCertificate | undefined;
  private digest = '';
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly files: { dir: string; certPath: string; keyPath: string },
    private readonly onChange: (pair: ServingCertificate) => void,
    private readonly onError: (err: Error) => void,
    private readonly pollIntervalMs = 10_000,
  ) {}

  /** Reads the pair once. Rejects when either file cannot be read or they do not form a pair. */
  async load(): Promise<ServingCertificate> {
    const pair = await this.read();
    this.accept(pair);
    return pair;
  }

  /** Starts watching (after {@link load}). */
  watch(): void {
    try {
      this.watcher = watch(this.files.dir, { persistent: false }, () => void this.reload());
      this.watcher.on('error', () => undefined);
    } catch {
      // A folder that cannot be watched is still polled.
    }
    this.timer = setInterval(() => void this.reload(), this.pollIntervalMs);
    this.timer.unref();
  }

  close(): void {
    this.watcher?.close();
    clearInterval(this.timer);
  }

  /** Reloads now; concurrent calls coalesce. Resolves when the files were read (and applied if changed). */
  reload(): Promise<void> {
    if (this.reloading) {
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        try {
          this.accept(await this.read());
        } catch (err) {
          this.onError(err as Error);
        }
      } while (this.again);
    })().finally(() => (this.reloading = undefined));
    return this.reloading;
  }

  private async read(): Promise<ServingCertificate> {
    const [cert, key] = await Promise.all([
      readFile(this.files.certPath, 'utf8'),
      readFile(this.files.keyPath, 'utf8'),
    ]);
    createSecureContext({ cert, key }); // throws on a mismatched or malformed pair
    // ... but not on an empty file (one being rewritten in place), which would leave a context without a certificate
    // or key and fail every handshake until the next reload: both must parse and belong together.
    if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)))
      throw new WebhookError('ERR_WEBHOOK_CERTIFICATE', 'the certificate and key do not match');
    return { cert, key };
  }

  private accept(pair: ServingCertificate): void {
    const digest = createHash('sha256').update(pair.cert).update('\0').update(pair.key).digest('hex');
    if (digest === this.digest) return;
    const first = this.current === undefined;
    this.digest = digest;
    this.current = pair;
    if (!first) this.onChange(pair);
  }
}
