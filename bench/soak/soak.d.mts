// Types of soak.mjs for test/fault/soak.test.ts (the harness itself is plain JavaScript, as the rest of bench/).

export interface SoakOptions {
  durationMs?: number;
  ratePerSec?: number;
  population?: number;
  warmupMs?: number;
  activeMs?: number;
  faultHoldMs?: number;
  convergeTimeoutMs?: number;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  restartDelayMs?: number;
  memorySampleMs?: number;
  memoryWarmupMs?: number;
  outDir?: string;
  progress?: (line: string) => void;
  replicaStderr?: boolean;
  http2?: boolean;
}

export interface Invariant {
  /** null: not judged (e.g. no process lived long enough for a memory slope). */
  pass: boolean | null;
  [figure: string]: unknown;
}

export interface SoakFault {
  class: string;
  at: number;
  clearedAfterMs: number;
  converged: boolean;
  convergedMs: number | null;
  detail: Record<string, unknown>;
  mismatches?: unknown[];
}

export interface SoakReport {
  startedAt: string;
  durationMin: number;
  changes: {
    created: number;
    updated: number;
    deleted: number;
    failed: number;
    resynced: number;
    names: number;
    liveAtEnd: number;
  };
  faults: SoakFault[];
  perClass: Record<
    string,
    { injected: number; survived: number; convergedMs: { min: number | null; max: number | null; mean: number | null } }
  >;
  invariants: {
    singleReconciler: Invariant;
    convergence: Invariant;
    lostUpdates: Invariant;
    memory: Invariant;
    noCrash: Invariant;
  };
  processes: {
    replica: string;
    pid: number;
    segments: { role: 'follower' | 'leader'; settledMinutes: number; heapBytesPerMin: number; handlesPerMin: number }[];
  }[];
}

export const faultClasses: readonly string[];
export const defaults: Required<Omit<SoakOptions, 'outDir'>> & { outDir: string | undefined };
export function runSoak(options?: SoakOptions): Promise<SoakReport>;
