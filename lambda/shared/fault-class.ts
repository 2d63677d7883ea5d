/**
 * How an AWS call failed, classified with the SDK's own rules (`@smithy/core/retry`: the same
 * predicates its standard retry strategy uses) plus RDS's state faults. One place decides whether a
 * failure is worth retrying and whether the call's outcome is unknown, so no function guesses.
 *
 * - `transient`: the request may not have reached AWS, or AWS failed while handling it (5xx,
 *   timeout, connection reset, throttling, clock skew). Retrying can succeed.
 * - `state`: AWS refused because a resource is busy (`Invalid*State*`); retrying later can succeed.
 * - `notFound` / `alreadyExists` / `denied` / `quota`: definitive answers; retrying the same call
 *   gives the same answer.
 * - `permanent`: any other definitive refusal (a 4xx the service explains).
 */
import { isAlreadyExists, isNotFound } from '../../core/errors';
import { isClockSkewError, isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';

export type FaultClass =
  'transient' | 'state' | 'notFound' | 'alreadyExists' | 'denied' | 'quota' | 'permanent';

interface SdkLikeError {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
  $fault?: unknown;
}

/** Node socket error codes that mean the connection failed before or during the exchange. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
]);

function codeOf(e: SdkLikeError): string {
  for (const v of [e.name, e.Code, e.code]) if (typeof v === 'string' && v !== 'Error') return v;
  return 'UnknownError';
}

/** Classify a failed AWS call. Works on SDK errors, Node socket errors and anything else thrown. */
export function classifyFault(err: unknown): FaultClass {
  if (typeof err !== 'object' || err === null) return 'permanent';
  const e = err as SdkLikeError;
  const code = codeOf(e);
  const status = e.$metadata?.httpStatusCode;
  // The predicates expect an SdkError shape; they read only name, code, $metadata and $retryable.
  const sdkErr = err as Parameters<typeof isTransientError>[0];

  if (isNotFound(err)) return 'notFound';
  if (isAlreadyExists(err)) return 'alreadyExists';
  if (/^Invalid.*State/.test(code)) return 'state';
  if (e.$retryable !== undefined) return 'transient';
  if (
    isThrottlingError(sdkErr) ||
    isTransientError(sdkErr) ||
    isServerError(sdkErr) ||
    isClockSkewError(sdkErr)
  ) {
    return 'transient';
  }
  if (
    code === 'TimeoutError' ||
    code === 'RequestTimeout' ||
    code === 'AbortError' ||
    NETWORK_CODES.has(code)
  ) {
    return 'transient';
  }
  const sysCode = (err as { code?: unknown }).code;
  if (typeof sysCode === 'string' && NETWORK_CODES.has(sysCode)) return 'transient';
  if (typeof e.message === 'string' && /socket hang up|ECONNRESET|EPIPE/.test(e.message)) return 'transient';
  if (status !== undefined && status >= 500) return 'transient';
  if (
    /AccessDenied|UnauthorizedOperation|NotAuthorized|Forbidden|KMSKeyNotAccessible/.test(code) ||
    status === 403
  ) {
    return 'denied';
  }
  if (/QuotaExceeded|LimitExceeded$/.test(code)) return 'quota';
  return 'permanent';
}

/** Retrying the same call later can succeed (transient faults and busy resources). */
export function isRetryableFault(err: unknown): boolean {
  const c = classifyFault(err);
  return c === 'transient' || c === 'state';
}

/**
 * The call's outcome is unknown: a mutating request may have been applied even though no answer
 * came back (timeout, 5xx, dropped connection). The caller must read state before deciding.
 */
export function isAmbiguousOutcome(err: unknown): boolean {
  // A throttled request was refused before it was applied: its outcome is known.
  return (
    classifyFault(err) === 'transient' && !isThrottlingError(err as Parameters<typeof isThrottlingError>[0])
  );
}
