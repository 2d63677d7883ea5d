/** Building the RDS operations' invoker and terminal IO from the CLI context. */
import { LambdaClient } from '@aws-sdk/client-lambda';
import { ValidationError } from '../../core/errors';
import { confirmer, type CliContext } from '../shared/context';
import { RemoteFailureError, functionNameFor, lambdaInvoker, type Invoker, type RdsFunction } from './invoke';
import type { PollOptions, RdsIo } from './operations';
import { exitCodeOf } from '../shared/exit-code';

/** Seconds between restore-status polls. */
export const POLL_SECONDS_ENV = 'KB_RESTORE_POLL_SECONDS';

/** The invoker for the deployed functions; checks the function names before any AWS call. */
export function deployedInvoker(ctx: CliContext, uses: readonly RdsFunction[]): Invoker {
  for (const fn of uses) functionNameFor(fn, ctx.env);
  return lambdaInvoker(new LambdaClient({ maxAttempts: 3 }), ctx.env);
}

/** Terminal IO: confirmation on stdin (or --yes), progress on stderr, sleeps that end on Ctrl-C. */
export function terminalIo(ctx: CliContext, yes: boolean): RdsIo {
  const ask = confirmer(ctx, yes);
  return {
    confirm: ask,
    progress: (line) => void ctx.stderr.write(`${line}\n`),
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
      }),
    signal: ctx.signal,
  };
}

/** Polling settings from the environment. */
export function pollOptions(ctx: CliContext): PollOptions {
  const raw = ctx.env[POLL_SECONDS_ENV]?.trim();
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

/**
 * Run an RDS command body; a function's refusal or failure is printed as one error line and
 * becomes the exit code (2: refused, nothing changed; 1: failed). Other errors go to the entry point.
 */
export async function runRds(ctx: CliContext, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof RemoteFailureError) {
      ctx.stderr.write(`error: ${err.userMessage}\n`);
      return exitCodeOf(err, ctx.signal);
    }
    throw err;
  }
}
