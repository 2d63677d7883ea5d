/**
 * The weekly restore test, event driven like the backup pipeline: nothing here waits.
 * - `startRestoreTest` (the weekly schedule): restore the latest SUCCEEDED backup to a new
 *   `kb-restore-test-YYYYMMDD-HHMM` instance with test settings, tagged as a test, and return.
 * - `advanceRestoreTests` (the RDS "instance available" event, and the periodic pass as backstop):
 *   for each test instance, wait for the verification record verify-restore writes, record the
 *   outcome (once, durable), emit the metrics, delete the instance. A test not verified within the
 *   stuck limit is a failure and its instance is deleted too; a deletion that fails leaves an
 *   orphan, counted on every pass until it is gone.
 * State lives in the instances' tags and the records in S3, never in memory.
 */
import { randomUUID } from 'node:crypto';
import {
  AddTagsToResourceCommand,
  DeleteDBInstanceCommand,
  paginateDescribeDBInstances,
  RestoreDBInstanceFromDBSnapshotCommand,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import { AlreadyExistsError, GuardRailError, isNotFound, KbDrError } from '../../core/errors';
import { KbMetrics } from '../../core/metrics-catalog';
import {
  isRestoreTestInstanceId,
  MANAGED_BY_TAG,
  restoreTestInstanceIdFor,
  RESTORE_AVAILABLE_AT_TAG_KEY,
  RESTORE_STARTED_AT_TAG_KEY,
  RESTORE_TEST_KIND_TAG_KEY,
  RESTORE_TEST_PREFIX,
  RESTORE_TEST_TAG,
  RESTORED_FROM_SNAPSHOT_TAG_KEY,
} from '../../core/naming';
import { RESTORE_TEST_RECORD_VERSION, type RestoreTestRecord } from '../../core/restore-test';
import { translateAwsError } from '../shared/aws-errors';
import { hasRestorePrefix, isProductionInstanceId } from '../shared/guards';
import { describeInstanceIfExists } from '../shared/rds-instances';
import {
  mergeRestoreTags,
  resolveBackupSnapshot,
  restoreRequestSettings,
  restoreTags,
  sendRestore,
  settingsFromInstance,
  type MetricSink,
} from '../shared/restore-common';
import { tagRecord, tagTime } from '../shared/tags';
import type { RestoreTestConfig } from './config';
import type { RestoreTestInput } from './contract';
import {
  getRestoreTestRecord,
  listRestoreTestRecords,
  putRestoreTestRecordOnce,
  readVerification,
} from '../shared/restore-test-records';

/** Where the function writes its log lines (Powertools Logger in Lambda). */
export type LogSink = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface RestoreTestDeps {
  readonly rds: RDSClient;
  readonly s3: S3Client;
  readonly config: RestoreTestConfig;
  readonly metrics: MetricSink;
  readonly logger: LogSink;
  readonly now?: () => Date;
  /** @default crypto.randomUUID */
  readonly requestId?: () => string;
}

/** Hours reported while no restore test has ever passed (keeps the overdue alarm in ALARM). */
export const NO_SUCCESSFUL_TEST_HOURS = 365 * 24;

// ---- fences ---------------------------------------------------------------------------------------

/** True when the instance is one of this function's test instances: the exact name AND its tag. */
export function isOwnTestInstance(instance: DBInstance): boolean {
  const id = instance.DBInstanceIdentifier ?? '';
  return (
    isRestoreTestInstanceId(id) &&
    tagRecord(instance.TagList)[RESTORE_TEST_TAG.key] === RESTORE_TEST_TAG.value
  );
}

/**
 * Delete a test instance: only `kb-restore-test-*` carrying the restore-test tag, never a
 * production id, never with a final snapshot, and its automated backups deleted with it.
 * Anything else is refused before any call (the role's IAM condition refuses it as well).
 */
export async function deleteTestInstance(
  rds: RDSClient,
  config: RestoreTestConfig,
  instance: DBInstance,
): Promise<void> {
  const id = instance.DBInstanceIdentifier ?? '';
  if (isProductionInstanceId(config, id) || !isOwnTestInstance(instance)) {
    throw new GuardRailError(
      `refused to delete ${id || 'an unnamed instance'}: the restore test deletes only its own test instances (named ${RESTORE_TEST_PREFIX}YYYYMMDD-HHMM and tagged ${RESTORE_TEST_TAG.key}=${RESTORE_TEST_TAG.value})`,
      { hint: 'nothing was deleted; delete other instances by hand if they are really unwanted' },
    );
  }
  try {
    await rds.send(
      new DeleteDBInstanceCommand({
        DBInstanceIdentifier: id,
        SkipFinalSnapshot: true,
        DeleteAutomatedBackups: true,
      }),
    );
  } catch (err) {
    // Already gone (or going) is what we wanted.
    if (isNotFound(err)) return;
    throw translateAwsError(err, { operation: `delete restore-test instance ${id}` });
  }
}

// ---- listing -----------------------------------------------------------------------------------------

/** Every instance whose id starts with `prefix` (the paginator's pages; the filter is ours). */
async function instancesWithPrefix(rds: RDSClient, prefix: string): Promise<DBInstance[]> {
  const out: DBInstance[] = [];
  try {
    for await (const page of paginateDescribeDBInstances({ client: rds }, {})) {
      for (const i of page.DBInstances ?? [])
        if ((i.DBInstanceIdentifier ?? '').toLowerCase().startsWith(prefix.toLowerCase())) out.push(i);
    }
  } catch (err) {
    throw translateAwsError(err, { operation: `list ${prefix}* instances` });
  }
  return out;
}

// ---- start -------------------------------------------------------------------------------------------

export interface StartInput {
  /** The schedule's time (EventBridge Scheduler `<aws.scheduler.scheduled-time>`); names the instance. */
  readonly time?: string | undefined;
}

export type StartResult =
  | {
      readonly action: 'started' | 'already-requested';
      readonly instanceId: string;
      readonly snapshotId?: string;
      readonly status?: string;
      readonly resolvedFromState?: string;
      readonly warnings: readonly string[];
    }
  | { readonly action: 'skipped'; readonly instanceId: string; readonly reason: string };

/** Request a restore test of the latest successful backup and return (never waits). */
export async function startRestoreTest(deps: RestoreTestDeps, input: StartInput): Promise<StartResult> {
  const now = deps.now ?? (() => new Date());
  const { rds, config } = deps;
  const when = input.time ? new Date(input.time) : now();
  if (Number.isNaN(when.getTime()))
    throw new GuardRailError(
      `"time" ${JSON.stringify(input.time)} is not a time, e.g. "time": "2026-11-25T04:00:00Z"`,
      {
        hint: 'leave "time" out to start a test now; nothing was changed',
      },
    );
  const instanceId = restoreTestInstanceIdFor(when);

  const tests = await instancesWithPrefix(rds, RESTORE_TEST_PREFIX);
  const same = tests.find((i) => i.DBInstanceIdentifier === instanceId);
  if (same) {
    if (!isOwnTestInstance(same))
      throw new GuardRailError(
        `${instanceId} exists but is not a kb-dr restore-test instance (no ${RESTORE_TEST_TAG.key} tag)`,
        {
          hint: 'nothing was changed; rename or delete that instance, or wait for the next scheduled test',
        },
      );
    // The same schedule fired twice (retry, redelivery): the first request stands.
    return {
      action: 'already-requested',
      instanceId,
      ...(same.DBInstanceStatus ? { status: same.DBInstanceStatus } : {}),
      warnings: [],
    };
  }
  if (!config.allowConcurrent) {
    const running = [];
    for (const t of tests.filter(isOwnTestInstance)) {
      // A test whose record is written is finished (its instance is being deleted, or orphaned).
      if (
        await getRestoreTestRecord(
          { s3: deps.s3, bucket: config.backupBucket },
          t.DBInstanceIdentifier ?? '',
        ).catch(() => undefined)
      )
        continue;
      running.push(t.DBInstanceIdentifier);
    }
    if (running.length > 0)
      return skip(deps, instanceId, `another restore test is in progress (${running.join(', ')})`);
  }

  const backup = await resolveBackupSnapshot(
    { rds, s3: deps.s3, bucket: config.backupBucket, dbInstanceId: config.dbInstanceId },
    'latest',
  );
  const snap = backup.snapshot;
  if (!config.allowConcurrent) {
    const onCall = (await instancesWithPrefix(rds, config.restorePrefix)).filter(
      (i) =>
        !isRestoreTestInstanceId(i.DBInstanceIdentifier ?? '') &&
        hasRestorePrefix(config, i.DBInstanceIdentifier ?? '') &&
        tagRecord(i.TagList)[RESTORED_FROM_SNAPSHOT_TAG_KEY] === snap.DBSnapshotIdentifier &&
        i.DBInstanceStatus !== 'available',
    );
    if (onCall.length > 0)
      return skip(
        deps,
        instanceId,
        `an on-call restore of the same backup ${snap.DBSnapshotIdentifier} is in progress (${onCall.map((i) => i.DBInstanceIdentifier).join(', ')})`,
      );
  }

  const sourceId = snap.DBInstanceIdentifier ?? config.dbInstanceId;
  const source = (await describeInstanceIfExists(rds, sourceId)) ?? undefined;
  const settings = settingsFromInstance(
    source,
    { storageEncrypted: snap.Encrypted === true, kmsKeyId: snap.KmsKeyId },
    snap,
  );
  const startedAt = now();
  const requestId = (deps.requestId ?? randomUUID)();
  const merged = mergeRestoreTags(source?.TagList ?? snap.TagList, [
    ...restoreTags({
      startedAt,
      sourceInstanceId: sourceId,
      protectedInstanceId: config.dbInstanceId,
      requestId,
      snapshotId: snap.DBSnapshotIdentifier,
    }),
    { Key: RESTORE_TEST_TAG.key, Value: RESTORE_TEST_TAG.value },
    { Key: RESTORE_TEST_KIND_TAG_KEY, Value: 'snapshot' },
  ]);
  let call: Awaited<ReturnType<typeof sendRestore>>;
  try {
    call = await sendRestore(
      rds,
      {
        targetInstanceId: instanceId,
        requestId,
        operation: `restore test: restore ${snap.DBSnapshotIdentifier} to ${instanceId}`,
      },
      async () => {
        const res = await rds.send(
          new RestoreDBInstanceFromDBSnapshotCommand({
            DBInstanceIdentifier: instanceId,
            DBSnapshotIdentifier: snap.DBSnapshotIdentifier,
            ...restoreRequestSettings(settings),
            // Test settings: its own class, one AZ, deletable, private, no snapshot copies.
            DBInstanceClass: config.instanceClass,
            MultiAZ: false,
            PubliclyAccessible: false,
            DeletionProtection: false,
            CopyTagsToSnapshot: false,
            Tags: merged.tags,
          }),
        );
        return res.DBInstance?.DBInstanceStatus;
      },
    );
  } catch (err) {
    // The same scheduled time delivered twice at once: the other delivery created it first.
    if (!(err instanceof AlreadyExistsError)) throw err;
    const existing = await describeInstanceIfExists(rds, instanceId);
    if (!existing || !isOwnTestInstance(existing)) throw err;
    return {
      action: 'already-requested',
      instanceId,
      ...(existing.DBInstanceStatus ? { status: existing.DBInstanceStatus } : {}),
      warnings: [],
    };
  }
  deps.logger.info('restore test requested', { instanceId, snapshotId: snap.DBSnapshotIdentifier });
  return {
    action: 'started',
    instanceId,
    snapshotId: snap.DBSnapshotIdentifier,
    ...(call.status ? { status: call.status } : {}),
    ...(call.resolvedFromState ? { resolvedFromState: call.resolvedFromState } : {}),
    warnings: backup.skippedCorrupt.map((u) => `"latest" skipped the corrupt manifest ${u}`),
  };
}

function skip(deps: RestoreTestDeps, instanceId: string, reason: string): StartResult {
  deps.logger.warn(`restore test not started: ${reason}`, { instanceId });
  return {
    action: 'skipped',
    instanceId,
    reason: `${reason}; nothing was changed. The next scheduled test tries again (set restoreTestAllowConcurrent to run tests alongside)`,
  };
}

// ---- advance -----------------------------------------------------------------------------------------

export type AdvanceAction = 'waiting' | 'recorded-and-deleted' | 'deleted' | 'deleting' | 'deletion-failed';

export interface AdvanceResult {
  readonly instanceId: string;
  readonly action: AdvanceAction;
  readonly outcome?: 'PASS' | 'FAIL';
  readonly detail?: string;
}

export interface AdvanceSummary {
  readonly mode: 'event' | 'pass';
  readonly results: readonly AdvanceResult[];
  /** Test instances still present after their test was recorded (deletion failed). */
  readonly orphans: readonly string[];
  readonly hoursSinceLastSuccess?: number;
}

const TERMINAL_FAILED_STATES = new Set([
  'failed',
  'incompatible-restore',
  'incompatible-parameters',
  'incompatible-network',
  'inaccessible-encryption-credentials',
  'storage-full',
]);

function seconds(from: Date, to: Date): number {
  return Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));
}

