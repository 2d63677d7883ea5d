/** The handler wrappers: one cold start per module, answers vs throws, flush only when stored. */
import * as z from 'zod/mini';
import { GuardRailError, ValidationError } from '../../../core/errors';
import { serviceNameOf } from '../../../core/functions';
import { KbMetrics } from '../../../core/metrics-catalog';
import { ENV } from '../../../lambda/shared/env';
import { pipelineHandler, restoreHandler } from '../../../lambda/shared/handler';
import type { EventSpec } from '../../../lambda/shared/handler-response';
import { handlerMetrics, type HandlerMetrics } from '../support/metrics';

const SPEC: EventSpec<z.ZodMiniObject<{ n: z.ZodMiniNumber }>> = {
  functionName: 'restore-status',
  schema: z.strictObject({ n: z.number() }),
  example: { n: 1 },
  fieldExamples: { n: '1' },
};

let log: jest.SpyInstance;
let warn: jest.SpyInstance;
let error: jest.SpyInstance;
let info: jest.SpyInstance;
let metrics: HandlerMetrics;

beforeAll(() => {
  Object.assign(process.env, {
    [ENV.dbInstanceId]: 'kb-prod',
    [ENV.backupBucket]: 'kb-dr-backups-test',
    [ENV.kmsKeyArn]: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    [ENV.exportRoleArn]: 'arn:aws:iam::123456789012:role/kb-dr-export',
    AWS_REGION: 'us-east-1',
    POWERTOOLS_METRICS_DISABLED: 'false',
  });
});
beforeEach(() => {
  log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
  warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  info = jest.spyOn(console, 'info').mockImplementation(() => undefined);
  metrics = handlerMetrics();
});
afterEach(() => {
  metrics.restore();
  jest.restoreAllMocks();
});

describe('restoreHandler', () => {
  it('parses the event, runs the logic once with the parsed input and answers its result', async () => {
    const run = jest.fn(async (input: { n: number }) => ({ doubled: input.n * 2 }));
    const handler = restoreHandler('restore-status', SPEC, run);
    await expect(handler({ n: 21 })).resolves.toEqual({ doubled: 42 });
    expect(run).toHaveBeenCalledTimes(1);
  });

  it('answers a malformed event as {ok:false} naming the field, without running the logic', async () => {
    const run = jest.fn(async () => ({}));
    const handler = restoreHandler('restore-status', SPEC, run);
    await expect(handler({ m: 1 })).resolves.toMatchObject({ ok: false, errorType: 'ValidationError' });
    expect(run).not.toHaveBeenCalled();
  });

  it('answers a refusal from the logic as {ok:false, nothingChanged:true}, never throws', async () => {
    const handler = restoreHandler('restore-status', SPEC, async () => {
      throw new GuardRailError('no', { hint: 'h' });
    });
    await expect(handler({ n: 1 })).resolves.toMatchObject({ ok: false, nothingChanged: true });
  });

  it('flushes metrics the logic stored, with the construct-aligned service name in its logs', async () => {
    const handler = restoreHandler('restore-status', SPEC, async (_input, fn, inv) => {
      fn.metrics.add(KbMetrics.RestoreStarted, 1);
      fn.logger.info('done', { emitted: inv.emitted() });
      return {};
    });
    await handler({ n: 1 });
    expect(metrics.recorded()).toEqual([['RestoreStarted', 1]]);
    expect(metrics.docs()).toEqual([expect.objectContaining({ DBInstanceIdentifier: 'kb-prod' })]);
    const line = [...log.mock.calls, ...info.mock.calls]
      .map((c) => String(c[0]))
      .find((l) => l.includes('"done"'));
    expect(JSON.parse(line ?? '{}')).toMatchObject({
      service: serviceNameOf('restore-status'),
      emitted: true,
    });
  });

  it('publishes nothing when nothing was stored (no empty EMF, no warning)', async () => {
    const handler = restoreHandler('restore-status', SPEC, async () => ({}));
    await handler({ n: 1 });
    expect(metrics.recorded()).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('pipelineHandler', () => {
  it('throws a refused event after logging it and calling onRefused, without running the logic', async () => {
    const run = jest.fn(async () => 'ran');
    const onRefused = jest.fn();
    const handler = pipelineHandler('backup', {
      parse: () => {
        throw new ValidationError('bad event', 'time');
      },
      onRefused,
      run,
    });
    await expect(handler({})).rejects.toBeInstanceOf(ValidationError);
    expect(onRefused).toHaveBeenCalledTimes(1);
    expect(run).not.toHaveBeenCalled();
    expect(error).toHaveBeenCalledTimes(1);
  });

  it('rethrows a failure of the logic so the invocation is retried, logging it unless told not to', async () => {
    const failing = (logError?: () => boolean) =>
      pipelineHandler('reconcile', {
        parse: () => 'x',
        run: async () => {
          throw new Error('AWS down');
        },
        ...(logError ? { logError } : {}),
      });
    await expect(failing()({})).rejects.toThrow('AWS down');
    expect(error).toHaveBeenCalledTimes(1);
    error.mockClear();
    await expect(failing(() => false)({})).rejects.toThrow('AWS down');
    expect(error).not.toHaveBeenCalled();
  });

  it('answers what the logic returns and flushes the metrics it stored', async () => {
    const handler = pipelineHandler('reconcile', {
      parse: (event) => event,
      run: async (_input, deps) => {
        deps.metrics.add(KbMetrics.TimeSinceLastBackup, 3);
        return 'ok';
      },
    });
    await expect(handler({})).resolves.toBe('ok');
    expect(metrics.recorded()).toEqual([['TimeSinceLastBackup', 3]]);
  });
});
