/**
 * The backup function's contract: its event (strict schema, examples) and its answer. The CLI and
 * the drill import this file, never the logic.
 *
 * Three callers: the nightly schedule `{"source": "kb-dr.schedule", "time": "<scheduled time>"}`,
 * an on-demand request `{"reason": "..."}` (or `{}`) from the console or CLI, and an EventBridge
 * rule's "Scheduled Event". Anything else (a misspelled field, `null`, an array) is refused and
 * changes nothing.
 */
import * as z from 'zod/mini';
import type { BackupFailure } from '../shared/backup-pipeline';

export const BackupEventSchema = z.strictObject({
  source: z.optional(z.enum(['kb-dr.schedule', 'aws.scheduler', 'aws.events'])),
  /** The scheduled time (ISO 8601 with Z or an offset): names tonight's snapshot. */
  time: z.optional(z.string()),
  /** Why an on-demand backup was taken (tagged on the snapshot). */
  reason: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(256))),
});

export type BackupEvent = z.infer<typeof BackupEventSchema>;

/** An EventBridge rule's scheduled event: only its `time` matters. */
export const ScheduledRuleEventSchema = z.looseObject({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  time: z.string(),
});

/** The fields of BackupEventSchema, for "did you mean" messages. */
export const BACKUP_EVENT_FIELDS = ['source', 'time', 'reason'] as const;

/** An on-demand backup, as the console or the CLI sends it. */
export const BACKUP_EXAMPLE_EVENT = { reason: 'before the schema migration' } as const satisfies BackupEvent;

/** The nightly schedule's payload (EventBridge Scheduler fills in the time). */
export const BACKUP_SCHEDULE_EXAMPLE_EVENT = {
  source: 'kb-dr.schedule',
  time: '2026-11-22T02:00:00Z',
} as const satisfies BackupEvent;

/**
 * The answer: the snapshot the request maps to and what happened to it. A failure that may pass
 * on its own is thrown instead (the invocation is retried).
 */
export type StartBackupResult =
  | { readonly status: 'created'; readonly snapshotId: string }
  | { readonly status: 'already-exists'; readonly snapshotId: string }
  | { readonly status: 'already-recorded'; readonly snapshotId: string }
  | { readonly status: 'failed'; readonly snapshotId: string; readonly failure: BackupFailure };
