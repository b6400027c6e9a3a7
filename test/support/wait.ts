import { createServer } from 'node:net';
import { request } from 'undici';

/** How {@link eventually} polls. */
export interface EventuallyOptions {
  /** Give up after this long. Default: 15000. */
  timeoutMs?: number;
  /** Wait this long between two probes. Default: 20. */
  intervalMs?: number;
  /**
   * A probe that throws or rejects counts as "not yet" (an API call failing while the cluster converges), and the last
   * error is named on timeout. Default: false, the error fails the wait at once.
   */
  retryErrors?: boolean;
}

/**
 * The one wait-until helper of the tests: polls `probe` until it returns something other than undefined or false, and
 * resolves that value; throws naming `what` after the timeout. The third argument is the timeout in ms, or
 * {@link EventuallyOptions}: `await eventually('the Deployment', () => get(name), { timeoutMs: 30_000, retryErrors: true })`.
 */
export async function eventually<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: number | EventuallyOptions = {},
): Promise<T> {
  const {
    timeoutMs = 15_000,
    intervalMs = 20,
    retryErrors = false,
  } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (!retryErrors) throw err;
      last = err;
    }
    if (performance.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `; the last error: ${String(last)}`}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A TCP port free on 127.0.0.1 right now (for a manager's metrics and probe servers). */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A plain HTTP GET: status and body text. */
export async function httpGet(url: string): Promise<{ status: number; text: string }> {
  const res = await request(url);
  return { status: res.statusCode, text: await res.body.text() };
}
