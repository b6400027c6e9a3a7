// The certificate provisioner's leader side: one check at a time (at an interval, when the Secret changes, and at the
// next renewal point), each reading the Secret afresh: the CA and serving pair (./cert-issuer.ts) kept in the Secret
// (./cert-store.ts) and every caBundle (./ca-bundle.ts).
import type { Secret } from '../../client/index.js';
import type { WebhookLogger } from '../admission.js';
import type { CertClock } from '../provisioner.js';
import { WebhookError } from '../errors.js';
import { CaBundlePublisher } from './ca-bundle.js';
import { isWriteRace, type CertApi } from './cert-api.js';
import { issueServing, signingCa, type Signer } from './cert-issuer.js';
import {
  issuedBy,
  readSecretState,
  secretKeys,
  secretText,
  servingProblem,
  servingTrusted,
  type ParsedCert,
} from './cert-state.js';
import { writeCertSecret } from './cert-store.js';
import { errorMessage, fingerprintOf, targetName, type Settings } from './provisioner-common.js';

/** A wait on the clock that a poke (the Secret changed) or the signal ends early. */
class Wakeup {
  private poked = false;
  private end: (() => void) | undefined;

  constructor(private readonly clock: CertClock) {}

  poke(): void {
    this.poked = true;
    this.end?.();
  }

  wait(delayMs: number, signal: AbortSignal): Promise<void> {
    if (this.poked || signal.aborted) {
      this.poked = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const end = (): void => {
        timer.cancel();
        signal.removeEventListener('abort', end);
        this.end = undefined;
        this.poked = false;
        resolve();
      };
      const timer = this.clock.setTimer(end, delayMs);
      signal.addEventListener('abort', end, { once: true });
      this.end = end;
    });
  }
}

/** The leader's side: one check at a time, each reading the Secret afresh. */
export class Leader {
  private readonly log: WebhookLogger;
  private readonly publisher: CaBundlePublisher;
  /** When every caBundle was first seen to hold each CA (by fingerprint), on this leader's clock. */
  private readonly publishedAt = new Map<string, number>();
  /** The Secret's resourceVersion as this leader last read or wrote it: watch events for it are not news. */
  private known: string | undefined;

  constructor(
    private readonly api: CertApi,
    private readonly s: Settings,
  ) {
    this.log = s.log.child({ secret: `${s.namespace}/${s.secretName}` });
    this.publisher = new CaBundlePublisher(api, s.targets, this.log);
  }

  async run(signal: AbortSignal): Promise<void> {
    const wake = new Wakeup(this.s.clock);
    const watching = this.api.watchSecret(
      signal,
      (secret) => {
        if (secret?.metadata?.resourceVersion !== this.known) wake.poke();
      },
      (err) => this.log.warn({ error: errorMessage(err) }, 'watch of the webhook certificate Secret failed; retrying'),
    );
    let failures = 0;
    let races = 0;
    while (!signal.aborted) {
      let delayMs: number;
      try {
        delayMs = await this.check(signal);
        failures = 0;
        races = 0;
      } catch (err) {
        if (signal.aborted) break;
        // Another writer got in first (a leader handing over): read again at once, a few times, then back off.
        if (isWriteRace(err) && races++ < 3) {
          this.log.info(
            { error: errorMessage(err) },
            'the webhook certificate Secret changed meanwhile; checking again',
          );
          continue;
        }
        delayMs = Math.min(this.s.checkIntervalMs, 1000 * 2 ** failures++);
        this.log.warn(
          { code: (err as { code?: unknown }).code, error: errorMessage(err), retryInMs: delayMs },
          'webhook certificates not reconciled; retrying',
        );
      }
      await wake.wait(delayMs, signal);
    }
    await watching;
  }

