#!/usr/bin/env node
/**
 * `npm test`: typecheck, lint, jest (test:unit) and check:synth.
 *
 * The four steps run at the same time: typecheck, lint and check:synth are single-threaded and jest
 * waits on child processes (PostgreSQL, psql, pg_dump, moto_server, the CLI) part of the time, so one
 * after another left a core idle for about two of the suite's minutes. Jest runs at normal priority
 * and the other three at a lower one (nice 10), so they fill the idle CPU instead of slowing the
 * longest step. Each step's output goes to .jest/logs/<step>.log and is printed whole, under a header
 * with its result, when the step ends: the outputs never interleave. The exit code is non-zero when
 * any step failed, and the last line names each step's result.
 *
 * `npm test -- --sequential` (or KB_TEST_SEQUENTIAL=1) runs them one after another with their output
 * live, stopping at the first failure, as `a && b && c && d` did.
 *
 * Each run's wall time, each step's wall and CPU time, and the machine's load are recorded in
 * .jest/npm-test-timing.json, which `npm run bench -- --only suite` reports.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, setPriority } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SELF = fileURLToPath(import.meta.url);
const ROOT = join(dirname(SELF), '..', '..');
const OUT = join(ROOT, '.jest');
/** Longest first: it starts first and keeps the normal priority. */
const STEPS = ['test:unit', 'typecheck', 'lint', 'check:synth'];
const MAIN_STEP = 'test:unit';
/** With --sequential: the order `a && b && c && d` had, cheapest checks first. */
const SEQUENTIAL_ORDER = ['typecheck', 'lint', 'test:unit', 'check:synth'];
const npm = process.env.npm_execpath
  ? { cmd: process.execPath, args: [process.env.npm_execpath] }
  : { cmd: 'npm', args: [] };

/**
 * How to run `step`: its package.json script in a shell with node_modules/.bin first on the PATH,
 * which is what `npm run` does for a script without pre/post scripts, without starting npm (about
 * 0.7 s of CPU per step). A step with a pre or post script goes through `npm run`.
 */
function stepCommand(step) {
  const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts ?? {};
  const script = scripts[step];
  if (
    typeof script !== 'string' ||
    scripts[`pre${step}`] !== undefined ||
    scripts[`post${step}`] !== undefined
  ) {
    return { cmd: npm.cmd, args: [...npm.args, 'run', '--silent', step], env: process.env };
  }
  const bin = join(ROOT, 'node_modules', '.bin');
  return {
    cmd: '/bin/sh',
    args: ['-c', script],
    env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`, npm_lifecycle_event: step },
  };
}

/** CPU seconds (user + system) of this process's finished children, from /proc (Linux); else null. */
function childrenCpuSeconds() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // cutime + cstime, in USER_HZ ticks
  } catch {
    return null;
  }
}

const round1 = (n) => Math.round(n * 10) / 10;

// `node npm-test.mjs --step STEP CPU_FILE`: run one step with inherited output and write its CPU
// time (its own processes; a PostgreSQL server, which detaches, is not counted) to CPU_FILE.
if (process.argv[2] === '--step') {
  const [, , , step, cpuFile] = process.argv;
  const cpu0 = childrenCpuSeconds();
  const { cmd, args, env } = stepCommand(step);
  const run = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env });
  const cpu1 = childrenCpuSeconds();
  writeFileSync(cpuFile, JSON.stringify(cpu0 === null || cpu1 === null ? null : round1(cpu1 - cpu0)));
  process.exit(run.status ?? 1);
}

const sequential = process.argv.includes('--sequential') || process.env.KB_TEST_SEQUENTIAL === '1';
mkdirSync(join(OUT, 'logs'), { recursive: true });

/** Run one step; its output goes to `log` (a file) or, without one, to this terminal. */
function runStep(step, log) {
  const cpuFile = join(OUT, 'logs', `${step.replace(':', '-')}.cpu.json`);
  const t0 = Date.now();
  const child = spawn(process.execPath, [SELF, '--step', step, cpuFile], {
    cwd: ROOT,
    stdio: log ? ['ignore', 'pipe', 'pipe'] : 'inherit',
  });
  if (log) {
    const file = createWriteStream(log);
    child.stdout.pipe(file, { end: false });
    child.stderr.pipe(file, { end: false });
    child.on('close', () => file.end());
  }
  if (!sequential && step !== MAIN_STEP) {
    try {
      setPriority(child.pid, 10); // before npm starts the step's own processes, which inherit it
    } catch {
      // not permitted here: the step runs at normal priority
    }
  }
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      let cpuSeconds = null;
      try {
        cpuSeconds = JSON.parse(readFileSync(cpuFile, 'utf8'));
      } catch {
        // the step was killed before it wrote its CPU time
      }
      resolve({
        step,
        passed: code === 0,
        exitCode: code ?? signal,
        seconds: (Date.now() - t0) / 1000,
        cpuSeconds,
      });
    });
  });
}

const started = new Date();
const loadAtStart = loadavg()[0];
const cpuAtStart = childrenCpuSeconds();
const steps = [];
if (sequential) {
  for (const step of SEQUENTIAL_ORDER) {
    const result = await runStep(step, undefined);
    steps.push(result);
    if (!result.passed) break;
  }
} else {
  await Promise.all(
    STEPS.map(async (step) => {
      const log = join(OUT, 'logs', `${step.replace(':', '-')}.log`);
      const result = await runStep(step, log);
      steps.push(result);
      const header = `== ${step}: ${result.passed ? 'passed' : `FAILED (exit ${result.exitCode})`} in ${result.seconds.toFixed(0)} s`;
      process.stdout.write(`\n${header} (output below, also in ${log.slice(ROOT.length + 1)})\n`);
      process.stdout.write(readFileSync(log));
    }),
  );
}
const passed = steps.length === STEPS.length && steps.every((s) => s.passed);
const seconds = (Date.now() - started.getTime()) / 1000;
const cpuAtEnd = childrenCpuSeconds();
writeFileSync(
  join(OUT, 'npm-test-timing.json'),
  `${JSON.stringify(
    {
      startedAt: started.toISOString(),
      passed,
      mode: sequential ? 'sequential' : 'concurrent',
      seconds,
      cpuSeconds: cpuAtStart === null || cpuAtEnd === null ? null : round1(cpuAtEnd - cpuAtStart),
      steps: STEPS.map((name) => steps.find((s) => s.step === name)).filter(Boolean),
      cores: cpus().length,
      loadAverage: { start: loadAtStart, end: loadavg()[0] },
    },
    null,
    2,
  )}\n`,
);
const summary = (sequential ? SEQUENTIAL_ORDER : STEPS)
  .map((name) => {
    const s = steps.find((r) => r.step === name);
    if (!s) return `${name} not run`;
    return `${name} ${s.passed ? '' : 'FAILED '}${s.seconds.toFixed(0)} s`;
  })
  .join(', ');
console.error(
  `npm test: ${passed ? 'passed' : 'FAILED'} in ${seconds.toFixed(0)} s, ${sequential ? 'one step after another' : 'steps at the same time'} (${summary})`,
);
process.exit(passed ? 0 : 1);
