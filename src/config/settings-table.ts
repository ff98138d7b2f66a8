/**
 * The README's environment-variable table, rendered from the settings list. `npm run docs:settings`
 * writes it between the markers; settings.spec.ts fails when README.md holds anything else there.
 */
import { SETTING_GROUPS, type Setting } from './setting.js';
import { SETTING_LIST } from './settings.js';

export const TABLE_BEGIN = '<!-- settings:begin (generated from src/config/settings.ts by `npm run docs:settings`; do not edit) -->';
export const TABLE_END = '<!-- settings:end -->';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function row(s: Setting): string {
  const notes = [s.required && 'Required.', s.sensitive && 'Sensitive: never quoted in messages.'].filter(Boolean).join(' ');
  const shownDefault = s.shownDefault === '' ? '—' : /^[\w.:/@-]+$/.test(s.shownDefault) ? `\`${s.shownDefault}\`` : s.shownDefault;
  return `| \`${s.name}\` | ${cell(shownDefault)} | ${cell(s.accepts)} | ${cell(s.description)}${notes ? ` *${notes}*` : ''} |`;
}

/** The tables, one per group, in the list's order (markers excluded). */
export function renderSettingsTable(settings: readonly Setting[] = SETTING_LIST): string {
  const out: string[] = [];
  for (const [group, title] of Object.entries(SETTING_GROUPS)) {
    const rows = settings.filter((s) => s.group === group);
    if (!rows.length) continue;
    out.push(`**${title}**`, '', '| variable | default | accepts | meaning |', '|---|---|---|---|', ...rows.map(row), '');
  }
  return out.join('\n').trimEnd();
}

/** README text with the generated table put between the markers (which must be there, once each). */
export function withSettingsTable(readme: string, table: string = renderSettingsTable()): string {
  const begin = readme.indexOf(TABLE_BEGIN);
  const end = readme.indexOf(TABLE_END);
  if (begin < 0 || end < begin || readme.indexOf(TABLE_BEGIN, begin + 1) >= 0) {
    throw new Error(`README.md must hold the settings markers once, in order:\n${TABLE_BEGIN}\n${TABLE_END}`);
  }
  return `${readme.slice(0, begin + TABLE_BEGIN.length)}\n${table}\n${readme.slice(end)}`;
}
