/**
 * The verify-restore function's contract: its events (strict schemas, examples) and its answers.
 * The CLI and the drill import this file, never the logic.
 */
import * as z from 'zod/mini';
import '../../core/zod-english';
import { ValidationError } from '../../core/errors';
import { isRdsEvent, rdsEventSchema } from '../../core/rds-event';
import type { VerificationRecord } from '../../core/verification';
import { parseEvent, type EventReader, type EventSpec } from '../shared/handler-response';

export const VerifyRestoreEventSchema = z.strictObject({
  targetInstanceId: z.string().check(z.minLength(1)),
  /** For a point-in-time restore: the entry count the operator expects at the target time. */
  expectedEntries: z.optional(z.int().check(z.nonnegative())),
  /** Verify again although a result is stored (rewrites the record, emits the metric again). */
  reverify: z.optional(z.boolean()),
});
export type VerifyRestoreEvent = z.infer<typeof VerifyRestoreEventSchema>;

export const VERIFY_RESTORE_EVENT: EventSpec<typeof VerifyRestoreEventSchema> = {
  functionName: 'verify-restore',
  schema: VerifyRestoreEventSchema,
  example: { targetInstanceId: 'kb-restore-drill-1' },
  fieldExamples: {
    targetInstanceId: '"kb-restore-drill-1"',
    expectedEntries: '100000',
    reverify: 'true',
  },
};

/** The periodic backstop: verify every available kb-restore-* instance that has no record yet. */
export const VerifyPassEventSchema = z.strictObject({ pass: z.literal(true) });
export const VERIFY_PASS_EVENT: EventSpec<typeof VerifyPassEventSchema> = {
  functionName: 'verify-restore',
  schema: VerifyPassEventSchema,
  example: { pass: true },
  fieldExamples: { pass: 'true' },
};

/** What an invocation asks for: verify one instance (named by an RDS event or a request), or a pass. */
export type VerifyRestoreInput =
  { readonly kind: 'verify'; readonly event: VerifyRestoreEvent } | { readonly kind: 'pass' };

/**
 * The three kinds of event: an RDS instance event (verify the instance it names), the periodic
 * backstop `{"pass": true}`, and the console or CLI request. A refusal names the field.
 */
export function readVerifyRestoreEvent(event: unknown): VerifyRestoreInput {
  if (isRdsEvent(event)) {
    const parsed = rdsEventSchema().safeParse(event);
    const id = parsed.success
      ? (parsed.data.detail.SourceIdentifier ?? parsed.data.detail.SourceArn?.split(':db:')[1])
      : undefined;
    if (!id)
      throw new ValidationError('RDS event names no instance; nothing was changed', 'detail', {
        hint: 'the EventBridge rule should forward the whole event',
      });
    return { kind: 'verify', event: { targetInstanceId: id } };
  }
  if (typeof event === 'object' && event !== null && 'pass' in event) {
    parseEvent(VERIFY_PASS_EVENT, event);
    return { kind: 'pass' };
  }
  return { kind: 'verify', event: parseEvent(VERIFY_RESTORE_EVENT, event) };
}

/** How the handler reads its event (one of three kinds). */
export const VERIFY_RESTORE_INPUT: EventReader<VerifyRestoreInput> = {
  functionName: 'verify-restore',
  read: readVerifyRestoreEvent,
};

export type VerifyOutcome = VerificationRecord['outcome'] | 'NOT_AVAILABLE';

export interface VerifyRestoreResult {
  readonly ok: true;
  readonly targetInstanceId: string;
  readonly outcome: VerifyOutcome;
  /** One line, e.g. "verified: 100,000 entries, as recorded at backup; newest entry 01:59:58Z". */
  readonly summary: string;
  /** One line per check (validate-backup's format). */
  readonly report: readonly string[];
  /** True when the result is the stored one (no connection was made, no metric emitted). */
  readonly fromStore: boolean;
  /** Where the record is (absent for NOT_AVAILABLE). */
  readonly recordKey?: string;
  readonly record?: VerificationRecord;
  readonly warnings?: readonly string[];
}

export interface VerifyPassResult {
  readonly ok: true;
  readonly mode: 'pass';
  /** Instances verified now, with their outcome. */
  readonly verified: readonly {
    readonly instanceId: string;
    readonly outcome: VerifyOutcome;
    readonly summary: string;
  }[];
  /** Instances left for the next pass (over the per-pass limit), or that failed to verify. */
  readonly left: readonly string[];
}
