/**
 * What every CLI command gets from the entry point: environment, logger, output streams and a
 * way to ask the operator. Commands never read process.* themselves, so tests can drive them.
 */
import { GuardRailError } from '../../core/errors';
import type { CliLogger } from './logger';

export interface CliContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: CliLogger;
  /** Results for people or scripts (summaries, reports). Logs go to the logger (stderr). */
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Aborted on Ctrl-C. */
  readonly signal: AbortSignal;
}

/**
 * A confirmation function for `--yes` / interactive use. Without `--yes` and without a terminal
 * to ask on, it refuses at once rather than waiting for input that will never come.
 */
export function confirmer(ctx: CliContext, yes: boolean): (question: string) => Promise<boolean> {
  return async (question) => {
    if (yes) return true;
    if (!ctx.stdin.isTTY) {
      throw new GuardRailError('refusing to continue without confirmation: stdin is not a terminal', {
        hint: 're-run with --yes to confirm non-interactively',
      });
    }
    // Loaded when a prompt is shown: `--help` and refused command lines start without it.
    const { createInterface } = await import('node:readline/promises');
    const rl = createInterface({ input: ctx.stdin, output: ctx.stderr });
    try {
      // Ctrl-C at the prompt means no, not a silently paused prompt.
      const cancelled = new Promise<string>((resolve) => rl.once('SIGINT', () => resolve('')));
      const answer = await Promise.race([rl.question(`${question}\nType "yes" to continue: `), cancelled]);
      return /^y(es)?$/i.test(answer.trim());
    } finally {
      rl.close();
    }
  };
}
