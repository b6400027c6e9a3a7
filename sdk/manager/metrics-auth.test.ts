import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { authenticationv1, authorizationv1 } from '../client/index.js';
import { createFakeClock } from '../workqueue/index.js';
import { authCacheTtls, createDelegatedAuthorizer, type ReviewClients } from './metrics-auth.js';

/** Review APIs that know one token per user and allow the users in `allowed`; they count their calls. */
function fakeReviews(users: Record<string, string>, allowed: Set<string>) {
  const calls = { tokenReviews: 0, accessReviews: [] as authorizationv1.SubjectAccessReviewSpec[], fail: false };
  const clients: ReviewClients = {
    authenticationV1: () => ({
      tokenReviews: () => ({
        create: async (review: authenticationv1.TokenReview) => {
          calls.tokenReviews++;
          if (calls.fail) throw new Error('connection refused');
          const username = users[review.spec.token];
          return { ...review, status: username ? { authenticated: true, user: { username, groups: ['system:authenticated'] } } : { authenticated: false } };
        },
      }),
    }),
    authorizationV1: () => ({
      subjectAccessReviews: () => ({
        create: async (review: authorizationv1.SubjectAccessReview) => {
          calls.accessReviews.push(review.spec);
          if (calls.fail) throw new Error('connection refused');
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
    expect(await authorize({ method: 'GET', url: '/metrics', headers: { authorization: 'Basic abc' } } as IncomingMessage)).toMatchObject({ status: 401 });
    expect(await authorize(request('nope'))).toMatchObject({ allowed: false, status: 401 });
    expect(await authorize(request('tok-b'))).toEqual({ allowed: false, status: 403, message: 'Authorization denied for user bob' });
    expect(await authorize(request('tok-a'))).toMatchObject({ allowed: true, user: { username: 'alice', groups: ['system:authenticated'] } });
    // The method in lower case on the path, as a non-resource URL.
    expect(calls.accessReviews.at(-1)).toMatchObject({ user: 'alice', nonResourceAttributes: { path: '/metrics', verb: 'get' } });
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

  it('answers 500 when a review cannot be made, and does not cache that', async () => {
    const { clients, calls } = fakeReviews({ 'tok-a': 'alice' }, new Set(['alice']));
    const authorize = createDelegatedAuthorizer(clients, createFakeClock());
    calls.fail = true;
    const failed = await authorize(request('tok-a'));
    expect(failed).toMatchObject({ allowed: false, status: 500, message: 'Authentication failed', cause: { code: 'ERR_METRICS_AUTH' } });
    expect(JSON.stringify(failed)).not.toContain('tok-a');
    calls.fail = false;
    expect(await authorize(request('tok-a'))).toMatchObject({ allowed: true });
  });
});
