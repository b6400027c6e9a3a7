import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { ApiError, KubeloopError, hasErrorCode, type authenticationv1, type authorizationv1 } from '../client/index.js';
import { realClock, type Clock } from '../workqueue/index.js';

/** The two review APIs the authorizer calls: a `Clientset` has them. */
export interface ReviewClients {
  authenticationV1(): {
    tokenReviews(): { create(review: authenticationv1.TokenReview): Promise<authenticationv1.TokenReview> };
  };
  authorizationV1(): {
    subjectAccessReviews(): {
      create(review: authorizationv1.SubjectAccessReview): Promise<authorizationv1.SubjectAccessReview>;
    };
  };
}

/** Who a request comes from, as a TokenReview tells it. */
export interface AuthenticatedUser {
  username: string;
  uid: string | undefined;
  groups: string[];
  extra: Record<string, string[]>;
}

/** What the filter decided: serve (`allowed`), or answer with `status` and `message`. */
export type AuthDecision =
  | { allowed: true; user: AuthenticatedUser }
  | { allowed: false; status: 401 | 403 | 500; message: string; cause?: unknown };

/** Decides whether one request may be served. */
export type RequestAuthorizer = (req: IncomingMessage) => Promise<AuthDecision>;

/**
 * How long review results are kept, as controller-runtime's `filters.WithAuthenticationAndAuthorization` configures
 * apiserver's delegating authenticator and authorizer: a token's TokenReview answer (either way) for a minute, an
 * allowed SubjectAccessReview for five minutes, a denied one for thirty seconds.
 */
export const authCacheTtls = { authenticationMs: 60_000, allowMs: 300_000, denyMs: 30_000 } as const;

/** Most entries each cache holds; the oldest go first. */
const maxEntries = 4096;

/** A small expiring cache: entries live until their own deadline, and the oldest are dropped beyond `maxEntries`. */
class ExpiringCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();

  constructor(private readonly clock: Clock) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.clock.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V, ttlMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expires: this.clock.now() + ttlMs });
    if (this.entries.size > maxEntries) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** The bearer token of a request, or undefined when it has none (an empty one counts as none). */
function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match ? match[1] : undefined;
}

/**
 * The retries of a review call, as controller-runtime's `WebhookRetryBackoff`: 5 attempts, the first wait 500 ms,
 * each next one 1.5 times longer, up to 20% jitter added.
 */
export const reviewRetryBackoff = { attempts: 5, firstDelayMs: 500, factor: 1.5, jitter: 0.2 } as const;

/** Worth another attempt: no answer at all, 429, or a 5xx. */
function retriable(err: unknown): boolean {
  if (err instanceof ApiError) return err.statusCode === 429 || err.statusCode >= 500;
  return hasErrorCode(err, 'ERR_KUBE_TRANSPORT');
}

async function withRetries<T>(call: () => Promise<T>, clock: Clock): Promise<T> {
  let delayMs: number = reviewRetryBackoff.firstDelayMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= reviewRetryBackoff.attempts || !retriable(err)) throw err;
      const wait = delayMs * (1 + Math.random() * reviewRetryBackoff.jitter);
      await new Promise<void>((resolve) => clock.setTimer(resolve, wait));
      delayMs *= reviewRetryBackoff.factor;
    }
  }
}

/** The failure of a review call: logged by the caller, never cached; its message names no token. */
function reviewFailed(what: string, err: unknown): KubeloopError {
  const reason = err instanceof Error ? err.message : String(err);
  return new KubeloopError('ERR_METRICS_AUTH', `the ${what} could not be made: ${reason}`, { cause: err });
}

/**
 * controller-runtime's `filters.WithAuthenticationAndAuthorization`: each request's bearer token is authenticated by a
 * TokenReview, and the user it names is authorized by a SubjectAccessReview for the HTTP method in lower case (`get`)
 * on the request's path as a non-resource URL (`/metrics`). Answers are cached (see {@link authCacheTtls}), keyed by a
 * SHA-256 of the token (the token itself is never kept or logged). A review call that gets no answer, 429 or a 5xx is
 * retried (see {@link reviewRetryBackoff}); one that still fails is not cached and answers 500.
 */
