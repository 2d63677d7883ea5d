/** validate-backup Lambda: PASS/FAIL report on one backup; emits BackupValidation. */
import { createRdsClient, createS3Client } from '../shared/clients';
import { loadRuntimeConfig } from '../shared/env';
import { parseEvent, respond } from '../shared/handler-response';
import { KbMetrics } from '../../core/metrics-catalog';
import { addKbMetric, createLogger, createMetrics } from '../shared/powertools';
import { VALIDATE_BACKUP_EVENT, validateBackup } from './validate-backup';

const config = loadRuntimeConfig();
const logger = createLogger('validate-backup');
const metrics = createMetrics('validate-backup', config.dbInstanceId);
const rds = createRdsClient();
const s3 = createS3Client();

export async function handler(event: unknown) {
  let emitted = false;
  const sink = {
    add: (def: Parameters<typeof addKbMetric>[1], value: number) => {
      emitted = true;
      addKbMetric(metrics, def, value);
    },
  };
  try {
    const result = await respond(logger, VALIDATE_BACKUP_EVENT.functionName, async () => {
      const input = parseEvent(VALIDATE_BACKUP_EVENT, event);
      return validateBackup({ rds, s3, config, metrics: sink }, input);
    });
    if ('result' in result) logger.info(`validate-backup ${result.result}`, { report: result.report });
    // A validation that could not run at all (AWS fault) counts as a failed validation on the
    // dashboard; a malformed event does not (nothing was validated).
    if (!emitted && result.ok === false && result.errorType !== 'ValidationError')
      sink.add(KbMetrics.BackupValidation, 0);
    return result;
  } finally {
    // Only when something was recorded: an empty flush logs a warning on every status poll.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
