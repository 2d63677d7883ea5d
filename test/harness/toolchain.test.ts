import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installHint, type PlatformKind, type Prerequisite } from '../../harness/install-hints';
import {
  cfnLintVersion,
  findPostgres,
  findPythonTool,
  motoVersion,
  pgClientBinary,
  pgClientEnv,
  platformKind,
  requirePostgres,
  requirePythonTool,
  scriptInterpreter,
  type FoundTool,
  type Lookup,
  type PgInstallation,
} from '../../harness/toolchain';
import { fakeMachine, fakePostgres, fakeTool, type FakeMachine } from '../support/fake-tools';

let m: FakeMachine;
beforeEach(() => {
  m = fakeMachine();
});
afterEach(() => m.remove());

function found<T>(lookup: Lookup<T>): T {
  if (!lookup.ok) throw new Error(`expected a match, got: ${lookup.problem}`);
  return lookup.value;
}

function missing<T>(lookup: Lookup<T>): { problem: string; fix: string } {
  if (lookup.ok) throw new Error(`expected nothing to be found, got ${JSON.stringify(lookup.value)}`);
  return lookup;
}

const where = (i: PgInstallation) => ({ dir: i.dir, source: i.source, version: i.version, major: i.major });

describe('PostgreSQL lookup order', () => {
  const debian = (major: string) => join(m.root, 'usr/lib/postgresql', major, 'bin');

  it('uses KB_PG_BIN_DIR before pg_config, the PATH and the system folders, and says so', () => {
    // Prepare
    const configured = fakePostgres(join(m.base, 'configured'), '16.1', ['server', 'client']);
    fakePostgres(m.bin, '17.0', ['server', 'client']);
    fakePostgres(debian('17'), '17.0', ['server', 'client']);
    // Act
    const server = found(findPostgres('server', m.se({ KB_PG_BIN_DIR: `${configured}/` })));
    // Assess
    expect(where(server)).toEqual({ dir: configured, source: 'KB_PG_BIN_DIR', version: '16.1', major: 16 });
  });

  it('honours KB_TEST_PG_BIN as an alias; KB_PG_BIN_DIR wins when both are set', () => {
    const a = fakePostgres(join(m.base, 'a'), '15.4', ['server']);
    const b = fakePostgres(join(m.base, 'b'), '16.2', ['server']);
    expect(found(findPostgres('server', m.se({ KB_TEST_PG_BIN: a }))).source).toBe('KB_TEST_PG_BIN');
    expect(found(findPostgres('server', m.se({ KB_TEST_PG_BIN: a, KB_PG_BIN_DIR: b }))).dir).toBe(b);
  });

  it('fails on a configured folder without the programs instead of silently using another one', () => {
    // Prepare: a usable installation on the PATH that must NOT be picked
    fakePostgres(m.bin, '17.0', ['server', 'client']);
    const empty = join(m.base, 'empty');
    mkdirSync(empty);
    mkdirSync(join(m.root, 'etc'));
    writeFileSync(join(m.root, 'etc/debian_version'), '12.8\n');
    // Act
    const result = missing(findPostgres('server', m.se({ KB_PG_BIN_DIR: empty })));
    // Assess
    expect(result.problem).toBe(`KB_PG_BIN_DIR=${empty} has no initdb, pg_ctl, postgres`);
    expect(result.fix).toMatch(
      /^point KB_PG_BIN_DIR at the bin folder of PostgreSQL 15 or newer, or unset it/,
    );
    expect(result.fix).toContain(
      'sudo apt-get install postgresql-15 postgresql-client-15 (PostgreSQL 15 or newer)',
    );
  });

  it('takes pg_config --bindir before the PATH', () => {
    // Prepare: pg_config on the PATH names another folder; the PATH folder itself also has PostgreSQL
    const bindir = fakePostgres(join(m.base, 'pg16/bin'), '16.3', ['server', 'client']);
    fakeTool(join(m.bin, 'pg_config'), `[ "$1" = --bindir ] && echo ${bindir}`);
    fakePostgres(m.bin, '17.0', ['server', 'client']);
    // Act
    const server = found(findPostgres('server', m.se()));
    // Assess
    expect(where(server)).toEqual({
      dir: bindir,
      source: `pg_config --bindir (${join(m.bin, 'pg_config')})`,
      version: '16.3',
      major: 16,
    });
  });

  it('notes a pg_config that fails and goes on to the PATH', () => {
    fakeTool(join(m.bin, 'pg_config'), 'kill -9 $$');
    fakePostgres(m.bin, '15.2', ['server']);
    const result = findPostgres('server', m.se());
    expect(result.ok && where(result.value)).toEqual({
      dir: m.bin,
      source: 'PATH',
      version: '15.2',
      major: 15,
    });
    expect(result.ok && result.notes).toEqual([
      `pg_config --bindir: \`${join(m.bin, 'pg_config')} --bindir\` was killed by signal SIGKILL: (no output)`,
    ]);
  });

  it('takes the PATH before Debian, Homebrew and Postgres.app', () => {
    fakePostgres(m.bin, '15.9', ['server']);
    fakePostgres(debian('17'), '17.1', ['server']);
    fakePostgres(join(m.root, 'opt/homebrew/opt/postgresql@17/bin'), '17.1', ['server']);
    expect(found(findPostgres('server', m.se())).source).toBe('PATH');
  });

  it("searches Debian's /usr/lib/postgresql/<major>/bin newest major first", () => {
    for (const major of ['15', '9.6', '17', '16']) fakePostgres(debian(major), `${major}.1`, ['server']);
    expect(where(found(findPostgres('server', m.se())))).toEqual({
      dir: debian('17'),
      source: 'Debian/Ubuntu packages',
      version: '17.1',
      major: 17,
    });
  });

  it('takes Debian before Homebrew, /opt/homebrew before /usr/local, newest postgresql@N first', () => {
    const brew = (prefix: string, formula: string) => join(m.root, prefix, formula, 'bin');
    fakePostgres(brew('usr/local/opt', 'postgresql@18'), '18.0', ['server']);
    fakePostgres(brew('opt/homebrew/opt', 'postgresql@15'), '15.8', ['server']);
    fakePostgres(brew('opt/homebrew/opt', 'postgresql@16'), '16.4', ['server']);
    fakePostgres(brew('opt/homebrew/opt', 'postgresql'), '14.0', ['server']);
    expect(where(found(findPostgres('server', m.se({}, 'darwin'))))).toEqual({
      dir: brew('opt/homebrew/opt', 'postgresql@16'),
      source: 'Homebrew',
      version: '16.4',
      major: 16,
    });
    fakePostgres(debian('15'), '15.1', ['server']);
    expect(found(findPostgres('server', m.se({}, 'darwin'))).dir).toBe(debian('15'));
  });

  it('finds Postgres.app last, its `latest` folder first', () => {
    const app = join(m.root, 'Applications/Postgres.app/Contents/Versions');
    fakePostgres(join(app, '16/bin'), '16.2', ['server', 'client']);
    fakePostgres(join(app, 'latest/bin'), '17.2', ['server', 'client']);
    expect(where(found(findPostgres('client', m.se({}, 'darwin'))))).toEqual({
      dir: join(app, 'latest/bin'),
      source: 'Postgres.app',
      version: '17.2',
      major: 17,
    });
  });

  it('skips a folder older than 15 for a newer one later in the order, and says so', () => {
    fakePostgres(m.bin, '14.11', ['server']);
    fakePostgres(debian('16'), '16.0', ['server']);
    const result = findPostgres('server', m.se());
    expect(result.ok && result.value.dir).toBe(debian('16'));
    expect(result.ok && result.notes).toEqual([
      `skipped ${m.bin} (PATH): holds PostgreSQL 14.11, older than 15`,
    ]);
  });

  it('names the too-old and broken installations when nothing usable exists', () => {
    // Prepare
    fakePostgres(m.bin, '13.4', ['server']);
    const broken = fakePostgres(debian('16'), '16.0', ['server']);
    fakeTool(join(broken, 'postgres'), 'kill -9 $$');
    // Act
    const result = missing(findPostgres('server', m.se()));
    // Assess
    expect(result.problem).toBe(
      'PostgreSQL server programs (initdb, pg_ctl, postgres) 15 or newer not found; searched KB_PG_BIN_DIR (or KB_TEST_PG_BIN), pg_config --bindir, PATH, /usr/lib/postgresql/<major>/bin, /opt/homebrew/opt/postgresql@<major>/bin, /usr/local/opt/postgresql@<major>/bin, /Applications/Postgres.app/Contents/Versions/*/bin' +
        `; unusable: ${m.bin} (PATH): holds PostgreSQL 13.4, older than 15; ${broken} (Debian/Ubuntu packages): \`${join(broken, 'postgres')} --version\` was killed by signal SIGKILL: (no output)`,
    );
    expect(result.problem).not.toMatch(/null/);
  });

  it('needs every program of the set in one folder', () => {
    fakeTool(join(m.bin, 'initdb'), 'echo "initdb (PostgreSQL) 16.1"');
    fakeTool(join(m.bin, 'pg_ctl'), 'echo "pg_ctl (PostgreSQL) 16.1"');
    fakeTool(join(m.bin, 'postgres'), 'echo "postgres (PostgreSQL) 16.1"', 0o644); // not executable
    expect(findPostgres('server', m.se()).ok).toBe(false);
  });

  it('looks up the client programs on their own: clients on the PATH, server in Debian’s folder', () => {
    fakePostgres(m.bin, '17.2', ['client']);
    fakePostgres(debian('15'), '15.18', ['server']);
    expect(found(findPostgres('client', m.se())).dir).toBe(m.bin);
    expect(found(findPostgres('server', m.se())).dir).toBe(debian('15'));
  });

  it('throws a PrerequisiteError whose message ends with the fix', () => {
    expect(() => requirePostgres('client', m.se({}, 'darwin'))).toThrow(
      /^PostgreSQL client programs \(pg_dump, psql\) 15 or newer not found; .*; to fix: brew install postgresql@15 /,
    );
  });

  it('gives the CLI the path of pg_dump/psql in the same order, or an error with the install line', () => {
    // Prepare: Homebrew's keg-only folder, not linked onto the PATH
    const keg = fakePostgres(join(m.root, 'opt/homebrew/opt/postgresql@16/bin'), '16.4', ['client']);
    // Act / Assess
    expect(pgClientBinary('pg_dump', m.se().env)).toBe(join(keg, 'pg_dump'));
    expect(pgClientBinary('psql', m.se({ KB_PG_BIN_DIR: keg }).env)).toBe(join(keg, 'psql'));
    expect(() => pgClientBinary('psql', m.se({ KB_PG_BIN_DIR: m.bin }).env)).toThrow(
      new RegExp(
        `^KB_PG_BIN_DIR=${m.bin} has no pg_dump, psql; to fix: point KB_PG_BIN_DIR at the bin folder`,
      ),
    );
  });

  it('hands KB_PG_BIN_DIR to the CLI only when pg_dump and psql are not on the PATH', () => {
    fakePostgres(debian('16'), '16.1', ['client']);
    expect(pgClientEnv(m.se())).toEqual({ KB_PG_BIN_DIR: debian('16') });
    fakePostgres(m.bin, '16.1', ['client']);
    expect(pgClientEnv(m.se())).toEqual({});
  });
});

