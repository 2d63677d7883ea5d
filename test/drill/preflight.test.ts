/**
 * The drill on a machine without moto_server and PostgreSQL: it must stop before step 1 with the
 * install lines, not fail step by step (issue 17 saw `initdb failed (null): nullnull`).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isExecutable, requirePostgres } from '../../harness/toolchain';
import { fakeMachine, type FakeMachine } from '../support/fake-tools';

const ROOT = resolve(__dirname, '../..');

let m: FakeMachine;
beforeEach(() => {
  m = fakeMachine();
});
afterEach(() => m.remove());

function runDrill(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    // node + tsx's CLI by absolute path: the drill's PATH holds nothing at all.
    execFile(
      process.execPath,
      [
        join(ROOT, 'node_modules/tsx/dist/cli.mjs'),
        'drill/index.ts',
        '--entries',
        '10',
        '--out',
        join(m.base, 'out'),
      ],
      { cwd: ROOT, env },
      (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
    );
  });
}

describe('the drill without its prerequisites', () => {
  it('stops before step 1 with the install lines for moto and PostgreSQL, writing nothing', async () => {
    // Prepare: an empty PATH, KB_PG_BIN_DIR pointing at an empty folder, no system folders
    const emptyPgBin = join(m.base, 'pg-bin');
    mkdirSync(emptyPgBin);
    // Act
    const { code, stdout, stderr } = await runDrill({
      PATH: m.bin,
      HOME: m.home,
      KB_TOOLCHAIN_ROOT: m.root,
      KB_PG_BIN_DIR: emptyPgBin,
    });
    // Assess
    expect(code).toBe(1);
    expect(stdout).toContain(
      `FAIL  PostgreSQL server   KB_PG_BIN_DIR=${emptyPgBin} has no initdb, pg_ctl, postgres; fix: point KB_PG_BIN_DIR at the bin folder`,
    );
    expect(stdout).toContain('sudo apt-get install postgresql-15 postgresql-client-15');
    expect(stdout).toMatch(
      /^FAIL {2}moto_server .*fix: pip install 'moto\[server\]>=5\.0\.0' or pipx install 'moto\[server\]'/m,
    );
    expect(stdout).toContain(
      'drill stopped before step 1: PostgreSQL server, PostgreSQL client, PostgreSQL cluster, moto_server are missing or unusable.',
    );
    expect(stdout).not.toMatch(/\[1\/\d+\]/); // no step started
    expect(`${stdout}${stderr}`).not.toMatch(/null|ENOENT/);
    expect(existsSync(join(m.base, 'out'))).toBe(false);
  });

  it('with only moto hidden, still stops before step 1 and names just moto_server', async () => {
    // Prepare: this machine's PostgreSQL folders on the PATH, and id/runuser (root runs the
    // cluster as postgres) linked into the fake PATH folder; moto_server is nowhere
    const server = requirePostgres('server');
    const client = requirePostgres('client');
    for (const tool of ['id', 'runuser']) {
      const real = (process.env.PATH ?? '')
        .split(':')
        .map((d) => join(d, tool))
        .find(isExecutable);
      if (real) symlinkSync(real, join(m.bin, tool));
    }
    // Act
    const { code, stdout } = await runDrill({
      PATH: [m.bin, server.dir, client.dir].join(':'),
      HOME: m.home,
      KB_TOOLCHAIN_ROOT: m.root,
    });
    // Assess
    expect(code).toBe(1);
    expect(stdout).toMatch(/^PASS {2}PostgreSQL cluster /m);
    expect(stdout).toContain('drill stopped before step 1: moto_server is missing or unusable.');
    expect(stdout).not.toMatch(/\[1\/\d+\]/);
  });
});
