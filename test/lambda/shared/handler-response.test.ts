import * as z from 'zod/mini';
import { RemoteFailureError } from '../../../cli/rds/invoke';
import {
  AccessDeniedError,
  AlreadyExistsError,
  AwsOperationError,
  GuardRailError,
  InvalidStateError,
  NotFoundError,
  ValidationError,
} from '../../../core/errors';
import {
  closestField,
  exitCodeFor,
  parseEvent,
  respond,
  toFailure,
  type EventSpec,
} from '../../../lambda/shared/handler-response';

const schema = z.strictObject({ snapshotId: z.string(), confirm: z.optional(z.boolean()) });
const SPEC: EventSpec<typeof schema> = {
  functionName: 'demo',
  schema,
  example: { snapshotId: 'latest', confirm: true },
  fieldExamples: { snapshotId: '"latest"', confirm: 'true' },
};

function errorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    return e as ValidationError;
  }
  throw new Error('expected a throw');
}

describe('parseEvent', () => {
  it('names a misspelled field and suggests the right one with an example', () => {
    const err = errorOf(() => parseEvent(SPEC, { snapshotID: 'latest' }));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toBe(
      'unknown field "snapshotID" (did you mean "snapshotId"?), e.g. "snapshotId": "latest"',
    );
    expect(err.field).toBe('snapshotId');
  });

  it('lists the valid fields when an unknown field resembles none', () => {
    const err = errorOf(() => parseEvent(SPEC, { snapshotId: 'latest', key1: 'value1' }));
    expect(err.message).toContain('unknown field "key1" (valid fields: snapshotId, confirm)');
    expect(err.hint).toContain(JSON.stringify(SPEC.example));
  });

  it('names a missing field with an example', () => {
    const err = errorOf(() => parseEvent(SPEC, {}));
    expect(err.message).toBe('field "snapshotId" is missing, e.g. "snapshotId": "latest"');
  });

  it('refuses the string "true" where the boolean is required', () => {
    const err = errorOf(() => parseEvent(SPEC, { snapshotId: 'latest', confirm: 'true' }));
    expect(err.message).toBe(
      'field "confirm" must be a boolean, not the string "true", e.g. "confirm": true',
    );
  });

  it('refuses an event that is not an object', () => {
    const err = errorOf(() => parseEvent(SPEC, 'latest'));
    expect(err.message).toContain('must be a JSON object, got the string "latest"');
  });

  it('returns the parsed event when valid', () => {
    expect(parseEvent(SPEC, { snapshotId: 'latest', confirm: true })).toEqual({
      snapshotId: 'latest',
      confirm: true,
    });
  });

  it('suggests nothing for a far-off name', () => {
    expect(closestField('zzzzzz', ['snapshotId'])).toBeUndefined();
    expect(closestField('targetinstanceid', ['targetInstanceId'])).toBe('targetInstanceId');
  });
});

describe('toFailure and exit codes', () => {
  it('marks refused input as nothing changed, exit code 2', () => {
    const f = toFailure(new ValidationError('bad', 'snapshotId', { hint: 'fix it' }));
    expect(f).toEqual({
      ok: false,
      error: 'bad',
      hint: 'fix it',
      errorType: 'ValidationError',
      field: 'snapshotId',
      retryable: false,
      nothingChanged: true,
    });
    expect(exitCodeFor(f)).toBe(2);
    expect(exitCodeFor(toFailure(new GuardRailError('no')))).toBe(2);
  });

  it('marks NotFound and AlreadyExists refusals as nothing changed too, exit code 2 (one rule)', () => {
    for (const err of [
      new NotFoundError('snapshotId "kb-snapshot-20261122-020000" not found'),
      new AlreadyExistsError('targetInstanceId "kb-restore-drill-1" already exists'),
    ]) {
      const f = toFailure(err);
      expect(f).toMatchObject({ ok: false, errorType: err.name, nothingChanged: true });
      expect(exitCodeFor(f)).toBe(2);
      expect(new RemoteFailureError('restore-snapshot', f).exitCode).toBe(2);
    }
  });

  it('marks an error that says nothing changed as a refusal, and others not', () => {
    const unchanged = Object.assign(new AwsOperationError('rename refused'), { nothingChanged: true });
    expect(toFailure(unchanged).nothingChanged).toBe(true);
    expect(toFailure(new InvalidStateError('busy')).nothingChanged).toBeUndefined();
  });

  it('translates a raw SDK error instead of passing it through, exit code 1', () => {
    const raw = Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' });
    const f = toFailure(raw, 'restore-snapshot');
    expect(f.errorType).toBe(new AccessDeniedError('x').name);
    expect(f.error).toContain('restore-snapshot failed: AccessDenied');
    expect(f.nothingChanged).toBeUndefined();
    expect(exitCodeFor(f)).toBe(1);
    expect(exitCodeFor({ ok: true })).toBe(0);
  });

  it('returns failures from respond and logs them', async () => {
    const logger = { warn: jest.fn(), error: jest.fn() };
    const res = await respond(logger, 'demo', async () => {
      throw new GuardRailError('refused', { hint: 'do this' });
    });
    expect(res).toMatchObject({ ok: false, error: 'refused', hint: 'do this', errorType: 'GuardRailError' });
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.error).not.toHaveBeenCalled();
  });
});
