/** The bench table (bench/index.ts): every row beside its target, and honest about what it judged. */
import { table } from '../../bench/index';
import type { BenchRow } from '../../bench/measure';

const row = (r: Partial<BenchRow>): BenchRow => ({
  area: 'backup',
  what: 'w',
  measured: 'm',
  value: 1,
  target: '<= 1.0x',
  ok: true,
  ...r,
});

/** The cells of the table's data lines, split where markdown splits them (an unescaped `|`). */
const cells = (text: string) =>
  text
    .split('\n')
    .slice(2)
    .map((line) =>
      line
        .split(/(?<!\\)\|/)
        .slice(1, -1)
        .map((c) => c.trim()),
    );

describe('bench table', () => {
  it('keeps a shell pipeline in one cell: every data line has the six columns of the header', () => {
    const out = table([row({ measured: 'ours 1 s vs `pg_dump | gzip > f && sha256sum f` 2 s', value: 0.5 })]);
    expect(cells(out)).toEqual([
      ['backup', 'w', 'ours 1 s vs `pg_dump \\| gzip > f && sha256sum f` 2 s', '0.50x', '<= 1.0x', 'yes'],
    ]);
  });

  it('says NO for a missed target, "not judged" for a figure with nothing to judge it by, TODO for a row not measured', () => {
    const out = table([
      row({ value: 1.2, ok: false }),
      row({ area: 'memory', value: 51.5, target: '<= 80 MiB, spread <= 10 MiB', ok: undefined }),
      row({ value: undefined, ok: undefined }),
    ]);
    expect(cells(out).map((c) => [c[3], c[5]])).toEqual([
      ['1.20x', 'NO'],
      ['51.5 MiB', 'not judged'],
      ['-', 'TODO'],
    ]);
  });
});
