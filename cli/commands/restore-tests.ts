/**
 * `kb-dr restore-tests [--json] [--limit N] [--bucket NAME]`: the recorded weekly restore tests,
 * newest first (date, backup, duration to verified, entries restored against the backup's,
 * outcome), read from `restore-tests/` in the backup bucket. A corrupt record is named on stderr
 * and the others are still listed.
 */
import type { Command } from 'commander';
import { ValidationError } from '../../core/errors';
import { ENV } from '../../lambda/shared/env';
import type { RestoreTestRecord } from '../../core/restore-test';
// The AWS SDK and the record store load only when the command runs (not for --help).
import type { RecordLocation } from '../../lambda/shared/restore-test-records';
import type { CliContext } from '../shared/context';

export interface RestoreTestsFlags {
  json?: boolean;
  limit?: string;
  bucket?: string;
}

export interface RestoreTestsPlan {
  readonly bucket: string;
  readonly limit: number;
  readonly json: boolean;
}

/** Check the flags before any call: the bucket (flag or KB_BACKUP_BUCKET) and a limit of 1-520. */
export function planRestoreTests(flags: RestoreTestsFlags, env: CliContext['env']): RestoreTestsPlan {
  const bucket = flags.bucket?.trim() || env[ENV.backupBucket]?.trim();
  if (!bucket)
    throw new ValidationError('restore-tests: the backup bucket is not known', 'bucket', {
      hint: `pass --bucket=NAME or set ${ENV.backupBucket} (the storage stack's BackupBucketName output), e.g. --bucket=kb-dr-storage-backupbucket-abc123`,
    });
  const limit = flags.limit === undefined ? 52 : Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 520)
    throw new ValidationError(
      `restore-tests: --limit=${flags.limit} is not a whole number from 1 to 520`,
      'limit',
      {
        hint: 'e.g. --limit=12',
      },
    );
  return { bucket, limit, json: flags.json === true };
}

/** "1 h 05 m", "12 m", or "-" when unknown. */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  const m = Math.round(seconds / 60);
  return m >= 60 ? `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} m` : `${m} m`;
}

function entries(r: RestoreTestRecord): string {
  const restored = r.entries?.restored?.knowledge_entries;
  const backup = r.entries?.backup?.knowledge_entries;
  if (restored === undefined) return '-';
  return backup === undefined ? `${restored}` : `${restored} / ${backup}`;
}

/** The table `kb-dr restore-tests` prints. */
export function formatRestoreTests(records: readonly RestoreTestRecord[]): string {
  const header = [
    'date (UTC)',
    'test instance',
    'backup',
    'to available',
    'to verified (RTO)',
    'entries restored / backup',
    'outcome',
  ];
  const rows = records.map((r) => [
    `${r.requestedAt.slice(0, 16).replace('T', ' ')}`,
    r.instanceId,
    r.backup.snapshotId ?? (r.backup.targetTime ? `PITR ${r.backup.targetTime}` : '-'),
    formatDuration(r.secondsToAvailable),
    formatDuration(r.secondsToVerified),
    entries(r),
    r.outcome === 'PASS' ? 'PASS' : `FAIL (${r.failure?.reason ?? 'unknown'}: ${r.failure?.detail ?? ''})`,
  ]);
  if (rows.length === 0)
    return 'no restore tests recorded yet (the first weekly test writes restore-tests/...)\n';
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return `${[line(header), ...rows.map(line)].join('\n')}\n`;
}

export async function runRestoreTests(
  ctx: CliContext,
  flags: RestoreTestsFlags,
  deps: { readonly s3?: RecordLocation['s3'] } = {},
): Promise<number> {
  const plan = planRestoreTests(flags, ctx.env);
  const { listRestoreTestRecords } = await import('../../lambda/shared/restore-test-records');
  const s3 =
    deps.s3 ??
    new (await import('@aws-sdk/client-s3')).S3Client({
      maxAttempts: 3,
      forcePathStyle: Boolean(ctx.env.AWS_ENDPOINT_URL),
    });
  const records = await listRestoreTestRecords(
    { s3, bucket: plan.bucket },
    { limit: plan.limit, onCorrupt: (e) => void ctx.stderr.write(`warning: ${e.userMessage}\n`) },
  );
  ctx.stdout.write(plan.json ? `${JSON.stringify(records, null, 2)}\n` : formatRestoreTests(records));
  return 0;
}

export function registerRestoreTestsCommand(
  program: Command,
  ctx: CliContext,
  exit: (code: number) => void,
): void {
  program
    .command('restore-tests')
    .description('list the recorded weekly restore tests: date, backup, duration, entries, outcome')
    .option('--json', 'print the records as JSON')
    .option('--limit <n>', 'how many of the newest tests (default 52)')
    .option('--bucket <name>', `the backup bucket (default: ${ENV.backupBucket})`)
    .action(async (flags: RestoreTestsFlags) => exit(await runRestoreTests(ctx, flags)));
}
