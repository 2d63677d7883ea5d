/**
 * Step 1 of the nightly backup: request a manual snapshot of the protected instance. Nothing
 * here waits: the snapshot's `created` event (or the periodic reconcile pass) starts the export.
 *
 * The snapshot id comes from the schedule's time, so a redelivered or retried event maps to the
 * same snapshot and creates nothing the second time.
 */
import { CreateDBSnapshotCommand, type DBInstance, type DBSnapshot } from '@aws-sdk/client-rds';
import * as z from 'zod/mini';
import '../../core/zod-english';
import {
  corruptManifestReporter,
  describeFailure,
  emitOutcome,
  isBackupOfProtectedInstance,
  logFailure,
  MIN_AUTOMATED_BACKUP_RETENTION_DAYS,
  type BackupFailure,
  type PipelineConfig,
  type PipelineDeps,
} from '../shared/backup-pipeline';
import {
  awsErrorCode,
  InvalidStateError,
  KbDrError,
  NotFoundError,
  ValidationError,
  isAlreadyExists,
} from '../../core/errors';
import { translateAwsError } from '../shared/aws-errors';
import { isAmbiguousOutcome } from '../shared/fault-class';
import { truncateForEcho } from '../shared/guards';
import { closestField } from '../shared/handler-response';
import { manifestExists } from '../shared/manifest-store';
import { failedManifest, recordOutcome } from '../shared/record-outcome';
import { MANIFEST_VERSION } from '../../core/manifest';
import { KbMetrics } from '../../core/metrics-catalog';
import {
  MANAGED_BY_TAG,
  PROTECTED_INSTANCE_TAG_KEY,
  REQUESTED_AT_TAG_KEY,
  snapshotIdFor,
  TRIGGER_TAG_KEY,
} from '../../core/naming';
import { findSnapshot } from '../shared/rds-snapshots';
import { requireInstance } from '../shared/rds-instances';
import { calendarProblem, ISO_WITH_OFFSET } from '../shared/strict-time';

/**
 * The backup function's input, strict: the nightly schedule's payload
 * `{"source": "kb-dr.schedule", "time": "<scheduled time>"}`, an on-demand request
 * `{"reason": "..."}` (or `{}`) from the console or CLI, or an EventBridge "Scheduled Event".
 * Anything else (a misspelled field, `null`, an array) is refused and changes nothing.
 */
export const BackupEventSchema = z.strictObject({
  source: z.optional(z.enum(['kb-dr.schedule', 'aws.scheduler', 'aws.events'])),
  time: z.optional(z.string()),
  reason: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(256))),
});

/** An EventBridge rule's scheduled event: only its `time` matters. */
const ScheduledRuleEventSchema = z.looseObject({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  time: z.string(),
});

const BACKUP_EVENT_FIELDS = ['source', 'time', 'reason'] as const;
const BACKUP_EVENT_EXAMPLE = '{"reason": "before the schema migration"}';

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

function refuse(problem: string, field?: string): ValidationError {
  return new ValidationError(`backup event refused: ${problem}; nothing was changed`, field, {
    hint: `for an on-demand backup invoke with ${BACKUP_EVENT_EXAMPLE}; the nightly schedule sends {"source": "kb-dr.schedule", "time": "<scheduled time>"}`,
  });
}

function parseBackupEvent(event: unknown): z.infer<typeof BackupEventSchema> {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw refuse(
      `the event must be a JSON object, got ${event === null ? 'null' : Array.isArray(event) ? 'an array' : typeof event}`,
    );
  }
  const rule = ScheduledRuleEventSchema.safeParse(event);
  if (rule.success) return { source: 'aws.events', time: rule.data.time };
  const parsed = BackupEventSchema.safeParse(event);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues.find((i) => i.code === 'unrecognized_keys') ?? parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    const key = issue.keys[0] ?? '';
    const guess = closestField(key, BACKUP_EVENT_FIELDS);
    throw refuse(
      guess
        ? `unknown field "${key}" (did you mean "${guess}"?)`
        : `unknown field "${key}" (valid fields: ${BACKUP_EVENT_FIELDS.join(', ')})`,
      guess ?? key,
    );
  }
  const field = String(issue?.path[0] ?? '');
  throw refuse(`field "${field}" is invalid: ${issue?.message ?? 'unknown problem'}`, field);
}

