/**
 * The plans of backup, validate and restore, built from the flags before anything is touched: one
 * line per input a hostile (or tired) operator types. `planFor` takes a whole command line
 * through the CLI's own commander program first, as the binary does.
 */
import { ValidationError } from '../../core/errors';
import { planBackup, planValidate } from '../../cli/plans/backup';
import { planFor } from '../../cli/plans/plan-for';
import { planRestore, type RestoreFlags } from '../../cli/plans/restore';

const ENV = { KB_DB_INSTANCE_ID: 'kb-prod' };

const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).userMessage;
  }
  throw new Error('not refused');
};

const refusalOf = async (argv: string[], env: Record<string, string> = ENV): Promise<string> => {
  const err = await planFor(argv, env).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).userMessage;
};

describe('planRestore refuses before anything is touched', () => {
  const rds = (flags: RestoreFlags): RestoreFlags => ({
    rds: true,
    targetInstance: 'kb-restore-1',
    ...flags,
  });
  it.each<[string, RestoreFlags, RegExp]>([
    ['neither --local nor --rds', { backupFile: 'f' }, /say where to act/],
    ['--local and --rds', { local: true, rds: true, backupFile: 'f' }, /exclude each other/],
    [
      '--pitr with --local',
      { pitr: true, local: true },
      /--pitr restores the RDS instance; it excludes --local/,
    ],
    ['--local without a file or --rollback', { local: true }, /either --backup-file=FILE or --rollback/],
    [
      '--backup-file and --rollback',
      { local: true, backupFile: 'f', rollback: true },
      /either --backup-file/,
    ],
    [
      '--rollback with --allow-small',
      { local: true, rollback: true, allowSmall: true },
      /--allow-small does not apply to a rollback/,
    ],
    [
      '--rollback with --portable',
      { local: true, rollback: true, portable: true },
      /--portable does not apply/,
    ],
    [
      '--local with --snapshot-id',
      { local: true, backupFile: 'f', snapshotId: 'latest' },
      /--snapshot-id does not apply to a local restore/,
    ],
    [
      '--local with --target-instance',
      { local: true, rollback: true, targetInstance: 'kb-restore-1' },
      /--target-instance does not apply/,
    ],
    [
      '--rds with --backup-file',
      rds({ snapshotId: 'latest', backupFile: 'f' }),
      /--backup-file does not apply to an RDS restore/,
    ],
    [
      '--pitr with --trusted-file',
      rds({ pitr: true, targetTime: 'latest', trustedFile: true }),
      /--trusted-file does not apply/,
    ],
    ['--rds without --target-instance', { rds: true, snapshotId: 'latest' }, /--target-instance is required/],
    [
      'a blank --target-instance',
      { rds: true, snapshotId: 'latest', targetInstance: '  ' },
      /--target-instance is required/,
    ],
    [
      '--pitr and --snapshot-id',
      rds({ pitr: true, snapshotId: 'latest', targetTime: 'latest' }),
      /--pitr and --snapshot-id exclude each other/,
    ],
    ['--pitr without --target-time', rds({ pitr: true }), /--target-time is required/],
    [
      '--target-time without --pitr',
      rds({ snapshotId: 'latest', targetTime: '2026-11-22T01:30:00Z' }),
      /--target-time is the point in time of a --pitr restore/,
    ],
    ['30 February', rds({ pitr: true, targetTime: '2026-02-30T01:30:00Z' }), /February 2026 has 28 days/],
    ['hour 24', rds({ pitr: true, targetTime: '2026-11-22T24:00:00Z' }), /hour 24 does not exist/],
    ['a time without zone', rds({ pitr: true, targetTime: '2026-11-22T01:30:00' }), /has no time zone/],
    ['a time that is no time', rds({ pitr: true, targetTime: 'yesterday' }), /not an ISO 8601 time/],
    ['nothing to restore', rds({}), /say what to restore/],
    [
      'production as the target',
      rds({ snapshotId: 'latest', targetInstance: 'kb-prod' }),
      /is the production instance/,
    ],
    [
      'production in upper case',
      rds({ snapshotId: 'latest', targetInstance: 'KB-PROD' }),
      /is the production instance/,
    ],
    [
      'a target RDS would refuse',
      rds({ snapshotId: 'latest', targetInstance: 'kb-restore--x' }),
      /is not an RDS instance id/,
    ],
    [
      'a target with a space',
      rds({ snapshotId: 'latest', targetInstance: 'kb-restore 1' }),
      /is not an RDS instance id/,
    ],
    [
      'a target without the restore prefix',
      rds({ snapshotId: 'latest', targetInstance: 'kb-copy-1' }),
      /does not start with the restore prefix "kb-restore-"/,
    ],
    [
      'a snapshot id that is not kb-dr',
      rds({ snapshotId: 'rds:kb-prod-2026-11-22-02-00' }),
      /is not "latest" nor a kb-dr backup name/,
    ],
    [
      'a snapshot id with a bad date',
      rds({ snapshotId: 'kb-snapshot-20260230-020000' }),
      /not "latest" nor a kb-dr backup name/,
    ],
    [
      'a bad --source-instance',
      rds({ snapshotId: 'latest', sourceInstance: 'prod_db' }),
      /--source-instance="prod_db" is not an RDS instance id/,
    ],
    [
      '--source-instance with a promotion only',
      rds({ forceProduction: true, sourceInstance: 'kb-prod' }),
      /a promotion restores nothing/,
    ],
    [
      '--production-instance without --force-production',
      rds({ snapshotId: 'latest', productionInstance: 'kb-prod' }),
      /--production-instance only applies to a promotion/,
    ],
    [
      '--allow-encryption-mismatch without --force-production',
      rds({ snapshotId: 'latest', allowEncryptionMismatch: 'x' }),
      /only applies to a promotion/,
    ],
    [
      '--allow-encryption-mismatch without a reason',
      rds({ forceProduction: true, allowEncryptionMismatch: ' ' }),
      /needs a reason/,
    ],
    [
      'a bad --production-instance',
      rds({ forceProduction: true, productionInstance: 'prod--1' }),
      /--production-instance="prod--1" is not an RDS instance id/,
    ],
    [
      'promoting production onto itself',
      rds({ forceProduction: true, targetInstance: 'kb-prod' }),
      /is the production instance/,
    ],
  ])('%s', (_label, flags, reason) => {
    expect(refusal(() => planRestore(flags, ENV))).toMatch(reason);
  });

  it('--force-production without a production id anywhere', () => {
    expect(
      refusal(() => planRestore({ rds: true, targetInstance: 'kb-restore-1', forceProduction: true }, {})),
    ).toMatch(/which production instance\?/);
  });

  it('takes the restore prefix of the deployment from KB_RESTORE_INSTANCE_PREFIX', () => {
    const env = { ...ENV, KB_RESTORE_INSTANCE_PREFIX: 'dr-' };
    expect(
      refusal(() => planRestore({ rds: true, snapshotId: 'latest', targetInstance: 'kb-restore-1' }, env)),
    ).toMatch(/does not start with the restore prefix "dr-"/);
    expect(planRestore({ rds: true, snapshotId: 'latest', targetInstance: 'dr-1' }, env)).toMatchObject({
      kind: 'snapshot-restore',
      targetInstanceId: 'dr-1',
    });
  });
});