/**
 * Advance one test instance: record its outcome when it is known (verified, or stuck), then
 * delete it. Returns what happened; never throws for a single instance's AWS fault (it is
 * returned as `deletion-failed` or rethrown when nothing was recorded, for the next pass).
 */
async function advanceOne(
  deps: RestoreTestDeps,
  instance: DBInstance,
  eventTime: Date | undefined,
): Promise<AdvanceResult> {
  const now = (deps.now ?? (() => new Date()))();
  const { config } = deps;
  const id = instance.DBInstanceIdentifier ?? '';
  const loc = { s3: deps.s3, bucket: config.backupBucket, kmsKeyArn: config.kmsKeyArn };
  if (instance.DBInstanceStatus === 'deleting') return { instanceId: id, action: 'deleting' };

  let recorded: boolean;
  try {
    recorded = (await getRestoreTestRecord(loc, id)) !== undefined;
  } catch (err) {
    // A corrupt record is still a record: the test is over; delete its instance.
    if (!(err instanceof KbDrError) || err.name !== 'CorruptRestoreTestRecordError') throw err;
    deps.logger.error(err.userMessage, { instanceId: id });
    recorded = true;
  }
  if (recorded) return deleteAndReport(deps, instance, { instanceId: id, action: 'deleted' });

  const tags = tagRecord(instance.TagList);
  const requestedAt =
    tagTime(instance.TagList, RESTORE_STARTED_AT_TAG_KEY) ??
    (instance.InstanceCreateTime ? new Date(instance.InstanceCreateTime) : now);
  let availableAt = tagTime(instance.TagList, RESTORE_AVAILABLE_AT_TAG_KEY);
  if (instance.DBInstanceStatus === 'available' && !availableAt) {
    availableAt = eventTime && eventTime >= requestedAt && eventTime <= now ? eventTime : now;
    try {
      await deps.rds.send(
        new AddTagsToResourceCommand({
          ResourceName: instance.DBInstanceArn,
          Tags: [{ Key: RESTORE_AVAILABLE_AT_TAG_KEY, Value: availableAt.toISOString() }],
        }),
      );
    } catch (err) {
      // The time is still used for this record; a later pass would take a later time.
      deps.logger.warn('could not tag the available time', { instanceId: id, error: (err as Error).message });
    }
  }

  const verification = await readVerification(loc, id);
  const base = {
    version: RESTORE_TEST_RECORD_VERSION,
    instanceId: id,
    protectedInstanceId: config.dbInstanceId,
    kind: tags[RESTORE_TEST_KIND_TAG_KEY] === 'pitr' ? ('pitr' as const) : ('snapshot' as const),
    backup: {
      ...(tags[RESTORED_FROM_SNAPSHOT_TAG_KEY] ? { snapshotId: tags[RESTORED_FROM_SNAPSHOT_TAG_KEY] } : {}),
    },
    requestedAt: requestedAt.toISOString(),
    ...(availableAt
      ? { availableAt: availableAt.toISOString(), secondsToAvailable: seconds(requestedAt, availableAt) }
      : {}),
    ...(instance.DBInstanceClass ? { instanceClass: instance.DBInstanceClass } : {}),
    recordedAt: now.toISOString(),
  };
  let record: RestoreTestRecord | undefined;
  if (verification.state === 'present') {
    const v = verification.record;
    const verifiedAt = new Date(v.verifiedAt);
    const entries =
      v.entries || v.recorded
        ? {
            entries: {
              ...(v.entries ? { restored: v.entries } : {}),
              ...(v.recorded
                ? {
                    backup: {
                      knowledge_entries: v.recorded.knowledge_entries,
                      embedding_cache: v.recorded.embedding_cache,
                    },
                  }
                : {}),
            },
          }
        : {};
    const passed = v.outcome === 'PASS';
    record = {
      ...base,
      outcome: passed ? 'PASS' : 'FAIL',
      ...(passed
        ? {}
        : {
            failure: {
              reason: 'verification-failed' as const,
              detail:
                v.outcome === 'NOT_CONFIGURED'
                  ? `verification is not configured in this deployment (never a pass): ${v.summary}`
                  : v.summary,
            },
          }),
      verifiedAt: verifiedAt.toISOString(),
      secondsToVerified: seconds(requestedAt, verifiedAt),
      ...entries,
      verificationSummary: v.summary,
    };
  } else if (verification.state === 'corrupt') {
    record = {
      ...base,
      outcome: 'FAIL',
      failure: { reason: 'verification-corrupt', detail: verification.detail },
    };
  } else if (TERMINAL_FAILED_STATES.has(instance.DBInstanceStatus ?? '')) {
    record = {
      ...base,
      outcome: 'FAIL',
      failure: { reason: 'restore-failed', detail: `the test instance is ${instance.DBInstanceStatus}` },
    };
  } else if (now.getTime() - requestedAt.getTime() > config.stuckHours * 3_600_000) {
    record = {
      ...base,
      outcome: 'FAIL',
      failure: {
        reason: 'stuck',
        detail: `${availableAt ? 'available but not verified' : `still ${instance.DBInstanceStatus ?? 'not available'}`} ${Math.floor(seconds(requestedAt, now) / 3600)} h after the request (limit ${config.stuckHours} h)`,
      },
    };
  }
  if (!record)
    return {
      instanceId: id,
      action: 'waiting',
      detail: availableAt
        ? 'waiting for the verification record'
        : `instance ${instance.DBInstanceStatus ?? 'creating'}`,
    };

  if (await putRestoreTestRecordOnce(loc, record)) {
    // Emitted once per test: only the writer of the record emits.
    deps.metrics.add(KbMetrics.RestoreTestSuccess, record.outcome === 'PASS' ? 1 : 0);
    if (record.secondsToVerified !== undefined)
      deps.metrics.add(KbMetrics.RestoreTestDuration, record.secondsToVerified);
    const log = record.outcome === 'PASS' ? deps.logger.info : deps.logger.error;
    log.call(deps.logger, `restore test ${id}: ${record.outcome}`, { record });
  }
  return deleteAndReport(deps, instance, {
    instanceId: id,
    action: 'recorded-and-deleted',
    outcome: record.outcome,
    ...(record.failure ? { detail: record.failure.detail } : {}),
  });
}

