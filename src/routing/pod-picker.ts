/**
 * Pod choice for a request. For now: the available pod with the fewest requests in flight, never one
 * already tried for this request. The routing/scheduling work (load + prefix affinity, admission,
 * fair share) replaces this class behind the same method.
 */
import { Injectable } from '@nestjs/common';
import { FleetService } from '../fleet/fleet.service.js';
import type { Pod } from '../fleet/pod.js';

@Injectable()
export class PodPicker {
  constructor(private readonly fleet: FleetService) {}

  pick(pool: string, exclude: ReadonlySet<Pod> = EMPTY): Pod | undefined {
    const now = Date.now();
    let best: Pod | undefined;
    for (const pod of this.fleet.podsOf(pool)) {
      if (!pod.isAvailable(now) || exclude.has(pod)) continue;
      if (!best || pod.inFlight < best.inFlight) best = pod;
    }
    return best;
  }
}

const EMPTY: ReadonlySet<Pod> = new Set();
