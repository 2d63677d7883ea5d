/**
 * The commander program with every command registered. Each command's action is
 * `run(plan(flags))`: the plan builder checks everything before the run function does anything.
 */
import { Command } from 'commander';
import { registerBackupCommand } from './backup';
import { registerFindBackupCommand } from './find-backup';
import { registerRecoverEntriesCommand } from './recover-entries';
import { registerRestoreCommand } from './restore';
import { registerRestoreTestsCommand } from './restore-tests';
import { registerValidateCommand } from './validate';
import type { CliContext } from '../shared/context';

/**
 * The program as `main` runs it. `setExit` receives the exit code of the command that ran. To
 * check a command line without running it, use planFor (cli/plans/plan-for.ts).
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
