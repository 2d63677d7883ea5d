/**
 * The one mapping from an outcome to the CLI's exit code, used by bin/kb-dr.ts and the RDS
 * commands, so the same refusal exits the same way locally and remotely:
 * 0 success; 2 refused and nothing was changed; 130 interrupted; 1 anything else.
 */
import { CommanderError } from 'commander';
import { GuardRailError, KbDrError, ValidationError } from '../../core/errors';
import type { CliContext } from './context';

/**
 * A deployed function's failure answer, as cli/rds/invoke.ts's RemoteFailureError carries it (its
 * exitCode is handler-response's exitCodeFor). Recognised by name, not imported: the RDS side
 * loads the AWS SDK, and local commands must start without it (test/cli/build.test.ts).
 */
function remoteExitCode(err: unknown): number | undefined {
  if (!(err instanceof KbDrError) || err.name !== 'RemoteFailureError') return undefined;
  const code = (err as { readonly exitCode?: unknown }).exitCode;
  return typeof code === 'number' ? code : undefined;
}

export const EXIT = { ok: 0, failed: 1, refused: 2, interrupted: 130 } as const;

/** The exit code for `err`; `signal` aborted means the operator interrupted the command. */
export function exitCodeOf(err: unknown, signal?: AbortSignal): number {
  if (signal?.aborted) return EXIT.interrupted;
  // commander: --help and --version exit 0; an unknown option or a missing value is a refusal.
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.refused;
  // A deployed function's answer: `nothingChanged` (or a refusal's errorType) is 2.
  const remote = remoteExitCode(err);
  if (remote !== undefined) return remote;
  // Locally: invalid input, a guard rail (no confirmation, another restore running), or an error
  // that says itself nothing was changed. A missing resource (a function not deployed) is a failure.
  if (err instanceof KbDrError) return isLocalRefusal(err) ? EXIT.refused : EXIT.failed;
  return EXIT.failed;
}

function isLocalRefusal(err: KbDrError): boolean {
  return (
    err instanceof ValidationError ||
    err instanceof GuardRailError ||
    (err as { nothingChanged?: unknown }).nothingChanged === true
  );
}

/**
 * A command's failure, reported once: one `error:` line on stderr (the operator-facing message,
 * or "unexpected failure" with the stack under LOG_LEVEL=DEBUG), and its exit code (exitCodeOf).
 */
export function reportFailure(err: unknown, ctx: Pick<CliContext, 'stderr' | 'env' | 'signal'>): number {
  if (err instanceof CommanderError) return exitCodeOf(err); // commander printed it already
  if (err instanceof KbDrError) {
    ctx.stderr.write(`error: ${err.userMessage}\n`);
    return exitCodeOf(err, ctx.signal);
  }
  const detail =
    err instanceof Error ? (ctx.env.LOG_LEVEL === 'DEBUG' ? err.stack : err.message) : String(err);
  ctx.stderr.write(`error: unexpected failure: ${detail}; re-run with LOG_LEVEL=DEBUG and report it\n`);
  return exitCodeOf(err, ctx.signal);
}