describe('moto_server and cfn-lint lookup', () => {
  it('takes the PATH first', () => {
    fakeTool(join(m.bin, 'moto_server'), 'exit 0');
    fakeTool(join(m.home, '.local/bin/moto_server'), 'exit 0');
    expect(found(findPythonTool('moto_server', m.se()))).toEqual({
      name: 'moto_server',
      path: join(m.bin, 'moto_server'),
      source: 'PATH',
      onPath: true,
    });
  });

  it("finds pip's and pipx's ~/.local/bin off the PATH and says to add it", () => {
    fakeTool(join(m.home, '.local/bin/moto_server'), 'exit 0');
    const result = findPythonTool('moto_server', m.se());
    expect(result.ok && result.value.path).toBe(join(m.home, '.local/bin/moto_server'));
    expect(result.ok && result.value.onPath).toBe(false);
    expect(result.ok && result.notes).toEqual([
      `${join(m.home, '.local/bin/moto_server')} is not on the PATH; add ${join(m.home, '.local/bin')} to PATH to run it by name`,
    ]);
  });

  it('finds PIPX_BIN_DIR, then ~/Library/Python/<version>/bin newest first, then Homebrew', () => {
    fakeTool(join(m.root, 'opt/homebrew/bin/cfn-lint'), 'exit 0');
    expect(found(findPythonTool('cfn-lint', m.se())).source).toBe('Homebrew');
    fakeTool(join(m.home, 'Library/Python/3.9/bin/cfn-lint'), 'exit 0');
    fakeTool(join(m.home, 'Library/Python/3.12/bin/cfn-lint'), 'exit 0');
    expect(found(findPythonTool('cfn-lint', m.se())).path).toBe(
      join(m.home, 'Library/Python/3.12/bin/cfn-lint'),
    );
    const pipx = join(m.base, 'pipx-bin');
    fakeTool(join(pipx, 'cfn-lint'), 'exit 0');
    expect(found(findPythonTool('cfn-lint', m.se({ PIPX_BIN_DIR: pipx }))).source).toBe('PIPX_BIN_DIR');
  });

  it('says where it looked and how to install when missing', () => {
    const moto = missing(findPythonTool('moto_server', m.se()));
    expect(moto.problem).toMatch(/^moto_server not found on the PATH nor in ~\/\.local\/bin, /);
    expect(moto.fix).toBe(
      "pip install 'moto[server]>=5.0.0' or pipx install 'moto[server]' (moto 5.0.0 or newer; pip --user and pipx put moto_server in ~/.local/bin, which is searched too)",
    );
    expect(() => requirePythonTool('cfn-lint', m.se({}, 'darwin'))).toThrow(
      /; to fix: pip install 'cfn-lint>=1\.0\.0' or pipx install cfn-lint or brew install cfn-lint \(cfn-lint 1\.0\.0 or newer\)$/,
    );
  });
});

