/** restore-pitr Lambda: validate the event, point-in-time restore to a new instance. */
import { restoreHandler } from '../shared/handler';
import { RESTORE_PITR_EVENT } from './contract';
import { restorePitr } from './restore-pitr';

export const handler = restoreHandler(
  'restore-pitr',
  RESTORE_PITR_EVENT,
  async (input, fn) => {
    const result = await restorePitr({ rds: fn.rds(), config: fn.config, metrics: fn.metrics }, input);
    fn.logger.info(`restore-pitr ${result.action}`, { result });
    return result;
  },
  { logEvent: true },
);
