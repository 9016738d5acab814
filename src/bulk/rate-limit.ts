/** A rate limit in operations per second, shared by a pool's workers; a wait ends early on abort. */
import { sleep } from '../core/abort.js';

export class RateLimiter {
  private nextAt = 0;
  constructor(private readonly perSecond: number) {}
  async take(signal?: AbortSignal): Promise<void> {
    if (!this.perSecond) return;
    const now = performance.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + 1000 / this.perSecond;
    const wait = at - now;
    if (wait >= 1) await sleep(wait, signal);
  }
}
