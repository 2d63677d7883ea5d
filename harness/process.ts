/**
 * Running a tool and saying what happened in words: a process that could not start (ENOENT,
 * EACCES), one killed by a signal and one that exited non-zero are three different sentences,
 * each with the command that was run. Never "null".
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { constants } from 'node:os';

/** What a finished (or never started) process did. */
export interface ToolRun {
  /** The command as a person would type it, for messages. */
  readonly command: string;
  /** Exit code; undefined when the process did not start or died on a signal. */
  readonly code: number | undefined;
  /** Signal that ended the process, e.g. SIGKILL. */
  readonly signal: string | undefined;
  /** Why the process could not start (spawn error), e.g. ENOENT. */
  readonly startError: NodeJS.ErrnoException | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** `cmd args` quoted for a shell where needed. */
export function commandLine(cmd: string, args: readonly string[] = []): string {
  const quote = (w: string): string => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);
  return [cmd, ...args].map(quote).join(' ');
}

/** Why a process could not start, from the spawn error's code. */
export function describeStartError(command: string, err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return `could not start \`${command}\`: no such file (ENOENT); the program is not installed or not where it was looked for`;
    case 'EACCES':
      return `could not start \`${command}\`: permission denied (EACCES); the file is not executable by this user`;
    case 'ENOEXEC':
      return `could not start \`${command}\`: not an executable file (ENOEXEC)`;
    default:
      return `could not start \`${command}\`: ${err.code ?? err.message}`;
  }
}

/** The last few non-empty lines of a process's output, or a phrase saying there was none. */
function outputTail(run: Pick<ToolRun, 'stdout' | 'stderr'>, lines = 8): string {
  const text = `${run.stderr}\n${run.stdout}`
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim().length > 0);
  return text.length === 0 ? '(no output)' : text.slice(-lines).join('\n');
}

/**
 * An exit code, explained when a shell or a wrapper (runuser, sudo) reports a program killed by
 * a signal as 128 + the signal's number.
 */
function exitCodeText(code: number | undefined): string {
  if (code === undefined) return 'unknown';
  const signal = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
  return code > 128 && signal
    ? `${code} (128 + ${code - 128}: the program was killed by ${signal})`
    : String(code);
}

/** One sentence for a run that did not succeed; undefined when it exited 0. */
export function describeFailure(run: ToolRun): string | undefined {
  if (run.startError?.code === 'ETIMEDOUT')
    return `\`${run.command}\` did not finish in time and was stopped: ${outputTail(run)}`;
  if (run.startError) return describeStartError(run.command, run.startError);
  if (run.signal) return `\`${run.command}\` was killed by signal ${run.signal}: ${outputTail(run)}`;
  if (run.code !== 0)
    return `\`${run.command}\` exited with code ${exitCodeText(run.code)}: ${outputTail(run)}`;
  return undefined;
}

/** Run `cmd` to completion (synchronously), capturing its output as text. */
export function runTool(
  cmd: string,
  args: readonly string[] = [],
  options: Omit<SpawnSyncOptions, 'encoding'> & { readonly display?: string } = {},
): ToolRun {
  const { display, ...spawnOptions } = options;
  const res = spawnSync(cmd, [...args], { timeout: 60_000, ...spawnOptions, encoding: 'utf8' });
  return {
    command: display ?? commandLine(cmd, args),
    code: res.error || res.signal ? undefined : (res.status ?? undefined),
    signal: res.signal ?? undefined,
    startError: res.error as NodeJS.ErrnoException | undefined,
    stdout: res.stdout ?? '',
    stderr: res.stderr ?? '',
  };
}
