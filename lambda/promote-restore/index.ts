/** promote-restore Lambda: put a restored instance behind the production name (with rollback). */
import { restoreHandler } from '../shared/handler';
import { PROMOTE_RESTORE_EVENT } from './contract';
import { promoteRestore } from './promote-restore';

/** Time kept back from the Lambda timeout for the second rename, a rollback and the response. */
const SAFETY_MARGIN_MS = 90_000;

export const handler = restoreHandler(
  'promote-restore',
  PROMOTE_RESTORE_EVENT,
  async (input, fn, inv) => {
    const remaining = inv.lambda?.getRemainingTimeInMillis?.() ?? 0;
    const waitBudgetMs = Math.max(0, remaining - SAFETY_MARGIN_MS);
    const result = await promoteRestore({ rds: fn.rds(), config: fn.config, waitBudgetMs }, input);
    fn.logger.info(`promote-restore ${result.action}`, { result });
    return result;
  },
  { logEvent: true },
);
