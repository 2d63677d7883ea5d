import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  formatResults,
  main,
  preflight,
  runChecks,
  verdict,
  type CheckResult,
  type DoctorContext,
} from '../../harness/doctor';
import { fakeMachine, fakePostgres, fakeTool, type FakeMachine } from '../support/fake-tools';

const execFileAsync = promisify(execFile);
const ROOT = resolve(__dirname, '../..');

let m: FakeMachine;
beforeEach(() => {
  m = fakeMachine();
});
afterEach(() => m.remove());

/** A doctor context on the fake machine; the project folder is the real one unless given. */
function ctx(env: Record<string, string> = {}, over: Partial<DoctorContext> = {}): DoctorContext {
  return { se: m.se(env), root: ROOT, nodeVersion: 'v20.11.1', uid: 1000, ...over };
}

const byId = (results: readonly CheckResult[]) => Object.fromEntries(results.map((r) => [r.id, r]));

/** A Python tool whose interpreter reports `version` for the package metadata query. */
function fakePythonTool(name: string, version: string, dir = m.bin): void {
  const python = fakeTool(join(m.base, `${name}-venv/bin/python3`), `echo "${version}"`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, name), `#!${python}\n`, { mode: 0o755 });
}

/** Server and client 16.2 in one folder whose initdb and pg_ctl succeed. */
function workingPostgres(dir = m.bin): void {
  fakePostgres(dir, '16.2', ['server', 'client']);
}

