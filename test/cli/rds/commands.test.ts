/** The RDS flags of the CLI commands: validation, exit codes, output, and the wiring through `main`. */
import { main } from '../../../bin/kb-dr';
import { runRdsPlan } from '../../../cli/commands/rds';
import { planValidate } from '../../../cli/plans/backup';
import { planRestore, type RestoreFlags } from '../../../cli/plans/restore';
import type { Invoker } from '../../../cli/rds/invoke';
import type { RdsIo } from '../../../cli/rds/operations';
import type { MotoServer } from '../../../harness/moto';
import { sharedMoto } from '../../support/shared-services';
import { fakeContext as context, type FakeContext } from '../shared/fake-context';
import { fakeIo, fakeSession, recordingInvoker, scriptedInvoker as scripted } from './fake-session';

/** Plan the flags as the CLI does for `restore --rds ...`, then run the plan with a fake session. */
async function restore(
  ctx: FakeContext,
  flags: RestoreFlags,
  deps: { invoker: Invoker; io?: RdsIo },
): Promise<number> {
  const plan = planRestore({ rds: true, ...flags }, ctx.env);
  if (plan.mode !== 'rds') throw new Error(`not an RDS plan: ${plan.kind}`);
  return runRdsPlan(ctx, plan, fakeSession(ctx, deps.invoker, deps.io));
}

const VERIFIED = {
  ok: true,
  targetInstanceId: 'kb-restore-1',
  outcome: 'PASS',
  summary: 'verified: 2,000 entries, as recorded at backup; newest entry 01:59:58Z',
  report: [
    'PASS database accessible: connected',
    'PASS entry counts: knowledge_entries 2,000; embedding_cache 500',
  ],
  fromStore: false,
};

const io = fakeIo();

describe('restore --rds flags', () => {
  it('prints the refusal and exits 2 when the function refuses (a production id only the deployment knows)', async () => {
    const ctx = context();
    const invoker = scripted({
      'restore-snapshot': [
        {
          ok: false,
          error: 'targetInstanceId "kb-restore-replica" is a production instance',
          hint: 'restore to a new instance first',
          errorType: 'GuardRailError',
          retryable: false,
          nothingChanged: true,
        },
      ],
    });
    const code = await restore(
      ctx,
      { snapshotId: 'latest', targetInstance: 'kb-restore-replica', yes: true },
      { invoker, io },
    );
    expect(code).toBe(2);
    expect(ctx.err()).toBe(
      'error: targetInstanceId "kb-restore-replica" is a production instance; restore to a new instance first\n',
    );
    expect(invoker.calls).toEqual(['restore-snapshot']);
  });

  it('exits 2 on a NotFound refusal too, even from a function that does not send nothingChanged', async () => {
    const ctx = context();
    const invoker = scripted({
      'restore-snapshot': [
        {
          ok: false,
          error: 'snapshotId "kb-snapshot-20261122-020000" not found in this account and region',
          hint: 'list kb-dr backups; nothing was changed',
          errorType: 'NotFoundError',
          retryable: false,
          // As a function deployed before every refusal carried nothingChanged answers.
        },
      ],
    });
    const code = await restore(
      ctx,
      { snapshotId: 'kb-snapshot-20261122-020000', targetInstance: 'kb-restore-1', yes: true },
      { invoker, io },
    );
    expect(code).toBe(2);
    expect(ctx.err()).toMatch(/^error: snapshotId .* not found/);
  });

  it('passes --source-instance to restore-snapshot (a backup of another protected instance) and shows the carried-over settings', async () => {
    const ctx = context();
    const events: Record<string, unknown>[] = [];
    const lines: string[] = [];
    const plan = {
      ok: true,
      action: 'plan',
      snapshot: {
        id: 'kb-snapshot-20261122-020000',
        resolvedFrom: 'id',
        sourceInstanceId: 'kb-prod-replica',
      },
      protectedInstanceId: 'kb-prod-replica',
      targetInstanceId: 'kb-restore-1',
      settings: {
        vpcSecurityGroupIds: [],
        storageEncrypted: true,
        storageType: 'gp3',
        iamDatabaseAuthentication: true,
        cloudwatchLogsExports: ['postgresql'],
        caCertificateIdentifier: 'rds-ca-rsa2048-g1',
      },
      tags: { copied: ['team'], dropped: [] },
      warnings: [],
    };
    const status = {
      ok: true,
      targetInstanceId: 'kb-restore-1',
      state: 'available',
      phase: 'available',
      todo: [],
      rto: {},
      restoredFrom: {},
    };
    const invoker: Invoker = async (fn, event) => {
      events.push({ fn, ...event });
      if (fn === 'verify-restore') return VERIFIED;
      return fn === 'restore-status' ? status : plan;
    };
    const code = await restore(
      ctx,
      {
        snapshotId: 'kb-snapshot-20261122-020000',
        targetInstance: 'kb-restore-1',
        sourceInstance: 'kb-prod-replica',
        yes: true,
      },
      { invoker, io: { ...io, progress: (l) => void lines.push(l) } },
    );
    expect(code).toBe(0);
    expect(events.filter((e) => e.fn === 'restore-snapshot')).toEqual([
      expect.objectContaining({ sourceInstanceId: 'kb-prod-replica', dryRun: true }),
      expect.objectContaining({ sourceInstanceId: 'kb-prod-replica', confirm: true }),
    ]);
    const shown = lines.join('\n');
    expect(shown).toContain('IAM auth:         on');
    expect(shown).toContain('log exports:      postgresql');
    expect(shown).toContain('CA certificate:   rds-ca-rsa2048-g1');
    expect(shown).toContain('source tags:      team');
  });

  it('does not promote a restore that failed', async () => {
    const ctx = context({ KB_DB_INSTANCE_ID: 'kb-prod' });
    const plan = {
      ok: true,
      action: 'plan',
      snapshot: { id: 'kb-snapshot-20261122-020000', resolvedFrom: 'id' },
      targetInstanceId: 'kb-restore-1',
      settings: { vpcSecurityGroupIds: [], storageEncrypted: true },
      warnings: [],
    };
    const invoker = scripted({
      'restore-snapshot': [plan, { ...plan, action: 'started' }],
      'restore-status': [
        {
          ok: true,
          targetInstanceId: 'kb-restore-1',
          state: 'incompatible-restore',
          phase: 'failed',
          todo: ['read the events'],
          rto: {},
          restoredFrom: {},
        },
      ],
    });
    const code = await restore(
      ctx,
      {
        snapshotId: 'kb-snapshot-20261122-020000',
        targetInstance: 'kb-restore-1',
        forceProduction: true,
        yes: true,
      },
      { invoker, io },
    );
    expect(code).toBe(1);
    expect(invoker.calls).not.toContain('promote-restore');
    expect(ctx.err()).toContain('not promoting it');
  });
});