async function deleteAndReport(
  deps: RestoreTestDeps,
  instance: DBInstance,
  ok: AdvanceResult,
): Promise<AdvanceResult> {
  try {
    await deleteTestInstance(deps.rds, deps.config, instance);
    return ok;
  } catch (err) {
    const message = err instanceof KbDrError ? err.userMessage : (err as Error).message;
    deps.logger.error(
      `restore-test instance ${ok.instanceId} could not be deleted: it is an orphan and costs money every hour`,
      {
        error: message,
      },
    );
    deps.metrics.add(KbMetrics.RestoreTestOrphans, 1);
    return { ...ok, action: 'deletion-failed', detail: message };
  }
}

/**
 * The event path: advance the one instance the RDS event names, when it is a test instance of
 * ours; anything else is ignored (the rule already filters on the name prefix).
 */
export async function advanceFromEvent(
  deps: RestoreTestDeps,
  instanceId: string,
  eventTime?: Date,
): Promise<AdvanceSummary> {
  const id = instanceId.toLowerCase();
  if (!isRestoreTestInstanceId(id)) return { mode: 'event', results: [], orphans: [] };
  const instance = await describeInstanceIfExists(deps.rds, id);
  if (!instance || !isOwnTestInstance(instance)) return { mode: 'event', results: [], orphans: [] };
  const result = await advanceOne(deps, instance, eventTime);
  return { mode: 'event', results: [result], orphans: result.action === 'deletion-failed' ? [id] : [] };
}

