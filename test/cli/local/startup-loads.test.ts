/**
 * What a local command loads at start: the built CLI parses no zod and no pg (they load from
 * node_modules when a command needs them), and the scripts read the source map only at
 * LOG_LEVEL=DEBUG, the only level that prints a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const CLI = join(ROOT, 'dist/kb-dr.js');
/** What node is started with: the collector for the backup's pacing, no optimizing compiler (scripts/build-cli.mjs). */
const NODE_FLAGS = ['--expose-gc', '--max-opt=1'];
let dir: string;
let trace: string;

beforeAll(() => {
  if (!existsSync(CLI)) expect(spawnSync('node', [join(ROOT, 'scripts/build-cli.mjs')]).status).toBe(0);
  dir = mkdtempSync(join(tmpdir(), 'kb-dr-startup-'));
  trace = join(dir, 'trace.js');
  // At exit: every module loaded, and the flags node was started with.
  writeFileSync(
    trace,
    "process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\nFLAGS ' + JSON.stringify(process.execArgv) + '\\nUNDICI ' + process.moduleLoadList.some((m) => m.includes('undici')) + '\\nBUILTINS ' + JSON.stringify(process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13))) + '\\n'));",
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function traced(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_OPTIONS: `-r ${trace}`, ...env },
  });
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    loaded: JSON.parse(/LOADED (.*)/.exec(r.stderr)?.[1] ?? 'null') as string[] | null,
    flags: JSON.parse(/FLAGS (.*)/.exec(r.stderr)?.[1] ?? 'null') as string[] | null,
    /** Node's fetch (undici), which evaluating pg pulls in: bundled or not, it shows whether pg ran. */
    undici: /UNDICI (\w+)/.exec(r.stderr)?.[1],
    /** Node's own modules evaluated (process.moduleLoadList). */
    builtins: JSON.parse(/BUILTINS (.*)/.exec(r.stderr)?.[1] ?? 'null') as string[] | null,
  };
}

const heavy = (loaded: readonly string[]) =>
  loaded.filter((m) => /node_modules\/(zod|pg|pg-[a-z-]+|pgpass|postgres-[a-z]+)\//.test(m));

describe('the built CLI at start', () => {
  it.each([
    ['--help', ['--help'], 0],
    ['a refused local command', ['restore', '--local'], 2],
    ['a refused recover-entries', ['recover-entries'], 2],
  ])('loads neither zod nor pg for %s', (_what, args, code) => {
    const r = traced('node', [CLI, ...args]);
    expect(r.status).toBe(code);
    expect(r.loaded).not.toBeNull();
    expect(heavy(r.loaded!)).toEqual([]);
    expect(r.undici).toBe('false');
  });

  it.each([
    ['--help', ['--help'], 0],
    ['a refused local command', ['restore', '--local'], 2],
    ['a refused backup', ['backup'], 2],
  ])(
    'evaluates none of what the commands run with for %s (pipes, hashing, compression, prompts; commander gets child_process lazily)',
    (_what, args, code) => {
      const r = traced('node', [CLI, ...args]);
      expect(r.status).toBe(code);
      // (net and streams load anyway: stdout and stderr are pipes here.)
      const running = [
        'child_process',
        'dgram',
        'crypto',
        'zlib',
        'readline/promises',
        'fs/promises',
        'os',
        'v8',
        'vm',
      ];
      expect(r.builtins).not.toBeNull();
      expect(r.builtins!.filter((m) => running.includes(m))).toEqual([]);
    },
  );

  it('is built without zod and pg inside (they stay in node_modules)', () => {
    const text = readFileSync(CLI, 'utf8');
    // Both are loaded from node_modules: zod/mini by require (core's schemas), pg by a dynamic
    // import when a check connects.
    expect(text).toMatch(/require\("zod(\/mini)?"\)/);
    expect(text).toMatch(/require\("pg"\)|import\("pg"\)/);
    // zod's own error text and pg's protocol parser would be in a bundle that held them.
    expect(text).not.toContain('Invalid discriminator value');
    expect(text).not.toContain('pg-protocol');
  });
});

describe('scripts/*.sh and source maps', () => {
  it('start node with the flags of the built file (--expose-gc --max-opt=1) and without --enable-source-maps by default', () => {
    const r = traced(join(ROOT, 'scripts/validate-backup.sh'), ['--help']);
    expect(r.status).toBe(0);
    expect(r.flags).toEqual(NODE_FLAGS);
  });

  it('start node with --enable-source-maps at LOG_LEVEL=DEBUG, so a stack trace names the .ts files', () => {
    const r = traced(join(ROOT, 'scripts/validate-backup.sh'), ['--help'], { LOG_LEVEL: 'DEBUG' });
    expect(r.status).toBe(0);
    expect(r.flags).toEqual([...NODE_FLAGS, '--enable-source-maps']);
  });
});

describe("the built file run as package.json's bin", () => {
  it('is the bin, and its #! line starts node with --expose-gc --max-opt=1, flags given at start', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin['kb-dr']).toBe('dist/kb-dr.js');

    // Run the file itself, as npm's link to it runs it.
    const r = traced(CLI, ['--help']);

    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: kb-dr/);
    expect(r.flags).toEqual(NODE_FLAGS);
    expect(readFileSync(CLI, 'utf8').split('\n')[0]).toBe(`#!/usr/bin/env -S node ${NODE_FLAGS.join(' ')}`);
  });
});
