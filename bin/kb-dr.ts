#!/usr/bin/env -S npx tsx
/**
 * kb-dr operator CLI. One module per command under cli/commands/, each `run(plan(flags))` with
 * its plan built by cli/plans/; this file only wires process streams, signals and exit codes.
 *
 * Exit codes (one mapping, cli/shared/exit-code.ts): 0 success; 1 failure (the error line says
 * what to do next); 2 the request was refused before anything changed (unknown option, invalid
 * or conflicting arguments, a refused backup file, no confirmation, another restore running,
 * or a deployed function's guard rail); 130 interrupted.
 */
import { buildProgram } from '../cli/commands/program';
import type { CliContext } from '../cli/shared/context';
import { createCliLogger } from '../cli/shared/logger';
import { reportFailure } from '../cli/shared/exit-code';

export { buildProgram } from '../cli/commands/program';

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
    return reportFailure(err, ctx);
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
