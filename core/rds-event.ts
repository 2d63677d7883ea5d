/**
 * RDS events the pipeline listens to (EventBridge `aws.rds`, detail-type `RDS DB Snapshot Event`):
 * RDS-EVENT-0042 manual snapshot created, 0161 export completed, 0159 export failed, 0160 export
 * canceled. Events are hints only: RDS sends them best effort, possibly out of order, so the
 * handler re-reads the real state before acting.
 */
import * as z from 'zod/mini';
import './zod-english';
import { isKbSnapshotId, snapshotIdForExportTask } from './naming';
import { onFirstUse } from './on-first-use';

export const PIPELINE_EVENT_IDS = {
  snapshotCreated: 'RDS-EVENT-0042',
  exportFailed: 'RDS-EVENT-0159',
  exportCanceled: 'RDS-EVENT-0160',
  exportCompleted: 'RDS-EVENT-0161',
} as const;

/**
 * RDS events (detail-type `RDS DB Instance Event`) after which a restored instance may be
 * available: 0005 instance created, 0008 restored from a DB snapshot, 0019 restored from a
 * point-in-time backup. verify-restore re-reads the instance and waits for `available`; the
 * periodic pass catches what an event missed.
 */
export const RESTORE_READY_EVENT_IDS = ['RDS-EVENT-0005', 'RDS-EVENT-0008', 'RDS-EVENT-0019'] as const;

/**
 * Built on first use ({@link rdsEventSchema}): only the invocations an RDS event triggers need it
 * (not the periodic passes, the schedules or the console), and building it at load cost every cold
 * start of reconcile, restore-test and verify-restore about 1-3 ms of CPU (bench/function-cold-load.ts).
 */
function buildRdsEventSchema() {
  return z.looseObject({
    source: z.literal('aws.rds'),
    'detail-type': z.string(),
    time: z.optional(z.string()),
    detail: z.looseObject({
      EventID: z.optional(z.string()),
      SourceIdentifier: z.optional(z.string()),
      SourceArn: z.optional(z.string()),
      Message: z.optional(z.string()),
      Date: z.optional(z.string()),
    }),
  });
}

/** The schema of an RDS EventBridge event (loose: RDS may add fields), built once, on first use. */
export const rdsEventSchema = onFirstUse(buildRdsEventSchema);

export type RdsEvent = z.infer<ReturnType<typeof buildRdsEventSchema>>;

/** True when `event` looks like an EventBridge event from RDS. */
export function isRdsEvent(event: unknown): boolean {
  return typeof event === 'object' && event !== null && (event as { source?: unknown }).source === 'aws.rds';
}

/**
 * The kb-dr snapshot an event is about: its SourceIdentifier, the snapshot in its SourceArn, or
 * an export task id of ours named in it. Undefined when the event is not about kb-dr's backups.
 */
export function snapshotIdOfEvent(event: RdsEvent): string | undefined {
  const d = event.detail;
  const candidates = [
    d.SourceIdentifier,
    d.SourceArn?.split(':snapshot:')[1],
    snapshotIdForExportTask(d.SourceIdentifier ?? ''),
    ...[...(d.Message ?? '').matchAll(/kb-export-\d{8}-\d{6}(?:-r\d+)?/g)].map((m) =>
      snapshotIdForExportTask(m[0]),
    ),
    /kb-snapshot-\d{8}-\d{6}/.exec(d.Message ?? '')?.[0],
  ];
  return candidates.find((c): c is string => c !== undefined && isKbSnapshotId(c));
}

/** When RDS says the event happened, or undefined. */
export function eventTime(event: RdsEvent): Date | undefined {
  const raw = event.detail.Date ?? event.time;
  if (!raw) return undefined;
  const d = new Date(raw);
  return Number.isNaN(d.getTime()) ? undefined : d;
}
