/**
 * Typed errors. Every error kb-dr shows a person says what happened and what to do next (`hint`).
 * SDK faults are translated into these once, by `translateAwsError`, never passed through raw.
 */
import { classifyFault, isRetryableFault } from './fault-class';

export interface KbDrErrorOptions {
  readonly cause?: unknown;
  /** The next step for the operator, e.g. "list snapshots with `npx kb-dr list --rds`". */
  readonly hint?: string;
  /** Whether retrying the same call later could succeed (throttling, a resource still creating). */
  readonly retryable?: boolean;
}

export class KbDrError extends Error {
  override readonly name: string = 'KbDrError';
  readonly hint: string | undefined;
  readonly retryable: boolean;

  constructor(message: string, options: KbDrErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.hint = options.hint;
    this.retryable = options.retryable ?? false;
  }

  /** The one sentence shown to a person: what happened, then what to do. */
  get userMessage(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message;
  }
}

/** Input that fails validation. Nothing was changed. */
export class ValidationError extends KbDrError {
  override readonly name = 'ValidationError';
  constructor(
    message: string,
    readonly field?: string,
    options: KbDrErrorOptions = {},
  ) {
    super(message, options);
  }
}

/** A guard rail refused the request (production target, missing confirmation, ...). Nothing was changed. */
export class GuardRailError extends KbDrError {
  override readonly name = 'GuardRailError';
}

export class NotFoundError extends KbDrError {
  override readonly name = 'NotFoundError';
}

export class AlreadyExistsError extends KbDrError {
  override readonly name = 'AlreadyExistsError';
}

/** The resource is in a state the operation cannot work with (e.g. instance not `available`). */
export class InvalidStateError extends KbDrError {
  override readonly name = 'InvalidStateError';
}

export class QuotaExceededError extends KbDrError {
  override readonly name = 'QuotaExceededError';
}

export class AccessDeniedError extends KbDrError {
  override readonly name = 'AccessDeniedError';
}

/**
 * A stored manifest cannot be parsed (not JSON, or not the schema). Readers skip it and report it
 * (log line and the CorruptManifests metric); it never hides the other backups.
 */
export class CorruptManifestError extends KbDrError {
  override readonly name = 'CorruptManifestError';
  constructor(
    message: string,
    /** `s3://bucket/key` of the corrupt object. */
    readonly source: string,
    options: KbDrErrorOptions = {},
  ) {
    super(message, {
      hint: `inspect the object (aws s3 cp ${source} -); restore a previous version from the versioned bucket or delete it so the periodic pass records the backup again`,
      ...options,
    });
  }
}

/** A configuration setting is missing or invalid; raised at synth or cold start. */
export class ConfigurationError extends KbDrError {
  override readonly name = 'ConfigurationError';
}

/** An AWS call failed in a way with no more specific translation. */
export class AwsOperationError extends KbDrError {
  override readonly name = 'AwsOperationError';
}

export interface AwsCallContext {
  /** What we were doing, e.g. "create snapshot kb-snapshot-20261122-020000". */
  readonly operation: string;
  /** Extra hint used for not-found faults, e.g. how to list what exists. */
  readonly notFoundHint?: string;
}

interface AwsLikeError {
  name?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

function errorCode(err: unknown): string {
  if (typeof err !== 'object' || err === null) return 'UnknownError';
  const e = err as AwsLikeError;
  return e.name && e.name !== 'Error' ? e.name : (e.Code ?? 'UnknownError');
}

/** The AWS error code of an SDK error (e.g. `DBSnapshotNotFoundFault`), or `UnknownError`. */
export function awsErrorCode(err: unknown): string {
  return errorCode(err);
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
  const code = errorCode(err);
  const detail = err instanceof Error ? err.message : String(err);
  const what = `${ctx.operation} failed: ${code}: ${detail}`;
  const retryable = isRetryableFault(err);
  const opts = (hint: string): KbDrErrorOptions => ({ cause: err, hint, retryable });
  const fault = classifyFault(err);

  if (/NotFound/.test(code)) {
    return new NotFoundError(what, opts(ctx.notFoundHint ?? 'check the identifier and the account/region'));
  }
  if (/AlreadyExists/.test(code)) {
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
