/** restore-snapshot Lambda: validate the event, restore a kb-dr backup to a new instance. */
import { createRdsClient, createS3Client } from '../shared/clients';
import { loadRuntimeConfig } from '../shared/env';
import { parseEvent, respond } from '../shared/handler-response';
import { addKbMetric, createLogger, createMetrics } from '../shared/powertools';
import { RESTORE_SNAPSHOT_EVENT, restoreSnapshot } from './restore-snapshot';

const config = loadRuntimeConfig();
const logger = createLogger('restore-snapshot');
const metrics = createMetrics('restore-snapshot', config.dbInstanceId);
const rds = createRdsClient();
const s3 = createS3Client();

export async function handler(event: unknown) {
  logger.info('restore-snapshot invoked', { event });
  try {
    return await respond(logger, RESTORE_SNAPSHOT_EVENT.functionName, async () => {
      const input = parseEvent(RESTORE_SNAPSHOT_EVENT, event);
      const result = await restoreSnapshot(
        { rds, s3, config, metrics: { add: (def, value) => addKbMetric(metrics, def, value) } },
        input,
      );
      logger.info(`restore-snapshot ${result.action}`, { result });
      return result;
    });
  } finally {
    // Only when something was recorded: an empty flush logs a warning on every status poll.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
