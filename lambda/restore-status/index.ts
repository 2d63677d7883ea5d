/** restore-status Lambda: state, RTO clock, endpoint and next steps of a restore. */
import { restoreHandler } from '../shared/handler';
import { RESTORE_STATUS_EVENT } from './contract';
import { restoreStatus } from './restore-status';

export const handler = restoreHandler('restore-status', RESTORE_STATUS_EVENT, async (input, fn) => {
  const result = await restoreStatus({ rds: fn.rds(), config: fn.config, metrics: fn.metrics }, input);
  fn.logger.info('restore-status', { state: result.state, elapsedSeconds: result.elapsedSeconds });
  return result;
});
