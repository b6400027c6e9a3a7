import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Client-side token bucket (client-go's `QPS`/`Burst`): `qps` tokens a second, at most `burst` saved up. `wait()`
 * resolves when the caller may send. Waiters are served in order.
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly qps: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }

  wait(signal?: AbortSignal): Promise<void> {
    const turn = this.tail.then(() => this.take(signal));
    this.tail = turn.catch(() => undefined);
    return turn;
  }

  private async take(signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return;
    }
    const waitMs = ((1 - this.tokens) / this.qps) * 1000;
    await sleep(waitMs, undefined, { signal });
    this.tokens = 0;
    this.last = performance.now();
  }
}
