import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { KubeloopError, type authenticationv1, type authorizationv1 } from '../client/index.js';
import { createFakeClock, type FakeClock } from '../workqueue/index.js';
import {
  authCacheTtls,
  createDelegatedAuthorizer,
  reviewRetryBackoff,
  type AuthDecision,
  type ReviewClients,
} from './metrics-auth.js';

/** Review APIs that know one token per user and allow the users in `allowed`; they count their calls. */
function fakeReviews(users: Record<string, string>, allowed: Set<string>) {
  const calls = { tokenReviews: 0, accessReviews: [] as authorizationv1.SubjectAccessReviewSpec[], failures: 0 };
  const maybeFail = (): void => {
    if (calls.failures > 0) {
      calls.failures--;
      throw new KubeloopError('ERR_KUBE_TRANSPORT', 'connection refused');
    }
  };
  const clients: ReviewClients = {
    authenticationV1: () => ({
      tokenReviews: () => ({
        create: async (review: authenticationv1.TokenReview) => {
          calls.tokenReviews++;
          maybeFail();
          const username = users[review.spec.token];
          return {
            ...review,
            status: username
              ? { authenticated: true, user: { username, groups: ['system:authenticated'] } }
              : { authenticated: false },
          };
        },
      }),
    }),
    authorizationV1: () => ({
      subjectAccessReviews: () => ({
        create: async (review: authorizationv1.SubjectAccessReview) => {
          calls.accessReviews.push(review.spec);
          maybeFail();
          return { ...review, status: { allowed: allowed.has(review.spec.user ?? '') } };
        },
      }),
    }),
  };
  return { clients, calls };
}

function request(token: string | undefined, url = '/metrics', method = 'GET'): IncomingMessage {
  return { method, url, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } } as IncomingMessage;
}

describe('createDelegatedAuthorizer', () => {
  it('answers 401 without a token or with one the TokenReview rejects, 403 to a user without the right, and allows the rest', async () => {
    const { clients, calls } = fakeReviews({ 'tok-a': 'alice', 'tok-b': 'bob' }, new Set(['alice']));
    const authorize = createDelegatedAuthorizer(clients, createFakeClock());
    expect(await authorize(request(undefined))).toEqual({ allowed: false, status: 401, message: 'Unauthorized' });
    expect(
      await authorize({ method: 'GET', url: '/metrics', headers: { authorization: 'Basic abc' } } as IncomingMessage),
    ).toMatchObject({ status: 401 });
    expect(await authorize(request('nope'))).toMatchObject({ allowed: false, status: 401 });
    expect(await authorize(request('tok-b'))).toEqual({
      allowed: false,
      status: 403,
      message: 'Authorization denied for user bob',
    });
    expect(await authorize(request('tok-a'))).toMatchObject({
      allowed: true,
      user: { username: 'alice', groups: ['system:authenticated'] },
    });
    // The method in lower case on the path, as a non-resource URL.
    expect(calls.accessReviews.at(-1)).toMatchObject({
      user: 'alice',
      nonResourceAttributes: { path: '/metrics', verb: 'get' },
    });
    await authorize(request('tok-a', '/debug/pprof/profile?seconds=5'));
    expect(calls.accessReviews.at(-1)?.nonResourceAttributes).toEqual({ path: '/debug/pprof/profile', verb: 'get' });
  });

  it('caches a token for a minute, an allowed user for five minutes and a denied one for thirty seconds', async () => {
    const clock = createFakeClock();
    const { clients, calls } = fakeReviews({ 'tok-a': 'alice', 'tok-b': 'bob' }, new Set(['alice']));
    const authorize = createDelegatedAuthorizer(clients, clock);
    await authorize(request('tok-a'));
    await authorize(request('tok-b'));
    await authorize(request('tok-a'));
    await authorize(request('tok-b'));
    expect(calls.tokenReviews).toBe(2);
    expect(calls.accessReviews).toHaveLength(2);

    clock.advance(authCacheTtls.denyMs);
    await authorize(request('tok-a'));
    await authorize(request('tok-b'));
    expect(calls.tokenReviews).toBe(2);
    expect(calls.accessReviews.map((s) => s.user)).toEqual(['alice', 'bob', 'bob']);

    clock.advance(authCacheTtls.authenticationMs - authCacheTtls.denyMs);
    await authorize(request('tok-a'));
    expect(calls.tokenReviews).toBe(3);
    expect(calls.accessReviews).toHaveLength(3);

    clock.advance(authCacheTtls.allowMs);
    await authorize(request('tok-a'));
    expect(calls.accessReviews.map((s) => s.user)).toEqual(['alice', 'bob', 'bob', 'alice']);
  });

  it('retries a review that got no answer, as controller-runtime (500 ms, then 1.5 times longer)', async () => {
    const clock = createFakeClock();
    const { clients, calls } = fakeReviews({ 'tok-a': 'alice' }, new Set(['alice']));
    const authorize = createDelegatedAuthorizer(clients, clock);
    calls.failures = 2;
    expect(await settle(authorize(request('tok-a')), clock)).toMatchObject({ allowed: true });
    expect(calls.tokenReviews).toBe(3);
  });

  it('answers 500 when a review still fails after its retries, and does not cache that', async () => {
    const clock = createFakeClock();
    const { clients, calls } = fakeReviews({ 'tok-a': 'alice' }, new Set(['alice']));
    const authorize = createDelegatedAuthorizer(clients, clock);
    calls.failures = reviewRetryBackoff.attempts;
    const failed = await settle(authorize(request('tok-a')), clock);
    expect(failed).toMatchObject({
      allowed: false,
      status: 500,
      message: 'Authentication failed',
      cause: { code: 'ERR_METRICS_AUTH' },
    });
    expect(calls.tokenReviews).toBe(reviewRetryBackoff.attempts);
    expect(JSON.stringify(failed)).not.toContain('tok-a');
    expect(await authorize(request('tok-a'))).toMatchObject({ allowed: true });
  });
});

/** Moves the fake clock a second at a time until the decision is made (the retries wait on it). */
async function settle(decision: Promise<AuthDecision>, clock: FakeClock): Promise<AuthDecision> {
  const state = { done: false };
  void decision.finally(() => (state.done = true));
  while (!state.done) {
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(1000);
  }
  return decision;
}
