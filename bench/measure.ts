/** Shared by the bench modules: run a command under /usr/bin/time, medians, table rows. */
import { spawn } from 'node:child_process';

export interface Run {
  readonly wallMs: number;
  /** Peak RSS of the process the command ran (and its waited-for children), MiB. */
  readonly maxRssMiB: number;
  readonly cpuMs: number;
  readonly stdout: string;
}

/** Run `command` with bash under GNU time; rejects on a non-zero exit. */
export function timed(command: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const started = performance.now();
    const p = spawn(
      '/usr/bin/time',
      ['-f', 'TIME %e %U %S %M', 'bash', '-c', `set -euo pipefail; ${command}`],
      {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    p.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    p.on('close', (code) => {
      const wallMs = performance.now() - started;
      const m = /TIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
      if (code !== 0 || !m) {
        reject(new Error(`${command} exited ${code}: ${stderr.slice(-2000)}`));
        return;
      }
      resolveRun({
        wallMs,
        cpuMs: (Number(m[2]) + Number(m[3])) * 1000,
        maxRssMiB: Math.round(Number(m[4]) / 102.4) / 10,
        stdout,
      });
    });
  });
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** One line of the bench table. */
export interface BenchRow {
  readonly area: string;
  readonly what: string;
  /** What was measured, e.g. "ours 31.2 s / plain 33.0 s". */
  readonly measured: string;
  /** The ratio or figure judged against the target; undefined for TODO rows. */
  readonly value: number | undefined;
  /** e.g. "<= 1.0x". */
  readonly target: string;
  /** Whether `value` meets the target; undefined for TODO rows. */
  readonly ok: boolean | undefined;
}

/** A bench module: its rows. */
export interface BenchModule {
  readonly name: string;
  run(): Promise<BenchRow[]>;
}

export const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