describe('planRestore: one plan per kind', () => {
  it.each<[string, RestoreFlags, object]>([
    [
      'a local restore',
      { local: true, backupFile: 'backups/kb.sql.gz', yes: true, portable: true },
      {
        kind: 'local-restore',
        mode: 'local',
        backupFile: 'backups/kb.sql.gz',
        yes: true,
        allowSmall: false,
        trustedFile: false,
        portable: true,
      },
    ],
    ['a rollback', { local: true, rollback: true }, { kind: 'rollback', mode: 'local', yes: false }],
    [
      'a snapshot restore',
      { rds: true, snapshotId: 'latest', targetInstance: ' kb-restore-1 ' },
      {
        kind: 'snapshot-restore',
        mode: 'rds',
        snapshotId: 'latest',
        targetInstanceId: 'kb-restore-1',
        yes: false,
      },
    ],
    [
      'a PITR restore (--pitr implies --rds) from another protected instance',
      {
        pitr: true,
        targetTime: '2026-11-22T03:30:00+02:00',
        targetInstance: 'kb-restore-pitr-1',
        sourceInstance: 'kb-prod-replica',
        yes: true,
      },
      {
        kind: 'pitr-restore',
        mode: 'rds',
        targetTime: '2026-11-22T03:30:00+02:00',
        targetInstanceId: 'kb-restore-pitr-1',
        sourceInstanceId: 'kb-prod-replica',
        yes: true,
      },
    ],
    [
      'a snapshot restore then a promotion',
      {
        rds: true,
        snapshotId: 'kb-snapshot-20261122-020000',
        targetInstance: 'kb-restore-1',
        forceProduction: true,
        allowEncryptionMismatch: ' key deleted ',
      },
      {
        kind: 'snapshot-restore',
        mode: 'rds',
        snapshotId: 'kb-snapshot-20261122-020000',
        targetInstanceId: 'kb-restore-1',
        promote: { productionInstanceId: 'kb-prod', allowEncryptionMismatch: 'key deleted' },
        yes: false,
      },
    ],
    [
      'a promotion of an instance already restored (production from the flag)',
      { rds: true, forceProduction: true, targetInstance: 'kb-restore-1', productionInstance: 'kb-prod-2' },
      {
        kind: 'promote',
        mode: 'rds',
        restoredInstanceId: 'kb-restore-1',
        promote: { productionInstanceId: 'kb-prod-2' },
        yes: false,
      },
    ],
  ])('%s', (_label, flags, plan) => {
    expect(planRestore(flags, ENV)).toEqual(plan);
  });
});

