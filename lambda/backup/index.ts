/**
 * Backup function: target of the nightly schedule (payload
 * `{"source": "kb-dr.schedule", "time": "<scheduled time>"}`) and of on-demand requests
 * (`{"reason": "..."}`). Any other event (a misspelled field, `null`) is refused before any AWS
 * call. Requests tonight's snapshot and returns; the RDS events and the reconcile function take it
 * from there. A transient fault fails the invocation (so it is retried) and records nothing.
 */
import { createRdsClient, createS3Client } from '../shared/clients';
import { loadRuntimeConfig } from '../shared/env';
import { KbDrError } from '../../core/errors';
import { createLogger, createMetrics } from '../shared/powertools';
import { emitOutcome } from '../shared/backup-pipeline';
import {
  parseBackupRequest,
  ScheduleRefusedError,
  startBackup,
  type StartBackupResult,
} from './start-backup';

const config = loadRuntimeConfig();
const logger = createLogger('kb-backup');
const metrics = createMetrics('kb-backup', config.dbInstanceId);
const deps = { rds: createRdsClient(), s3: createS3Client(), logger, metrics, now: () => new Date() };

export const handler = async (event: unknown): Promise<StartBackupResult> => {
  try {
    let request;
    try {
      request = parseBackupRequest(event, deps.now());
    } catch (err) {
      if (err instanceof KbDrError) logger.error(err.userMessage, { error: err.name, stage: 'input' });
      // A refused schedule is a missed night: page for it. Any other refusal emits nothing.
      if (err instanceof ScheduleRefusedError) emitOutcome(metrics, false);
      throw err;
    }
    // startBackup logs its own failures (one line: stage, AWS error, fix) before rethrowing.
    return await startBackup(deps, config, request);
  } finally {
    logger.resetKeys();
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
};
