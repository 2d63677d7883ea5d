/**
 * `planFor(argv)`: the plan a `kb-dr` command line would run, without running anything. The
 * command line goes through the CLI's own commander program (unknown commands and options,
 * missing values) and then the command's plan builder (every other check). The docs test calls
 * it on every documented command.
 */
import { PassThrough } from 'node:stream';
import { CommanderError, type Command } from 'commander';
import { ValidationError } from '../../core/errors';
import { planFindBackup, type FindBackupFlags, type FindBackupPlan } from '../commands/find-backup';
import { buildProgram } from '../commands/program';
import {
  planRecoverEntries,
  type RecoverEntriesFlags,
  type RecoverEntriesPlan,
} from '../commands/recover-entries';
import { planRestoreTests, type RestoreTestsFlags, type RestoreTestsPlan } from '../commands/restore-tests';
import type { CliContext } from '../shared/context';
import { silentLogger } from '../shared/logger';
import {
  planBackup,
  planValidate,
  type BackupFlags,
  type BackupPlan,
  type ValidateFlags,
  type ValidatePlan,
} from './backup';
import type { Env } from './checks';
import { planRestore, type RestoreFlags, type RestorePlan } from './restore';

/** A command line's plan, by command; `help` when it only prints help or the version. */
export type PlannedCommand =
  | { readonly command: 'backup'; readonly plan: BackupPlan }
  | { readonly command: 'validate'; readonly plan: ValidatePlan }
  | { readonly command: 'restore'; readonly plan: RestorePlan }
  | { readonly command: 'find-backup'; readonly plan: FindBackupPlan }
  | { readonly command: 'recover-entries'; readonly plan: RecoverEntriesPlan }
  | { readonly command: 'restore-tests'; readonly plan: RestoreTestsPlan }
  | { readonly command: 'help' };

/** Each command's plan builder, from the options commander parsed. */
function plan(command: string, flags: Record<string, unknown>, env: Env): PlannedCommand {
  switch (command) {
    case 'backup':
      return { command, plan: planBackup(flags as BackupFlags, env) };
    case 'validate':
      return { command, plan: planValidate(flags as ValidateFlags) };
    case 'restore':
      return { command, plan: planRestore(flags as RestoreFlags, env) };
    case 'find-backup':
      return { command, plan: planFindBackup(flags as FindBackupFlags, env) };
    case 'recover-entries':
      return { command, plan: planRecoverEntries(flags as RecoverEntriesFlags, env) };
    case 'restore-tests':
      return { command, plan: planRestoreTests(flags as RestoreTestsFlags, env) };
    default:
      throw new Error(`planFor: no plan builder for the command ${command}`);
  }
}

/**
 * The plan `kb-dr <argv>` would run with environment `env`. Throws the refusal the CLI would print
 * (a KbDrError; commander's complaints become a ValidationError with commander's message), exit 2.
 */
export async function planFor(argv: readonly string[], env: Env = {}): Promise<PlannedCommand> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let errors = '';
  stderr.on('data', (d: Buffer) => (errors += d.toString()));
  stdout.resume();
  const ctx: CliContext = {
    env,
    logger: silentLogger,
    stdout,
    stderr,
    stdin: Object.assign(new PassThrough(), { isTTY: false }),
    signal: new AbortController().signal,
  };
  const program = buildProgram(ctx, () => undefined);
  let ran: { command: string; flags: Record<string, unknown> } | undefined;
  for (const command of program.commands as Command[]) {
    command.action((flags: Record<string, unknown>) => {
      ran = { command: command.name(), flags };
    });
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    if (err.exitCode === 0) return { command: 'help' };
    // commander's own lines: "error: unknown option '--snapshotid=latest'" and "(Did you mean --snapshot-id?)".
    const message =
      err.code === 'commander.help'
        ? 'no command given'
        : errors
            .split('\n')
            .map((l) => l.replace(/^error: /, '').trim())
            .filter((l) => l && !l.startsWith('(run with --help'))
            .join(' ') || err.message;
    throw new ValidationError(message, err.code, { hint: 'run with --help for usage', cause: err });
  }
  if (!ran) throw new ValidationError('no command given', 'command', { hint: 'run with --help for usage' });
  return plan(ran.command, ran.flags, env);
}
