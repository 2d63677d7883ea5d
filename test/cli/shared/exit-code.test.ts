/** One exit-code mapping for the binary and the RDS commands: a refusal exits 2 locally and remotely. */
import { CommanderError } from 'commander';
import {
  AlreadyExistsError,
  AwsOperationError,
  GuardRailError,
  NotFoundError,
  ValidationError,
} from '../../../core/errors';
import { EXIT, exitCodeOf } from '../../../cli/shared/exit-code';
import { RemoteFailureError } from '../../../cli/rds/invoke';
import { toFailure } from '../../../lambda/shared/handler-response';
import { main } from '../../../bin/kb-dr';
import { runRdsPlan } from '../../../cli/commands/rds';
import { planRestore } from '../../../cli/plans/restore';
import { confirmer } from '../../../cli/shared/context';
import { fakeContext } from './fake-context';
import { fakeSession, recordingInvoker, scriptedInvoker } from '../rds/fake-session';

const aborted = (): AbortSignal => {
  const c = new AbortController();
  c.abort();
  return c.signal;
};

describe('exitCodeOf', () => {
  it.each([
    ['a local ValidationError', new ValidationError('bad', 'x'), 2],
    ['a local GuardRailError', new GuardRailError('no'), 2],
    ['a local NotFoundError (e.g. a function not deployed)', new NotFoundError('none'), 1],
    ['a local AlreadyExistsError', new AlreadyExistsError('exists'), 1],
    [
      'an error saying nothing was changed',
      Object.assign(new AwsOperationError('refused'), { nothingChanged: true }),
      2,
    ],
    ['an AWS failure', new AwsOperationError('5xx'), 1],
    ['a plain Error', new Error('bug'), 1],
    ['commander --help', new CommanderError(0, 'commander.helpDisplayed', ''), 0],
    ['an unknown option', new CommanderError(1, 'commander.unknownOption', 'nope'), 2],
  ])('%s exits %i', (_what, err, code) => {
    expect(exitCodeOf(err)).toBe(code);
  });

  it('exits the same way for the same refusal answered by a deployed function', () => {
    const local = new GuardRailError('"confirm" must be true');
    const remote = new RemoteFailureError('restore-pitr', toFailure(local));
    expect(exitCodeOf(remote)).toBe(exitCodeOf(local));
    expect(exitCodeOf(remote)).toBe(EXIT.refused);
    expect(exitCodeOf(new RemoteFailureError('restore-pitr', toFailure(new AwsOperationError('x'))))).toBe(1);
  });

  it('exits 130 once the operator interrupted, whatever the error', () => {
    expect(exitCodeOf(new ValidationError('bad', 'x'), aborted())).toBe(130);
    expect(exitCodeOf(new Error('x'), aborted())).toBe(130);
  });
});

describe('the same refusal exits the same way locally and remotely (binary and RDS commands)', () => {
  const SNAPSHOT_PLAN = {
    ok: true,
    action: 'plan',
    snapshot: { id: 'kb-snapshot-20261122-020000', resolvedFrom: 'id' },
    targetInstanceId: 'kb-restore-1',
    settings: { vpcSecurityGroupIds: [], storageEncrypted: true },
    warnings: [],
  };
  const snapshotRestore = (yes: boolean) => {
    const plan = planRestore(
      { rds: true, snapshotId: 'kb-snapshot-20261122-020000', targetInstance: 'kb-restore-1', yes },
      {},
    );
    if (plan.mode !== 'rds') throw new Error('not an RDS plan');
    return plan;
  };

  it('no confirmation: refused by the CLI prompt (no terminal, no --yes) or by the function, exit 2 both ways', async () => {
    // Prepare: locally, the real prompt on a context without a terminal; remotely, the function refuses.
    const local = fakeContext();
    const localInvoker = recordingInvoker((_fn, event) => (event.dryRun ? SNAPSHOT_PLAN : undefined));
    const localIo = { confirm: confirmer(local, false), progress: () => {}, sleep: async () => {} };
    const remote = fakeContext();
    const remoteInvoker = scriptedInvoker({
      'restore-snapshot': [
        SNAPSHOT_PLAN,
        toFailure(new GuardRailError('"confirm" must be true to restore', { hint: 'nothing was changed' })),
      ],
    });

    // Act
    const localCode = await runRdsPlan(
      local,
      snapshotRestore(false),
      fakeSession(local, localInvoker, localIo),
    );
    const remoteCode = await runRdsPlan(remote, snapshotRestore(true), fakeSession(remote, remoteInvoker));

    // Assess: same code, one error line each, and locally nothing but the dry run was sent.
    expect(localCode).toBe(EXIT.refused);
    expect(remoteCode).toBe(EXIT.refused);
    expect(local.err()).toMatch(
      /^error: refusing to continue without confirmation: stdin is not a terminal; re-run with --yes/,
    );
    expect(remote.err()).toBe('error: "confirm" must be true to restore; nothing was changed\n');
    expect(localInvoker.events).toEqual([
      { fn: 'restore-snapshot', event: expect.objectContaining({ dryRun: true }) },
    ]);
  });

  it('an impossible time: refused by the binary before any call, or by the function, exit 2 with one error line both ways', async () => {
    // Prepare
    const local = fakeContext();
    const remote = fakeContext();
    const invalid = new ValidationError(
      'targetTime "2026-02-30T01:30:00Z" is not a real time: February 2026 has 28 days',
      'targetTime',
      {
        hint: 'fix the time and run again; nothing was changed',
      },
    );
    const remoteInvoker = scriptedInvoker({ 'restore-pitr': [toFailure(invalid)] });
    const plan = planRestore(
      { pitr: true, targetTime: 'latest', targetInstance: 'kb-restore-1', yes: true },
      {},
    );
    if (plan.mode !== 'rds') throw new Error('not an RDS plan');

    // Act
    const localCode = await main(
      ['restore', '--pitr', '--target-time=2026-02-30T01:30:00Z', '--target-instance=kb-restore-1', '--yes'],
      local,
    );
    const remoteCode = await runRdsPlan(remote, plan, fakeSession(remote, remoteInvoker));

    // Assess
    expect([localCode, remoteCode]).toEqual([EXIT.refused, EXIT.refused]);
    expect(local.err()).toMatch(
      /^error: --target-time "2026-02-30T01:30:00Z" is not a real time: February 2026 has 28 days.*nothing was changed\n$/,
    );
    expect(remote.err()).toBe(`error: ${invalid.userMessage}\n`);
  });

  it('an interrupted RDS command exits 130, as the binary does', async () => {
    const ctx = fakeContext({}, { signal: aborted() });
    const invoker = recordingInvoker(() => {
      throw new Error('socket closed');
    });
    expect(await runRdsPlan(ctx, snapshotRestore(true), fakeSession(ctx, invoker))).toBe(EXIT.interrupted);
  });
});
