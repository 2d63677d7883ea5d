/**
 * Placeholder target of the nightly schedule until the backup pipeline lands. It backs nothing up,
 * and says so loudly: an error log and BackupFailure=1, never a success.
 */
import { createLogger, createMetrics, addKbMetric } from '../shared/powertools';
import { loadRuntimeConfig } from '../shared/env';
import { KbMetrics } from '../shared/metrics-catalog';

const config = loadRuntimeConfig();
const logger = createLogger('kb-backup');
const metrics = createMetrics('kb-backup', config.dbInstanceId);

export const handler = async (): Promise<{ ok: false; error: string }> => {
  const error = `kb-dr backup is not implemented yet: no backup of ${config.dbInstanceId} was made`;
  logger.error(error, { stage: 'not-implemented', hint: 'deploy a kb-dr version with the backup pipeline' });
  addKbMetric(metrics, KbMetrics.BackupFailure, 1);
  addKbMetric(metrics, KbMetrics.BackupSuccess, 0);
  metrics.publishStoredMetrics();
  return { ok: false, error };
};
