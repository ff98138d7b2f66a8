/**
 * Limit overrides in memory, keyed by scope (org:<id>, key:<id>, model:<org>:<model>). The hot path
 * reads `get`; the admin API writes policies through here and every replica reloads within a second.
 */
import { Injectable } from '@nestjs/common';
import type { LimitOverride } from './limits.js';

@Injectable()
export class LimitPolicyService {
  private overrides = new Map<string, LimitOverride>();

  get(scope: string): LimitOverride | undefined {
    return this.overrides.get(scope);
  }

  /** Replaces one scope's override (undefined removes it). */
  put(scope: string, override: LimitOverride | undefined): void {
    if (override) this.overrides.set(scope, override);
    else this.overrides.delete(scope);
  }

  replaceAll(entries: Iterable<[string, LimitOverride]>): void {
    this.overrides = new Map(entries);
  }
}
