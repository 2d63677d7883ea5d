import { classifyFault, isAmbiguousOutcome, isRetryableFault } from '../../../lambda/shared/fault-class';
import { sdkError } from '../support/sdk-error';

function sysError(code: string): Error {
  return Object.assign(new Error(`connect ${code}`), { code });
}

describe('classifyFault', () => {
  it.each([
    ['an HTTP 500 after the SDK gave up', 'transient', sdkError('InternalFailure', 500)],
    ['an HTTP 503 with an unmodelled name', 'transient', sdkError('UnknownError', 503)],
    ['a 502 from a proxy with no error code', 'transient', sdkError('Error', 502)],
    ['the SDK request timeout', 'transient', sdkError('TimeoutError')],
    ['a reset connection', 'transient', sysError('ECONNRESET')],
    ['a refused connection', 'transient', sysError('ECONNREFUSED')],
    ['a socket hang-up', 'transient', new Error('socket hang up')],
    ['throttling', 'transient', sdkError('ThrottlingException', 400)],
    ['S3 SlowDown', 'transient', sdkError('SlowDown', 503)],
    ['an error the SDK marked retryable', 'transient', sdkError('Whatever', 400, { $retryable: {} })],
    ['a busy instance', 'state', sdkError('InvalidDBInstanceStateFault', 400)],
    ['a busy snapshot', 'state', sdkError('InvalidDBSnapshotStateFault', 400)],
    ['a missing snapshot', 'notFound', sdkError('DBSnapshotNotFoundFault', 404)],
    ['a missing S3 key', 'notFound', sdkError('NoSuchKey', 404)],
    ['S3 HEAD of a missing key', 'notFound', sdkError('NotFound', 404)],
    ['an existing snapshot', 'alreadyExists', sdkError('DBSnapshotAlreadyExistsFault', 400)],
    ['S3 access denied', 'denied', sdkError('AccessDenied', 403)],
    ['S3 HEAD forbidden without a code', 'denied', sdkError('Forbidden', 403)],
    ['a key RDS cannot use', 'denied', sdkError('KMSKeyNotAccessibleFault', 400)],
    ['the snapshot quota', 'quota', sdkError('SnapshotQuotaExceededFault', 400)],
    ['a bad parameter', 'permanent', sdkError('InvalidParameterValue', 400)],
    ['a non-error value', 'permanent', 'boom'],
    ['null', 'permanent', null],
  ])('%s is %s', (_what, expected, err) => {
    expect(classifyFault(err)).toBe(expected);
  });
});

describe('isRetryableFault and isAmbiguousOutcome', () => {
  it('retries transient faults and busy resources, never definitive answers', () => {
    expect(isRetryableFault(sdkError('InternalFailure', 500))).toBe(true);
    expect(isRetryableFault(sdkError('InvalidDBInstanceStateFault', 400))).toBe(true);
    expect(isRetryableFault(sdkError('DBSnapshotNotFoundFault', 404))).toBe(false);
    expect(isRetryableFault(sdkError('AccessDenied', 403))).toBe(false);
  });

  it('treats a lost answer as unknown outcome, but not throttling (refused before it was applied)', () => {
    expect(isAmbiguousOutcome(sdkError('TimeoutError'))).toBe(true);
    expect(isAmbiguousOutcome(sdkError('InternalFailure', 500))).toBe(true);
    expect(isAmbiguousOutcome(sysError('ECONNRESET'))).toBe(true);
    expect(isAmbiguousOutcome(sdkError('ThrottlingException', 400))).toBe(false);
    expect(isAmbiguousOutcome(sdkError('DBSnapshotAlreadyExistsFault', 400))).toBe(false);
  });
});
