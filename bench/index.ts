/**
 * `npm run bench`: one table of every performance ratio beside its target, with the machine, its
 * load and the date. Each module measures its rows side by side in one run (alternating, medians);
 * add a module to MODULES to add rows. `--only NAME[,NAME]` runs some of them.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { coldLoadBench } from './function-cold-load';
import { localBench } from './local-backup-restore';
import type { BenchModule, BenchRow } from './measure';
import { startupBench } from './startup';
import { suiteBench } from './suite';

const MODULES: readonly BenchModule[] = [startupBench, localBench, coldLoadBench, suiteBench];

/** A table cell: a `|` in the text (a shell pipeline) would end the cell. */
const cell = (text: string) => text.replace(/\|/g, '\\|');

/** met: yes / NO; "not judged" for a figure with nothing to judge it by; TODO for a row not measured yet. */
function met(r: BenchRow): string {
  if (r.ok !== undefined) return r.ok ? 'yes' : 'NO';
  return r.value === undefined ? 'TODO' : 'not judged';
}

export function table(rows: readonly BenchRow[]): string {
  const lines = [
    '| area | what | measured | ratio / figure | target | met |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.area} | ${cell(r.what)} | ${cell(r.measured)} | ${r.value === undefined ? '-' : r.area === 'memory' ? `${r.value} MiB` : `${r.value.toFixed(2)}x`} | ${cell(r.target)} | ${met(r)} |`,
    ),
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const only = process.argv.includes('--only')
    ? process.argv[process.argv.indexOf('--only') + 1]?.split(',')
    : undefined;
  const startLoad = loadavg();
  const rows: BenchRow[] = [];
  for (const m of MODULES) {
    if (only && !only.includes(m.name)) continue;
    process.stderr.write(`bench: ${m.name}...\n`);
    rows.push(...(await m.run()));
  }
  const endLoad = loadavg();
  const cpu = cpus();
  console.log(
    `\nkb-dr bench, ${new Date().toISOString()}, ${cpu.length} x ${cpu[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; load average ${startLoad[0]!.toFixed(1)} at start, ${endLoad[0]!.toFixed(1)} at end (shared machine: other jobs ran)\n`,
  );
  console.log(table(rows));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
