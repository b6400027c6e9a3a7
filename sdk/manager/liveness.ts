import { KubeloopError, type DiscoveryClient } from '../client/index.js';
import { observeRequests } from '../client/internal.js';
import type { FactoryInformerHealth } from '../cache/index.js';
import type { Check } from './servers.js';

/** The manager's `/healthz` check of the API server (`liveness` in ManagerOptions). Durations are milliseconds. */
export interface LivenessOptions {
  /**
   * `/healthz` fails once nothing has come from the API server for this long: no answer to any request of this
   * process (any HTTP status counts: the server was reached), and no watch event or bookmark. `0` turns the check
   * off. Default: 90000 (see the README's Reliability section for why).
   */
  apiServerUnreachableMs?: number;
  /**
   * When nothing has come from the API server for this long, the manager asks it for `/version` (with this as the
   * timeout), so that a quiet operator is still checked. Default: 10000.
   */
  probeIntervalMs?: number;
}

/** The defaults of {@link LivenessOptions}. */
export const livenessDefaults = Object.freeze({ apiServerUnreachableMs: 90_000, probeIntervalMs: 10_000 });

/**
 * Tracks when this process last heard from the API server, for the manager's `apiserver` liveness check.
 *
 * Guarantees: the check fails only after `apiServerUnreachableMs` without any answer from the API server's host,
 * watch event or bookmark, and passes again at the first one: an outage shorter than the bound never fails it (no
 * flapping), and a process whose connections are dead for longer is restarted by its liveness probe. While nothing
 * else talks to the server, a `/version` request every `probeIntervalMs` keeps the measure current.
 */
export class ApiServerContact {
  private lastContactAt = Date.now();
  private readonly host: string | undefined;
  private readonly unreachableMs: number;
  private readonly probeIntervalMs: number;

  constructor(
    apiServerHost: string,
    private readonly discovery: Pick<DiscoveryClient, 'serverVersion'>,
    private readonly informers: () => readonly FactoryInformerHealth[],
    options: LivenessOptions = {},
  ) {
    this.host = hostOf(apiServerHost);
    this.unreachableMs = options.apiServerUnreachableMs ?? livenessDefaults.apiServerUnreachableMs;
    this.probeIntervalMs = options.probeIntervalMs ?? livenessDefaults.probeIntervalMs;
  }

  /** Whether the check is on (`apiServerUnreachableMs` > 0). */
  get enabled(): boolean {
    return this.unreachableMs > 0;
  }

  /** Observes the process's API requests and probes when quiet, until `signal` aborts. */
  start(signal: AbortSignal): void {
    if (!this.enabled || signal.aborted) return;
    this.lastContactAt = Date.now();
    const unobserve = observeRequests((event) => {
      if (event.statusCode !== 'error' && (this.host === undefined || event.host === this.host))
        this.lastContactAt = Date.now();
    });
    let probing = false;
    const timer = setInterval(
      () => {
        if (probing || this.silenceMs() < this.probeIntervalMs) return;
        probing = true;
        // The answer is seen by the observer above; a failure is what the check measures, nothing to report here.
        this.discovery
          .serverVersion({ signal: AbortSignal.any([signal, AbortSignal.timeout(this.probeIntervalMs)]) })
          .catch(() => undefined)
          .finally(() => (probing = false));
      },
      Math.max(100, Math.min(this.probeIntervalMs, this.unreachableMs) / 2),
    );
    timer.unref();
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(timer);
        unobserve();
      },
      { once: true },
    );
  }

  /** How long nothing has come from the API server: answers, and the watch events of informers that are watching. */
  silenceMs(): number {
    let silence = Date.now() - this.lastContactAt;
    for (const h of this.informers()) {
      if (h.watching && h.lastEventAgeMs !== undefined) silence = Math.min(silence, h.lastEventAgeMs);
    }
    return Math.max(0, silence);
  }

  /** The `/healthz` check: throws `ERR_MANAGER_API_SERVER_UNREACHABLE` once silent for longer than the bound. */
  readonly check: Check = () => {
    const silence = this.silenceMs();
    if (silence > this.unreachableMs) {
      throw new KubeloopError(
        'ERR_MANAGER_API_SERVER_UNREACHABLE',
        `nothing from the API server for ${Math.round(silence / 1000)} s (liveness bound ${Math.round(this.unreachableMs / 1000)} s)`,
      );
    }
  };
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}
