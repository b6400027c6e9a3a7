/**
 * What the elector reads from and writes to a lock: the five fields of a Lease spec that leader election uses, in
 * plain form. client-go calls this a LeaderElectionRecord.
 */
export interface LeaderElectionRecord {
  /** Who holds the lock; `''` when nobody does (never acquired, or released). */
  holderIdentity: string;
  /** How long others must wait, after they last saw the record change, before they may take the lock over. */
  leaseDurationSeconds: number;
  /** When the current holder acquired the lock (MicroTime), if known. */
  acquireTime?: string;
  /** When the holder last renewed (MicroTime), if known. Informational: no candidate compares it with its own clock. */
  renewTime?: string;
  /** How many times the lock changed hands. */
  leaseTransitions: number;
}

/** Options of each {@link ResourceLock} call. */
export interface LockCallOptions {
  /** Aborts the call; it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * A lock the elector competes for: one object in the API that holds a {@link LeaderElectionRecord}, written with
 * optimistic concurrency so that of two candidates writing at once, exactly one succeeds.
 *
 * Guarantees (what an implementation must give):
 * - `get` resolves `undefined` when the object does not exist, and otherwise remembers the object it read.
 * - `create` fails (AlreadyExists) when the object exists; `update` writes over the object last read, created or
 *   updated by this lock and fails (Conflict) when the object changed since. Both remember what they wrote.
 * - Each call honours its `signal`.
 *
 * Caveats: a lock is stateful (it remembers the last object for the next `update`) and serves one elector.
 */
export interface ResourceLock {
  /** This candidate's identity, written as `holderIdentity`. Never empty. */
  readonly identity: string;
  /** Names the lock for messages and as the elector's default `name`: `<namespace>/<name>` for a Lease. */
  describe(): string;
  get(options?: LockCallOptions): Promise<LeaderElectionRecord | undefined>;
  create(record: LeaderElectionRecord, options?: LockCallOptions): Promise<void>;
  update(record: LeaderElectionRecord, options?: LockCallOptions): Promise<void>;
}
