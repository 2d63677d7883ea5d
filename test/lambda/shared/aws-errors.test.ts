import { AccessDeniedError, AwsOperationError, InvalidStateError, NotFoundError } from '../../../core/errors';
import { translateAwsError } from '../../../lambda/shared/aws-errors';

function sdkError(name: string, status: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    $metadata: { httpStatusCode: status },
    ...extra,
  });
}

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
