/**
 * CLI start-up: `kb-dr --help` (dist/kb-dr.js run through its `#!` line, as npm's link to the
 * package's `bin` runs it), `scripts/backup-kb.sh --help` and a refused local command
 * (`scripts/restore-kb.sh --local`, exit 2) against `node -e 0`, run alternately, median of
 * BENCH_STARTUP_RUNS (default 15). Target: within 1.5x.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { median, secs, type BenchModule, type BenchRow } from './measure';

const ROOT = resolve(__dirname, '..');

function wall(cmd: string, args: string[], expectCode: number): Promise<number> {
  return new Promise((resolveRun, reject) => {
    const started = performance.now();
    const p = spawn(cmd, args, { stdio: 'ignore' });
    p.on('close', (code) =>
      code === expectCode
        ? resolveRun(performance.now() - started)
        : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}`)),
    );
  });
}

export const startupBench: BenchModule = {
  name: 'startup',
  async run(): Promise<BenchRow[]> {
    const runs = Number(process.env.BENCH_STARTUP_RUNS ?? 15);
    const cases = [
      {
        what: '`kb-dr --help` (dist/kb-dr.js through its `#!` line, as npm links the `bin`)',
        cmd: join(ROOT, 'dist/kb-dr.js'),
        args: ['--help'],
        code: 0,
      },
      {
        what: '`scripts/backup-kb.sh --help`',
        cmd: join(ROOT, 'scripts/backup-kb.sh'),
        args: ['--help'],
        code: 0,
      },
      {
        what: 'a refused local command (`scripts/restore-kb.sh --local`, exit 2)',
        cmd: join(ROOT, 'scripts/restore-kb.sh'),
        args: ['--local'],
        code: 2,
      },
    ];
    // One untimed run each: the build check and the page cache warm, as for a user's second run.
    for (const c of cases) await wall(c.cmd, c.args, c.code);
    const base: number[] = [];
    const times = cases.map(() => [] as number[]);
    for (let i = 0; i < runs; i += 1) {
      base.push(await wall('node', ['-e', '0'], 0));
      for (const [k, c] of cases.entries()) times[k]!.push(await wall(c.cmd, c.args, c.code));
    }
    const b = median(base);
    return cases.map((c, k) => {
      const t = median(times[k]!);
      return {
        area: 'startup',
        what: c.what,
        measured: `${secs(t)} vs \`node -e 0\` ${secs(b)} (median of ${runs}, alternating)`,
        value: t / b,
        target: '<= 1.5x',
        ok: t / b <= 1.5,
      };
    });
  },
};
