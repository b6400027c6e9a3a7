import { describe, expect, it } from 'vitest';
import {
  ApiError,
  ConfigError,
  KubeloopError,
  ResponseDecodeError,
  TransportError,
  WatchStalledError,
  ignoreNotFound,
  isAlreadyExists,
  isConflict,
  isForbidden,
  isGone,
  isInvalid,
  isKubeloopError,
  isNotFound,
  isTimeout,
  isTooManyRequests,
  isUnauthorized,
} from './errors.js';

const status = (code: number, reason: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message: `m ${reason}` });

describe('errors', () => {
  it('never show or keep the query string of the request (it may carry a token or a selector on Secret data)', () => {
    const request = { method: 'GET', path: '/api/v1/secrets?access_token=s3cr3t-q&labelSelector=k%3Ds3cr3t-v#frag' };
    const errors: KubeloopError[] = [
      ApiError.fromResponse(403, status(403, 'Forbidden'), request),
      new TransportError('timed out after 5 ms', request),
      new ResponseDecodeError('the HTTP 200 body is not JSON', request, 200),
      new WatchStalledError(1000, request),
    ];
    for (const err of errors) {
      expect(err.message).toContain('GET /api/v1/secrets');
      expect(err.message).not.toMatch(/s3cr3t|access_token|frag/);
      expect(JSON.stringify(err)).not.toMatch(/s3cr3t/);
    }
  });

  it('parses a metav1.Status body and classifies it', () => {
    const cases: [number, string, (e: unknown) => boolean][] = [
      [404, 'NotFound', isNotFound],
      [409, 'AlreadyExists', isAlreadyExists],
      [409, 'Conflict', isConflict],
      [422, 'Invalid', isInvalid],
      [403, 'Forbidden', isForbidden],
      [401, 'Unauthorized', isUnauthorized],
      [410, 'Expired', isGone],
      [429, 'TooManyRequests', isTooManyRequests],
      [504, 'Timeout', isTimeout],
    ];
    for (const [code, reason, predicate] of cases) {
      const err = ApiError.fromResponse(code, status(code, reason), { method: 'GET', path: '/x' });
      expect(predicate(err), reason).toBe(true);
      expect(err.reason).toBe(reason);
      expect(err.code).toBe('ERR_KUBE_API');
      expect(err.message).toBe(`GET /x: ${code} ${reason}: m ${reason}`);
    }
    expect(isConflict(ApiError.fromResponse(409, status(409, 'AlreadyExists')))).toBe(false);
  });

  it('makes a Status up for a body that is not one, from the HTTP code', () => {
    const err = ApiError.fromResponse(503, 'upstream connect error', undefined, 7);
    expect(err.status).toMatchObject({ kind: 'Status', code: 503, reason: 'ServiceUnavailable' });
    expect(err.message).toContain('upstream connect error');
    expect(err.retryAfterSeconds).toBe(7);
    expect(isNotFound(ApiError.fromResponse(404, ''))).toBe(true);
  });

  it('recognises errors from another loaded copy of kubeloop by their brand', () => {
    // What an ApiError thrown by a second copy of the package looks like to this copy: not an instance of our class.
    const foreign = Object.assign(new Error('GET /x: 404'), {
      [Symbol.for('kubeloop.error')]: true,
      code: 'ERR_KUBE_API',
      statusCode: 404,
      status: { kind: 'Status', code: 404, reason: 'NotFound' },
    });
    expect(foreign instanceof ApiError).toBe(false);
    expect(isKubeloopError(foreign)).toBe(true);
    expect(isNotFound(foreign)).toBe(true);
    expect(isNotFound(new Error('404'))).toBe(false);
    expect(isNotFound({ code: 'ERR_KUBE_API', status: { reason: 'NotFound' } })).toBe(false);
  });

  it('ignoreNotFound swallows NotFound only, for errors and for promises', async () => {
    const notFound = ApiError.fromResponse(404, status(404, 'NotFound'));
    expect(ignoreNotFound(notFound)).toBeUndefined();
    expect(() => ignoreNotFound(ApiError.fromResponse(403, status(403, 'Forbidden')))).toThrow(ApiError);
    await expect(ignoreNotFound(Promise.reject(notFound))).resolves.toBeUndefined();
    await expect(ignoreNotFound(Promise.resolve(5))).resolves.toBe(5);
  });

  it('has one base class with a stable code and an ES2022 cause', () => {
    const cause = new Error('ENOENT');
    const err = new ConfigError('cannot read the kubeconfig', { file: '/k', field: 'users[a].user.token', cause });
    expect(err).toBeInstanceOf(KubeloopError);
    expect(err.code).toBe('ERR_KUBE_CONFIG');
    expect(err.cause).toBe(cause);
    expect(err.message).toBe('cannot read the kubeconfig (file /k, field users[a].user.token)');
    expect(err.name).toBe('ConfigError');
  });

  it('reads server-side apply conflicts from the causes', () => {
    const body = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      code: 409,
      reason: 'Conflict',
      message: 'Apply failed with 1 conflict',
      details: {
        causes: [
          { reason: 'FieldManagerConflict', message: 'conflict with "alice" using apps/v1', field: '.spec.replicas' },
        ],
      },
    });
    expect(ApiError.fromResponse(409, body).fieldConflicts).toEqual([
      { field: '.spec.replicas', manager: 'alice', message: 'conflict with "alice" using apps/v1' },
    ]);
  });
});