  /** One pass: CA, serving pair, caBundles. Resolves the milliseconds until the next check is due. */
  private async check(signal: AbortSignal): Promise<number> {
    const { s } = this;
    const now = s.clock.now();
    let secret = await this.api.getSecret(signal);
    this.known = secret?.metadata?.resourceVersion;
    const state = readSecretState(secret);
    const changes: Record<string, string> = {};

    // 1. The signing CA, made anew ahead of its expiry. Older CAs stay in the bundle until they expire.
    const { signer, bundle } = await signingCa(state, s, now, changes, this.log);
    const bundlePem = bundle.map((c) => c.pem).join('');
    if (bundlePem !== secretText(secret, secretKeys.caBundle)) changes[secretKeys.caBundle] = bundlePem;

    // 2. With no serving certificate the API server can trust, nothing served can get worse: issue one at once.
    let serving = state.serving;
    let problem = servingProblem(serving, bundle, s, now);
    if (problem && !servingTrusted(serving, bundle, now)) {
      serving = await issueServing(signer, now, problem, changes, s, this.log);
      problem = undefined;
    }
    if (Object.keys(changes).length > 0) secret = await this.write(secret, changes, signal);

    // 3. Every caBundle holds the bundle.
    const failed = await this.publisher.publish(bundlePem, signal);
    this.notePublished(bundle, failed.length === 0);

    // 4. A trusted serving certificate due for renewal: renewed by its own CA at once, or by a new CA once every API
    // server had time to load a caBundle that trusts it.
    let renewAt: number | undefined;
    if (problem && serving) ({ serving, renewAt } = await this.renew(secret, signer, serving, problem, now, signal));
    if (failed.length > 0) {
      throw new WebhookError(
        'ERR_WEBHOOK_CA_BUNDLE',
        `cannot set the caBundle of ${failed.map((f) => `${targetName(f.target)} (${errorMessage(f.err)})`).join('; ')}`,
        {
          cause: failed[0]!.err,
        },
      );
    }
    return this.nextCheckIn(now, bundle, renewAt, serving);
  }

  /** Forgets CAs that left the bundle; once every caBundle holds the bundle, notes when each CA first got there. */
  private notePublished(bundle: readonly ParsedCert[], everywhere: boolean): void {
    const fingerprints = new Set(bundle.map(fingerprintOf));
    for (const fp of this.publishedAt.keys()) if (!fingerprints.has(fp)) this.publishedAt.delete(fp);
    if (everywhere) {
      const at = this.s.clock.now();
      for (const fp of fingerprints) if (!this.publishedAt.has(fp)) this.publishedAt.set(fp, at);
    }
  }

  /** Step 4: renews now when the API servers trust the signer, else says when they will (`renewAt`). */
  private async renew(
    secret: Secret | undefined,
    signer: Signer,
    serving: { cert: ParsedCert; keyPem: string },
    problem: string,
    now: number,
    signal: AbortSignal,
  ): Promise<{ serving: { cert: ParsedCert; keyPem: string }; renewAt?: number }> {
    const { s } = this;
    const publishedAt = this.publishedAt.get(fingerprintOf(signer.cert));
    const trustedFrom = publishedAt === undefined ? undefined : publishedAt + s.caBundlePropagationMs;
    if (issuedBy(serving.cert, signer.cert) || (trustedFrom !== undefined && trustedFrom <= s.clock.now())) {
      const renewal: Record<string, string> = {};
      const renewed = await issueServing(signer, now, problem, renewal, s, this.log);
      await this.write(secret, renewal, signal);
      return { serving: renewed };
    }
    this.log.info(
      { reason: problem, renewAt: trustedFrom && new Date(trustedFrom).toISOString() },
      'serving certificate renewal waits until every caBundle trusts the new CA',
    );
    return { serving, ...(trustedFrom !== undefined && { renewAt: trustedFrom }) };
  }

  /** Milliseconds until the next check: the interval, or sooner a renewal point or a CA's expiry (at least 1 s). */
  private nextCheckIn(
    now: number,
    bundle: readonly ParsedCert[],
    renewAt: number | undefined,
    serving: { cert: ParsedCert } | undefined,
  ): number {
    const { s } = this;
    const due = [
      now + s.checkIntervalMs,
      bundle[0]!.notAfterMs - s.caRenewBeforeMs,
      ...bundle.slice(1).map((c) => c.notAfterMs),
      // A renewal waiting for the new CA to propagate is due then, not at its (past) renewal point.
      ...(renewAt !== undefined ? [renewAt] : serving ? [serving.cert.notAfterMs - s.renewBeforeMs] : []),
    ];
    return Math.max(1000, Math.min(...due) - s.clock.now());
  }

  private async write(
    secret: Secret | undefined,
    changes: Record<string, string>,
    signal: AbortSignal,
  ): Promise<Secret> {
    const written = await writeCertSecret(this.api, this.s, secret, changes, signal, this.log);
    this.known = written.metadata?.resourceVersion;
    return written;
  }
}
