/**
 * The reconcile function's invocation: which entry point an event selects, and the answer.
 * Any input that is not an RDS event runs a pass, so on-call can invoke it from the console
 * with `{}`; an RDS event without its detail is refused.
 */
import { KbDrError, ValidationError } from '../../core/errors';
import { isRdsEvent, RdsEventSchema, type RdsEvent } from '../../core/rds-event';
import type { PipelineConfig, PipelineDeps } from '../shared/backup-pipeline';
import { handleRdsEvent, reconcilePass, type ReconcileSummary } from './reconcile';

/** What an invocation asks for: advance one snapshot now, or a periodic pass. */
export type ReconcileInput = { readonly kind: 'event'; readonly event: RdsEvent } | { readonly kind: 'pass' };

export interface ReconcileResponse {
  readonly mode: ReconcileSummary['mode'];
  readonly outcomes: readonly string[];
  readonly deleted: readonly string[];
  readonly hoursSinceLastBackup?: number;
}

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

/** An RDS event selects the event path (refused without its detail); anything else a pass. */
export function parseReconcileInput(event: unknown): ReconcileInput {
  if (!isRdsEvent(event)) return { kind: 'pass' };
  const parsed = RdsEventSchema.safeParse(event);
  if (!parsed.success) {
    throw new ValidationError('RDS event has no detail; nothing was changed', 'detail', {
      hint: 'the EventBridge rule should forward the whole event',
    });
  }
  return { kind: 'event', event: parsed.data };
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
