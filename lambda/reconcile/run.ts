/**
 * The reconcile function's invocation: which entry point an event selects, and the answer.
 * An RDS event advances the snapshot it names (refused without its detail); the schedule's
 * payload or `{}` runs a pass; anything else is refused before any AWS call.
 */
import { KbDrError, ValidationError } from '../../core/errors';
import { isRdsEvent, rdsEventSchema } from '../../core/rds-event';
import type { PipelineConfig, PipelineDeps } from '../shared/backup-pipeline';
import { eventProblem } from '../shared/handler-response';
import {
  RECONCILE_PASS_FIELDS,
  RECONCILE_SCHEDULE_EXAMPLE_EVENT,
  ReconcilePassEventSchema,
  type ReconcileInput,
  type ReconcileResponse,
} from './contract';
import { handleRdsEvent, reconcilePass } from './reconcile';

export type { ReconcileInput, ReconcileResponse };

/** Thrown after retryable step failures that were already logged one by one. */
export class RetryableStepsFailed extends KbDrError {
  override readonly name = 'RetryableStepsFailed';
  constructor(count: number) {
    super(`${count} backup step(s) failed with a retryable error`, {
      retryable: true,
      hint: 'see the error lines above; the next pass retries them',
    });
  }
}

function refuse(problem: string, field?: string): ValidationError {
  return new ValidationError(`reconcile event refused: ${problem}; nothing was changed`, field, {
    hint: `for a pass invoke with {} (the schedule sends ${JSON.stringify(RECONCILE_SCHEDULE_EXAMPLE_EVENT)}); RDS events come from the EventBridge rules`,
  });
}

/** An RDS event selects the event path (refused without its detail); a pass event a pass. */
export function parseReconcileInput(event: unknown): ReconcileInput {
  if (isRdsEvent(event)) {
    const parsed = rdsEventSchema().safeParse(event);
    if (!parsed.success) {
      throw new ValidationError('RDS event has no detail; nothing was changed', 'detail', {
        hint: 'the EventBridge rule should forward the whole event',
      });
    }
    return { kind: 'event', event: parsed.data };
  }
  const parsed = ReconcilePassEventSchema.safeParse(event);
  if (parsed.success) return { kind: 'pass' };
  const { problem, field } = eventProblem(event, parsed.error.issues, RECONCILE_PASS_FIELDS);
  throw refuse(problem, field);
}

/**
 * Run what `input` asks for. Retryable step failures (each already logged and in the metrics)
 * fail the invocation with RetryableStepsFailed, so Lambda retries it.
 */
export async function runReconcile(
  deps: PipelineDeps,
  config: PipelineConfig,
  input: ReconcileInput,
): Promise<ReconcileResponse> {
  const summary =
    input.kind === 'event'
      ? await handleRdsEvent(deps, config, input.event)
      : await reconcilePass(deps, config);
  if (summary.retryableFailures > 0) throw new RetryableStepsFailed(summary.retryableFailures);
  return {
    mode: summary.mode,
    outcomes: summary.results.map((r) => `${r.snapshotId}: ${r.kind}`),
    deleted: summary.retention?.deleted ?? [],
    ...(summary.hoursSinceLastBackup !== undefined
      ? { hoursSinceLastBackup: summary.hoursSinceLastBackup }
      : {}),
  };
}
