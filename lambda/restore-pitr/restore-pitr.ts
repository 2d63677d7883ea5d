/**
 * restore-pitr: point-in-time restore of the protected instance (or another source) to a NEW
 * instance. The restore window is computed and checked here; the API's own check is not relied
 * on (moto performs none, and a refusal from RDS comes after the caller thought it had started).
 */
import {
  DescribeDBInstanceAutomatedBackupsCommand,
  RestoreDBInstanceToPointInTimeCommand,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { z } from 'zod';
import {
  GuardRailError,
  InvalidStateError,
  ValidationError,
  awsErrorCode,
  translateAwsError,
} from '../shared/errors';
import {
  checkRestoreTarget,
  describeInstanceIfExists,
  isProductionInstanceId,
  productionIds,
  requireConfirmation,
  type RestoreGuardConfig,
} from '../shared/guards';
import type { EventSpec } from '../shared/handler-response';
import { KbMetrics } from '../shared/metrics-catalog';
import {
  LATEST,
  restoreRequestSettings,
  restoreTags,
  settingsFromInstance,
  settingsWarnings,
  type MetricSink,
  type SourceSettings,
} from '../shared/restore-common';

export const RestorePitrEventSchema = z.strictObject({
  targetTime: z.string(),
  targetInstanceId: z.string(),
  sourceInstanceId: z.string().optional(),
  confirm: z.boolean().optional(),
  dryRun: z.boolean().optional(),
});
export type RestorePitrEvent = z.infer<typeof RestorePitrEventSchema>;

export const RESTORE_PITR_EVENT: EventSpec<typeof RestorePitrEventSchema> = {
  functionName: 'restore-pitr',
  schema: RestorePitrEventSchema,
  example: {
    targetTime: '2026-11-22T01:30:00Z',
    targetInstanceId: 'kb-restore-pitr-1',
    confirm: true,
    dryRun: false,
  },
  fieldExamples: {
    targetTime: '"2026-11-22T01:30:00Z" or "latest"',
    targetInstanceId: '"kb-restore-pitr-1"',
    sourceInstanceId: '"kb-prod"',
    confirm: 'true',
    dryRun: 'false',
  },
};

/** ISO 8601 date-time with an explicit `Z` or `±hh:mm` offset. */
const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/i;
const ISO_WITHOUT_OFFSET = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?$/i;

/** Parse `targetTime`; it must carry `Z` or an explicit offset. */
export function parseTargetTime(value: string): Date {
  const example = '"targetTime": "2026-11-22T01:30:00Z"';
  if (ISO_WITHOUT_OFFSET.test(value)) {
    throw new ValidationError(
      `targetTime "${value}" has no time zone: add Z for UTC or an offset such as +01:00, e.g. ${example}`,
      'targetTime',
      { hint: 'a time without a zone is ambiguous at 3 a.m.; nothing was changed' },
    );
  }
  const date = new Date(value);
  if (!ISO_WITH_OFFSET.test(value) || Number.isNaN(date.getTime())) {
    throw new ValidationError(
      `targetTime "${value}" is not an ISO 8601 time with a zone, e.g. ${example} or "targetTime": "latest"`,
      'targetTime',
      { hint: 'fix the time and run again; nothing was changed' },
    );
  }
  return date;
}

export interface RestoreWindow {
  readonly earliest: Date;
  readonly latest: Date;
  /** Where `earliest` came from (moto and some accounts return no RestoreWindow). */
  readonly earliestFrom: 'automated-backups' | 'instance-create-time' | 'retention-period';
}

const DAY_MS = 86_400_000;

/**
 * The restore window of `source`: latest = its LatestRestorableTime; earliest = the automated
 * backups' RestoreWindow.EarliestTime when RDS reports one, otherwise the later of the instance's
 * creation time and now minus the backup retention period (the documented meaning of retention).
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
  try {
    const res = await rds.send(new DescribeDBInstanceAutomatedBackupsCommand({ DBInstanceIdentifier: id }));
    const times = (res.DBInstanceAutomatedBackups ?? [])
      .map((b) => b.RestoreWindow?.EarliestTime)
      .filter((t): t is Date => t !== undefined)
      .map((t) => new Date(t));
    if (times.length > 0) reported = new Date(Math.min(...times.map((t) => t.getTime())));
  } catch (err) {
    if (!/NotFound/.test(awsErrorCode(err)))
      throw translateAwsError(err, { operation: `describe automated backups of ${id}` });
  }
  if (reported) return { earliest: reported, latest, earliestFrom: 'automated-backups' };
  const byRetention = new Date(now.getTime() - retention * DAY_MS);
  const created = source.InstanceCreateTime ? new Date(source.InstanceCreateTime) : undefined;
  if (created && created > byRetention)
    return { earliest: created, latest, earliestFrom: 'instance-create-time' };
  return { earliest: byRetention, latest, earliestFrom: 'retention-period' };
}

function utc(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/** Throw a ValidationError stating the window in UTC when `time` is in the future or outside it. */
export function checkInsideWindow(time: Date, window: RestoreWindow, now: Date, sourceId: string): void {
  // Operators type whole seconds: quote the whole-second window inside the real one, so the times
  // the message quotes, and its example, are always accepted.
  const earliest = new Date(Math.ceil(window.earliest.getTime() / 1000) * 1000);
  const latest = new Date(Math.floor(window.latest.getTime() / 1000) * 1000);
  const span = `from ${utc(earliest)} to ${utc(latest)} (UTC)`;
  const example = `"targetTime": "${utc(latest)}"`;
  if (time.getTime() > now.getTime()) {
    throw new ValidationError(
      `targetTime ${utc(time)} is in the future (now ${utc(now)}); the restore window of ${sourceId} is ${span}, e.g. ${example}`,
      'targetTime',
      { hint: 'pick a time inside the window, or "targetTime": "latest"; nothing was changed' },
    );
  }
  if (time < window.earliest || time > window.latest) {
    throw new ValidationError(
      `targetTime ${utc(time)} is outside the restore window of ${sourceId}, ${span}, e.g. ${example}`,
      'targetTime',
      {
        hint: 'pick a time inside the window, "targetTime": "latest", or an older nightly backup with restore-snapshot; nothing was changed',
      },
    );
  }
}

export interface RestorePitrDeps {
  readonly rds: RDSClient;
  readonly config: RestoreGuardConfig;
  readonly metrics: MetricSink;
  readonly now?: () => Date;
}

export interface RestorePitrResult {
  readonly ok: true;
  readonly dryRun: boolean;
  readonly action: 'started' | 'plan';
  readonly sourceInstanceId: string;
  /** The requested time in UTC, or the LatestRestorableTime at the request for `latest`. */
  readonly restoreTime: string;
  readonly useLatestRestorableTime: boolean;
  readonly window: { readonly earliest: string; readonly latest: string; readonly earliestFrom: string };
  readonly targetInstanceId: string;
  readonly settings: SourceSettings;
  readonly warnings: readonly string[];
  readonly startedAt?: string;
  readonly status?: string;
  readonly next: {
    readonly function: string;
    readonly event: Readonly<Record<string, unknown>>;
    readonly say: string;
  };
}

/** Point-in-time restore to the new instance `input.targetInstanceId`. */
export async function restorePitr(
  deps: RestorePitrDeps,
  input: RestorePitrEvent,
): Promise<RestorePitrResult> {
  const now = deps.now ?? (() => new Date());
  const { rds, config } = deps;
  requireConfirmation(input, 'start a point-in-time restore');
  const useLatest = input.targetTime.toLowerCase() === LATEST;
  const requested = useLatest ? undefined : parseTargetTime(input.targetTime);
  const sourceId = input.sourceInstanceId ?? config.dbInstanceId;
  // The function's IAM role may restore only from production instances; say so before AWS does.
  if (!isProductionInstanceId(config, sourceId)) {
    throw new GuardRailError(
      `sourceInstanceId "${sourceId}" is not a protected instance (${productionIds(config).join(', ')}), e.g. "sourceInstanceId": "${config.dbInstanceId}"`,
      { hint: 'leave sourceInstanceId out to restore the protected instance; nothing was changed' },
    );
  }
  const source = await describeInstanceIfExists(rds, sourceId);
  if (!source) {
    throw new ValidationError(
      `sourceInstanceId "${sourceId}" not found in this account and region, e.g. "sourceInstanceId": "${config.dbInstanceId}"`,
      'sourceInstanceId',
      {
        hint: 'if the instance itself is gone, restore its latest backup with restore-snapshot {"snapshotId": "latest", ...}; nothing was changed',
      },
    );
  }
  const at = now();
  const window = await computeRestoreWindow(rds, source, at);
  if (requested) checkInsideWindow(requested, window, at, sourceId);
  const targetInstanceId = await checkRestoreTarget(rds, config, input.targetInstanceId, at);
  const settings = settingsFromInstance(source, {
    storageEncrypted: source.StorageEncrypted === true,
    kmsKeyId: source.KmsKeyId,
  });
  const restoreTime = utc(requested ?? window.latest);
  const base = {
    sourceInstanceId: source.DBInstanceIdentifier ?? sourceId,
    restoreTime,
    useLatestRestorableTime: useLatest,
    window: { earliest: utc(window.earliest), latest: utc(window.latest), earliestFrom: window.earliestFrom },
    targetInstanceId,
    settings,
    warnings: settingsWarnings(settings, sourceId),
  };
  if (input.dryRun === true) {
    return {
      ok: true,
      dryRun: true,
      action: 'plan',
      ...base,
      next: {
        function: 'restore-pitr',
        event: {
          targetTime: useLatest ? LATEST : input.targetTime,
          targetInstanceId,
          sourceInstanceId: base.sourceInstanceId,
          confirm: true,
          dryRun: false,
        },
        say: 'dry run: nothing was changed; run restore-pitr with this event to start the restore',
      },
    };
  }
  const startedAt = now();
  let status: string | undefined;
  try {
    const res = await rds.send(
      new RestoreDBInstanceToPointInTimeCommand({
        SourceDBInstanceIdentifier: base.sourceInstanceId,
        TargetDBInstanceIdentifier: targetInstanceId,
        ...(requested ? { RestoreTime: requested } : { UseLatestRestorableTime: true }),
        ...restoreRequestSettings(settings),
        Tags: restoreTags({
          startedAt,
          sourceInstanceId: base.sourceInstanceId,
          restoredToTime: restoreTime,
        }),
      }),
    );
    status = res.DBInstance?.DBInstanceStatus;
  } catch (err) {
    throw translateAwsError(err, {
      operation: `point-in-time restore of ${base.sourceInstanceId} to ${restoreTime} as ${targetInstanceId}`,
    });
  }
  deps.metrics.add(KbMetrics.RestoreStarted, 1);
  const statusEvent = { targetInstanceId };
  return {
    ok: true,
    dryRun: false,
    action: 'started',
    ...base,
    startedAt: startedAt.toISOString(),
    ...(status ? { status } : {}),
    next: {
      function: 'restore-status',
      event: statusEvent,
      say: `point-in-time restore started; follow it with restore-status ${JSON.stringify(statusEvent)}`,
    },
  };
}
