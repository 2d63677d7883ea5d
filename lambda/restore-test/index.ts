/**
 * restore-test Lambda. Three callers:
 * - the weekly schedule `{"source": "kb-dr.restore-test", "action": "start", "time": ...}`: request a test;
 * - the RDS instance events for `kb-restore-test-*` instances: advance that test now;
 * - the periodic pass `{"source": "kb-dr.restore-test", "action": "pass"}` (and on-call with `{}`):
 *   advance every test, count orphans, report the age of the last successful test.
 */
import * as z from 'zod/mini';
import '../../core/zod-english';
import { ValidationError } from '../../core/errors';
import { eventTime, isRdsEvent, RdsEventSchema } from '../../core/rds-event';
import { createRdsClient, createS3Client } from '../shared/clients';
import { addKbMetric, createLogger, createMetrics } from '../shared/powertools';
import { loadRestoreTestConfig } from './config';
import { advanceFromEvent, restoreTestPass, startRestoreTest } from './restore-test';

const config = loadRestoreTestConfig();
const logger = createLogger('kb-restore-test');
const metrics = createMetrics('kb-restore-test', config.dbInstanceId);
const deps = {
  rds: createRdsClient(),
  s3: createS3Client(),
  config,
  logger,
  metrics: {
    add: (def: Parameters<typeof addKbMetric>[1], value: number) => addKbMetric(metrics, def, value),
  },
};

export const RestoreTestEventSchema = z.strictObject({
  source: z.optional(z.literal('kb-dr.restore-test')),
  action: z.optional(z.enum(['start', 'pass'])),
  /** The scheduled time (names the test instance). @default now */
  time: z.optional(z.string()),
});

export const handler = async (event: unknown): Promise<unknown> => {
  try {
    if (isRdsEvent(event)) {
      const parsed = RdsEventSchema.safeParse(event);
      const id = parsed.success
        ? (parsed.data.detail.SourceIdentifier ?? parsed.data.detail.SourceArn?.split(':db:')[1])
        : undefined;
      if (!parsed.success || !id)
        throw new ValidationError('RDS event names no instance; nothing was changed', 'detail', {
          hint: 'the EventBridge rule should forward the whole event',
        });
      return await advanceFromEvent(deps, id, eventTime(parsed.data));
    }
    const input = RestoreTestEventSchema.safeParse(event ?? {});
    if (!input.success)
      throw new ValidationError(
        `not a restore-test event: ${z.prettifyError(input.error).replace(/\s+/g, ' ')}; e.g. {"action": "pass"} or {"action": "start"}`,
        'action',
        { hint: 'nothing was changed' },
      );
    if (input.data.action === 'start') return await startRestoreTest(deps, { time: input.data.time });
    return await restoreTestPass(deps);
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
};
