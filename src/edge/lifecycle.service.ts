/**
 * Whether this replica takes new work, and how much it is still doing. SIGTERM sets `draining`; the
 * shutdown waits on `idle()` for in-flight /v1 requests before it cuts the remaining (idle) connections.
 */
import { Injectable } from '@nestjs/common';

@Injectable()
export class LifecycleService {
  draining = false;
  private inFlight = 0;
  private waiters: Array<() => void> = [];

  begin(): void {
    this.inFlight++;
  }

  end(): void {
    if (--this.inFlight === 0) {
      for (const wake of this.waiters.splice(0)) wake();
    }
  }

  /** Resolves when no request is in flight. */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}
