/** One exit-code mapping for the binary and the RDS commands: a refusal exits 2 locally and remotely. */
import { CommanderError } from 'commander';
import {
  AlreadyExistsError,
  AwsOperationError,
  GuardRailError,
  NotFoundError,
  ValidationError,
} from '../../../core/errors';
import { EXIT, exitCodeOf } from '../../../cli/shared/exit-code';
import { RemoteFailureError } from '../../../cli/rds/invoke';
import { toFailure } from '../../../lambda/shared/handler-response';

const aborted = (): AbortSignal => {
  const c = new AbortController();
  c.abort();
  return c.signal;
};

describe('exitCodeOf', () => {
  it.each([
    ['a local ValidationError', new ValidationError('bad', 'x'), 2],
    ['a local GuardRailError', new GuardRailError('no'), 2],
    ['a local NotFoundError (e.g. a function not deployed)', new NotFoundError('none'), 1],
    ['a local AlreadyExistsError', new AlreadyExistsError('exists'), 1],
    [
      'an error saying nothing was changed',
      Object.assign(new AwsOperationError('refused'), { nothingChanged: true }),
      2,
    ],
    ['an AWS failure', new AwsOperationError('5xx'), 1],
    ['a plain Error', new Error('bug'), 1],
    ['commander --help', new CommanderError(0, 'commander.helpDisplayed', ''), 0],
    ['an unknown option', new CommanderError(1, 'commander.unknownOption', 'nope'), 2],
  ])('%s exits %i', (_what, err, code) => {
    expect(exitCodeOf(err)).toBe(code);
  });

  it('exits the same way for the same refusal answered by a deployed function', () => {
    const local = new GuardRailError('"confirm" must be true');
    const remote = new RemoteFailureError('restore-pitr', toFailure(local));
    expect(exitCodeOf(remote)).toBe(exitCodeOf(local));
    expect(exitCodeOf(remote)).toBe(EXIT.refused);
    expect(exitCodeOf(new RemoteFailureError('restore-pitr', toFailure(new AwsOperationError('x'))))).toBe(1);
  });

  it('exits 130 once the operator interrupted, whatever the error', () => {
    expect(exitCodeOf(new ValidationError('bad', 'x'), aborted())).toBe(130);
    expect(exitCodeOf(new Error('x'), aborted())).toBe(130);
  });
});
