#!/usr/bin/env node
/**
 * `npm run drill`: the disaster-recovery story end to end on an embedded environment (moto_server
 * for AWS, a throwaway PostgreSQL), with the real code. Exit code 0 only when every step passes.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { preflight } from '../harness/doctor';
import type { DrillContext } from './context';
import { resultsTable, runSteps } from './runner';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000_000) {
    throw new InvalidArgumentError(`must be a whole number from 1 to 10000000, e.g. --entries 1000`);
  }
  return n;
}

/** The drill's options, as `npm run drill -- ...` parses them (test/docs/runbook-commands.test.ts asks it too). */
export function drillProgram(): Command {
  return new Command('drill')
    .description('Run the kb-dr disaster-recovery drill on an embedded environment (no AWS account needed)')
    .option('--entries <n>', 'Knowledge Base entries to seed', positiveInt, 1000)
    .option(
      '--out <dir>',
      'folder for the Markdown report, the timeline picture and local backups',
      'drill-out',
    );
}

async function main(argv: string[]): Promise<number> {
  // The lockfile pins the SDK, so its notice about releases after January 2027 needing Node 22
  // says nothing about this run; the functions themselves run on Node 24.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const program = drillProgram().parse(argv);
  const opts = program.opts<{ entries: number; out: string }>();
  const outDir = resolve(opts.out);
  console.log(`kb-dr DR drill: ${opts.entries} entries, report in ${outDir}\n`);

  // The prerequisites first (npm run doctor's drill subset): a missing tool reads as one, with
  // the command that installs it, instead of as a failing step.
  const ready = preflight();
  console.log(`prerequisites:\n${ready.text}\n`);
  if (!ready.ok) return 1;
  mkdirSync(outDir, { recursive: true });
  // The steps (and with them the AWS SDK, the CDK app, the CLI and the functions) load only now:
  // `--help`, a refused option and a missing prerequisite answer without them.
  const { DRILL_STEPS } = await import('./steps');
  const { writeReport } = await import('./report');

  const ctx: DrillContext = {
    options: { entries: opts.entries, outDir },
    measured: {},
    prerequisites: ready.found,
  };
  const startedAt = new Date();
  let results;
  try {
    results = await runSteps(DRILL_STEPS, ctx);
  } finally {
    await ctx.moto?.stop();
    await ctx.pg?.stop();
  }
  console.log(`\n${resultsTable(results)}\n`);
  const files = writeReport(results, ctx, startedAt);
  console.log(`report: ${files.markdown}\ntimeline: ${files.svg}`);
  const failed = results.filter((r) => r.status !== 'PASS');
  console.log(
    failed.length === 0 ? 'DRILL PASSED' : `DRILL FAILED: ${failed.map((r) => r.title).join('; ')}`,
  );
  return failed.length === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`drill: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