export function createDelegatedAuthorizer(clientset: ReviewClients, clock: Clock = realClock): RequestAuthorizer {
  const authorizer = new DelegatedAuthorizer(clientset, clock);
  return (req) => authorizer.decide(req);
}

/** The reviews behind {@link createDelegatedAuthorizer}, with their caches. */
class DelegatedAuthorizer {
  private readonly tokens: ExpiringCache<AuthenticatedUser | null>;
  private readonly decisions: ExpiringCache<boolean>;

  constructor(
    private readonly clientset: ReviewClients,
    private readonly clock: Clock,
  ) {
    this.tokens = new ExpiringCache<AuthenticatedUser | null>(clock);
    this.decisions = new ExpiringCache<boolean>(clock);
  }

  /** 401 without a token or for one the TokenReview rejects, 403 when denied, 500 when a review call failed. */
  async decide(req: IncomingMessage): Promise<AuthDecision> {
    const token = bearerToken(req);
    if (token === undefined) return { allowed: false, status: 401, message: 'Unauthorized' };
    let user: AuthenticatedUser | null;
    try {
      user = await this.authenticate(token);
    } catch (err) {
      return { allowed: false, status: 500, message: 'Authentication failed', cause: err };
    }
    if (!user) return { allowed: false, status: 401, message: 'Unauthorized' };
    const verb = (req.method ?? 'GET').toLowerCase();
    const path = new URL(req.url ?? '/', 'https://metrics').pathname;
    try {
      if (await this.authorize(user, verb, path)) return { allowed: true, user };
    } catch (err) {
      return { allowed: false, status: 500, message: `Authorization for user ${user.username} failed`, cause: err };
    }
    return { allowed: false, status: 403, message: `Authorization denied for user ${user.username}` };
  }

  /** The user a token names (null when not authenticated), from the cache or a TokenReview. */
  private async authenticate(token: string): Promise<AuthenticatedUser | null> {
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.tokens.get(key);
    if (cached !== undefined) return cached;
    let status;
    try {
      const review = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } };
      status = (await withRetries(() => this.clientset.authenticationV1().tokenReviews().create(review), this.clock))
        .status;
    } catch (err) {
      throw reviewFailed('TokenReview', err);
    }
    const user: AuthenticatedUser | null =
      status?.authenticated && status.user?.username
        ? {
            username: status.user.username,
            uid: status.user.uid,
            groups: status.user.groups ?? [],
            extra: status.user.extra ?? {},
          }
        : null;
    this.tokens.set(key, user, authCacheTtls.authenticationMs);
    return user;
  }

  /** Whether the user may use `verb` on the non-resource URL `path`, from the cache or a SubjectAccessReview. */
  private async authorize(user: AuthenticatedUser, verb: string, path: string): Promise<boolean> {
    const key = JSON.stringify([
      user.username,
      user.uid,
      user.groups,
      Object.entries(user.extra).toSorted(),
      verb,
      path,
    ]);
    const cached = this.decisions.get(key);
    if (cached !== undefined) return cached;
    let allowed: boolean;
    try {
      const review = await withRetries(
        () =>
          this.clientset
            .authorizationV1()
            .subjectAccessReviews()
            .create({
              apiVersion: 'authorization.k8s.io/v1',
              kind: 'SubjectAccessReview',
              spec: {
                user: user.username,
                uid: user.uid,
                groups: user.groups,
                extra: user.extra,
                nonResourceAttributes: { path, verb },
              },
            }),
        this.clock,
      );
      allowed = review.status?.allowed === true && review.status.denied !== true;
    } catch (err) {
      throw reviewFailed('SubjectAccessReview', err);
    }
    this.decisions.set(key, allowed, allowed ? authCacheTtls.allowMs : authCacheTtls.denyMs);
    return allowed;
  }
}
