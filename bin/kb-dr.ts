#!/usr/bin/env -S npx tsx
/**
 * kb-dr operator CLI. One module per command under cli/commands/; each takes a CliContext, so
 * this file only wires process streams, signals and exit codes.
 *
 * Exit codes (one mapping, cli/shared/exit-code.ts): 0 success; 1 failure (the error line says
 * what to do next); 2 the request was refused before anything changed (unknown option, invalid
 * or conflicting arguments, a refused backup file, no confirmation, another restore running,
 * or a deployed function's guard rail); 130 interrupted.
 */
import { Command, CommanderError } from 'commander';
import { KbDrError } from '../core/errors';
import { registerBackupCommand } from '../cli/commands/backup';
import { registerFindBackupCommand } from '../cli/commands/find-backup';
import { registerRecoverEntriesCommand } from '../cli/commands/recover-entries';
import { registerRestoreCommand } from '../cli/commands/restore';
import { registerRestoreTestsCommand } from '../cli/commands/restore-tests';
import { registerValidateCommand } from '../cli/commands/validate';
import type { CliContext } from '../cli/shared/context';
import { createCliLogger } from '../cli/shared/logger';
import { exitCodeOf } from '../cli/shared/exit-code';

/**
 * The commander program with every command registered, as `main` runs it. `setExit` receives the
 * exit code of the command that ran. Tests build it to check command lines without running them
 * (replace each command's action, parse, and inspect the options).
 */
export function buildProgram(ctx: CliContext, setExit: (code: number) => void): Command {
  const program = new Command('kb-dr')
    .description('Knowledge Base backup and disaster recovery')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)');
  registerBackupCommand(program, ctx, setExit);
  registerValidateCommand(program, ctx, setExit);
  registerRestoreCommand(program, ctx, setExit);
  registerFindBackupCommand(program, ctx, setExit);
  registerRecoverEntriesCommand(program, ctx, setExit);
  registerRestoreTestsCommand(program, ctx, setExit);
  return program;
}

/** Run the CLI with `argv` (without node and script); resolves to the exit code. */
export async function main(argv: readonly string[], ctx: CliContext): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(ctx, (code) => {
    exitCode = code;
  });

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return exitCodeOf(err);
    if (err instanceof KbDrError) {
      ctx.stderr.write(`error: ${err.userMessage}\n`);
      return exitCodeOf(err, ctx.signal);
    }
    const detail =
      err instanceof Error ? (ctx.env.LOG_LEVEL === 'DEBUG' ? err.stack : err.message) : String(err);
    ctx.stderr.write(`error: unexpected failure: ${detail}; re-run with LOG_LEVEL=DEBUG and report it\n`);
    return 1;
  }
}

if (require.main === module) {
  // The lockfile pins the SDK; its notice about releases after January 2027 needing Node 22 would
  // only add noise to every RDS command at 3 a.m.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const controller = new AbortController();
  // The first SIGINT/SIGTERM aborts the command, which stops its pg_dump/psql children and cleans
  // up (scratch database, partial files, the application started again). Later signals must not
  // kill the process half-way through that cleanup, so the handlers stay installed.
  const onSignal = (name: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`${name} received again: still cleaning up, please wait\n`);
      return;
    }
    process.stderr.write(`${name} received: stopping and cleaning up\n`);
    controller.abort(new Error(`interrupted by ${name}`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const ctx: CliContext = {
    env: process.env,
    logger: createCliLogger(),
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    signal: controller.signal,
  };
  void main(process.argv.slice(2), ctx).then((code) => {
    process.exitCode = code;
  });
}
