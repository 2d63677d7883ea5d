/**
 * The built CLI (dist/kb-dr.js, made by `npm ci` through `prepare`) runs on node alone and loads
 * the AWS SDK only for --rds commands; its stack traces name the .ts sources.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/kb-dr.js');
let dir: string;
let trace: string;

beforeAll(() => {
  if (!existsSync(CLI)) {
    expect(spawnSync('node', [join(ROOT, 'scripts/build-cli.mjs')]).status).toBe(0);
  }
  dir = mkdtempSync(join(tmpdir(), 'kb-dr-build-'));
  trace = join(dir, 'trace.js');
  // Prints which modules were loaded when the process exits.
  writeFileSync(
    trace,
    "process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));",
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync('node', ['--enable-source-maps', '-r', trace, CLI, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env, AWS_REGION: 'us-east-1' },
  });
  const loaded = JSON.parse(/LOADED (.*)/.exec(r.stderr)?.[1] ?? '[]') as string[];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, loaded };
}

const sdk = (loaded: string[]) => loaded.filter((m) => /@aws-sdk|@smithy|@aws-lambda-powertools/.test(m));

describe('dist/kb-dr.js', () => {
  it('prints --help on node alone, loading no AWS SDK module', () => {
    const r = run(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Usage: kb-dr/);
    expect(sdk(r.loaded)).toEqual([]);
    expect(r.loaded).toHaveLength(2); // the trace and the CLI itself: everything else is bundled
  });

  it('refuses a local command (exit 2) without loading the AWS SDK', () => {
    const r = run(['restore', '--local']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/pass either --backup-file=FILE or --rollback/);
    expect(sdk(r.loaded)).toEqual([]);
  });

  it('loads the SDK for an --rds command', () => {
    const r = run(['validate', '--rds', '--snapshot-id=latest'], {
      AWS_ACCESS_KEY_ID: '',
      AWS_SECRET_ACCESS_KEY: '',
      AWS_PROFILE: 'kb-dr-test-no-such-profile',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
    });
    expect(sdk(r.loaded).length).toBeGreaterThan(0);
  });

  it('names the .ts sources in a stack trace (source map)', () => {
    // main() with no context fails inside the bundle; the trace must point at bin/kb-dr.ts.
    const r = spawnSync(
      'node',
      [
        '--enable-source-maps',
        '-e',
        `require(${JSON.stringify(CLI)}).main(['--help'], undefined).catch((e) => console.log(e.stack));`,
      ],
      { encoding: 'utf8' },
    );
    expect(r.stdout).toMatch(/bin\/kb-dr\.ts:\d+/);
  });
});
