#!/usr/bin/env node
/**
 * `npm test`: typecheck, lint, jest and check:synth, one after another (stopping at the first
 * failure, as `a && b && c && d` did), recording each step's wall time and the machine's load in
 * .jest/npm-test-timing.json, which `npm run bench -- --only suite` reports.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const STEPS = ['typecheck', 'lint', 'test:unit', 'check:synth'];
const npm = process.env.npm_execpath
  ? { cmd: process.execPath, args: [process.env.npm_execpath] }
  : { cmd: 'npm', args: [] };

const started = new Date();
const loadAtStart = loadavg()[0];
const steps = [];
let status = 0;
for (const step of STEPS) {
  const t0 = Date.now();
  const run = spawnSync(npm.cmd, [...npm.args, 'run', '--silent', step], { cwd: ROOT, stdio: 'inherit' });
  steps.push({ step, seconds: (Date.now() - t0) / 1000 });
  status = run.status ?? 1;
  if (status !== 0) break;
}
const seconds = (Date.now() - started.getTime()) / 1000;
mkdirSync(join(ROOT, '.jest'), { recursive: true });
writeFileSync(
  join(ROOT, '.jest', 'npm-test-timing.json'),
  `${JSON.stringify(
    {
      startedAt: started.toISOString(),
      passed: status === 0,
      seconds,
      steps,
      cores: cpus().length,
      loadAverage: { start: loadAtStart, end: loadavg()[0] },
    },
    null,
    2,
  )}\n`,
);
console.error(
  `npm test: ${status === 0 ? 'passed' : 'FAILED'} in ${seconds.toFixed(0)} s (${steps.map((s) => `${s.step} ${s.seconds.toFixed(0)} s`).join(', ')})`,
);
process.exit(status);
