/**
 * Reconcile function: target of the 15-minute schedule (periodic pass) and of the EventBridge
 * rules for RDS snapshot/export events (advance that one snapshot now). Any input that is not an
 * RDS event runs a pass, so on-call can invoke it from the console with `{}`.
 */
import { createRdsClient, createS3Client } from '../shared/clients';
import { loadRuntimeConfig } from '../shared/env';
import { KbDrError, ValidationError } from '../../core/errors';
import { createLogger, createMetrics } from '../shared/powertools';
import { handleRdsEvent, reconcilePass, type ReconcileSummary } from './reconcile';
import { isRdsEvent, RdsEventSchema } from '../../core/rds-event';

const config = loadRuntimeConfig();
const logger = createLogger('kb-reconcile');
const metrics = createMetrics('kb-reconcile', config.dbInstanceId);
const deps = { rds: createRdsClient(), s3: createS3Client(), logger, metrics, now: () => new Date() };

export interface ReconcileResponse {
  readonly mode: ReconcileSummary['mode'];
  readonly outcomes: readonly string[];
  readonly deleted: readonly string[];
  readonly hoursSinceLastBackup?: number;
}

/** Thrown after retryable step failures that were already logged one by one. */
class RetryableStepsFailed extends KbDrError {
  override readonly name = 'RetryableStepsFailed';
  constructor(count: number) {
    super(`${count} backup step(s) failed with a retryable error`, {
      retryable: true,
      hint: 'see the error lines above; the next pass retries them',
    });
  }
}

export const handler = async (event: unknown): Promise<ReconcileResponse> => {
  try {
    let summary: ReconcileSummary;
    if (isRdsEvent(event)) {
      const parsed = RdsEventSchema.safeParse(event);
      if (!parsed.success) {
        throw new ValidationError('RDS event has no detail; nothing was changed', 'detail', {
          hint: 'the EventBridge rule should forward the whole event',
        });
      }
      summary = await handleRdsEvent(deps, config, parsed.data);
    } else {
      summary = await reconcilePass(deps, config);
    }
    if (summary.retryableFailures > 0) {
      // Fail the invocation so Lambda retries it; each failure is already logged and in the metrics.
      throw new RetryableStepsFailed(summary.retryableFailures);
    }
    return {
      mode: summary.mode,
      outcomes: summary.results.map((r) => `${r.snapshotId}: ${r.kind}`),
      deleted: summary.retention?.deleted ?? [],
      ...(summary.hoursSinceLastBackup !== undefined
        ? { hoursSinceLastBackup: summary.hoursSinceLastBackup }
        : {}),
    };
  } catch (err) {
    if (err instanceof RetryableStepsFailed) throw err;
    if (err instanceof KbDrError) logger.error(err.userMessage, { error: err.name });
    else logger.error('reconcile failed', { error: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
};
