/** A CliContext for tests: captured stdout/stderr, no terminal, a silent logger. */
import { PassThrough } from 'node:stream';
import type { CliContext } from '../../../cli/shared/context';
import { silentLogger } from '../../../cli/shared/logger';

export type FakeContext = CliContext & {
  /** Everything written to stdout so far. */
  readonly out: () => string;
  /** Everything written to stderr so far. */
  readonly err: () => string;
};

export function fakeContext(
  env: Record<string, string> = {},
  options: { signal?: AbortSignal; isTTY?: boolean } = {},
): FakeContext {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    env,
    logger: silentLogger,
    stdout,
    stderr,
    stdin: Object.assign(new PassThrough(), { isTTY: options.isTTY ?? false }),
    signal: options.signal ?? new AbortController().signal,
    out: () => out,
    err: () => err,
  };
}
