/**
 * Fault injection: process-wide flags plus a per-request `x-sim-fault` header that overrides them.
 *
 * Header syntax: comma-separated `key=value` items (or `none` to switch every flag fault off for
 * this request):
 *   error=<status>         answer with a vLLM-shaped error of that status before any output
 *   error-after=<n>        fail after n output tokens (stream: SSE error event; non-stream: 500)
 *   crash-after=<n>        kill the whole process (SIGKILL) after n output tokens were written
 *   stall-after=<n>        after n output tokens, hold the rest of the output back ...
 *   stall-ms=<ms>          ... for this long
 *   delay-ms=<ms>          wait this long before the request enters the engine
 * Token counts are per HTTP request (all choices together).
 */
import { createRng, mixSeed, type Rng } from './rng.js';

export interface FaultFlags {
  errorRate: number;
  errorStatus: number;
  crashAfterTokens?: number;
  stallMs: number;
  stallAfterTokens: number;
  errorAfterTokens?: number;
  slowStartMs: number;
}

export interface RequestFaults {
  errorStatus?: number;
  errorAfterTokens?: number;
  crashAfterTokens?: number;
  stallAfterTokens?: number;
  stallMs: number;
  delayMs: number;
}

export const NO_FAULTS: RequestFaults = Object.freeze({ stallMs: 0, delayMs: 0 });

export class FaultHeaderError extends Error {}

/** Decides the faults of one request from the flags, the error-rate draw and the header. */
export class FaultInjector {
  private readonly rng: Rng;
  private readonly hasFlagFaults: boolean;

  constructor(
    private readonly flags: FaultFlags,
    seed: number,
  ) {
    this.rng = createRng(mixSeed(seed, 0xfa17));
    this.hasFlagFaults =
      flags.errorRate > 0 || flags.crashAfterTokens !== undefined || flags.stallMs > 0 || flags.errorAfterTokens !== undefined;
  }

  forRequest(header: string | string[] | undefined): RequestFaults {
    const raw = Array.isArray(header) ? header.join(',') : header;
    if (!raw && !this.hasFlagFaults) return NO_FAULTS;
    const items = raw ? parseHeader(raw) : new Map<string, number>();
    const flags = items.has('none') ? undefined : this.flags;
    const faults: RequestFaults = {
      errorAfterTokens: flags?.errorAfterTokens,
      crashAfterTokens: flags?.crashAfterTokens,
      stallAfterTokens: flags && flags.stallMs > 0 ? flags.stallAfterTokens : undefined,
      stallMs: flags?.stallMs ?? 0,
      delayMs: 0,
    };
    if (flags && flags.errorRate > 0 && this.rng() < flags.errorRate) faults.errorStatus = flags.errorStatus;
    for (const [key, value] of items) {
      switch (key) {
        case 'error':
          if (value < 400 || value > 599) throw new FaultHeaderError(`x-sim-fault error status must be 400..599, got ${value}`);
          faults.errorStatus = value;
          break;
        case 'error-after':
          faults.errorAfterTokens = value;
          break;
        case 'crash-after':
          faults.crashAfterTokens = value;
          break;
        case 'stall-after':
          faults.stallAfterTokens = value;
          break;
        case 'stall-ms':
          faults.stallMs = value;
          faults.stallAfterTokens ??= this.flags.stallAfterTokens;
          break;
        case 'delay-ms':
          faults.delayMs = value;
          break;
        case 'none':
          break;
        default:
          throw new FaultHeaderError(`unknown x-sim-fault key "${key}"`);
      }
    }
    if (faults.stallMs <= 0) faults.stallAfterTokens = undefined;
    return faults;
  }
}

function parseHeader(raw: string): Map<string, number> {
  const items = new Map<string, number>();
  for (const part of raw.split(/[,;]/)) {
    const item = part.trim();
    if (!item) continue;
    if (item === 'none') {
      items.set('none', 0);
      continue;
    }
    const eq = item.indexOf('=');
    const key = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase();
    const value = Number(eq < 0 ? NaN : item.slice(eq + 1).trim());
    if (!Number.isFinite(value) || value < 0 || !Number.isInteger(value)) {
      throw new FaultHeaderError(`x-sim-fault item "${item}" needs a non-negative integer value`);
    }
    items.set(key, value);
  }
  return items;
}
