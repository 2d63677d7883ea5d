/**
 * The test support (also the drill's) says what is missing and how to get it, and never shows
 * `null`: issue 17 saw `initdb failed (null): nullnull` and `spawn moto_server ENOENT`.
 */
import { join } from 'node:path';
import { startMoto } from '../../harness/moto';
import { startPostgres } from '../../harness/postgres';
import { fakeMachine, fakePostgres, fakeTool, type FakeMachine } from '../support/fake-tools';

let m: FakeMachine;
const saved = { ...process.env };
beforeEach(() => {
  m = fakeMachine();
});
afterEach(() => {
  for (const key of ['PATH', 'HOME', 'KB_TOOLCHAIN_ROOT', 'KB_PG_BIN_DIR', 'KB_TEST_PG_BIN']) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
  m.remove();
});

/** Hide this machine's tools from the lookups (and from spawn's PATH search). */
function hideTools(extra: Record<string, string> = {}): void {
  delete process.env.KB_TEST_PG_BIN;
  delete process.env.KB_PG_BIN_DIR;
  Object.assign(process.env, { PATH: m.bin, HOME: m.home, KB_TOOLCHAIN_ROOT: m.root, ...extra });
}

describe('startMoto', () => {
  it('without moto_server anywhere, says how to install it instead of spawn ENOENT', async () => {
    hideTools();
    const err = await startMoto().catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /^moto_server not found on the PATH nor in ~\/\.local\/bin, .*; to fix: pip install 'moto\[server\]>=5\.0\.0' or pipx install 'moto\[server\]'/,
    );
    expect((err as Error).message).not.toMatch(/ENOENT|null/);
  });

  it('finds moto_server in ~/.local/bin off the PATH and reports one that dies on a signal', async () => {
    // Prepare: a moto_server that kills itself at once
    hideTools();
    const moto = fakeTool(join(m.home, '.local/bin/moto_server'), 'kill -9 $$');
    // Act
    const err = await startMoto().catch((e: Error) => e);
    // Assess
    expect((err as Error).message).toMatch(
      new RegExp(
        `^\`${moto} -H 127\\.0\\.0\\.1 -p \\d+\` was killed by signal SIGKILL before it was ready\\nmoto_server stderr:\\n\\(no output\\)$`,
      ),
    );
  });
});

describe('startPostgres', () => {
  it('with KB_PG_BIN_DIR naming an empty folder, says so and how to install PostgreSQL', async () => {
    hideTools({ KB_PG_BIN_DIR: m.bin });
    const err = await startPostgres().catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      new RegExp(
        `^KB_PG_BIN_DIR=${m.bin} has no initdb, pg_ctl, postgres; to fix: point KB_PG_BIN_DIR at the bin folder`,
      ),
    );
  });

  it('reports an initdb that dies on a signal with the command run, never null', async () => {
    // Prepare: PostgreSQL 16 stand-ins whose initdb kills itself; id and runuser stay reachable
    const pg = fakePostgres(join(m.base, 'pg/bin'), '16.1', ['server', 'client']);
    fakeTool(
      join(pg, 'initdb'),
      '[ "$1" = --version ] && echo "initdb (PostgreSQL) 16.1" && exit 0; kill -9 $$',
    );
    hideTools({ KB_PG_BIN_DIR: pg, PATH: [m.bin, '/usr/sbin', '/usr/bin', '/sbin', '/bin'].join(':') });
    // Act
    const err = await startPostgres().catch((e: Error) => e);
    // Assess
    const message = (err as Error).message;
    expect(message).toMatch(
      /`(runuser -u postgres -- )?\S+\/pg\/bin\/initdb -D \S+ -U postgres .*` (was killed by signal SIGKILL: \(no output\)|exited with code 137 \(128 \+ 9: the program was killed by SIGKILL\): Killed)$/,
    );
    expect(message).not.toMatch(/null/);
  });
});
