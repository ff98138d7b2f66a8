// `npm run docs:settings`: writes README.md's environment-variable table (section "Configuration")
// from the settings list in src/config/settings.ts, between the settings markers. Runs on the build.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { withSettingsTable } = await import(path.join(ROOT, 'dist', 'src', 'config', 'index.js'));
const file = path.join(ROOT, 'README.md');
const before = readFileSync(file, 'utf8');
const after = withSettingsTable(before);
if (after === before) console.log('README.md: settings table up to date');
else {
  writeFileSync(file, after);
  console.log('README.md: settings table rewritten');
}
