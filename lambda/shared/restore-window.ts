/**
 * The point-in-time restore window of an RDS instance, read once for restore-pitr and the CLI's
 * find-backup --rds --pitr.
 */
import {
  DescribeDBInstanceAutomatedBackupsCommand,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { GuardRailError, InvalidStateError, awsErrorCode } from '../../core/errors';
import { translateAwsError } from './aws-errors';
import { classifyFault } from './fault-class';

export interface RestoreWindow {
  readonly earliest: Date;
  readonly latest: Date;
  /** Where `earliest` came from (moto and some accounts return no RestoreWindow). */
  readonly earliestFrom: 'automated-backups' | 'instance-create-time' | 'retention-period';
  /** One sentence saying where the window came from, for the answer. */
  readonly source: string;
  /** Set when the automated backups could not be read and the window is the instance's estimate. */
  readonly fallbackReason?: string;
}

const DAY_MS = 86_400_000;

/**
 * The restore window of `source`: latest = its LatestRestorableTime; earliest = the automated
 * backups' RestoreWindow.EarliestTime when RDS reports one. When it cannot be read (AccessDenied,
 * no automated backups listed, or no RestoreWindow as on moto), the window falls back to the
 * instance's own LatestRestorableTime and BackupRetentionPeriod (earliest = the later of its
 * creation time and now minus the retention, the documented meaning of retention), and says so.
 */
export async function computeRestoreWindow(
  rds: RDSClient,
  source: DBInstance,
  now: Date,
): Promise<RestoreWindow> {
  const id = source.DBInstanceIdentifier ?? 'the source';
  const retention = source.BackupRetentionPeriod ?? 0;
  if (retention <= 0) {
    throw new GuardRailError(
      `sourceInstanceId "${id}" has automated backups disabled (retention 0 days), so it has no point-in-time window, e.g. "sourceInstanceId": "kb-prod"`,
      { hint: 'use restore-snapshot with "snapshotId": "latest" instead; nothing was changed' },
    );
  }
  if (!source.LatestRestorableTime) {
    throw new InvalidStateError(`sourceInstanceId "${id}" reports no LatestRestorableTime yet`, {
      hint: 'automated backups may still be initialising: retry in 10 minutes, or use restore-snapshot; nothing was changed',
      retryable: true,
    });
  }
  const latest = new Date(source.LatestRestorableTime);
  let reported: Date | undefined;
  let fallbackReason: string;
  try {
    const res = await rds.send(new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: id }));
    const times = (res.DBInstanceAutomatedBackups ?? [])
      .map((b) => b.RestoreWindow?.EarliestTime)
      .filter((t): t is Date => t !== undefined)
      .map((t) => new Date(t));
    if (times.length > 0) reported = new Date(Math.min(...times.map((t) => t.getTime())));
    fallbackReason =
      (res.DBInstanceAutomatedBackups ?? []).length === 0
        ? 'DescribeDBInstanceAutomatedBackups listed no automated backups'
        : 'the automated backups report no RestoreWindow';
  } catch (err) {
    const fault = classifyFault(err);
    if (fault === 'denied') {
      fallbackReason = `DescribeDBInstanceAutomatedBackups was denied (${awsErrorCode(err)}: the role needs rds:DescribeDBInstanceAutomatedBackups on the db resource)`;
    } else if (fault === 'notFound') {
      fallbackReason = `DescribeDBInstanceAutomatedBackups found none (${awsErrorCode(err)})`;
    } else {
      throw translateAwsError(err, { operation: `describe automated backups of ${id}` });
    }
  }
  const latestFrom = `latest is the instance's LatestRestorableTime`;
  if (reported)
    return {
      earliest: reported,
      latest,
      earliestFrom: 'automated-backups',
      source: `earliest is the automated backups' RestoreWindow.EarliestTime; ${latestFrom}`,
    };
  const byRetention = new Date(now.getTime() - retention * DAY_MS);
  const created = source.InstanceCreateTime ? new Date(source.InstanceCreateTime) : undefined;
  const fromCreate = created !== undefined && created > byRetention;
  const say = `${fallbackReason}, so the window is estimated from the instance itself: ${latestFrom}; earliest is ${fromCreate ? 'its creation time' : `now minus its ${retention}-day BackupRetentionPeriod`}. RDS may still refuse a time within minutes of the earliest edge`;
  return {
    earliest: fromCreate && created ? created : byRetention,
    latest,
    earliestFrom: fromCreate ? 'instance-create-time' : 'retention-period',
    source: say,
    fallbackReason,
  };
}
