import type { ServerResponse } from 'node:http';
import { Session } from 'node:inspector/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** The paths of the profiling endpoints, named as Go's net/http/pprof. */
export const profilePaths = { cpu: '/debug/pprof/profile', heap: '/debug/pprof/heap' } as const;

/** The CPU profile length when `?seconds` is not given (Go's pprof default), and the most allowed. */
export const defaultProfileSeconds = 30;
export const maxProfileSeconds = 300;

/**
 * The `seconds` of a CPU profile request: an integer from 1 to {@link maxProfileSeconds}, or the default when absent.
 * Undefined when it is anything else.
 */
export function profileSeconds(query: URLSearchParams): number | undefined {
  const text = query.get('seconds');
  if (text === null) return defaultProfileSeconds;
  if (!/^\d{1,4}$/.test(text)) return undefined;
  const seconds = Number(text);
  return seconds >= 1 && seconds <= maxProfileSeconds ? seconds : undefined;
}

function attachment(res: ServerResponse, extension: string): void {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-disposition': `attachment; filename="kubeloop-${stamp}.${extension}"`,
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
  });
}

let cpuProfiling = false;

/** Whether a CPU profile is being taken in this process (V8 runs one profiler per isolate). */
export function cpuProfileRunning(): boolean {
  return cpuProfiling;
}

/**
 * Takes a CPU profile of this process for `seconds` and answers it as a Chrome DevTools `.cpuprofile` (the inspector's
 * Profiler.Profile JSON: nodes, startTime, endTime, samples, timeDeltas). Stops early, answering nothing, when `signal`
 * aborts (the client went away or the server stops). The caller checks {@link cpuProfileRunning} first.
 */
export async function serveCpuProfile(res: ServerResponse, seconds: number, signal: AbortSignal): Promise<void> {
  cpuProfiling = true;
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    let stopped = false;
    try {
      await sleep(seconds * 1000, undefined, { signal });
    } catch {
      stopped = true;
    }
    const { profile } = await session.post('Profiler.stop');
    if (stopped) {
      res.destroy();
      return;
    }
    attachment(res, 'cpuprofile');
    res.end(JSON.stringify(profile));
  } finally {
    session.disconnect();
    cpuProfiling = false;
  }
}

/**
 * Takes a heap snapshot of this process and streams it as a Chrome DevTools `.heapsnapshot`. The snapshot stops the
 * event loop while it is taken (seconds on a large heap) and needs memory of about the heap's size.
 */
export async function serveHeapSnapshot(res: ServerResponse): Promise<void> {
  const session = new Session();
  session.connect();
  try {
    attachment(res, 'heapsnapshot');
    session.on('HeapProfiler.addHeapSnapshotChunk', (message) => res.write(message.params.chunk));
    await session.post('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    res.end();
  } finally {
    session.disconnect();
  }
}
