/**
 * What the local provider runs for a pool's replica: the pool's `local.command`, or for `sim:` pools
 * the simulator — `node dist/runtimes/sim/main.js`, found under the package root and run as a program
 * (the product never imports runtimes/).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LocalPodCommand } from '../../config/index.js';
import type { FleetPool } from '../fleet-provider.js';

/** This file runs from dist/src/fleet/providers/: four levels up is the package root. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
export const SIM_MAIN = path.join(PACKAGE_ROOT, 'dist', 'runtimes', 'sim', 'main.js');

/**
 * A simulator starts in a second or two on an idle machine (more with --fault-slow-start-ms), but
 * loading its tokenizer took over 30 s on a 2-core machine running several suites at once; the bound
 * only decides how long a broken start takes to report.
 */
const SIM_START_TIMEOUT_MS = 120_000;
/** A real runtime may download and load weights first. */
const DEFAULT_START_TIMEOUT_MS = 600_000;

export interface ResolvedCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
  startTimeoutMs: number;
}

/** The pool's command with its placeholders still in. */
export function podCommand(pool: FleetPool): LocalPodCommand {
  const { sim, local } = pool.template;
  if (local) return local;
  if (!sim) throw new Error(`pool ${pool.name}: the local provider needs local.command or sim.profile`);
  return {
    command: [process.execPath, SIM_MAIN, '--model', '{model}', '--profile', sim.profile, '--host', '{host}', '--port', '{port}', ...(sim.args ?? [])],
    startTimeoutMs: SIM_START_TIMEOUT_MS,
  };
}

/** Fills in `{port}`, `{host}` and `{model}` for one replica. */
export function resolveCommand(template: LocalPodCommand, vars: { port: number; host: string; model: string }): ResolvedCommand {
  const fill = (s: string) => s.replaceAll('{port}', String(vars.port)).replaceAll('{host}', vars.host).replaceAll('{model}', vars.model);
  const [file, ...args] = template.command.map(fill);
  return {
    file: file!,
    args,
    env: Object.fromEntries(Object.entries(template.env ?? {}).map(([k, v]) => [k, fill(v)])),
    startTimeoutMs: template.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
  };
}
