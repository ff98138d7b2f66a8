/**
 * Re-renders the scheduling section of bench/RESULTS.md and the plots from bench/out/scheduling.json,
 * without running the benchmark again: `node dist/bench/scheduling/render.js`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSection } from '../results.js';
import { renderSection, writePlots, type BenchResults } from './report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const results = JSON.parse(readFileSync(path.join(ROOT, 'bench', 'out', 'scheduling.json'), 'utf8')) as BenchResults;
const plots = writePlots(results, path.join(ROOT, 'bench', 'scheduling'));
writeSection('scheduling', renderSection(results, plots));
process.stdout.write('rewrote the scheduling section of bench/RESULTS.md and bench/scheduling/*.svg\n');
