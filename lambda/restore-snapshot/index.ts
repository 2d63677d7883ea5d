/** restore-snapshot Lambda: validate the event, restore a kb-dr backup to a new instance. */
import { restoreHandler } from '../shared/handler';
import { RESTORE_SNAPSHOT_EVENT } from './contract';
import { restoreSnapshot } from './restore-snapshot';

export const handler = restoreHandler(
  'restore-snapshot',
  RESTORE_SNAPSHOT_EVENT,
  async (input, fn) => {
    const deps = { rds: fn.rds(), s3: fn.s3(), config: fn.config, metrics: fn.metrics };
    const result = await restoreSnapshot(deps, input);
    fn.logger.info(`restore-snapshot ${result.action}`, { result });
    return result;
  },
  { logEvent: true },
);