/**
 * The periodic pass: advance every test instance of ours, count the orphans, and report the age
 * of the newest successful test (RestoreTestOrphans and HoursSinceLastRestoreTest, every pass).
 */
export async function restoreTestPass(deps: RestoreTestDeps): Promise<AdvanceSummary> {
  const now = (deps.now ?? (() => new Date()))();
  const results: AdvanceResult[] = [];
  for (const instance of (await instancesWithPrefix(deps.rds, RESTORE_TEST_PREFIX)).filter(
    isOwnTestInstance,
  )) {
    try {
      results.push(await advanceOne(deps, instance, undefined));
    } catch (err) {
      // One instance's fault never stops the others; the next pass retries it.
      deps.logger.error(
        `restore test ${instance.DBInstanceIdentifier}: ${err instanceof KbDrError ? err.userMessage : (err as Error).message}`,
      );
    }
  }
  const orphans = results.filter((r) => r.action === 'deletion-failed').map((r) => r.instanceId);
  deps.metrics.add(KbMetrics.RestoreTestOrphans, orphans.length);
  const records = await listRestoreTestRecords(
    { s3: deps.s3, bucket: deps.config.backupBucket },
    { onCorrupt: (e) => deps.logger.error(e.userMessage) },
  );
  const lastPass = records.find((r) => r.outcome === 'PASS');
  const passedAt = lastPass ? new Date(lastPass.verifiedAt ?? lastPass.recordedAt) : undefined;
  const hoursSinceLastSuccess = passedAt
    ? Math.round(((now.getTime() - passedAt.getTime()) / 3_600_000) * 100) / 100
    : NO_SUCCESSFUL_TEST_HOURS;
  deps.metrics.add(KbMetrics.HoursSinceLastRestoreTest, hoursSinceLastSuccess);
  return { mode: 'pass', results, orphans, hoursSinceLastSuccess };
}

/** Re-exported for the handler's event filter. */
export { MANAGED_BY_TAG };

/** Run what one invocation asks for: start a test, advance the instance an event names, or a pass. */
export function runRestoreTest(
  deps: RestoreTestDeps,
  input: RestoreTestInput,
): Promise<StartResult | AdvanceSummary> {
  if (input.kind === 'start') return startRestoreTest(deps, { time: input.time });
  if (input.kind === 'event') return advanceFromEvent(deps, input.instanceId, input.eventTime);
  return restoreTestPass(deps);
}