describe('restore --force-production --allow-encryption-mismatch', () => {
  it.each([
    [
      'without --force-production',
      { snapshotId: 'latest', allowEncryptionMismatch: 'key deleted' },
      'only applies to a promotion',
    ],
    ['with an empty reason', { forceProduction: true, allowEncryptionMismatch: '  ' }, 'needs a reason'],
  ])('is refused %s, before any call', async (_what, extra, message) => {
    const invoker = scripted({});
    await expect(
      restore(
        context({ KB_DB_INSTANCE_ID: 'kb-prod' }),
        { targetInstance: 'kb-restore-1', yes: true, ...extra },
        { invoker, io },
      ),
    ).rejects.toThrow(message);
    expect(invoker.calls).toEqual([]);
  });

  it('sends the override and its reason with both the plan and the promotion', async () => {
    // Prepare
    const answer = {
      ok: true,
      restoredInstanceId: 'kb-restore-1',
      productionInstanceId: 'kb-prod',
      steps: ['rename kb-prod aside', 'rename kb-restore-1 to kb-prod'],
      next: ['point the application at kb-prod'],
    };
    const invoker = recordingInvoker(() => answer);
    const { events } = invoker;

    // Act
    const code = await restore(
      context({ KB_DB_INSTANCE_ID: 'kb-prod' }),
      {
        targetInstance: 'kb-restore-1',
        forceProduction: true,
        allowEncryptionMismatch: ' production key was deleted ',
        yes: true,
      },
      { invoker, io },
    );

    // Assess
    expect(code).toBe(0);
    expect(events.map((e) => e.fn)).toEqual(['promote-restore', 'promote-restore']);
    for (const { event } of events) {
      expect(event).toMatchObject({ allowEncryptionMismatch: true, reason: 'production key was deleted' });
    }
    expect(events[0]?.event.dryRun).toBe(true);
    expect(events[1]?.event.confirm).toBe(true);
  });
});

describe('validate --snapshot-id', () => {
  it('prints the report and exits 1 on FAIL', async () => {
    const ctx = context();
    const invoker = scripted({
      'validate-backup': [
        {
          ok: false,
          result: 'FAIL',
          snapshotId: 'kb-snapshot-20261122-020000',
          report: ['PASS a: x', 'FAIL b: y'],
          checks: [],
          error: 'e',
          hint: 'h',
          errorType: 'BackupValidationFailed',
          retryable: false,
        },
      ],
    });
    const plan = planValidate({ snapshotId: 'latest' });
    if (plan.mode !== 'rds') throw new Error('not an RDS plan');
    expect(await runRdsPlan(ctx, plan, fakeSession(ctx, invoker))).toBe(1);
    expect(invoker.calls).toEqual(['validate-backup']);
    expect(ctx.out()).toBe('PASS a: x\nFAIL b: y\nRESULT: FAIL (kb-snapshot-20261122-020000)\n');
  });
});