/**
 * The nightly schedule's event was refused because its time is not a real time or is too far from
 * the function's clock. Nothing is created, but unlike other refusals this is a missed night: the
 * handler emits BackupFailure=1 so KB-BackupFailure pages (and clears at the next success).
 */
export class ScheduleRefusedError extends ValidationError {}

/** Turn the event into a backup request, or throw ValidationError (nothing is changed). */
export function parseBackupRequest(event: unknown, now: Date): BackupRequest {
  const { time, reason } = parseBackupEvent(event);
  if (reason !== undefined || time === undefined) {
    return {
      snapshotId: snapshotIdFor(now),
      trigger: 'on-demand',
      scheduledFor: now,
      ...(reason ? { reason } : {}),
    };
  }
  const shown = truncateForEcho(time);
  const fields = ISO_WITH_OFFSET.exec(time);
  const problem = fields ? calendarProblem(fields) : undefined;
  const scheduled = new Date(time);
  if (!fields || problem || Number.isNaN(scheduled.getTime())) {
    throw new ScheduleRefusedError(
      `backup event time "${shown}" is not ${problem ? `a real time: ${problem}` : 'an ISO 8601 time with Z or an offset'}; nothing was created`,
      'time',
      {
        hint: 'the schedule passes <aws.scheduler.scheduled-time>, e.g. "2026-11-22T02:00:00Z"; for an on-demand backup send {"reason": "..."}',
      },
    );
  }
  const skew = scheduled.getTime() - now.getTime();
  if (skew > MAX_FUTURE_SKEW_MS || -skew > MAX_SCHEDULE_SKEW_MS) {
    throw new ScheduleRefusedError(
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

async function describeInstance(deps: PipelineDeps, config: PipelineConfig): Promise<DBInstance> {
  return requireInstance(
    deps.rds,
    config.dbInstanceId,
    (cause) =>
      new NotFoundError(`RDS instance ${config.dbInstanceId} not found`, {
        ...(cause === undefined ? {} : { cause }),
        hint: `check KB_DB_INSTANCE_ID (context kb:dbInstanceId) names the protected instance and redeploy with \`cdk deploy --all\``,
      }),
  );
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
  deps.metrics.add(KbMetrics.AutomatedBackupRetentionDays, days);
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
 * id means a previous delivery got here first, and nothing is created.
 *
 * Failures: a transient one (5xx after the SDK's attempts, timeout, reset connection, throttling,
 * a busy instance) records NOTHING permanent and is thrown, so Lambda/EventBridge retries the same
 * event; a definitive one emits BackupFailure=1 and is recorded as a FAILED manifest. When
 * CreateDBSnapshot's answer is lost, RDS is asked whether the snapshot exists before deciding.
 * The manifest bucket is only consulted, never required: the snapshot needs no S3, and the
 * periodic pass records the manifest once S3 answers.
 */
export async function startBackup(
  deps: PipelineDeps,
  config: PipelineConfig,
  request: BackupRequest,
): Promise<StartBackupResult> {
  const { snapshotId } = request;
  const loc = { s3: deps.s3, bucket: config.backupBucket };
  const requestedAt = deps.now();
  const corrupt = corruptManifestReporter(deps);
  deps.logger.appendKeys({ snapshotId, trigger: request.trigger });
  try {
    if (await isRecorded(deps, loc, snapshotId, corrupt.onCorrupt)) {
      deps.logger.info(`backup ${snapshotId} is already recorded; nothing to do`);
      return { status: 'already-recorded', snapshotId };
    }
    const existing = await findSnapshot(deps.rds, snapshotId);
    if (existing) return adoptExisting(deps, config, existing, 'redelivered event');
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
            { Key: PROTECTED_INSTANCE_TAG_KEY, Value: config.dbInstanceId },
            { Key: TRIGGER_TAG_KEY, Value: request.trigger },
            { Key: REQUESTED_AT_TAG_KEY, Value: requestedAt.toISOString() },
          ],
        }),
      );
    } catch (err) {
      // A concurrent delivery created it between our check and this call: same outcome.
      if (isAlreadyExists(err)) {
        const snap = await findSnapshot(deps.rds, snapshotId);
        if (snap) return adoptExisting(deps, config, snap, 'concurrent delivery');
        return { status: 'already-exists', snapshotId };
      }
      // The answer was lost (timeout, 5xx, dropped connection): RDS may have created it.
      if (isAmbiguousOutcome(err)) {
        const snap = await findSnapshot(deps.rds, snapshotId).catch(() => undefined);
        if (snap) {
          deps.logger.warn(
            `CreateDBSnapshot's answer was lost (${awsErrorCode(err)}) but RDS has ${snapshotId}; continuing with it`,
          );
          adoptExisting(deps, config, snap, 'lost answer');
          return { status: 'created', snapshotId };
        }
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
    if (failure.retryable) {
      // Nothing permanent: no FAILED manifest, no BackupFailure. The retry names the same snapshot.
      throw err instanceof KbDrError
        ? err
        : translateAwsError(err, { operation: `create snapshot ${snapshotId} of ${config.dbInstanceId}` });
    }
    emitOutcome(deps.metrics, false);
    await recordSnapshotFailure(deps, config, request, requestedAt, failure);
    return { status: 'failed', snapshotId, failure };
  } finally {
    corrupt.flush();
  }
}

/**
 * Whether tonight's manifest exists. When the bucket cannot be read (S3 down, or denied), the
 * answer is logged and the backup goes on: the snapshot itself needs no S3, and RDS refuses a
 * second snapshot with the same id, so taking it cannot double anything.
 */
async function isRecorded(
  deps: PipelineDeps,
  loc: { s3: PipelineDeps['s3']; bucket: string },
  snapshotId: string,
  onCorrupt: Parameters<typeof manifestExists>[2],
): Promise<boolean> {
  try {
    return await manifestExists(loc, snapshotId, onCorrupt);
  } catch (err) {
    const e = translateAwsError(err, { operation: `read the manifest of ${snapshotId}` });
    deps.logger.error(
      `could not read the manifest of ${snapshotId}; taking the snapshot anyway (the periodic pass records it once S3 answers): ${e.message}`,
      { stage: 'manifest', error: e.name, fix: e.hint },
    );
    return false;
  }
}

/** An existing snapshot with tonight's id: ours means a previous delivery made it; anyone else's is refused. */
function adoptExisting(
  deps: PipelineDeps,
  config: PipelineConfig,
  existing: DBSnapshot,
  why: string,
): StartBackupResult {
  const snapshotId = existing.DBSnapshotIdentifier ?? '';
  if (!isBackupOfProtectedInstance(existing, config.dbInstanceId)) {
    throw new InvalidStateError(
      `snapshot ${snapshotId} exists but was not made by kb-dr for ${config.dbInstanceId}`,
      { hint: `rename or delete that snapshot; kb-dr will not adopt it` },
    );
  }
  deps.logger.info(`snapshot ${snapshotId} already exists (${why}); nothing to create`);
  return { status: 'already-exists', snapshotId };
}

async function recordSnapshotFailure(
  deps: PipelineDeps,
  config: PipelineConfig,
  request: BackupRequest,
  requestedAt: Date,
  failure: BackupFailure,
): Promise<void> {
  try {
    await recordOutcome(
      deps,
      config,
      failedManifest(
        {
          version: MANIFEST_VERSION,
          snapshotId: request.snapshotId,
          dbInstanceId: config.dbInstanceId,
          trigger: request.trigger,
          requestedAt: requestedAt.toISOString(),
          recordedAt: deps.now().toISOString(),
        },
        failure,
      ),
    );
  } catch (err) {
    // The failure is already logged and in the metrics; a missing record must not hide it.
    deps.logger.error(`could not record the failed backup ${request.snapshotId}`, {
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
