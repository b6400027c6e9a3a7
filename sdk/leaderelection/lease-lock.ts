import {
  createClientset,
  isNotFound,
  type Clientset,
  type coordinationv1,
  type Lease,
  type RestConfig,
} from '../client/index.js';
import { LeaderElectionError } from './errors.js';
import type { LeaderElectionRecord, LockCallOptions, ResourceLock } from './resource-lock.js';

/** Options of {@link createLeaseLock}. */
export interface LeaseLockOptions {
  /**
   * How to reach the API server: a Clientset from `createClientset`, or a RestConfig (a Clientset is made from it).
   * The credentials need `get`, `create` and `update` on `leases` (coordination.k8s.io) in `namespace`.
   */
  client: Clientset | RestConfig;
  /** Namespace of the Lease. Required. */
  namespace: string;
  /** Name of the Lease. Required. */
  name: string;
  /** This candidate's identity, unique among the candidates (a pod name, or hostname plus a random suffix). Required. */
  identity: string;
  /** Labels put on the Lease when this lock creates it. Default: none. */
  labels?: Record<string, string>;
}

/** Reads a Lease's spec as a {@link LeaderElectionRecord}: missing fields become `''` and `0`. */
export function leaseToRecord(lease: Lease): LeaderElectionRecord {
  const spec = lease.spec ?? {};
  const record: LeaderElectionRecord = {
    holderIdentity: spec.holderIdentity ?? '',
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    leaseTransitions: spec.leaseTransitions ?? 0,
  };
  if (spec.acquireTime !== undefined) record.acquireTime = spec.acquireTime;
  if (spec.renewTime !== undefined) record.renewTime = spec.renewTime;
  return record;
}

/**
 * The Lease spec for a record, over the spec already there: fields leader election does not use (`strategy`,
 * `preferredHolder`) are kept as they are.
 */
export function recordToLeaseSpec(record: LeaderElectionRecord, base: Lease['spec'] = {}): NonNullable<Lease['spec']> {
  const spec: NonNullable<Lease['spec']> = {
    ...base,
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaseTransitions,
  };
  if (record.acquireTime === undefined) delete spec.acquireTime;
  else spec.acquireTime = record.acquireTime;
  if (record.renewTime === undefined) delete spec.renewTime;
  else spec.renewTime = record.renewTime;
  return spec;
}

/**
 * A {@link ResourceLock} over a `coordination.k8s.io/v1` Lease, what controller-runtime and the Kubernetes control plane
 * use for leader election.
 *
 * Guarantees: mutual exclusion comes from the API server: `update` sends the `resourceVersion` of the Lease last read
 * or written, so of two candidates that read the same version only one write succeeds (the other gets 409
 * Conflict); `create` of an existing Lease fails with 409 AlreadyExists. Times are written as MicroTime strings by the
 * elector. Labels, annotations and spec fields other than the five leader-election fields are preserved on update.
 *
 * Recovery: none here: a failed call changes nothing the lock remembers, and the elector decides when to retry.
 *
 * Errors: calls reject with the client's errors unchanged (`ApiError` with the server's Status — 403 Forbidden when
 * RBAC is missing, 409 on a lost race —, `TransportError`, or the signal's reason); the elector wraps them with context.
 *
 * Caveats: one lock serves one elector (it remembers the last Lease for the next update). Coordinated leader election
 * (`spec.strategy`, `spec.preferredHolder`, LeaseCandidate objects) is not implemented: those fields are left alone.
 */
export class LeaseLock implements ResourceLock {
  readonly identity: string;
  readonly namespace: string;
  readonly name: string;
  readonly #leases: coordinationv1.LeaseClient;
  readonly #labels: Record<string, string> | undefined;
  #lease: Lease | undefined;

  constructor(options: LeaseLockOptions) {
    for (const field of ['namespace', 'name', 'identity'] as const) {
      if (typeof options[field] !== 'string' || options[field] === '') {
        throw new LeaderElectionError(
          'ERR_LEADER_ELECTION_CONFIG',
          `createLeaseLock: ${field} must be a non-empty string`,
        );
      }
    }
    if (typeof options.client !== 'object' || options.client === null) {
      throw new LeaderElectionError(
        'ERR_LEADER_ELECTION_CONFIG',
        'createLeaseLock: client must be a Clientset or a RestConfig',
      );
    }
    const clientset = 'coordinationV1' in options.client ? options.client : createClientset(options.client);
    this.identity = options.identity;
    this.namespace = options.namespace;
    this.name = options.name;
    this.#labels = options.labels;
    this.#leases = clientset.coordinationV1().leases(options.namespace);
  }

  describe(): string {
    return `${this.namespace}/${this.name}`;
  }

  async get(options: LockCallOptions = {}): Promise<LeaderElectionRecord | undefined> {
    let lease: Lease;
    try {
      lease = await this.#leases.get(this.name, callOptions(options));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    this.#lease = lease;
    return leaseToRecord(lease);
  }

  async create(record: LeaderElectionRecord, options: LockCallOptions = {}): Promise<void> {
    const lease: Lease = {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, ...(this.#labels && { labels: { ...this.#labels } }) },
      spec: recordToLeaseSpec(record),
    };
    this.#lease = await this.#leases.create(lease, callOptions(options));
  }

  async update(record: LeaderElectionRecord, options: LockCallOptions = {}): Promise<void> {
    const current = this.#lease;
    if (current === undefined) {
      throw new LeaderElectionError(
        'ERR_LEADER_ELECTION_LOCK',
        `Lease ${this.describe()}: update before get or create (the lock has no resourceVersion to write over)`,
      );
    }
    this.#lease = await this.#leases.update(
      { ...current, spec: recordToLeaseSpec(record, current.spec) },
      callOptions(options),
    );
  }
}

function callOptions(options: LockCallOptions): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

/**
 * Makes a {@link LeaseLock} for `createLeaderElector({ lock })`.
 *
 * ```ts
 * const lock = createLeaseLock({ client: createClientset(config), namespace: 'ops', name: 'my-operator', identity: podName });
 * ```
 *
 * Errors: `ERR_LEADER_ELECTION_CONFIG` for an empty namespace, name or identity, or a missing client.
 */
export function createLeaseLock(options: LeaseLockOptions): LeaseLock {
  return new LeaseLock(options);
}