describe('npm run doctor on a machine without the prerequisites', () => {
  it('prints one FAIL line with the fix for each missing tool and exits 1', () => {
    // Prepare
    let out = '';
    // Act
    const code = main(ctx(), (t) => (out += t));
    // Assess
    expect(code).toBe(1);
    const lines = out.split('\n');
    const line = (label: string) => lines.find((l) => l.slice(6).startsWith(label)) ?? `no ${label} line`;
    expect(line('PostgreSQL server')).toMatch(
      /^FAIL {2}PostgreSQL server +PostgreSQL server programs \(initdb, pg_ctl, postgres\) 15 or newer not found; .*; fix: install PostgreSQL 15 or newer, server and client \(Debian\/Ubuntu: sudo apt-get install postgresql-15 postgresql-client-15;/,
    );
    expect(line('PostgreSQL client')).toMatch(/^FAIL .*fix: .*sudo apt-get install postgresql-client-15/);
    expect(line('PostgreSQL cluster')).toMatch(/^FAIL .*not tried: the server programs are missing/);
    expect(line('moto_server')).toMatch(
      /^FAIL .*fix: pip install 'moto\[server\]>=5\.0\.0' or pipx install 'moto\[server\]'/,
    );
    expect(line('cfn-lint')).toMatch(/^FAIL .*fix: pip install 'cfn-lint>=1\.0\.0' or pipx install cfn-lint/);
    expect(line('strace')).toMatch(/^WARN .*fix: install strace/);
    expect(line('AWS (optional)')).toMatch(/^WARN .*only --rds commands and deploys need them/);
    expect(line('Node.js')).toMatch(/^PASS {2}Node\.js +v20\.11\.1 \(20\.6 or newer needed\)$/);
    expect(out).toContain(
      'doctor: 2 PASS, 3 WARN, 5 FAIL; missing for the drill or the tests: PostgreSQL server, PostgreSQL client, PostgreSQL cluster, moto_server, cfn-lint.',
    );
    expect(out).not.toMatch(/null|undefined/);
  });

  it.each(['v18.19.0', 'v20.5.1', 'v20.0.0'])('fails Node.js %s with how to get a newer one', (v) => {
    const r = byId(runChecks(ctx({}, { nodeVersion: v }), 'drill'));
    expect(r.node).toMatchObject({
      status: 'FAIL',
      found: `${v} is older than 20.6`,
      fix: 'install Node.js 20.6 or newer (https://nodejs.org/, or nvm install 22)',
    });
  });

  it.each(['garbage', '', 'v', 'v20'])('fails Node.js version %j as unreadable, with how to get one', (v) => {
    const r = byId(runChecks(ctx({}, { nodeVersion: v }), 'drill'));
    expect(r.node).toMatchObject({
      status: 'FAIL',
      found: `could not read a version from ${JSON.stringify(v)} (20.6 or newer needed)`,
      fix: 'install Node.js 20.6 or newer (https://nodejs.org/, or nvm install 22)',
    });
  });

  it.each(['v20.6.0', 'v20.20.2', 'v22.1.0', 'v100.0.0'])('passes Node.js %s', (v) => {
    expect(byId(runChecks(ctx({}, { nodeVersion: v }), 'drill')).node).toMatchObject({ status: 'PASS' });
  });
});

describe('each check', () => {
  it('passes PostgreSQL found anywhere in the order, saying where and how it was found', () => {
    fakePostgres(join(m.root, 'usr/lib/postgresql/16/bin'), '16.2', ['server', 'client']);
    const r = byId(runChecks(ctx(), 'drill'));
    expect(r['postgres-server']).toMatchObject({
      status: 'PASS',
      found: `initdb, pg_ctl, postgres: PostgreSQL 16.2 in ${join(m.root, 'usr/lib/postgresql/16/bin')} (found by Debian/Ubuntu packages)`,
    });
    expect(r['postgres-client']?.found).toMatch(
      /^pg_dump, psql: PostgreSQL 16\.2 in .*; not on the PATH, so the drill and tests hand KB_PG_BIN_DIR to the CLI$/,
    );
    expect(r['postgres-cluster']).toMatchObject({
      status: 'PASS',
      found: 'a throwaway cluster started and stopped as the current user (PostgreSQL 16.2)',
    });
  });

  it('fails a client older than the server: pg_dump refuses newer servers', () => {
    fakePostgres(m.bin, '15.3', ['client']);
    fakePostgres(join(m.root, 'usr/lib/postgresql/16/bin'), '16.1', ['server']);
    const r = byId(runChecks(ctx(), 'drill'));
    expect(r['postgres-client']).toMatchObject({ status: 'FAIL' });
    expect(r['postgres-client']?.found).toMatch(
      /PostgreSQL 15\.3 .* is older than the server programs \(16\.1\)/,
    );
  });

  it('reports an initdb killed by a signal with the command, never null', () => {
    workingPostgres();
    fakeTool(
      join(m.bin, 'initdb'),
      '[ "$1" = --version ] && echo "initdb (PostgreSQL) 16.2" && exit 0; kill -9 $$',
    );
    const r = byId(runChecks(ctx(), 'drill'));
    expect(r['postgres-cluster']?.status).toBe('FAIL');
    expect(r['postgres-cluster']?.found).toMatch(
      new RegExp(
        `^initdb as the current user failed: \`${join(m.bin, 'initdb')} -D .* was killed by signal SIGKILL: \\(no output\\)$`,
      ),
    );
    expect(r['postgres-cluster']?.found).not.toMatch(/null/);
  });

  it('reports a server that does not start with its log', () => {
    workingPostgres();
    fakeTool(
      join(m.bin, 'pg_ctl'),
      'for a; do case "$prev" in -l) echo "FATAL:  could not create shared memory segment" > "$a";; esac; prev=$a; done; echo "pg_ctl: could not start server" >&2; exit 1',
    );
    const r = byId(runChecks(ctx(), 'drill'));
    expect(r['postgres-cluster']?.found).toMatch(
      /^pg_ctl start as the current user failed: `.*pg_ctl -D .* start` exited with code 1: pg_ctl: could not start server; server log: FATAL: {2}could not create shared memory segment$/,
    );
  });

  it('as root, fails with how to create the postgres user when there is none', () => {
    workingPostgres();
    fakeTool(join(m.bin, 'id'), 'echo "id: ‘postgres’: no such user" >&2; exit 1');
    const r = byId(runChecks(ctx({}, { uid: 0 }), 'drill'));
    expect(r['postgres-cluster']).toMatchObject({
      status: 'FAIL',
      found: 'running as root, and there is no "postgres" user to run the server as (initdb refuses root)',
    });
    expect(r['postgres-cluster']?.fix).toContain('useradd --system');
  });

  it('as root without `id` on the PATH, says it could not look the user up (not that it is missing)', () => {
    workingPostgres();
    const r = byId(runChecks(ctx({}, { uid: 0 }), 'drill'));
    expect(r['postgres-cluster']?.found).toBe(
      'running as root, could not look up the "postgres" user to run the server as: could not start `id -u postgres`: no such file (ENOENT); the program is not installed or not where it was looked for',
    );
  });

  it('checks moto’s version: 5 or newer passes, older fails, unreadable warns', () => {
    fakePythonTool('moto_server', '5.0.1');
    expect(byId(runChecks(ctx(), 'drill')).moto).toMatchObject({ status: 'PASS' });
    fakePythonTool('moto_server', '4.2.14');
    expect(byId(runChecks(ctx(), 'drill')).moto).toMatchObject({
      status: 'FAIL',
      found: `moto 4.2.14 at ${join(m.bin, 'moto_server')} (PATH) is older than 5.0.0`,
    });
    fakeTool(join(m.bin, 'moto_server'), 'exit 0'); // #!/bin/sh: no Python to ask
    expect(byId(runChecks(ctx(), 'drill')).moto).toMatchObject({ status: 'WARN' });
  });

  it('fails cfn-lint off the PATH (the synth check runs it by name) or older than 1.0', () => {
    fakePythonTool('cfn-lint', '1.51.0', join(m.home, '.local/bin'));
    expect(byId(runChecks(ctx()))['cfn-lint']).toMatchObject({
      status: 'FAIL',
      found: `${join(m.home, '.local/bin/cfn-lint')} is not on the PATH`,
      fix: `${join(m.home, '.local/bin/cfn-lint')} is not on the PATH; add ${join(m.home, '.local/bin')} to PATH to run it by name`,
    });
    fakePythonTool('cfn-lint', '0.87.1');
    expect(byId(runChecks(ctx()))['cfn-lint']).toMatchObject({
      status: 'FAIL',
      found: 'cfn-lint 0.87.1 is older than 1.0.0',
    });
  });

  it('warns, never fails, about strace: on the PATH passes, missing or on macOS warns', () => {
    expect(byId(runChecks(ctx())).strace?.status).toBe('WARN');
    fakeTool(join(m.bin, 'strace'), 'exit 0');
    expect(byId(runChecks(ctx())).strace?.status).toBe('PASS');
    const mac = byId(runChecks({ ...ctx(), se: m.se({}, 'darwin') })).strace;
    expect(mac).toMatchObject({ status: 'WARN', found: 'not available on darwin' });
  });

  it('fails a cdk.json that lets the CDK CLI reach the network, and a project without npm ci', () => {
    // Prepare
    const project = join(m.base, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'cdk.json'), JSON.stringify({ app: 'x', notices: true, context: {} }));
    // Act
    const r = byId(runChecks(ctx({}, { root: project })));
    // Assess
    expect(r['cdk-network']).toMatchObject({
      status: 'FAIL',
      fix: 'set "notices": false, "versionReporting": false, "context": {"cli-telemetry": false} in cdk.json',
    });
    expect(r['cdk-cli']).toMatchObject({ status: 'FAIL', fix: 'run npm ci in the project folder' });
  });

  it('passes this project’s CDK CLI and network settings; warns until CDK_DISABLE_VERSION_CHECK is set', () => {
    const r = byId(runChecks(ctx()));
    expect(r['cdk-cli']?.found).toMatch(/^aws-cdk 2\.\d+\.\d+ with aws-cdk-lib 2\.\d+\.\d+/);
    expect(r['cdk-network']).toMatchObject({ status: 'WARN', fix: 'export CDK_DISABLE_VERSION_CHECK=1' });
    expect(byId(runChecks(ctx({ CDK_DISABLE_VERSION_CHECK: '1' })))['cdk-network']?.status).toBe('PASS');
  });

  it('reads AWS credentials and region from variables or the profile files, calling nothing', () => {
    expect(byId(runChecks(ctx())).aws?.status).toBe('WARN');
    const fromEnv = byId(
      runChecks(
        ctx({ AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'eu-west-1' }),
      ),
    ).aws;
    expect(fromEnv?.found).toBe(
      'for --rds commands and deploys: credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, region eu-west-1 (from AWS_REGION); not verified: the doctor calls no AWS API',
    );
    mkdirSync(join(m.home, '.aws'));
    writeFileSync(
      join(m.home, '.aws/config'),
      '[default]\nregion = us-east-1\n\n[profile ops]\nsso_session = corp\nregion = eu-central-1\n',
    );
    const sso = byId(runChecks(ctx({ AWS_PROFILE: 'ops' }))).aws;
    expect(sso).toMatchObject({ status: 'PASS' });
    expect(sso?.found).toContain(
      'credentials from profile ops (IAM Identity Center; run aws sso login if expired), region eu-central-1',
    );
    expect(byId(runChecks(ctx())).aws).toMatchObject({
      status: 'WARN',
      found:
        'no AWS credentials found for profile default: only --rds commands and deploys need them, the drill and tests never do',
    });
  });
});

