/**
 * The suite row: `npm test`'s wall time against 3 minutes. `npm test` (scripts/ci/npm-test.mjs)
 * records each run in .jest/npm-test-timing.json; this row reports the last one, with its date and
 * the machine's load, and says so when none is recorded. `--only suite` runs `npm test` first (it
 * takes minutes, so the full bench does not).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchModule, BenchRow } from './measure';

const ROOT = join(__dirname, '..');
const TIMING = join(ROOT, '.jest', 'npm-test-timing.json');
const TARGET_SECONDS = 180;

interface NpmTestTiming {
  readonly startedAt: string;
  readonly passed: boolean;
  readonly seconds: number;
  readonly steps: readonly { readonly step: string; readonly seconds: number }[];
  readonly cores: number;
  readonly loadAverage: { readonly start: number; readonly end: number };
}

const row = (measured: string, value?: number): BenchRow => ({
  area: 'suite',
  what: '`npm test` wall time (x of 3 min)',
  measured,
  value,
  target: '<= 1.0x (3 min)',
  ok: value === undefined ? undefined : value <= 1,
});

/** The row for a recorded run. */
export function suiteRow(t: NpmTestTiming): BenchRow {
  const steps = t.steps.map((s) => `${s.step} ${s.seconds.toFixed(0)} s`).join(', ');
  const minutes = `${Math.floor(t.seconds / 60)}m${String(Math.round(t.seconds % 60)).padStart(2, '0')}s`;
  return row(
    `${t.passed ? '' : 'FAILED run: '}${minutes} (${steps}) on ${t.startedAt}, ${t.cores} cores, load ${t.loadAverage.start.toFixed(1)}-${t.loadAverage.end.toFixed(1)}`,
    t.passed ? t.seconds / TARGET_SECONDS : undefined,
  );
}

export const suiteBench: BenchModule = {
  name: 'suite',
  run: async () => {
    const only = process.argv[process.argv.indexOf('--only') + 1]?.split(',') ?? [];
    if (process.argv.includes('--only') && only.includes('suite')) {
      spawnSync('node', [join(ROOT, 'scripts', 'ci', 'npm-test.mjs')], { cwd: ROOT, stdio: 'inherit' });
    }
    if (!existsSync(TIMING))
      return [row('not recorded: run `npm test` (or `npm run bench -- --only suite`)')];
    return [suiteRow(JSON.parse(readFileSync(TIMING, 'utf8')) as NpmTestTiming)];
  },
};