describe('versions of the Python tools', () => {
  const tool = (name: FoundTool['name'], path: string): FoundTool => ({
    name,
    path,
    source: 'PATH',
    onPath: true,
  });

  it("asks the Python in moto_server's #! line for moto's version", () => {
    const python = fakeTool(join(m.base, 'venv/bin/python3'), 'echo "5.2.1"');
    const moto = join(m.bin, 'moto_server');
    writeFileSync(moto, `#!${python}\nimport sys\n`, { mode: 0o755 });
    expect(motoVersion(tool('moto_server', moto), m.se())).toEqual({ version: '5.2.1' });
  });

  it('resolves a pyenv shim with `pyenv which` to the real script', () => {
    // Prepare: shim -> fake pyenv -> real script whose #! names the Python
    const python = fakeTool(join(m.base, 'pyenv/versions/3.11/bin/python'), 'echo "4.2.14"');
    const real = join(m.base, 'pyenv/versions/3.11/bin/moto_server');
    writeFileSync(real, `#!${python}\n`, { mode: 0o755 });
    const pyenv = fakeTool(join(m.base, 'pyenv/libexec/pyenv'), `[ "$1" = which ] && echo ${real}`);
    const shim = join(m.bin, 'moto_server');
    writeFileSync(
      shim,
      `#!/usr/bin/env bash\nexport PYENV_ROOT="${join(m.base, 'pyenv')}"\nexec "${pyenv}" exec "$program" "$@"\n`,
      { mode: 0o755 },
    );
    // Act / Assess
    expect(scriptInterpreter(shim, m.se())).toBe(python);
    expect(motoVersion(tool('moto_server', shim), m.se())).toEqual({ version: '4.2.14' });
  });

  it('reports a Python that cannot tell the version with the command run', () => {
    const python = fakeTool(join(m.base, 'python3'), 'echo "ModuleNotFoundError: moto" >&2; exit 1');
    const moto = join(m.bin, 'moto_server');
    writeFileSync(moto, `#!${python}\n`, { mode: 0o755 });
    const result = motoVersion(tool('moto_server', moto), m.se());
    expect(result).toEqual({
      problem: `\`${python} -c 'import importlib.metadata as m; print(m.version('\\''moto'\\''))'\` exited with code 1: ModuleNotFoundError: moto`,
    });
  });

  it('reads cfn-lint’s version from its metadata, else from cfn-lint --version', () => {
    const python = fakeTool(join(m.base, 'python3'), 'echo "1.51.0"');
    const viaMetadata = join(m.bin, 'cfn-lint');
    writeFileSync(viaMetadata, `#!${python}\n`, { mode: 0o755 });
    expect(cfnLintVersion(tool('cfn-lint', viaMetadata), m.se())).toEqual({ version: '1.51.0' });
    const standalone = fakeTool(join(m.base, 'brew/cfn-lint'), 'echo "cfn-lint 0.87.1"');
    expect(cfnLintVersion(tool('cfn-lint', standalone), m.se())).toEqual({ version: '0.87.1' });
  });
});

