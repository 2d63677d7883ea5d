import {
  AlreadyExistsError,
  NotFoundError,
  ValidationError,
  isAlreadyExists,
  isNotFound,
} from '../../core/errors';

function sdkError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } });
}

describe('isNotFound: the one spelling of "does not exist"', () => {
  it.each([
    ['RDS DBSnapshotNotFoundFault', sdkError('DBSnapshotNotFoundFault', 404)],
    ['RDS DBInstanceNotFound (query API code)', sdkError('DBInstanceNotFound', 404)],
    ['RDS ExportTaskNotFoundFault', sdkError('ExportTaskNotFoundFault', 404)],
    ['S3 NoSuchKey', sdkError('NoSuchKey', 404)],
    ['S3 HeadObject bare NotFound', sdkError('NotFound', 404)],
    ['an unnamed 404', sdkError('UnknownError', 404)],
    ['a kb-dr NotFoundError', new NotFoundError('instance kb-prod not found')],
  ])('is true for %s', (_label, err) => {
    expect(isNotFound(err)).toBe(true);
  });

  it.each([
    ['a 404 AccessDenied', sdkError('AccessDenied', 404)],
    [
      'a DNS failure (ENOTFOUND is a network fault)',
      Object.assign(new Error('getaddrinfo'), { code: 'ENOTFOUND' }),
    ],
    ['already exists', sdkError('DBSnapshotAlreadyExistsFault', 400)],
    ['a validation error', new ValidationError('bad')],
    ['a string', 'NotFound'],
    ['undefined', undefined],
  ])('is false for %s', (_label, err) => {
    expect(isNotFound(err)).toBe(false);
  });
});

describe('isAlreadyExists', () => {
  it.each([
    ['DBSnapshotAlreadyExistsFault', sdkError('DBSnapshotAlreadyExistsFault', 400)],
    ['ExportTaskAlreadyExists', sdkError('ExportTaskAlreadyExists', 400)],
    ['DBInstanceAlreadyExists', sdkError('DBInstanceAlreadyExists', 400)],
    ['a kb-dr AlreadyExistsError', new AlreadyExistsError('dump exists')],
  ])('is true for %s', (_label, err) => {
    expect(isAlreadyExists(err)).toBe(true);
  });

  it.each([
    ['not found', sdkError('DBSnapshotNotFoundFault', 404)],
    ['throttling', sdkError('ThrottlingException', 400)],
    ['null', null],
  ])('is false for %s', (_label, err) => {
    expect(isAlreadyExists(err)).toBe(false);
  });
});
