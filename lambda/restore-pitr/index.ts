/** restore-pitr Lambda: validate the event, point-in-time restore to a new instance. */
import { createRdsClient } from '../shared/clients';
import { loadRuntimeConfig } from '../shared/env';
import { parseEvent, respond } from '../shared/handler-response';
import { addKbMetric, createLogger, createMetrics } from '../shared/powertools';
import { RESTORE_PITR_EVENT, restorePitr } from './restore-pitr';

const config = loadRuntimeConfig();
const logger = createLogger('restore-pitr');
const metrics = createMetrics('restore-pitr', config.dbInstanceId);
const rds = createRdsClient();

export async function handler(event: unknown) {
  logger.info('restore-pitr invoked', { event });
  try {
    return await respond(logger, RESTORE_PITR_EVENT.functionName, async () => {
      const input = parseEvent(RESTORE_PITR_EVENT, event);
      const result = await restorePitr(
        { rds, config, metrics: { add: (def, value) => addKbMetric(metrics, def, value) } },
        input,
      );
      logger.info(`restore-pitr ${result.action}`, { result });
      return result;
    });
  } finally {
    // Only when something was recorded: an empty flush logs a warning on every status poll.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
