import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_ENV } from '../../harness/app-defaults';
import { SYNTH_CACHE_DIR_ENV, synthCacheKey, testAppTemplates } from '../../harness/synth-cache';

let dir: string;
const saved = process.env[SYNTH_CACHE_DIR_ENV];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-synth-cache-'));
  process.env[SYNTH_CACHE_DIR_ENV] = dir;
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
  if (saved === undefined) delete process.env[SYNTH_CACHE_DIR_ENV];
  else process.env[SYNTH_CACHE_DIR_ENV] = saved;
});

const INPUTS = { context: { 'aws:cdk:bundling-stacks': [], 'kb:restoreTestSchedule': 'off' } };
const MARKER = {
  storage: { Description: 'cached storage' },
  operations: { Description: 'cached operations' },
};

describe('synthCacheKey', () => {
  it('names the same file for the same arguments in any key order', () => {
    expect(synthCacheKey({ context: { a: 1, b: [2] }, env: {} })).toBe(
      synthCacheKey({ context: { b: [2], a: 1 } }),
    );
  });

  it("names the same file when a test spells out buildTestApp's defaults (kb:dbInstanceId kb-prod, TEST_ENV)", () => {
    const plain = synthCacheKey({ context: { 'aws:cdk:bundling-stacks': [] } });
    expect(synthCacheKey({ context: { 'aws:cdk:bundling-stacks': [], 'kb:dbInstanceId': 'kb-prod' } })).toBe(
      plain,
    );
    expect(synthCacheKey({ context: { 'aws:cdk:bundling-stacks': [] }, stackEnv: TEST_ENV })).toBe(plain);
    // Another instance, or none at all, is another app.
    expect(
      synthCacheKey({ context: { 'aws:cdk:bundling-stacks': [], 'kb:dbInstanceId': 'kb-other' } }),
    ).not.toBe(plain);
    expect(
      synthCacheKey({ context: { 'aws:cdk:bundling-stacks': [], 'kb:dbInstanceId': undefined } }),
    ).not.toBe(plain);
  });

  it('names another file when the context, the environment or the account/region differ', () => {
    const keys = new Set([
      synthCacheKey(INPUTS),
      synthCacheKey({ context: { ...INPUTS.context, 'kb:restoreTestSchedule': 'on' } }),
      synthCacheKey({ ...INPUTS, env: { KB_DB_INSTANCE_ID: 'kb-other' } }),
      synthCacheKey({ ...INPUTS, stackEnv: { account: '111111111111', region: 'us-east-1' } }),
    ]);
    expect(keys.size).toBe(4);
  });
});

describe('testAppTemplates', () => {
  it('reads the templates a previous synth of the same sources and arguments wrote', () => {
    writeFileSync(join(dir, `${synthCacheKey(INPUTS)}.json`), JSON.stringify(MARKER));

    expect(testAppTemplates(INPUTS)).toEqual(MARKER);
  });

  it('waits for the worker holding the lock instead of synthesizing a second time', async () => {
    // Prepare: a live process holds the lock and writes the templates half a second later.
    const key = synthCacheKey(INPUTS);
    const writer = spawn('sh', [
      '-c',
      `sleep 0.5; printf '%s' '${JSON.stringify(MARKER)}' > "$1.tmp" && mv "$1.tmp" "$1"`,
      'sh',
      join(dir, `${key}.json`),
    ]);
    writeFileSync(join(dir, `${key}.lock`), String(writer.pid));

    // Act
    const templates = testAppTemplates(INPUTS);

    // Assess: the writer's templates, not a synth of our own (which would not carry the marker).
    expect(templates).toEqual(MARKER);
    await new Promise((r) => writer.on('close', r));
  });
});
