/** promote-restore Lambda: put a restored instance behind the production name (with rollback). */
import type { Context } from 'aws-lambda';
import { createRdsClient } from '../shared/clients';
import { loadRuntimeConfig } from '../shared/env';
import { parseEvent, respond } from '../shared/handler-response';
import { createLogger } from '../shared/powertools';
import { PROMOTE_RESTORE_EVENT, promoteRestore } from './promote-restore';

const config = loadRuntimeConfig();
const logger = createLogger('promote-restore');
const rds = createRdsClient();

/** Time kept back from the Lambda timeout for the second rename, a rollback and the response. */
const SAFETY_MARGIN_MS = 90_000;

export async function handler(event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) {
  logger.info('promote-restore invoked', { event });
  return respond(logger, PROMOTE_RESTORE_EVENT.functionName, async () => {
    const input = parseEvent(PROMOTE_RESTORE_EVENT, event);
    const remaining = context?.getRemainingTimeInMillis?.() ?? 0;
    const result = await promoteRestore(
      { rds, config, waitBudgetMs: Math.max(0, remaining - SAFETY_MARGIN_MS) },
      input,
    );
    logger.info(`promote-restore ${result.action}`, { result });
    return result;
  });
}
