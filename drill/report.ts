/** The drill's Markdown report and SVG timeline, written to the --out folder. */
import { writeFileSync } from 'node:fs';
import { arch, cpus, platform, totalmem } from 'node:os';
import { join } from 'node:path';
import type { DrillContext } from './context';
import type { StepResult } from './runner';
import { TARGETS } from './steps/targets';
import { timelineSvg } from './timeline-svg';

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${platform()} ${arch()}, ${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

export function reportMarkdown(results: readonly StepResult[], ctx: DrillContext, startedAt: Date): string {
  const passed = results.every((r) => r.status === 'PASS');
  const m = ctx.measured;
  const lines = [
    `# kb-dr DR drill: ${passed ? 'PASSED' : 'FAILED'}`,
    '',
    `- started: ${startedAt.toISOString()}`,
    `- entries seeded: ${ctx.options.entries}`,
    `- machine: ${machine()}`,
    ...(ctx.prerequisites ?? []).map((line) => `- ${line}`),
    '',
    '![timeline](timeline.svg)',
    '',
    '| # | step | result | duration |',
    '|---|---|---|---|',
    ...results.map(
      (r, i) => `| ${i + 1} | ${r.title} | ${r.status} | ${(r.durationMs / 1000).toFixed(1)} s |`,
    ),
    '',
    '## Against the targets',
    '',
    '| figure | measured | target |',
    '|---|---|---|',
    `| local restore (RTO) | ${m.localRestoreSeconds?.toFixed(1) ?? 'not measured'} s${m.localRestoreThroughput ? ` (${m.localRestoreThroughput})` : ''} | ${TARGETS.rtoSeconds / 3600} h |`,
    `| data-loss window, nightly backup (RPO) | ${m.localDataLossSeconds?.toFixed(1) ?? 'not measured'} s in the drill; up to 24 h between nightly backups | ${TARGETS.rpoNightlySeconds / 3600} h |`,
    ...(m.pitrGapSeconds !== undefined
      ? [`| point-in-time restore gap (emulated) | ${m.pitrGapSeconds.toFixed(0)} s | minutes |`]
      : []),
    '',
    '## Steps',
    '',
  ];
  results.forEach((r, i) => {
    lines.push(`### ${i + 1}. ${r.title}: ${r.status}`, '');
    for (const d of r.details) lines.push(`- ${d}`);
    if (r.error) lines.push(`- **error:** ${r.error}`);
    lines.push('');
  });
  return lines.join('\n');
}

export function writeReport(
  results: readonly StepResult[],
  ctx: DrillContext,
  startedAt: Date,
): { markdown: string; svg: string } {
  const markdown = join(ctx.options.outDir, 'drill-report.md');
  const svg = join(ctx.options.outDir, 'timeline.svg');
  writeFileSync(markdown, reportMarkdown(results, ctx, startedAt));
  writeFileSync(svg, timelineSvg(results, `kb-dr DR drill, ${startedAt.toISOString()}`));
  return { markdown, svg };
}
