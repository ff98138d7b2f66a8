/**
 * Reads the few samples the fleet wants out of a Prometheus text exposition. Only sample lines whose
 * metric name is wanted are parsed, so a 40 kB exposition with histograms costs ~0.1 ms.
 */
import type { RuntimeSnapshot } from './runtime-adapter.js';

export type SnapshotField = 'running' | 'waiting' | 'kvUsage' | 'prefixQueries' | 'prefixHits' | 'preemptions';

/** Calls `visit` for every sample line whose metric name `wants`, with the line and its value. */
export function forEachSample(text: string, wants: (name: string) => boolean, visit: (name: string, line: string, value: number) => void): void {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    // Blank lines and comments (# HELP, # TYPE) are skipped without slicing.
    if (end > start && text.charCodeAt(start) !== 35 /* # */) {
      const line = text.slice(start, end);
      const brace = line.indexOf('{');
      const space = line.indexOf(' ');
      const nameEnd = brace !== -1 && (space === -1 || brace < space) ? brace : space;
      if (nameEnd > 0) {
        const name = line.slice(0, nameEnd);
        if (wants(name)) {
          // The value follows the labels (or the name); an optional timestamp may follow it.
          const afterLabels = brace === nameEnd ? line.lastIndexOf('}') + 1 : nameEnd;
          const rest = line.slice(afterLabels).trim();
          const cut = rest.indexOf(' ');
          visit(name, line, Number(cut === -1 ? rest : rest.slice(0, cut)));
        }
      }
    }
    start = end + 1;
  }
}

/** The numeric value of label `label` on a sample line, if present and numeric. */
export function labelValue(line: string, label: string): number | undefined {
  const key = `${label}="`;
  const i = line.indexOf(key);
  if (i === -1) return undefined;
  const value = Number(line.slice(i + key.length, line.indexOf('"', i + key.length)));
  return Number.isFinite(value) ? value : undefined;
}

/**
 * A snapshot from the samples named in `names`. A value reported under several label sets (several
 * engines of one server) is summed, except KV usage, which is averaged. When a runtime exports a
 * deprecated name next to its replacement (both mapped to one field), the first name seen wins.
 * `others` receives the samples of further names the caller reads itself.
 */
export function readPrometheusSnapshot(
  text: string,
  at: number,
  names: ReadonlyMap<string, SnapshotField>,
  others: ReadonlyMap<string, (line: string, value: number) => void> = new Map(),
): RuntimeSnapshot {
  const snapshot: RuntimeSnapshot = { at, running: 0, waiting: 0, kvUsage: 0, prefixQueries: 0, prefixHits: 0, preemptions: 0 };
  let kvSamples = 0;
  const source = new Map<SnapshotField, string>();
  forEachSample(
    text,
    (name) => names.has(name) || others.has(name),
    (name, line, value) => {
      const field = names.get(name);
      if (field === undefined) {
        others.get(name)!(line, value);
        return;
      }
      if ((source.get(field) ?? name) !== name) return;
      source.set(field, name);
      if (!Number.isFinite(value)) return;
      if (field === 'kvUsage') kvSamples++;
      snapshot[field] += value;
    },
  );
  if (kvSamples > 1) snapshot.kvUsage /= kvSamples;
  return snapshot;
}
