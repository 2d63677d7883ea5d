/**
 * Step 1 of the nightly backup: request a manual snapshot of the protected instance. Nothing
 * here waits: the snapshot's `created` event (or the periodic reconcile pass) starts the export.
 *
 * The snapshot id comes from the schedule's time, so a redelivered or retried event maps to the
 * same snapshot and creates nothing the second time.
 */
import {
  CreateDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  type DBInstance,
  type DBSnapshot,
} from '@aws-sdk/client-rds';
import { z } from 'zod';
import {
  describeFailure,
  emitOutcome,
  isManagedByKbDr,
  logFailure,
  MIN_AUTOMATED_BACKUP_RETENTION_DAYS,
  type BackupFailure,
  type PipelineConfig,
  type PipelineDeps,
} from '../shared/backup-pipeline';
import { awsErrorCode, InvalidStateError, KbDrError, NotFoundError, ValidationError } from '../shared/errors';
import { getManifest, putManifestOnce } from '../shared/manifest-store';
import { MANIFEST_VERSION } from '../shared/manifest';
import { KbMetrics } from '../shared/metrics-catalog';
import { MANAGED_BY_TAG, REQUESTED_AT_TAG_KEY, snapshotIdFor, TRIGGER_TAG_KEY } from '../shared/naming';
import { addKbMetric } from '../shared/powertools';

/**
 * The backup function's input: an EventBridge scheduled event / Scheduler payload carrying
 * `time`, or an on-demand request `{"reason": "..."}` from the console or CLI.
 */
export const BackupEventSchema = z
  .looseObject({
    time: z.string().optional(),
    reason: z.string().trim().min(1).max(256).optional(),
  })
  .nullish();

export type BackupEvent = z.infer<typeof BackupEventSchema>;

export interface BackupRequest {
  readonly snapshotId: string;
  readonly trigger: 'scheduled' | 'on-demand';
  readonly scheduledFor: Date;
  readonly reason?: string;
}

/** A scheduled time further than this from now is rejected (EventBridge retries for at most 24 h). */
const MAX_SCHEDULE_SKEW_MS = 48 * 3_600_000;
const MAX_FUTURE_SKEW_MS = 15 * 60_000;

/** Turn the event into a backup request, or throw ValidationError (nothing is changed). */
export function parseBackupRequest(event: unknown, now: Date): BackupRequest {
  const parsed = BackupEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new ValidationError(`backup event is invalid: ${z.prettifyError(parsed.error)}`, 'event', {
      hint: 'invoke with {"reason": "why you need a backup"} for an on-demand backup',
    });
  }
  const { time, reason } = parsed.data ?? {};
  if (reason !== undefined || time === undefined) {
    return {
      snapshotId: snapshotIdFor(now),
      trigger: 'on-demand',
      scheduledFor: now,
      ...(reason ? { reason } : {}),
    };
  }
  const scheduled = new Date(time);
  if (Number.isNaN(scheduled.getTime()) || !/^\d{4}-\d{2}-\d{2}T/.test(time)) {
    throw new ValidationError(`backup event time "${time}" is not an ISO 8601 time`, 'time', {
      hint: 'the schedule passes <aws.scheduler.scheduled-time>; for an on-demand backup send {"reason": "..."}',
    });
  }
  const skew = scheduled.getTime() - now.getTime();
  if (skew > MAX_FUTURE_SKEW_MS || -skew > MAX_SCHEDULE_SKEW_MS) {
    throw new ValidationError(
      `backup event time ${time} is too far from now (${now.toISOString()}); nothing was created`,
      'time',
      { hint: 'for an on-demand backup send {"reason": "..."} without a time' },
    );
  }
  return { snapshotId: snapshotIdFor(scheduled), trigger: 'scheduled', scheduledFor: scheduled };
}

