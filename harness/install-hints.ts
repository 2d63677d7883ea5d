/**
 * How to get each prerequisite on the platform in use, with the minimum versions. The one place
 * these sentences live: the doctor, the drill's preflight and the test support all print them.
 */

/** Oldest versions the drill, the tests and a deploy work with. */
export const MINIMUM = {
  /** 20.6: `node --import` (cdk.json starts the app with `node --import tsx`). */
  node: '20.6',
  postgresMajor: 15,
  moto: '5.0.0',
  cfnLint: '1.0.0',
} as const;

/** The platforms we give install commands for. */
export type PlatformKind = 'debian' | 'macos' | 'linux' | 'other';

/** The setting naming the folder of PostgreSQL's programs (shared by the CLI and the harness). */
export const PG_BIN_SETTING = 'KB_PG_BIN_DIR';

export type Prerequisite = 'postgres-server' | 'postgres-client' | 'moto' | 'cfn-lint' | 'strace' | 'node';

const PG = MINIMUM.postgresMajor;

/**
 * The fix for a missing (or too old) prerequisite, as one line for `platform`. For PostgreSQL,
 * `mentionSetting` adds the alternative of pointing KB_PG_BIN_DIR at an installation.
 */
export function installHint(what: Prerequisite, platform: PlatformKind, mentionSetting = true): string {
  switch (what) {
    case 'postgres-server':
    case 'postgres-client': {
      const packages =
        what === 'postgres-server' ? `postgresql-${PG} postgresql-client-${PG}` : `postgresql-client-${PG}`;
      const setting = mentionSetting
        ? `, or set ${PG_BIN_SETTING} to the bin folder of a PostgreSQL ${PG}+ installation`
        : '';
      if (platform === 'debian')
        return `sudo apt-get install ${packages} (PostgreSQL ${PG} or newer)${setting}`;
      if (platform === 'macos')
        return `brew install postgresql@${PG} (found in $(brew --prefix)/opt/postgresql@${PG}/bin without linking), or install Postgres.app${setting}`;
      if (platform === 'linux')
        return `install PostgreSQL ${PG} or newer, server and client (Debian/Ubuntu: sudo apt-get install ${packages}; other distributions: their postgresql${what === 'postgres-server' ? '-server' : ''} package)${setting}`;
      return `install PostgreSQL ${PG} or newer (https://www.postgresql.org/download/)${setting}`;
    }
    case 'moto':
      return `pip install 'moto[server]>=${MINIMUM.moto}' or pipx install 'moto[server]' (moto ${MINIMUM.moto} or newer; pip --user and pipx put moto_server in ~/.local/bin, which is searched too)`;
    case 'cfn-lint':
      return `pip install 'cfn-lint>=${MINIMUM.cfnLint}' or pipx install cfn-lint${platform === 'macos' ? ' or brew install cfn-lint' : ''} (cfn-lint ${MINIMUM.cfnLint} or newer)`;
    case 'strace':
      return platform === 'debian'
        ? 'sudo apt-get install strace'
        : platform === 'macos'
          ? 'strace is Linux-only; on macOS the synth check runs without its network trace (CI runs it)'
          : "install strace with your distribution's package manager";
    case 'node':
      return platform === 'macos'
        ? `brew install node@22 (Node.js ${MINIMUM.node} or newer), or use nvm: nvm install 22`
        : `install Node.js ${MINIMUM.node} or newer (https://nodejs.org/, or nvm install 22)`;
  }
}
