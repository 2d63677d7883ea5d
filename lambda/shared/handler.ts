/**
 * The two handler wrappers, one per family. Each builds, once per cold start, the configuration,
 * the logger, the metrics and the SDK clients; per invocation it parses the event, calls the
 * logic, answers, and flushes metrics only when some were stored (an empty flush logs a warning
 * on every status poll).
 *
 * - `pipelineHandler` (backup, reconcile, restore-test: scheduled or event-driven): a failure
 *   is THROWN so Lambda/EventBridge retries the invocation.
 * - `restoreHandler` (the on-call functions, and verify-restore): a failure is ANSWERED as
 *   `{ ok: false, error, hint }` (handler-response.ts), never thrown. Its event is one strict
 *   schema (`EventSpec`), or an `EventReader` for a function with several kinds of event.
 *
 * A new function's `index.ts`:
 *
 *   import { restoreHandler } from '../shared/handler';
 *   import { FIND_BACKUP_EVENT } from './contract';
 *   import { findBackup } from './find-backup';
 *
 *   export const handler = restoreHandler('find-backup', FIND_BACKUP_EVENT, (input, fn) =>
 *     findBackup({ rds: fn.rds(), s3: fn.s3(), config: fn.config, metrics: fn.metrics }, input),
 *   );
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { S3Client } from '@aws-sdk/client-s3';
import type * as z from 'zod/mini';
import { KbDrError } from '../../core/errors';
import {
  serviceNameOf,
  type PipelineFunction,
  type RESTORE_TEST_FUNCTIONS,
  type RestoreFunction,
  type VerifyFunction,
} from '../../core/functions';
import type { PipelineDeps } from './pipeline-deps';
import { createRdsClient, createS3Client } from './clients';
import { loadRuntimeConfig, type RuntimeConfig } from './env';
import {
  parseEvent,
  respond,
  type EventReader,
  type EventSpec,
  type FailureResponse,
} from './handler-response';
import { createLogger, createMetrics, type KbMetricStore, type MetricSink } from './powertools';

/** What a function's logic gets from its wrapper: built once per cold start. */
export interface FunctionContext {
  readonly config: RuntimeConfig;
  readonly logger: Logger;
  readonly metrics: MetricSink;
  /** The RDS client (created on first use, then reused). */
  readonly rds: () => RDSClient;
  /** The S3 client (created on first use, then reused). */
  readonly s3: () => S3Client;
}

/** The Lambda context parts a function may read (absent when a test calls the handler directly). */
export type InvocationContext = Pick<Context, 'getRemainingTimeInMillis'> | undefined;

function once<T>(make: () => T): () => T {
  let made: T | undefined;
  return () => (made ??= make());
}

function coldStart(name: string): FunctionContext & { readonly store: KbMetricStore } {
  const config = loadRuntimeConfig();
  const store = createMetrics(serviceNameOf(name), config.dbInstanceId);
  return {
    config,
    logger: createLogger(serviceNameOf(name)),
    metrics: store,
    store,
    rds: once(createRdsClient),
    s3: once(createS3Client),
  };
}

/** The functions whose failures are thrown (retried): the backup pipeline and the restore test. */
export type ThrowingFunction = PipelineFunction | (typeof RESTORE_TEST_FUNCTIONS)[number];

/** The functions whose failures are answered as `{ ok: false }`. */
export type AnsweringFunction = RestoreFunction | VerifyFunction;

/** How a pipeline function reads its event and runs its logic. */
export interface PipelineSpec<I, R> {
  /** Check the event; throw a KbDrError to refuse it (logged, then thrown: nothing ran). */
  readonly parse: (event: unknown, deps: PipelineDeps) => I;
  /** Called with a refusal from `parse` before it is thrown (e.g. to emit a missed night). */
  readonly onRefused?: (err: unknown, deps: PipelineDeps) => void;
  readonly run: (input: I, deps: PipelineDeps, config: RuntimeConfig) => Promise<R>;
  /**
   * Whether the wrapper logs an error `run` threw (one error line) before rethrowing it.
   * @default every error is logged
   */
  readonly logError?: (err: unknown) => boolean;
}