describe('planBackup and planValidate', () => {
  it.each([
    ['backup without a mode', () => planBackup({}, {}), /say where to act/],
    ['backup --local --rds', () => planBackup({ local: true, rds: true }, {}), /exclude each other/],
    [
      'backup --rds --prune',
      () => planBackup({ rds: true, prune: true }, {}),
      /--prune does not apply to an RDS backup/,
    ],
    ['backup --rds --dir', () => planBackup({ rds: true, dir: 'x' }, {}), /--dir does not apply/],
    [
      'backup --local --reason',
      () => planBackup({ local: true, reason: 'x' }, {}),
      /--reason does not apply to a local backup/,
    ],
    ['validate without a file', () => planValidate({}), /pass --backup-file=FILE .* or --snapshot-id=ID/],
    [
      'validate --rds --backup-file',
      () => planValidate({ rds: true, backupFile: 'f' }),
      /pass --snapshot-id=ID \(not --backup-file\)/,
    ],
    [
      'validate a snapshot id that is not kb-dr',
      () => planValidate({ snapshotId: 'my-snap' }),
      /not "latest" nor a kb-dr backup name/,
    ],
    [
      'validate --snapshot-id --allow-small',
      () => planValidate({ snapshotId: 'latest', allowSmall: true }),
      /--allow-small does not apply/,
    ],
    [
      'validate --local --snapshot-id',
      () => planValidate({ local: true, backupFile: 'f', snapshotId: 'latest' }),
      /--snapshot-id does not apply/,
    ],
  ])('refuses %s', (_label, fn, reason) => {
    expect(refusal(fn)).toMatch(reason);
  });

  it('plans a local backup into the folder of the flag, else KB_BACKUP_LOCAL_PATH, else ./backups', () => {
    expect(planBackup({ local: true, prune: true }, {})).toEqual({
      kind: 'local-backup',
      mode: 'local',
      dir: './backups',
      prune: true,
    });
    expect(planBackup({ local: true }, { KB_BACKUP_LOCAL_PATH: '/srv/kb' })).toMatchObject({
      dir: '/srv/kb',
    });
    expect(planBackup({ local: true, dir: 'here' }, { KB_BACKUP_LOCAL_PATH: '/srv/kb' })).toMatchObject({
      dir: 'here',
    });
    expect(planBackup({ rds: true, yes: true }, {})).toEqual({
      kind: 'rds-backup',
      mode: 'rds',
      reason: 'on-demand backup from the kb-dr CLI',
      yes: true,
    });
  });

  it('--snapshot-id implies --rds', () => {
    expect(planValidate({ snapshotId: 'latest' })).toEqual({
      kind: 'rds-validate',
      mode: 'rds',
      snapshotId: 'latest',
    });
  });
});

