/** restore-status Lambda: state, RTO clock, endpoint and next steps of a restore. */
import { createRdsClient, createS3Client } from '../shared/clients';
import { loadRuntimeConfig } from '../shared/env';
import { parseEvent, respond } from '../shared/handler-response';
import { addKbMetric, createLogger, createMetrics } from '../shared/powertools';
import { readVerification } from '../shared/verification-store';
import { loadVerifySettings } from '../shared/verify-settings';
import { RESTORE_STATUS_EVENT, restoreStatus } from './restore-status';

const config = loadRuntimeConfig();
const logger = createLogger('restore-status');
const metrics = createMetrics('restore-status', config.dbInstanceId);
const rds = createRdsClient();
const s3 = createS3Client();
const verifySettings = loadVerifySettings();
const verification = {
  read: (id: string) => readVerification({ s3, bucket: config.backupBucket }, id),
  configured: verifySettings.mode !== 'not-configured',
};

export async function handler(event: unknown) {
  try {
    return await respond(logger, RESTORE_STATUS_EVENT.functionName, async () => {
      const input = parseEvent(RESTORE_STATUS_EVENT, event);
      const result = await restoreStatus(
        { rds, config, verification, metrics: { add: (def, value) => addKbMetric(metrics, def, value) } },
        input,
      );
      logger.info('restore-status', { state: result.state, elapsedSeconds: result.elapsedSeconds });
      return result;
    });
  } finally {
    // Only when something was recorded: an empty flush logs a warning on every status poll.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