/** A pipeline handler: failures are logged once and thrown, so the invocation is retried. */
export function pipelineHandler<I, R>(
  name: ThrowingFunction,
  spec: PipelineSpec<I, R>,
): (event: unknown) => Promise<R> {
  const fn = coldStart(name);
  const deps: PipelineDeps = {
    rds: fn.rds(),
    s3: fn.s3(),
    logger: fn.logger,
    metrics: fn.metrics,
    now: () => new Date(),
  };
  return async (event) => {
    try {
      let input: I;
      try {
        input = spec.parse(event, deps);
      } catch (err) {
        if (err instanceof KbDrError) fn.logger.error(err.userMessage, { error: err.name, stage: 'input' });
        spec.onRefused?.(err, deps);
        throw err;
      }
      try {
        return await spec.run(input, deps, fn.config);
      } catch (err) {
        if (spec.logError?.(err) ?? true) {
          if (err instanceof KbDrError) fn.logger.error(err.userMessage, { error: err.name });
          else fn.logger.error(`${name} failed`, { error: err instanceof Error ? err.message : String(err) });
        }
        throw err;
      }
    } finally {
      fn.logger.resetKeys();
      fn.store.flushIfStored();
    }
  };
}

/** One restore-function invocation: the metrics it added so far, and the Lambda context. */
export interface RestoreInvocation {
  /** True once the logic added a metric in this invocation. */
  readonly emitted: () => boolean;
  readonly lambda: InvocationContext;
}

/** What a restore function may do after answering (log the outcome, emit a fallback metric). */
export type AfterAnswer<R> = (
  answer: R | FailureResponse,
  fn: FunctionContext,
  inv: RestoreInvocation,
) => void;

type RestoreRun<I, R> = (input: I, fn: FunctionContext, inv: RestoreInvocation) => Promise<R>;

/** Options of a restore handler. */
export interface RestoreHandlerOptions<R> {
  /** Log the event on arrival (not for status polls). @default false */
  readonly logEvent?: boolean;
  readonly after?: AfterAnswer<R>;
}

/** A restore handler as Lambda calls it: it always answers, never throws. */
export type RestoreLambda<R> = (event: unknown, context?: InvocationContext) => Promise<R | FailureResponse>;

/**
 * A restore handler: the event is checked against `event` (a refusal names the field and a
 * valid example), `run` gets the parsed input, and any failure is answered as `{ ok: false }`.
 */
export function restoreHandler<S extends z.core.$ZodType, R>(
  name: AnsweringFunction,
  event: EventSpec<S>,
  run: RestoreRun<z.infer<S>, R>,
  options?: RestoreHandlerOptions<R>,
): RestoreLambda<R>;
/** A restore handler for a function with several kinds of event, read by `event.read`. */
export function restoreHandler<I, R>(
  name: AnsweringFunction,
  event: EventReader<I>,
  run: RestoreRun<I, R>,
  options?: RestoreHandlerOptions<R>,
): RestoreLambda<R>;
export function restoreHandler<R>(
  name: AnsweringFunction,
  event: EventSpec<z.core.$ZodType> | EventReader<unknown>,
  run: RestoreRun<unknown, R>,
  options: RestoreHandlerOptions<R> = {},
): RestoreLambda<R> {
  const fn = coldStart(name);
  const read = 'read' in event ? event.read : (raw: unknown) => parseEvent(event, raw);
  return async (raw, context) => {
    let emitted = false;
    const metrics: MetricSink = {
      add(def, value) {
        emitted = true;
        fn.metrics.add(def, value);
      },
    };
    const call: FunctionContext = { ...fn, metrics };
    const inv: RestoreInvocation = { emitted: () => emitted, lambda: context };
    if (options.logEvent) fn.logger.info(`${name} invoked`, { event: raw });
    try {
      const answer = await respond(fn.logger, event.functionName, async () => run(read(raw), call, inv));
      options.after?.(answer, call, inv);
      return answer;
    } finally {
      fn.store.flushIfStored();
    }
  };
}
