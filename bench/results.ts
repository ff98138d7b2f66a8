/** Each benchmark owns one marked section of bench/RESULTS.md and rewrites only that. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'RESULTS.md');
const HEADER = '# Benchmark results\n\nEach section is written by its benchmark; the command to reproduce it is in the section.\n';

export function writeSection(name: string, markdown: string): void {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${start}\n${markdown.trim()}\n${end}`;
  let doc = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : HEADER;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  doc = from !== -1 && to > from ? doc.slice(0, from) + block + doc.slice(to + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(RESULTS, doc);
}
