/**
 * The import rules of eslint.config.mjs (core <- lambda <- lib/cli/harness <- bin/drill/bench),
 * checked on probe sources: each forbidden import is reported, each allowed one is not.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

interface LintMessage {
  ruleId: string | null;
  message: string;
}

/**
 * One ESLint for the whole file, in a child process (its flat config is an ES module, which jest's
 * CommonJS runtime cannot load): it reads one `{file, source}` JSON line per request and answers
 * the messages as one JSON line, so the config and typescript-eslint load once, not per probe.
 */
const SERVER = `
import { ESLint } from 'eslint';
import { createInterface } from 'node:readline';
const eslint = new ESLint({ cwd: process.cwd() });
for await (const line of createInterface({ input: process.stdin })) {
  const { file, source } = JSON.parse(line);
  const [result] = await eslint.lintText(source, { filePath: file });
  process.stdout.write(JSON.stringify(result ? result.messages : []) + '\\n');
}`;
let eslint: ChildProcessWithoutNullStreams;
let stderr = '';
const waiting: { resolve: (line: string) => void; reject: (err: Error) => void }[] = [];

beforeAll(() => {
  eslint = spawn(process.execPath, ['--input-type=module', '-e', SERVER], { cwd: ROOT });
  let buffered = '';
  eslint.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      waiting.shift()?.resolve(line);
    }
  });
  eslint.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  eslint.on('exit', (code) => {
    for (const w of waiting.splice(0)) w.reject(new Error(`eslint exited with ${code}: ${stderr}`));
  });
});

afterAll(() => {
  eslint.stdin.end();
});

/** ESLint's messages for `source` linted as if it lived at `file`. */
async function lintMessages(file: string, source: string): Promise<LintMessage[]> {
  const line = await new Promise<string>((resolve, reject) => {
    waiting.push({ resolve, reject });
    eslint.stdin.write(`${JSON.stringify({ file: path.join(ROOT, file), source })}\n`);
  });
  return JSON.parse(line) as LintMessage[];
}

/** The `no-restricted-imports` findings for `source` linted as if it lived at `file`. */
async function restricted(file: string, source: string): Promise<string[]> {
  return (await lintMessages(file, source))
    .filter((m) => m.ruleId === 'no-restricted-imports')
    .map((m) => /'([^']+)' import/.exec(m.message)?.[1] ?? m.message);
}

const use = (names: string[]) => `export const used = [${names.join(', ')}];\n`;

