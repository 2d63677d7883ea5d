/**
 * Optional application stop/start around the database swap (KB_APP_STOP_COMMAND,
 * KB_APP_START_COMMAND), e.g. `docker compose stop api`. Run with `sh -c` in the caller's cwd, in
 * a process group of its own, and always waited for.
 */
import { spawn } from 'node:child_process';
import { KbDrError } from '../../core/errors';
import type { CliLogger } from '../shared/logger';

export class AppCommandError extends KbDrError {
  override readonly name = 'AppCommandError';
}

/** Run an operator-configured shell command; throws AppCommandError on a non-zero exit. */
export async function runAppCommand(
  command: string,
  what: 'stop' | 'start',
  envName: string,
  logger: CliLogger,
): Promise<void> {
  logger.info(`running the application ${what} command`, { command });
  // Its own process group: a Ctrl-C at the terminal reaches the CLI, which decides what to do,
  // not the stop/start command half-way (a half-run stop would leave the application stopped).
  const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const collect = (d: Buffer) => {
    if (output.length < 8192) output += d.toString('utf8');
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const code = await new Promise<number | null>((resolve) => {
    child.on('error', () => resolve(127));
    child.on('close', (c) => resolve(c));
  });
  if (output.trim()) logger.info(`application ${what} command output`, { output: output.trim() });
  if (code !== 0) {
    throw new AppCommandError(`the application ${what} command failed with exit code ${code}`, {
      hint: `fix ${envName} (currently \`${command}\`) so it exits 0`,
    });
  }
}