export type StartBackupResult =
  | { readonly status: 'created'; readonly snapshotId: string }
  | { readonly status: 'already-exists'; readonly snapshotId: string }
  | { readonly status: 'already-recorded'; readonly snapshotId: string }
  | { readonly status: 'failed'; readonly snapshotId: string; readonly failure: BackupFailure };

/** Instance states in which CreateDBSnapshot is accepted. */
const SNAPSHOTTABLE_STATES = new Set(['available', 'storage-optimization']);
/** States that pass on their own: retrying later can succeed. */
const TRANSIENT_STATES = new Set([
  'backing-up',
  'modifying',
  'maintenance',
  'upgrading',
  'rebooting',
  'renaming',
  'resetting-master-credentials',
  'starting',
  'configuring-enhanced-monitoring',
  'configuring-iam-database-auth',
  'configuring-log-exports',
  'converting-to-vpc',
  'moving-to-vpc',
]);

async function findSnapshot(deps: PipelineDeps, snapshotId: string): Promise<DBSnapshot | undefined> {
  try {
    const res = await deps.rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: snapshotId }));
    return res.DBSnapshots?.[0];
  } catch (err) {
    if (awsErrorCode(err) === 'DBSnapshotNotFoundFault' || awsErrorCode(err) === 'DBSnapshotNotFound')
      return undefined;
    throw err;
  }
}

async function describeInstance(deps: PipelineDeps, config: PipelineConfig): Promise<DBInstance> {
  try {
    const res = await deps.rds.send(
      new DescribeDBInstancesCommand({ DBInstanceIdentifier: config.dbInstanceId }),
    );
    const instance = res.DBInstances?.[0];
    if (!instance) throw new NotFoundError(`instance ${config.dbInstanceId} not found`);
    return instance;
  } catch (err) {
    if (err instanceof KbDrError) throw err;
    if (/NotFound/.test(awsErrorCode(err))) {
      throw new NotFoundError(`RDS instance ${config.dbInstanceId} not found`, {
        cause: err,
        hint: `check KB_DB_INSTANCE_ID (context kb:dbInstanceId) names the protected instance and redeploy with \`cdk deploy --all\``,
      });
    }
    throw err;
  }
}

function checkInstanceState(instance: DBInstance, config: PipelineConfig): void {
  const state = instance.DBInstanceStatus ?? 'unknown';
  if (SNAPSHOTTABLE_STATES.has(state)) return;
  const transient = TRANSIENT_STATES.has(state);
  throw new InvalidStateError(`RDS instance ${config.dbInstanceId} is ${state} and cannot be snapshotted`, {
    retryable: transient,
    hint: transient
      ? 'the state passes on its own; the invocation is retried, or invoke the backup function again later'
      : state === 'stopped'
        ? 'start the instance (`aws rds start-db-instance`) and invoke the backup function with {"reason": "..."}'
        : 'fix the instance in the RDS console, then invoke the backup function with {"reason": "..."}',
  });
}

function reportRetention(deps: PipelineDeps, instance: DBInstance, config: PipelineConfig): void {
  const days = instance.BackupRetentionPeriod;
  if (days === undefined) return;
  addKbMetric(deps.metrics, KbMetrics.AutomatedBackupRetentionDays, days);
  if (days < MIN_AUTOMATED_BACKUP_RETENTION_DAYS) {
    deps.logger.warn(
      `automated backup retention of ${config.dbInstanceId} is ${days} days; point-in-time recovery cannot reach the 24 h RPO over ${MIN_AUTOMATED_BACKUP_RETENTION_DAYS} days`,
      {
        automatedBackupRetentionDays: days,
        fix: `aws rds modify-db-instance --db-instance-identifier ${config.dbInstanceId} --backup-retention-period ${MIN_AUTOMATED_BACKUP_RETENTION_DAYS} --apply-immediately`,
      },
    );
  }
}

/**
 * Request the snapshot for `request`. Idempotent: an existing manifest or snapshot for the same
 * id means a previous delivery got here first, and nothing is created. A failure emits the
 * outcome metrics and logs one error line; a failure a retry cannot fix is recorded as a FAILED
 * manifest, a retryable one is thrown after that so Lambda retries the same event.
 */
