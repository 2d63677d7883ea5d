/**
 * The README's configuration table cannot drift from the settings table in lib/config.ts: it must
 * be exactly the rows generated from SETTINGS (description, variable, context key, default), list
 * every cross-field check, and no document may name a `kb:` context key that does not exist or
 * show a `-c kb:key=value` that the setting would refuse.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CHECKS, SETTINGS, type Refuse, type SettingRow } from '../../lib/config';

const ROOT = resolve(__dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const ROWS = Object.values(SETTINGS as Record<string, SettingRow>);
const HEADER = '| setting | env var | context key | default |';

/** The README's default column for a row: its own text, "none: required", "none", or the value. */
function documentedDefault(row: SettingRow): string {
  if (row.defaultDoc !== undefined) return row.defaultDoc;
  if (row.required !== undefined) return 'none: required';
  const value = row.default;
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return 'none';
  return `\`${String(value)}\``;
}

/** The README table line of a setting, as it must read. */
function markdownRow(row: SettingRow): string {
  return `| ${row.description} | \`${row.env}\` | \`${row.context}\` | ${documentedDefault(row)} |`;
}

/** The README's "## Configuration" section, up to the next second-level heading. */
function configurationSection(readme: string): string {
  const start = readme.indexOf('\n## Configuration\n');
  if (start < 0) throw new Error('README.md has no "## Configuration" section');
  const rest = readme.slice(start + 1);
  const next = rest.indexOf('\n## ', 1);
  return next < 0 ? rest : rest.slice(0, next);
}

/** The lines of the section's settings table, header and separator excluded. */
function tableLines(section: string): string[] {
  const lines = section.split('\n');
  const header = lines.indexOf(HEADER);
  if (header < 0) throw new Error(`the Configuration section has no table headed ${HEADER}`);
  const body: string[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    body.push(line);
  }
  return body;
}

/** The cells of a table line, trimmed. */
const cells = (line: string): string[] =>
  line
    .slice(1, -1)
    .split(' | ')
    .map((c) => c.trim());
const unquote = (cell: string) => cell.replace(/^`|`$/g, '');

const section = configurationSection(read('README.md'));
const documented = tableLines(section);

describe("README's configuration table", () => {
  it('has one line per setting', () => {
    expect(documented.length).toBe(ROWS.length);
  });

  it.each(documented.map((line) => [cells(line)[2] ?? line, line]))(
    'names a setting that exists: %s',
    (_key, line) => {
      const [, env = '', context = ''] = cells(line).map(unquote);
      const row = ROWS.find((r) => r.context === context);
      expect({ context, known: row !== undefined }).toEqual({ context, known: true });
      expect(row?.env).toBe(env);
    },
  );

  it.each(ROWS.map((row) => [row.context, row]))(
    '%s appears with its variable and default',
    (_context, row) => {
      const line = documented.find((l) => unquote(cells(l)[2] ?? '') === row.context);
      expect(line).toBeDefined();
      const [, env, context, defaultCell] = cells(line ?? '');
      expect({ env, context, default: defaultCell }).toEqual({
        env: `\`${row.env}\``,
        context: `\`${row.context}\``,
        default: documentedDefault(row),
      });
    },
  );

  it('is exactly the table generated from SETTINGS, in order (the expected table is printed on failure)', () => {
    expect(documented.join('\n')).toBe(ROWS.map(markdownRow).join('\n'));
  });

  it.each(CHECKS.map((c) => [c.description]))('lists the cross-field check "%s"', (description) => {
    expect(section.split('\n')).toContain(`- ${description}`);
  });
});

describe('context keys named in the documents', () => {
  const documents = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  const mentions = documents.flatMap((doc) =>
    [...read(doc).matchAll(/\bkb:([A-Za-z]+)(?:="([^"]*)"|=([^\s`"]+))?/g)].map((m) => ({
      doc,
      key: `kb:${m[1] ?? ''}`,
      value: m[2] ?? m[3],
    })),
  );

  it('finds the context keys the README shows', () => {
    expect(mentions.some((m) => m.key === 'kb:restoreTestSchedule' && m.value === 'off')).toBe(true);
  });

  it('every kb: key in README.md and docs/*.md is a setting', () => {
    const known = new Set(ROWS.map((r) => r.context));
    expect(mentions.filter((m) => !known.has(m.key as SettingRow['context']))).toEqual([]);
  });

  it('every value shown as -c kb:key=value is one the setting accepts', () => {
    const refused: string[] = [];
    for (const { doc, key, value } of mentions) {
      const row = ROWS.find((r) => r.context === key);
      if (value === undefined || row === undefined) continue;
      const refuse: Refuse = (why) => {
        throw new Error(why);
      };
      try {
        row.parse(value, refuse);
      } catch (e) {
        refused.push(`${doc}: ${key}=${value} ${(e as Error).message}`);
      }
    }
    expect(refused).toEqual([]);
  });
});
