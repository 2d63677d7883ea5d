/**
 * The restore-test function's contract: its events (strict schema, examples) and how they are
 * read. The drill imports this file, never the logic. Three callers:
 * - the weekly schedule `{"source": "kb-dr.restore-test", "action": "start", "time": ...}`: request a test;
 * - the RDS instance events for `kb-restore-test-*` instances: advance that test now;
 * - the periodic pass `{"source": "kb-dr.restore-test", "action": "pass"}` (and on-call with `{}`):
 *   advance every test, count orphans, report the age of the last successful test.
 * Anything else (a misspelled field, `null`, an array) is refused before any AWS call.
 */
import * as z from 'zod/mini';
import { ValidationError } from '../../core/errors';
import { eventTime, isRdsEvent, rdsEventSchema } from '../../core/rds-event';
import { eventProblem, type EventReader } from '../shared/handler-response';

export const RestoreTestEventSchema = z.strictObject({
  source: z.optional(z.literal('kb-dr.restore-test')),
  action: z.optional(z.enum(['start', 'pass'])),
  /** The scheduled time (names the test instance). @default now */
  time: z.optional(z.string()),
});

export type RestoreTestEvent = z.infer<typeof RestoreTestEventSchema>;

/** The fields of RestoreTestEventSchema, for "did you mean" messages. */
export const RESTORE_TEST_EVENT_FIELDS = ['source', 'action', 'time'] as const;

/** The weekly schedule's payload (EventBridge Scheduler fills in the time). */
export const RESTORE_TEST_START_EXAMPLE_EVENT = {
  source: 'kb-dr.restore-test',
  action: 'start',
  time: '2026-11-22T03:00:00Z',
} as const satisfies RestoreTestEvent;

/** The periodic pass, as the schedule (and on-call, from the console) sends it. */
export const RESTORE_TEST_PASS_EXAMPLE_EVENT = {
  source: 'kb-dr.restore-test',
  action: 'pass',
} as const satisfies RestoreTestEvent;

/** What an invocation asks for. */
export type RestoreTestInput =
  | { readonly kind: 'start'; readonly time?: string | undefined }
  | { readonly kind: 'event'; readonly instanceId: string; readonly eventTime?: Date | undefined }
  | { readonly kind: 'pass' };

/** An RDS event advances the instance it names; `{"action": "start"}` starts a test; else a pass. */
export function readRestoreTestEvent(event: unknown): RestoreTestInput {
  if (isRdsEvent(event)) {
    const parsed = rdsEventSchema().safeParse(event);
    const id = parsed.success
      ? (parsed.data.detail.SourceIdentifier ?? parsed.data.detail.SourceArn?.split(':db:')[1])
      : undefined;
    if (!parsed.success || !id)
      throw new ValidationError('RDS event names no instance; nothing was changed', 'detail', {
        hint: 'the EventBridge rule should forward the whole event',
      });
    return { kind: 'event', instanceId: id, eventTime: eventTime(parsed.data) };
  }
  const parsed = RestoreTestEventSchema.safeParse(event);
  if (!parsed.success) {
    const { problem, field } = eventProblem(event, parsed.error.issues, RESTORE_TEST_EVENT_FIELDS);
    throw new ValidationError(`not a restore-test event: ${problem}; nothing was changed`, field, {
      hint: `for a pass invoke with ${JSON.stringify({ action: 'pass' })}, to start a test now with ${JSON.stringify({ action: 'start' })}`,
    });
  }
  return parsed.data.action === 'start' ? { kind: 'start', time: parsed.data.time } : { kind: 'pass' };
}

export const RESTORE_TEST_EVENT: EventReader<RestoreTestInput> = {
  functionName: 'restore-test',
  read: readRestoreTestEvent,
};