export async function startBackup(
  deps: PipelineDeps,
  config: PipelineConfig,
  request: BackupRequest,
): Promise<StartBackupResult> {
  const { snapshotId } = request;
  const loc = { s3: deps.s3, bucket: config.backupBucket };
  const requestedAt = deps.now();
  deps.logger.appendKeys({ snapshotId, trigger: request.trigger });
  try {
    if (await getManifest(loc, snapshotId)) {
      deps.logger.info(`backup ${snapshotId} is already recorded; nothing to do`);
      return { status: 'already-recorded', snapshotId };
    }
    const existing = await findSnapshot(deps, snapshotId);
    if (existing) {
      if (existing.DBInstanceIdentifier !== config.dbInstanceId || !isManagedByKbDr(existing.TagList)) {
        throw new InvalidStateError(
          `snapshot ${snapshotId} exists but was not made by kb-dr for ${config.dbInstanceId}`,
          { hint: `rename or delete that snapshot; kb-dr will not adopt it` },
        );
      }
      deps.logger.info(`snapshot ${snapshotId} already exists (redelivered event); nothing to create`);
      return { status: 'already-exists', snapshotId };
    }
    const instance = await describeInstance(deps, config);
    reportRetention(deps, instance, config);
    checkInstanceState(instance, config);
    try {
      await deps.rds.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: config.dbInstanceId,
          DBSnapshotIdentifier: snapshotId,
          Tags: [
            { Key: MANAGED_BY_TAG.key, Value: MANAGED_BY_TAG.value },
            { Key: TRIGGER_TAG_KEY, Value: request.trigger },
            { Key: REQUESTED_AT_TAG_KEY, Value: requestedAt.toISOString() },
          ],
        }),
      );
    } catch (err) {
      // A concurrent delivery created it between our check and this call: same outcome.
      if (awsErrorCode(err) === 'DBSnapshotAlreadyExistsFault') {
        deps.logger.info(`snapshot ${snapshotId} was created by a concurrent delivery`);
        return { status: 'already-exists', snapshotId };
      }
      throw err;
    }
    deps.logger.info(`requested snapshot ${snapshotId} of ${config.dbInstanceId}`, {
      reason: request.reason,
    });
    return { status: 'created', snapshotId };
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    const failure = describeFailure(
      'snapshot',
      err,
      `create snapshot ${snapshotId} of ${config.dbInstanceId}`,
    );
    logFailure(deps.logger, snapshotId, failure);
    emitOutcome(deps.metrics, false);
    if (failure.retryable)
      throw err instanceof KbDrError ? err : new KbDrError(failure.message, { cause: err, retryable: true });
    await recordSnapshotFailure(deps, config, request, requestedAt, failure);
    return { status: 'failed', snapshotId, failure };
  }
}

async function recordSnapshotFailure(
  deps: PipelineDeps,
  config: PipelineConfig,
  request: BackupRequest,
  requestedAt: Date,
  failure: BackupFailure,
): Promise<void> {
  try {
    await putManifestOnce(
      { s3: deps.s3, bucket: config.backupBucket, kmsKeyArn: config.kmsKeyArn },
      {
        version: MANIFEST_VERSION,
        snapshotId: request.snapshotId,
        dbInstanceId: config.dbInstanceId,
        trigger: request.trigger,
        status: 'FAILED',
        requestedAt: requestedAt.toISOString(),
        failure: {
          stage: failure.stage,
          code: failure.code,
          message: failure.message,
          ...(failure.hint ? { hint: failure.hint } : {}),
        },
        recordedAt: deps.now().toISOString(),
      },
    );
  } catch (err) {
    // The failure is already logged and in the metrics; a missing record must not hide it.
    deps.logger.error(`could not record the failed backup ${request.snapshotId}`, {
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
