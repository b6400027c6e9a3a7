import { describe, expect, it } from 'vitest';
import type { Lease } from '../client/index.js';
import { createLeaseLock, leaseToRecord, recordToLeaseSpec } from './index.js';

const config = { host: 'https://127.0.0.1:1' };

describe('leaseToRecord / recordToLeaseSpec', () => {
  it('reads a full Lease spec', () => {
    const lease: Lease = {
      metadata: { name: 'l', namespace: 'ns' },
      spec: {
        holderIdentity: 'a',
        leaseDurationSeconds: 15,
        acquireTime: '2026-11-25T12:00:00.000000Z',
        renewTime: '2026-11-25T12:00:10.000000Z',
        leaseTransitions: 3,
      },
    };
    expect(leaseToRecord(lease)).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: '2026-11-25T12:00:00.000000Z',
      renewTime: '2026-11-25T12:00:10.000000Z',
      leaseTransitions: 3,
    });
  });

  it('reads a Lease without a spec (made by someone else) as free, expired and never transitioned', () => {
    expect(leaseToRecord({ metadata: { name: 'l' } })).toEqual({
      holderIdentity: '',
      leaseDurationSeconds: 0,
      leaseTransitions: 0,
    });
  });

  it('writes the five election fields and keeps strategy and preferredHolder', () => {
    const spec = recordToLeaseSpec(
      { holderIdentity: 'b', leaseDurationSeconds: 2, renewTime: '2026-11-25T12:00:00.000001Z', leaseTransitions: 4 },
      { strategy: 'OldestEmulationVersion', preferredHolder: 'c', acquireTime: '2026-01-01T00:00:00.000000Z' },
    );
    expect(spec).toEqual({
      strategy: 'OldestEmulationVersion',
      preferredHolder: 'c',
      holderIdentity: 'b',
      leaseDurationSeconds: 2,
      renewTime: '2026-11-25T12:00:00.000001Z',
      leaseTransitions: 4,
    });
  });
});

describe('createLeaseLock', () => {
  it('accepts a RestConfig and describes itself as namespace/name', () => {
    const lock = createLeaseLock({ client: config, namespace: 'ops', name: 'op', identity: 'pod-1' });
    expect(lock.describe()).toBe('ops/op');
    expect(lock.identity).toBe('pod-1');
  });

  it.each(['namespace', 'name', 'identity'] as const)('refuses an empty %s, naming it', (field) => {
    const options = { client: config, namespace: 'ops', name: 'op', identity: 'pod-1', [field]: '' };
    expect(() => createLeaseLock(options)).toThrow(
      expect.objectContaining({
        code: 'ERR_LEADER_ELECTION_CONFIG',
        message: `createLeaseLock: ${field} must be a non-empty string`,
      }),
    );
  });

  it('refuses to update before it has read or created the Lease (no resourceVersion to write over)', async () => {
    const lock = createLeaseLock({ client: config, namespace: 'ops', name: 'op', identity: 'pod-1' });
    await expect(
      lock.update({ holderIdentity: 'pod-1', leaseDurationSeconds: 1, leaseTransitions: 0 }),
    ).rejects.toMatchObject({
      code: 'ERR_LEADER_ELECTION_LOCK',
      message: expect.stringContaining('update before get or create'),
    });
  });
});
