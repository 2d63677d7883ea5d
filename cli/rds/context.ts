/**
 * The RDS session: the invoker of the deployed functions, the terminal (confirmation, progress,
 * sleeps that end on Ctrl-C) and the polling settings, built once per command from the CLI
 * context and passed to the RDS commands. Tests build a fake one (test/cli/rds/fake-session.ts).
 */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ValidationError } from '../../core/errors';
import { confirmer, type CliContext } from '../shared/context';
import { functionNameFor, lambdaInvoker, type Invoker, type RdsFunction } from './invoke';
import type { PollOptions, RdsIo } from './operations';

/** Seconds between restore-status polls. */
export const POLL_SECONDS_ENV = 'KB_RESTORE_POLL_SECONDS';

/** What an RDS command works with; nothing else reaches AWS or the terminal. */
export interface RdsSession {
  readonly invoke: Invoker;
  readonly io: RdsIo;
  readonly poll: PollOptions;
  /** Results (summaries, reports). */
  readonly stdout: NodeJS.WritableStream;
  /** Error lines (`error: ...`). */
  readonly stderr: NodeJS.WritableStream;
}

/**
 * The session for a command that invokes `uses` (their names are checked before any AWS call)
 * and confirms with `yes` or on the terminal. The polling setting is read only when the command
 * follows a restore (`restore-status`).
 */
export function createRdsSession(ctx: CliContext, uses: readonly RdsFunction[], yes: boolean): RdsSession {
  for (const fn of uses) functionNameFor(fn, ctx.env);
  const poll = uses.includes('restore-status') ? pollOptions(ctx.env) : {};
  return {
    invoke: lambdaInvoker(new LambdaClient({ maxAttempts: 3 }), ctx.env),
    io: terminalIo(ctx, yes),
    poll,
    stdout: ctx.stdout,
    stderr: ctx.stderr,
  };
}

/** Terminal IO: confirmation on stdin (or --yes), progress on stderr, sleeps that end on Ctrl-C. */
function terminalIo(ctx: CliContext, yes: boolean): RdsIo {
  return {
    confirm: confirmer(ctx, yes),
    progress: (line) => void ctx.stderr.write(`${line}\n`),
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      }),
    signal: ctx.signal,
  };
}

/** Polling settings from $KB_RESTORE_POLL_SECONDS (1-3600). */
export function pollOptions(env: CliContext['env']): PollOptions {
  const raw = env[POLL_SECONDS_ENV]?.trim();
  if (!raw) return {};
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 3600) {
    throw new ValidationError(
      `${POLL_SECONDS_ENV}=${raw} is not a number of seconds from 1 to 3600`,
      POLL_SECONDS_ENV,
      {
        hint: `e.g. ${POLL_SECONDS_ENV}=30`,
      },
    );
  }
  return { pollIntervalMs: seconds * 1000 };
}