describe('main wiring to the deployed functions (moto answers on loopback)', () => {
  let moto: MotoServer;
  beforeAll(async () => {
    moto = await sharedMoto({ applyToProcessEnv: true });
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('invokes kb-dr-validate-backup and says how to deploy when it does not exist', async () => {
    const ctx = context({ ...moto.env });
    const code = await main(['validate', '--snapshot-id=latest'], ctx);
    expect(code).toBe(1);
    expect(ctx.err()).toMatch(
      /^error: invoke kb-dr-validate-backup failed: ResourceNotFoundException.*cdk deploy --all/,
    );
  });

  it('refuses --pitr with --local before any call', async () => {
    const ctx = context({ ...moto.env });
    const code = await main(
      ['restore', '--pitr', '--local', '--target-time=latest', '--target-instance=kb-restore-1'],
      ctx,
    );
    expect(code).toBe(2);
    expect(ctx.err()).toContain('--pitr restores the RDS instance; it excludes --local');
  });
});

describe('restore --rds ends with the verification of the restored data', () => {
  const plan = {
    ok: true,
    action: 'plan',
    snapshot: { id: 'kb-snapshot-20261122-020000', resolvedFrom: 'id' },
    targetInstanceId: 'kb-restore-1',
    settings: { vpcSecurityGroupIds: [], storageEncrypted: true },
    warnings: [],
  };
  const available = {
    ok: true,
    targetInstanceId: 'kb-restore-1',
    state: 'available',
    phase: 'available',
    todo: [],
    rto: {},
    restoredFrom: {},
  };
  const restoreWith = (verify: unknown, extra: Record<string, unknown> = {}) => {
    const invoker = scripted({
      'restore-snapshot': [plan, { ...plan, action: 'started' }],
      'restore-status': [available],
      'verify-restore': [verify],
    });
    const ctx = context({ KB_DB_INSTANCE_ID: 'kb-prod' });
    const run = restore(
      ctx,
      { snapshotId: 'kb-snapshot-20261122-020000', targetInstance: 'kb-restore-1', yes: true, ...extra },
      { invoker, io },
    );
    return { invoker, ctx, run };
  };

  it('PASS: prints the summary and each check, exits 0', async () => {
    const { ctx, run, invoker } = restoreWith(VERIFIED);
    expect(await run).toBe(0);
    expect(invoker.calls).toEqual([
      'restore-snapshot',
      'restore-snapshot',
      'restore-status',
      'verify-restore',
    ]);
    expect(ctx.out()).toContain(
      'verification: verified: 2,000 entries, as recorded at backup; newest entry 01:59:58Z\n  PASS database accessible: connected\n  PASS entry counts:',
    );
  });

  it('FAIL: prints the failing checks and exits 1, and a --force-production restore is not promoted', async () => {
    const failed = {
      ...VERIFIED,
      outcome: 'FAIL',
      summary: 'verification FAILED: Knowledge Base tables present: missing public.embedding_cache',
      report: [
        'PASS database accessible: connected',
        'FAIL Knowledge Base tables present: missing public.embedding_cache',
      ],
    };
    const { ctx, run, invoker } = restoreWith(failed, { forceProduction: true });
    expect(await run).toBe(1);
    expect(ctx.out()).toContain('  FAIL Knowledge Base tables present: missing public.embedding_cache');
    expect(ctx.err()).toContain('the data checks of kb-restore-1 FAILED: not promoting it');
    expect(invoker.calls).not.toContain('promote-restore');
  });

  it('not configured: says "not verified", never a pass, and exits 0', async () => {
    const { ctx, run } = restoreWith({
      ...VERIFIED,
      outcome: 'NOT_CONFIGURED',
      summary:
        'not verified: verification is not configured (see docs/DISASTER-RECOVERY-RUNBOOK.md#verifying-a-restored-instance)',
      report: ['SKIP database accessible: not run: verification is not configured'],
    });
    expect(await run).toBe(0);
    expect(ctx.out()).toContain('verification: not verified: verification is not configured');
    expect(ctx.out()).not.toMatch(/verification: verified/);
  });

  it('verify-restore failing to run: "not verified" with the reason, not a pass', async () => {
    const { ctx, run } = restoreWith({
      ok: false,
      error: 'Function not found: kb-dr-verify-restore',
      hint: 'deploy',
      errorType: 'NotFoundError',
      retryable: false,
    });
    expect(await run).toBe(0);
    expect(ctx.out()).toContain(
      'verification: not verified: verify-restore could not run (Function not found: kb-dr-verify-restore)',
    );
  });
});
