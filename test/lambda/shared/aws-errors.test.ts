import {
  AccessDeniedError,
  AlreadyExistsError,
  AwsOperationError,
  GuardRailError,
  InvalidStateError,
  NotFoundError,
  QuotaExceededError,
} from '../../../core/errors';
import { translateAwsError } from '../../../lambda/shared/aws-errors';
import { sdkError } from '../support/sdk-error';

const ctx = { operation: 'create snapshot kb-snapshot-20261122-020000' };

describe('translateAwsError: retryable comes from the shared fault classifier', () => {
  it.each([
    ['an HTTP 503 after the SDK attempts', sdkError('ServiceUnavailable', 503)],
    ['an HTTP 500 with an unknown code', sdkError('InternalFailure', 500)],
    ['a TimeoutError', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a socket hang-up', new Error('socket hang up')],
    ['throttling', sdkError('ThrottlingException', 400)],
  ])('marks %s retryable, saying to retry', (_label, err) => {
    const e = translateAwsError(err, ctx);
    expect(e).toBeInstanceOf(AwsOperationError);
    expect(e.retryable).toBe(true);
    expect(e.message).toMatch(/^create snapshot kb-snapshot-20261122-020000 failed: /);
    expect(e.hint).toMatch(/retry/);
  });

  it.each([
    ['AccessDenied', sdkError('AccessDenied', 403), AccessDeniedError],
    ['a bare 403 (HeadObject answers Forbidden)', sdkError('Forbidden', 403), AccessDeniedError],
    ['a not-found fault', sdkError('DBInstanceNotFoundFault', 404), NotFoundError],
    ['a 400 the service explains', sdkError('InvalidParameterValue', 400), AwsOperationError],
  ])('marks %s not retryable', (_label, err, type) => {
    const e = translateAwsError(err, ctx);
    expect(e).toBeInstanceOf(type);
    expect(e.retryable).toBe(false);
  });

  it('keeps RDS state faults retryable as InvalidStateError', () => {
    const e = translateAwsError(sdkError('InvalidDBInstanceStateFault', 400), ctx);
    expect(e).toBeInstanceOf(InvalidStateError);
    expect(e.retryable).toBe(true);
  });
});

describe('translateAwsError: one kb-dr error type and next step per kind of fault', () => {
  it.each([
    ['DBSnapshotAlreadyExistsFault', 400, AlreadyExistsError, /choose a new identifier/],
    ['SnapshotQuotaExceeded', 400, QuotaExceededError, /delete old manual snapshots.*Service Quotas/],
    ['ExportTaskLimitExceeded', 400, QuotaExceededError, /Service Quotas/],
    ['RequestLimitExceeded', 400, AwsOperationError, /throttling requests; retry in a few minutes/],
    [
      'KMSKeyNotAccessibleFault',
      400,
      AccessDeniedError,
      /KMS key is enabled.*kms:CreateGrant, kms:DescribeKey/,
    ],
    ['UnauthorizedOperation', 403, AccessDeniedError, /IAM role and the KMS key policy.*cdk deploy --all/],
    ['InvalidDBSnapshotStateFault', 400, InvalidStateError, /wait until the resource is `available`/],
    ['InvalidParameterCombination', 400, AwsOperationError, /check the AWS error above/],
  ])('%s (HTTP %i): its kb-dr error type and next step', (name, status, type, hint) => {
    // Act
    const cause = sdkError(name, status);
    const e = translateAwsError(cause, ctx);
    // Assess
    expect(e).toBeInstanceOf(type);
    expect(e.message).toBe(`create snapshot kb-snapshot-20261122-020000 failed: ${name}: ${name} happened`);
    expect(e.hint).toMatch(hint);
    expect(e.cause).toBe(cause);
  });

  it("uses the caller's hint for a not-found fault, and a generic one without it", () => {
    const missing = sdkError('DBSnapshotNotFoundFault', 404);
    expect(
      translateAwsError(missing, { ...ctx, notFoundHint: 'list snapshots with `npx kb-dr list --rds`' }).hint,
    ).toBe('list snapshots with `npx kb-dr list --rds`');
    expect(translateAwsError(missing, ctx).hint).toBe('check the identifier and the account/region');
  });

  it('passes a kb-dr error through unchanged', () => {
    const refusal = new GuardRailError('kb-prod is a production instance', { hint: 'pick a kb-restore- id' });
    expect(translateAwsError(refusal, ctx)).toBe(refusal);
  });
});