describe('planFor: a whole command line, as the binary parses it', () => {
  it.each([
    [
      'a misspelled flag',
      ['restore', '--rds', '--snapshotid=latest', '--target-instance=kb-restore-1'],
      /unknown option '--snapshotid=latest'/,
    ],
    [
      'a value given to a switch',
      ['restore', '--pitr=yes', '--target-instance=kb-restore-1'],
      /unknown option '--pitr=yes'/,
    ],
    [
      'a missing value',
      ['restore', '--pitr', '--target-instance=kb-restore-1', '--target-time'],
      /'--target-time <time>' argument missing/,
    ],
    ['an unknown command', ['restorr', '--local'], /unknown command 'restorr'/],
    ['no command', [], /no command given/],
    [
      '30 February, whole line',
      ['restore', '--pitr', '--target-time=2026-02-30T01:30:00Z', '--target-instance=kb-restore-1'],
      /February 2026 has 28 days/,
    ],
    [
      'production as the target, whole line',
      ['restore', '--rds', '--snapshot-id=latest', '--target-instance=kb-prod'],
      /is the production instance/,
    ],
    [
      'recover-entries from production',
      ['recover-entries', '--from-instance=kb-prod', '--ids=1'],
      /not a restored instance/,
    ],
    [
      'find-backup --rds --check',
      ['find-backup', '--rds', '--check', '--before=2026-11-22T14:05:00Z'],
      /--check validates local backup files/,
    ],
    [
      'recover-entries --from-instance --allow-small',
      ['recover-entries', '--from-instance=kb-restore-1', '--allow-small'],
      /--allow-small does not apply to --from-instance/,
    ],
  ])('refuses %s', async (_label, argv, reason) => {
    expect(await refusalOf(argv)).toMatch(reason);
  });

  it('says where --help goes instead of planning', async () => {
    expect(await planFor(['restore', '--help'])).toEqual({ command: 'help' });
  });

  // Command lines as docs/DISASTER-RECOVERY-RUNBOOK.md and the README write them (after the
  // scripts/*.sh wrapper, which passes its arguments to the kb-dr command it names).
  it.each([
    [['backup', '--local'], 'backup', 'local-backup'],
    [['backup', '--rds', '--reason=before the migration'], 'backup', 'rds-backup'],
    [['validate', '--backup-file=backups/kb-backup-20261122-020000.sql.gz'], 'validate', 'local-validate'],
    [['validate', '--snapshot-id=latest'], 'validate', 'rds-validate'],
    [
      ['restore', '--local', '--backup-file=backups/kb-backup-20261122-020000.sql.gz'],
      'restore',
      'local-restore',
    ],
    [['restore', '--local', '--rollback'], 'restore', 'rollback'],
    [
      ['restore', '--rds', '--snapshot-id=latest', '--target-instance=kb-restore-drill-1'],
      'restore',
      'snapshot-restore',
    ],
    [
      ['restore', '--pitr', '--target-time=2026-11-22T01:30:00Z', '--target-instance=kb-restore-pitr-1'],
      'restore',
      'pitr-restore',
    ],
    [
      ['restore', '--rds', '--force-production', '--target-instance=kb-restore-drill-1'],
      'restore',
      'promote',
    ],
  ])('plans %j', async (argv, command, kind) => {
    const planned = await planFor(argv, ENV);
    expect(planned.command).toBe(command);
    expect('plan' in planned && planned.plan).toMatchObject({ kind });
  });

  it('plans find-backup, recover-entries and restore-tests too', async () => {
    await expect(planFor(['find-backup', '--before=2026-11-22T14:05:00Z'], ENV)).resolves.toMatchObject({
      command: 'find-backup',
      plan: { mode: 'local', limit: 5, dir: './backups', check: false },
    });
    await expect(
      planFor(
        ['recover-entries', '--backup-file=backups/kb-backup-20261122-020000.sql.gz', '--tag=topic-3'],
        ENV,
      ),
    ).resolves.toMatchObject({
      command: 'recover-entries',
      plan: { source: { kind: 'backup-file' }, selection: { tag: 'topic-3' }, confirm: false },
    });
    await expect(planFor(['restore-tests', '--limit=3'], { KB_BACKUP_BUCKET: 'b' })).resolves.toEqual({
      command: 'restore-tests',
      plan: { bucket: 'b', limit: 3, json: false },
    });
  });
});
