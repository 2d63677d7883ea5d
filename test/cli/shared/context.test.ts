import { PassThrough } from 'node:stream';
import { GuardRailError } from '../../../core/errors';
import { confirmer, type CliContext } from '../../../cli/shared/context';
import { silentLogger } from '../../../cli/shared/logger';

function context(isTTY: boolean): { ctx: CliContext; stdin: PassThrough; stderr: PassThrough } {
  const stdin = Object.assign(new PassThrough(), { isTTY });
  const stderr = new PassThrough();
  const ctx: CliContext = {
    env: {},
    logger: silentLogger,
    stdout: new PassThrough(),
    stderr,
    stdin,
    signal: new AbortController().signal,
  };
  return { ctx, stdin, stderr };
}

describe('confirmer', () => {
  it('confirms without asking when --yes is given, even without a terminal', async () => {
    const { ctx, stderr } = context(false);

    await expect(confirmer(ctx, true)('Replace kb?')).resolves.toBe(true);
    expect(stderr.read()).toBeNull();
  });

  it('refuses at once without --yes when stdin is not a terminal', async () => {
    const { ctx } = context(false);

    await expect(confirmer(ctx, false)('Replace kb?')).rejects.toBeInstanceOf(GuardRailError);
  });

  it.each([
    ['yes', true],
    ['y', true],
    ['no', false],
    ['', false],
  ])('on a terminal, answer %j means %s', async (answer, expected) => {
    const { ctx, stdin, stderr } = context(true);

    const asked = confirmer(ctx, false)('Replace kb?');
    stdin.write(`${answer}\n`);

    await expect(asked).resolves.toBe(expected);
    expect(String(stderr.read())).toContain('Replace kb?');
  });
});