describe('verdict', () => {
  const result = (status: CheckResult['status'], neededBy: CheckResult['neededBy']): CheckResult => ({
    id: 'x',
    label: 'x',
    status,
    neededBy,
    found: 'f',
  });

  it('exits 1 only for a FAIL of something the drill or the tests need', () => {
    expect(verdict([result('WARN', ['optional']), result('PASS', ['drill'])]).exitCode).toBe(0);
    expect(verdict([result('FAIL', ['deploy'])]).exitCode).toBe(0);
    expect(verdict([result('FAIL', ['tests', 'deploy'])]).exitCode).toBe(1);
  });

  it('prints PASS lines without a fix and aligns the columns', () => {
    expect(
      formatResults([
        { ...result('PASS', ['drill']), label: 'Node.js' },
        { ...result('FAIL', ['drill']), fix: 'do y' },
      ]),
    ).toBe('PASS  Node.js  f\nFAIL  x        f; fix: do y');
  });
});

describe('the drill’s preflight', () => {
  it('checks only what the drill needs and explains why it stops', () => {
    const result = preflight(ctx());
    expect(result.ok).toBe(false);
    expect(
      result.text
        .split('\n')
        .filter((l) => /^(PASS|WARN|FAIL) /.test(l))
        .map((l) => l.split(/ {2,}/)[1]),
    ).toEqual(['Node.js', 'PostgreSQL server', 'PostgreSQL client', 'PostgreSQL cluster', 'moto_server']);
    expect(result.text).toContain(
      'drill stopped before step 1: PostgreSQL server, PostgreSQL client, PostgreSQL cluster, moto_server are missing or unusable.',
    );
  });
});

describe('npm run doctor on this machine', () => {
  it('passes everything the drill and the tests need (exit 0)', async () => {
    // Act: the package.json entry, as a person runs it
    const { stdout } = await execFileAsync(
      process.execPath,
      [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), 'harness/doctor.ts'],
      {
        cwd: ROOT,
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: '1' },
      },
    );
    // Assess (a non-zero exit rejects with the output)
    expect(stdout).toMatch(
      /^doctor: \d+ PASS, \d+ WARN, 0 FAIL; everything the drill and the tests need is here\.$/m,
    );
    for (const label of [
      'Node.js',
      'PostgreSQL server',
      'PostgreSQL client',
      'PostgreSQL cluster',
      'moto_server',
      'cfn-lint',
    ])
      expect(stdout).toMatch(new RegExp(`^PASS {2}${label} `, 'm'));
  });
});
