/**
 * The SDK adapter of core/errors.ts: an AWS SDK fault becomes a kb-dr error with a next step, once,
 * here. `retryable` comes from the shared fault classifier (fault-class.ts, @smithy/core's rules).
 */
import {
  AccessDeniedError,
  AlreadyExistsError,
  AwsOperationError,
  InvalidStateError,
  KbDrError,
  NotFoundError,
  QuotaExceededError,
  awsErrorCode,
  isAlreadyExists,
  isNotFound,
  type KbDrErrorOptions,
} from '../../core/errors';
import { classifyFault, isRetryableFault } from './fault-class';

export interface AwsCallContext {
  /** What we were doing, e.g. "create snapshot kb-snapshot-20261122-020000". */
  readonly operation: string;
  /** Extra hint used for not-found faults, e.g. how to list what exists. */
  readonly notFoundHint?: string;
}

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'SlowDown',
  'RequestThrottled',
]);

/**
 * Translate an AWS SDK error into a kb-dr error with a next step. Errors that already are
 * KbDrError pass through unchanged. `retryable` comes from the shared fault classifier (the SDK's
 * own transient, throttling and server-error rules plus RDS's state faults), so an HTTP 5xx after
 * the SDK's attempts, a timeout or a reset connection is retryable, and a refusal is not.
 */
export function translateAwsError(err: unknown, ctx: AwsCallContext): KbDrError {
  if (err instanceof KbDrError) return err;
  const code = awsErrorCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  const what = `${ctx.operation} failed: ${code}: ${detail}`;
  const retryable = isRetryableFault(err);
  const opts = (hint: string): KbDrErrorOptions => ({ cause: err, hint, retryable });
  const fault = classifyFault(err);

  if (isNotFound(err)) {
    return new NotFoundError(what, opts(ctx.notFoundHint ?? 'check the identifier and the account/region'));
  }
  if (isAlreadyExists(err)) {
    return new AlreadyExistsError(what, opts('choose a new identifier or use the existing resource'));
  }
  if (/QuotaExceeded|LimitExceeded$/.test(code) && !THROTTLING.has(code)) {
    return new QuotaExceededError(
      what,
      opts('delete old manual snapshots or export tasks, or raise the quota in Service Quotas'),
    );
  }
  if (/AccessDenied|UnauthorizedOperation|NotAuthorized|^Forbidden$/.test(code)) {
    return new AccessDeniedError(
      what,
      opts("check the function's IAM role and the KMS key policy; redeploy with `cdk deploy --all`"),
    );
  }
  if (/KMSKeyNotAccessible|KMSKeyNotAccessibleFault|KMS/.test(code)) {
    return new AccessDeniedError(
      what,
      opts(
        'check that the KMS key is enabled and its key policy allows this role (kms:CreateGrant, kms:DescribeKey)',
      ),
    );
  }
  if (fault === 'denied') {
    return new AccessDeniedError(
      what,
      opts("check the function's IAM role and the resource's policy; redeploy with `cdk deploy --all`"),
    );
  }
  if (/^Invalid.*State/.test(code)) {
    return new InvalidStateError(
      what,
      opts(
        'wait until the resource is `available` (check it with restore-status or the RDS console) and retry',
      ),
    );
  }
  if (THROTTLING.has(code)) {
    return new AwsOperationError(what, opts('AWS is throttling requests; retry in a few minutes'));
  }
  if (fault === 'transient') {
    return new AwsOperationError(
      what,
      opts('AWS did not answer or failed while answering (timeout, 5xx, dropped connection); retry'),
    );
  }
  return new AwsOperationError(what, opts('check the AWS error above and the function logs, then retry'));
}
