/**
 * restore-pitr: point-in-time restore of the protected instance (or another source) to a NEW
 * instance. The restore window is computed and checked here; the API's own check is not relied
 * on (moto performs none, and a refusal from RDS comes after the caller thought it had started).
 */
import { randomUUID } from 'node:crypto';
import { RestoreDBInstanceToPointInTimeCommand, type RDSClient } from '@aws-sdk/client-rds';
import { GuardRailError, ValidationError } from '../../core/errors';
import { calendarProblem, ISO_WITH_OFFSET, ISO_WITHOUT_OFFSET } from '../shared/strict-time';
import {
  checkRestoreTarget,
  checkRestoreTargetName,
  isAsideOf,
  productionIds,
  requireConfirmation,
  truncateForEcho,
  type RestoreGuardConfig,
} from '../shared/guards';
import { describeInstanceIfExists } from '../shared/rds-instances';
import { computeRestoreWindow, type RestoreWindow } from '../shared/restore-window';

export { computeRestoreWindow, type RestoreWindow };
import { KbMetrics } from '../../core/metrics-catalog';
import {
  LATEST,
  MAX_RDS_TAGS,
  mergeRestoreTags,
  restoreRequestSettings,
  sendRestore,
  restoreTags,
  settingsFromInstance,
  settingsWarnings,
  type MetricSink,
} from '../shared/restore-common';
import { type RestorePitrEvent, type RestorePitrResult } from './contract';

/** The event schema, example and answer type live in contract.ts (imported by the CLI and the drill). */
export * from './contract';

/**
 * Parse `targetTime`; it must carry `Z` or an explicit offset and name a real calendar time
 * (JavaScript would silently roll 2026-11-31 over to 1 December).
 */
export function parseTargetTime(value: string): Date {
  const example = '"targetTime": "2026-11-22T01:30:00Z"';
  const shown = truncateForEcho(value);
  if (ISO_WITHOUT_OFFSET.test(value)) {
    throw new ValidationError(
      `targetTime "${shown}" has no time zone: add Z for UTC or an offset such as +01:00, e.g. ${example}`,
      'targetTime',
      { hint: 'a time without a zone is ambiguous at 3 a.m.; nothing was changed' },
    );
  }
  const m = ISO_WITH_OFFSET.exec(value);
  const problem = m ? calendarProblem(m) : undefined;
  if (problem) {
    throw new ValidationError(
      `targetTime "${shown}" is not a real time: ${problem}, e.g. ${example}`,
      'targetTime',
      {
        hint: 'fix the time and run again; nothing was changed',
      },
    );
  }
  const date = new Date(value);
  if (!m || Number.isNaN(date.getTime())) {
    throw new ValidationError(
      `targetTime "${shown}" is not an ISO 8601 time with a zone, e.g. ${example} or "targetTime": "latest"`,
      'targetTime',
      { hint: 'fix the time and run again; nothing was changed' },
    );
  }
  return date;
}

/** `time` in UTC for answers and tags: whole seconds, or milliseconds when it has any. */
export function utcWithFraction(time: Date): string {
  return time.getUTCMilliseconds() === 0 ? utc(time) : time.toISOString();
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
  /** A unique id per request (tagged on the new instance). @default crypto.randomUUID */
  readonly requestId?: () => string;
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
  // Every field is checked before the first AWS call.
  checkRestoreTargetName(config, input.targetInstanceId, now());
  const requested = useLatest ? undefined : parseTargetTime(input.targetTime);
  const sourceId = (input.sourceInstanceId ?? config.dbInstanceId).toLowerCase();
  // The sources: a protected instance, or production's aside copy after a promotion
  // (`<prod>-pre-promote-<UTC time>`), whose automated backups hold the history before the promotion.
  const protectedId = productionIds(config).find((p) => p === sourceId || isAsideOf(sourceId, p));
  if (!protectedId) {
    throw new GuardRailError(
      `sourceInstanceId "${truncateForEcho(input.sourceInstanceId ?? '')}" is not a protected instance (${productionIds(config).join(', ')}) nor one set aside by promote-restore (<protected>-pre-promote-YYYYMMDDHHMMSS), e.g. "sourceInstanceId": "${config.dbInstanceId}"`,
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
  const restoreTime = requested ? utcWithFraction(requested) : utc(window.latest);
  const realSourceId = source.DBInstanceIdentifier ?? sourceId;
  const startedAt = now();
  const requestId = (deps.requestId ?? randomUUID)();
  const merged = mergeRestoreTags(
    source.TagList,
    restoreTags({
      startedAt,
      sourceInstanceId: realSourceId,
      protectedInstanceId: protectedId,
      requestId,
      restoredToTime: restoreTime,
    }),
  );
  const base = {
    sourceInstanceId: realSourceId,
    protectedInstanceId: protectedId,
    restoreTime,
    useLatestRestorableTime: useLatest,
    window: {
      earliest: utc(window.earliest),
      latest: utc(window.latest),
      earliestFrom: window.earliestFrom,
      source: window.source,
    },
    targetInstanceId,
    settings,
    tags: { copied: merged.copied, dropped: merged.dropped },
    warnings: [
      ...settingsWarnings(settings, sourceId),
      ...(window.fallbackReason ? [`restore window: ${window.source}`] : []),
      ...(merged.dropped.length > 0
        ? [`RDS allows ${MAX_RDS_TAGS} tags: the source's tags ${merged.dropped.join(', ')} were not copied`]
        : []),
    ],
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
  const call = await sendRestore(
    rds,
    {
      targetInstanceId,
      requestId,
      operation: `point-in-time restore of ${base.sourceInstanceId} to ${restoreTime} as ${targetInstanceId}`,
    },
    async () => {
      const res = await rds.send(
        new RestoreDBInstanceToPointInTimeCommand({
          SourceDBInstanceIdentifier: base.sourceInstanceId,
          TargetDBInstanceIdentifier: targetInstanceId,
          ...(requested ? { RestoreTime: requested } : { UseLatestRestorableTime: true }),
          ...restoreRequestSettings(settings),
          Tags: merged.tags,
        }),
      );
      return res.DBInstance?.DBInstanceStatus;
    },
  );
  deps.metrics.add(KbMetrics.RestoreStarted, 1);
  const statusEvent = { targetInstanceId };
  return {
    ok: true,
    dryRun: false,
    action: 'started',
    ...base,
    startedAt: startedAt.toISOString(),
    ...(call.status ? { status: call.status } : {}),
    ...(call.resolvedFromState ? { resolvedFromState: call.resolvedFromState } : {}),
    next: {
      function: 'restore-status',
      event: statusEvent,
      say: `point-in-time restore started; follow it with restore-status ${JSON.stringify(statusEvent)}`,
    },
  };
}
