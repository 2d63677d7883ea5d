/**
 * The reconcile function's contract: its events (strict schemas, examples) and its answer. The
 * CLI and the drill import this file, never the logic.
 *
 * Two kinds of event: an RDS snapshot or export event (EventBridge `aws.rds`, advance that one
 * snapshot now) and the periodic pass, which the 15-minute schedule sends as
 * `{"source": "kb-dr.reconcile", "time": "<scheduled time>"}` and on-call sends from the console
 * as `{}`. Anything else (a misspelled field, `null`, an array) is refused and changes nothing.
 */
import * as z from 'zod/mini';
import type { RdsEvent } from '../../core/rds-event';

/** The periodic pass. `time` is informational: a pass always looks at the state as it is now. */
export const ReconcilePassEventSchema = z.strictObject({
  source: z.optional(z.enum(['kb-dr.reconcile', 'aws.scheduler'])),
  time: z.optional(z.string()),
});

export type ReconcilePassEvent = z.infer<typeof ReconcilePassEventSchema>;

/** The fields of ReconcilePassEventSchema, for "did you mean" messages. */
export const RECONCILE_PASS_FIELDS = ['source', 'time'] as const;

/** A pass, as on-call starts one from the console. */
export const RECONCILE_EXAMPLE_EVENT = {} as const satisfies ReconcilePassEvent;

/** The 15-minute schedule's payload (EventBridge Scheduler fills in the time). */
export const RECONCILE_SCHEDULE_EXAMPLE_EVENT = {
  source: 'kb-dr.reconcile',
  time: '2026-11-22T02:15:00Z',
} as const satisfies ReconcilePassEvent;

/** What an invocation asks for: advance one snapshot now, or a periodic pass. */
export type ReconcileInput = { readonly kind: 'event'; readonly event: RdsEvent } | { readonly kind: 'pass' };

/**
 * The answer. Retryable step failures are thrown instead (after the pass finished everything
 * else), so the invocation is retried.
 */
export interface ReconcileResponse {
  readonly mode: 'pass' | 'event';
  /** One line per snapshot looked at: `<snapshot id>: <what happened>`. */
  readonly outcomes: readonly string[];
  /** Snapshots the retention deleted in this pass. */
  readonly deleted: readonly string[];
  /** Age of the newest recovery point (a pass only). */
  readonly hoursSinceLastBackup?: number;
}