describe('install lines for the platform in use', () => {
  it('tells Debian from other Linux distributions, macOS and the rest', () => {
    expect(platformKind(m.se({}, 'darwin'))).toBe('macos');
    expect(platformKind(m.se({}, 'win32'))).toBe('other');
    expect(platformKind(m.se({}, 'linux'))).toBe('linux');
    fakeTool(join(m.bin, 'apt-get'), 'exit 0');
    expect(platformKind(m.se({}, 'linux'))).toBe('debian');
  });

  const hints: [Prerequisite, PlatformKind, string][] = [
    [
      'postgres-server',
      'debian',
      'sudo apt-get install postgresql-15 postgresql-client-15 (PostgreSQL 15 or newer), or set KB_PG_BIN_DIR to the bin folder of a PostgreSQL 15+ installation',
    ],
    [
      'postgres-client',
      'debian',
      'sudo apt-get install postgresql-client-15 (PostgreSQL 15 or newer), or set KB_PG_BIN_DIR to the bin folder of a PostgreSQL 15+ installation',
    ],
    [
      'postgres-server',
      'macos',
      'brew install postgresql@15 (found in $(brew --prefix)/opt/postgresql@15/bin without linking), or install Postgres.app, or set KB_PG_BIN_DIR to the bin folder of a PostgreSQL 15+ installation',
    ],
    [
      'postgres-server',
      'linux',
      'install PostgreSQL 15 or newer, server and client (Debian/Ubuntu: sudo apt-get install postgresql-15 postgresql-client-15; other distributions: their postgresql-server package), or set KB_PG_BIN_DIR to the bin folder of a PostgreSQL 15+ installation',
    ],
    [
      'postgres-client',
      'other',
      'install PostgreSQL 15 or newer (https://www.postgresql.org/download/), or set KB_PG_BIN_DIR to the bin folder of a PostgreSQL 15+ installation',
    ],
    [
      'moto',
      'debian',
      "pip install 'moto[server]>=5.0.0' or pipx install 'moto[server]' (moto 5.0.0 or newer; pip --user and pipx put moto_server in ~/.local/bin, which is searched too)",
    ],
    ['cfn-lint', 'linux', "pip install 'cfn-lint>=1.0.0' or pipx install cfn-lint (cfn-lint 1.0.0 or newer)"],
    ['strace', 'debian', 'sudo apt-get install strace'],
    [
      'strace',
      'macos',
      'strace is Linux-only; on macOS the synth check runs without its network trace (CI runs it)',
    ],
    ['node', 'linux', 'install Node.js 20.6 or newer (https://nodejs.org/, or nvm install 22)'],
    ['node', 'macos', 'brew install node@22 (Node.js 20.6 or newer), or use nvm: nvm install 22'],
  ];
  it.each(hints)('%s on %s: %s', (what, platform, line) => {
    expect(installHint(what, platform)).toBe(line);
  });
});
