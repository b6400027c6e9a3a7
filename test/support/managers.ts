import { afterEach } from 'vitest';
import type { Manager } from '../../sdk/manager/index.js';

/**
 * Starts managers for the tests of one file and stops each (waiting for it) after its test:
 * `const run = managerRunner(); … run(mgr);`. Call at the top level of a test file. `run` returns the controller
 * whose abort stops that manager early (to test a stop).
 */
export function managerRunner(): (mgr: Manager) => AbortController {
  const running: { stop: AbortController; done: Promise<void> }[] = [];
  afterEach(async () => {
    for (const r of running.splice(0)) {
      r.stop.abort();
      await r.done.catch(() => undefined);
    }
  });
  return (mgr) => {
    const stop = new AbortController();
    running.push({ stop, done: mgr.start(stop.signal) });
    return stop;
  };
}