describe('import rules (eslint no-restricted-imports)', () => {
  it('lambda/ may not import lib, cli, harness, test, drill, bench or bin', async () => {
    const src =
      [
        "import { a } from '../../lib/config';",
        "import { b } from '../../cli/rds/invoke';",
        "import { c } from '../../harness/toolchain';",
        "import { d } from '../../test/support/backup-fixtures';",
        "import { e } from '../../drill/report';",
        "import { f } from '../../bench/x';",
        "import { g } from '../../bin/kb-dr';",
      ].join('\n') + use(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(await restricted('lambda/reconcile/probe.ts', src)).toEqual([
      '../../lib/config',
      '../../cli/rds/invoke',
      '../../harness/toolchain',
      '../../test/support/backup-fixtures',
      '../../drill/report',
      '../../bench/x',
      '../../bin/kb-dr',
    ]);
  });

  it('lambda/ may import core/, lambda/shared and the SDK', async () => {
    const src =
      [
        "import { a } from '../../core/naming';",
        "import { b } from '../shared/env';",
        "import { c } from './advance';",
        "import { d } from '@aws-sdk/client-rds';",
        "import * as z from 'zod/mini';",
      ].join('\n') + use(['a', 'b', 'c', 'd', 'z']);
    expect(await restricted('lambda/reconcile/probe.ts', src)).toEqual([]);
  });

  it('core/ and lambda/ import zod/mini, never zod classic (445 KiB in every function bundle)', async () => {
    const src = ["import { z } from 'zod';", "import { y } from 'zod/v4';"].join('\n') + use(['z', 'y']);
    expect(await restricted('lambda/reconcile/probe.ts', src)).toEqual(['zod', 'zod/v4']);
    expect(await restricted('core/probe.ts', src)).toEqual(['zod', 'zod/v4']);
  });

  it("cli/ and drill/ import a function's contract.ts, never its logic modules", async () => {
    const src =
      [
        "import { a } from '../../lambda/restore-pitr/restore-pitr';",
        "import { b } from '../../lambda/validate-backup/index';",
        "import { c } from '../../lambda/restore-pitr/contract';",
        "import { d } from '../../lambda/shared/handler-response';",
        "import { e } from '../../test/support/cli-fixtures';",
        "import { f } from '../../lambda/backup/contract';",
        "import { g } from '../../lambda/backup/start-backup';",
        "import { h } from '../../lambda/reconcile/contract';",
        "import { i } from '../../lambda/reconcile/run';",
        "import { j } from '../../lambda/restore-test/contract';",
        "import { k } from '../../lambda/restore-test/restore-test';",
      ].join('\n') + use(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k']);
    const expected = [
      '../../lambda/restore-pitr/restore-pitr',
      '../../lambda/validate-backup/index',
      '../../test/support/cli-fixtures',
      '../../lambda/backup/start-backup',
      '../../lambda/reconcile/run',
      '../../lambda/restore-test/restore-test',
    ];
    expect(await restricted('cli/rds/probe.ts', src)).toEqual(expected);
    expect(await restricted('drill/steps/probe.ts', src)).toEqual(expected);
  });

  it('core/ imports nothing of ours and no SDK or CDK', async () => {
    const src =
      [
        "import { a } from '../lambda/shared/env';",
        "import { b } from '../lib/config';",
        "import { c } from '@aws-sdk/client-rds';",
        "import { d } from 'aws-cdk-lib';",
        "import { e } from '@smithy/core/retry';",
      ].join('\n') + use(['a', 'b', 'c', 'd', 'e']);
    expect(await restricted('core/probe.ts', src)).toEqual([
      '../lambda/shared/env',
      '../lib/config',
      '@aws-sdk/client-rds',
      'aws-cdk-lib',
      '@smithy/core/retry',
    ]);
  });

  it('core/ may import node built-ins, zod/mini and core/ itself', async () => {
    const src =
      [
        "import { a } from 'node:fs';",
        "import * as z from 'zod/mini';",
        "import { en } from 'zod/locales';",
        "import { c } from './naming';",
      ].join('\n') + use(['a', 'z', 'en', 'c']);
    expect(await restricted('core/probe.ts', src)).toEqual([]);
  });

  it.each([
    'drill/steps/probe.ts',
    'bench/probe.ts',
    'lib/constructs/probe.ts',
    'cli/rds/probe.ts',
    'bin/probe.ts',
  ])('nothing outside test/ imports test/ (%s)', async (file) => {
    const depth = file.split('/').length - 1;
    const up = '../'.repeat(depth);
    const src =
      [
        `import { a } from '${up}test/support/backup-fixtures';`,
        `import { b } from '${up}harness/moto';`,
      ].join('\n') + use(['a', 'b']);
    expect(await restricted(file, src)).toEqual([`${up}test/support/backup-fixtures`]);
  });

  it('harness/ never imports test/ or jest, nor uses its globals', async () => {
    const src =
      [
        "import { a } from '../test/support/backup-fixtures';",
        "import { b } from '@jest/globals';",
        "import { c } from 'aws-sdk-client-mock';",
        "import { d } from './moto';",
        "import { e } from '../lambda/shared/env';",
      ].join('\n') +
      use(['a', 'b', 'c', 'd', 'e']) +
      'jest.fn();\n';
    expect(await restricted('harness/probe.ts', src)).toEqual([
      '../test/support/backup-fixtures',
      '@jest/globals',
      'aws-sdk-client-mock',
    ]);
    const globals = await lintMessages('harness/probe.ts', 'jest.fn();\nexpect(1);\n');
    expect(globals.filter((m) => m.ruleId === 'no-restricted-globals')).toHaveLength(2);
  });
});
