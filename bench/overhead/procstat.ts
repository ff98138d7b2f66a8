/**
 * Per-process resource readings from /proc (Linux): resident memory (VmRSS) and CPU time (utime+stime),
 * plus a sampler that records peak RSS and CPU used by a set of processes over a load phase.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** VmRSS in MiB, or undefined when the process is gone. */
export function rssMiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** User + system CPU time consumed so far, in milliseconds (all threads), or undefined when gone. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 overall.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** CPU time all processes on the machine have used (user+nice+system+irq+softirq+steal), in ms. */
export function machineBusyMs(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
    return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1000) / ticksPerSecond();
  } catch {
    return Number.NaN;
  }
}

/** PIDs of processes whose command name is one of `names` (e.g. redis-server, postgres backends). */
export function pidsByName(names: readonly string[]): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      if (names.includes(comm)) out.push(Number(entry));
    } catch {
      /* gone */
    }
  }
  return out;
}


/** CPU of a group of processes found by name, summed over processes alive at the end of the window. */
class GroupCpu {
  private start = new Map<number, number>();
  constructor(private readonly names: readonly string[]) {}
  begin(): void {
    this.start = new Map(pidsByName(this.names).map((pid) => [pid, cpuMs(pid) ?? 0]));
  }
  end(): number {
    let total = 0;
    for (const pid of pidsByName(this.names)) total += (cpuMs(pid) ?? 0) - (this.start.get(pid) ?? 0);
    return total;
  }
}

/** Cores' worth of CPU used by processes other than `excludePids` (and this one) over `ms`. */
export async function backgroundCores(excludePids: number[], ms: number): Promise<number> {
  const cpuOf = () => excludePids.reduce((a, pid) => a + (cpuMs(pid) ?? 0), 0);
  const m0 = machineBusyMs();
  const o0 = cpuOf();
  const s0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const self = process.cpuUsage(s0);
  const busy = machineBusyMs() - m0 - (cpuOf() - o0) - (self.user + self.system) / 1000;
  return Math.max(0, busy) / (performance.now() - t0);
}

export interface ProcessUsage {
  /** Highest VmRSS seen while sampling, MiB. */
  peakRssMiB: number;
  /** CPU time used between start() and stop(), ms. */
  cpuMs: number;
}

/** Samples RSS of the given processes every `intervalMs` and measures their CPU time over the window. */
export class UsageSampler {
  private readonly peak = new Map<string, number>();
  private readonly cpuStart = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private selfCpuStart: NodeJS.CpuUsage | undefined;
  private machineStart = 0;
  private startedAt = 0;
  private readonly services: GroupCpu;

  /**
   * @param pids processes to follow by name
   * @param serviceNames command names of shared services a request also costs CPU in (postgres backends,
   *   a shared redis-server), summed as `services`
   */
  constructor(
    private readonly pids: Record<string, number>,
    serviceNames: readonly string[],
    private readonly intervalMs = 100,
  ) {
    this.services = new GroupCpu(serviceNames);
  }

  start(): void {
    for (const [name, pid] of Object.entries(this.pids)) {
      this.cpuStart.set(name, cpuMs(pid) ?? 0);
      this.peak.set(name, rssMiB(pid) ?? 0);
    }
    this.services.begin();
    this.selfCpuStart = process.cpuUsage();
    this.machineStart = machineBusyMs();
    this.startedAt = performance.now();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  private sample(): void {
    for (const [name, pid] of Object.entries(this.pids)) {
      const rss = rssMiB(pid);
      if (rss !== undefined && rss > (this.peak.get(name) ?? 0)) this.peak.set(name, rss);
    }
  }

  /**
   * Stops sampling; returns usage per process name, plus `client` (this process), `services` (Redis and
   * PostgreSQL), `others` (CPU used by every other process on the machine) and `wall` (cpuMs holds the
   * window's wall time).
   */
  stop(): Record<string, ProcessUsage> {
    clearInterval(this.timer);
    this.sample();
    const out: Record<string, ProcessUsage> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      out[name] = { peakRssMiB: this.peak.get(name) ?? 0, cpuMs: (cpuMs(pid) ?? 0) - (this.cpuStart.get(name) ?? 0) };
    }
    const self = process.cpuUsage(this.selfCpuStart);
    out.client = { peakRssMiB: process.memoryUsage.rss() / 1024 / 1024, cpuMs: (self.user + self.system) / 1000 };
    // Redis and PostgreSQL: Switchyard calls them per request, but they are shared with the machine.
    out.services = { peakRssMiB: 0, cpuMs: this.services.end() };
    // Everything else the machine ran meanwhile (other users' builds and tests, system daemons): noise.
    const ours = Object.values(out).reduce((a, u) => a + u.cpuMs, 0);
    out.others = { peakRssMiB: 0, cpuMs: Math.max(0, machineBusyMs() - this.machineStart - ours) };
    out.wall = { peakRssMiB: 0, cpuMs: performance.now() - this.startedAt };
    return out;
  }
}
