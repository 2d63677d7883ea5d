/**
 * Typed errors. Every error kb-dr shows a person says what happened and what to do next (`hint`).
 * SDK faults are translated into these once, by `translateAwsError` (lambda/shared/aws-errors.ts),
 * never passed through raw. Core: no SDK, no CDK; the predicates below read only an error's shape.
 */

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

/**
 * The one spelling of "the thing does not exist": an AWS code naming it (`DBSnapshotNotFoundFault`,
 * `DBInstanceNotFound`, `NoSuchKey`, `NoSuchBucket`, S3's bare `NotFound`), an HTTP 404 that is not
 * a refusal, or a kb-dr NotFoundError.
 */
export function isNotFound(err: unknown): boolean {
  if (err instanceof NotFoundError) return true;
  if (typeof err !== 'object' || err === null) return false;
  const code = errorCode(err);
  const status = (err as AwsLikeError).$metadata?.httpStatusCode;
  return /NotFound|NoSuchKey|NoSuchBucket/.test(code) || (status === 404 && !/AccessDenied/.test(code));
}

/** The one spelling of "it already exists": an AWS `*AlreadyExists*` code or a kb-dr AlreadyExistsError. */
export function isAlreadyExists(err: unknown): boolean {
  if (err instanceof AlreadyExistsError) return true;
  if (typeof err !== 'object' || err === null) return false;
  return /AlreadyExists/.test(errorCode(err));
}
