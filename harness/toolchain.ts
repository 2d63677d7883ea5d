/**
 * Finds the programs the drill, the tests and the local CLI run, where their users install them.
 *
 * PostgreSQL (server: initdb, pg_ctl, postgres; client: pg_dump, psql), first match wins:
 *   1. the folder in KB_PG_BIN_DIR (KB_TEST_PG_BIN is an older alias); when set, nothing else is
 *      searched, so a wrong setting is reported instead of silently bypassed;
 *   2. `pg_config --bindir` (pg_config from the PATH);
 *   3. the PATH, folder by folder;
 *   4. Debian/Ubuntu: /usr/lib/postgresql/<major>/bin, newest major first;
 *   5. Homebrew: /opt/homebrew/opt, /usr/local/opt, /home/linuxbrew/.linuxbrew/opt, each
 *      postgresql@<major> newest first, then postgresql;
 *   6. Postgres.app: /Applications/Postgres.app/Contents/Versions/{latest,<major>...}/bin.
 * A folder counts only when it holds every program of the set and they report PostgreSQL 15 or
 * newer; older ones are skipped and named in the message if nothing newer is found.
 *
 * moto_server and cfn-lint: the PATH, then pip's and pipx's user folders (~/.local/bin,
 * $PIPX_BIN_DIR, ~/Library/Python/<version>/bin) and Homebrew's bin folders.
 *
 * KB_TOOLCHAIN_ROOT (tests only) prefixes the fixed system folders of steps 4-6 and /etc, so a test
 * can hide this machine's installations or lay out fake ones.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KbDrError } from '../core/errors';
import { installHint, MINIMUM, PG_BIN_SETTING, type PlatformKind, type Prerequisite } from './install-hints';
import { describeFailure, runTool } from './process';

/** The older name of PG_BIN_SETTING, still honoured. */
export const PG_BIN_ALIAS = 'KB_TEST_PG_BIN';
/** Prefix of the fixed system folders, for tests. */
export const TOOLCHAIN_ROOT_SETTING = 'KB_TOOLCHAIN_ROOT';

export const PG_SERVER_TOOLS = ['initdb', 'pg_ctl', 'postgres'] as const;
export const PG_CLIENT_TOOLS = ['pg_dump', 'psql'] as const;
export type PgServerTool = (typeof PG_SERVER_TOOLS)[number];
export type PgClientTool = (typeof PG_CLIENT_TOOLS)[number];

/** A prerequisite is missing or unusable; the message ends with how to get it (`fix`). */
export class PrerequisiteError extends KbDrError {
  override readonly name = 'PrerequisiteError';
  constructor(
    readonly problem: string,
    readonly fix: string,
  ) {
    // The fix is part of the message so that every printer (jest, the drill, the CLI) shows it.
    super(`${problem}; to fix: ${fix}`);
  }
}

/** Where to look: the environment (PATH, HOME, settings) and the operating system. */
export interface SearchEnv {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly platform: NodeJS.Platform;
}

/** The search environment of this process. */
export function currentSearchEnv(): SearchEnv {
  return { env: process.env, platform: process.platform };
}

const systemRoot = (se: SearchEnv): string => (se.env[TOOLCHAIN_ROOT_SETTING] ?? '').replace(/\/+$/, '');
const homeDir = (se: SearchEnv): string => se.env.HOME || homedir();
const pathDirs = (se: SearchEnv): string[] => (se.env.PATH ?? '').split(delimiter).filter(Boolean);

/** Which install commands fit this machine. */
export function platformKind(se: SearchEnv): PlatformKind {
  if (se.platform === 'darwin') return 'macos';
  if (se.platform !== 'linux') return 'other';
  const apt =
    existsSync(`${systemRoot(se)}/etc/debian_version`) ||
    pathDirs(se).some((d) => isExecutable(join(d, 'apt-get')));
  return apt ? 'debian' : 'linux';
}

/** The fix for `what` on this machine. */
export function hintFor(what: Prerequisite, se: SearchEnv, mentionSetting = true): string {
  return installHint(what, platformKind(se), mentionSetting);
}

export function isExecutable(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Sub-folder names of `dir` (none when it does not exist). */
function entries(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** `1.51.0` vs `1.0.0`: negative, zero or positive. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Newest first, comparing dotted numbers part by part (3.12 after 3.9). */
const byNumberDesc = (a: string, b: string): number => compareVersions(b, a);

/** A folder to try and how to name it in messages. */
interface Candidate {
  readonly source: string;
  readonly dir: string;
}

/** The documented order, for messages and the README. */
export const PG_LOOKUP_ORDER = [
  `${PG_BIN_SETTING} (or ${PG_BIN_ALIAS})`,
  'pg_config --bindir',
  'PATH',
  '/usr/lib/postgresql/<major>/bin',
  '/opt/homebrew/opt/postgresql@<major>/bin, /usr/local/opt/postgresql@<major>/bin',
  '/Applications/Postgres.app/Contents/Versions/*/bin',
] as const;

function configuredPgDir(se: SearchEnv): { setting: string; dir: string } | undefined {
  for (const setting of [PG_BIN_SETTING, PG_BIN_ALIAS]) {
    const dir = se.env[setting]?.trim();
    if (dir) return { setting, dir: dir.replace(/(.)\/+$/, '$1') };
  }
  return undefined;
}

function pgCandidates(se: SearchEnv, notes: string[]): Candidate[] {
  const root = systemRoot(se);
  const found: Candidate[] = [];
  const pgConfig = pathDirs(se)
    .map((d) => join(d, 'pg_config'))
    .find(isExecutable);
  if (pgConfig) {
    const run = runTool(pgConfig, ['--bindir'], { env: { ...se.env } as NodeJS.ProcessEnv });
    const failure = describeFailure(run);
    if (failure) notes.push(`pg_config --bindir: ${failure}`);
    else if (run.stdout.trim())
      found.push({ source: `pg_config --bindir (${pgConfig})`, dir: run.stdout.trim() });
  }
  for (const dir of pathDirs(se)) found.push({ source: 'PATH', dir });
  const debian = `${root}/usr/lib/postgresql`;
  for (const major of entries(debian)
    .filter((e) => /^\d+(\.\d+)?$/.test(e))
    .sort(byNumberDesc))
    found.push({ source: 'Debian/Ubuntu packages', dir: `${debian}/${major}/bin` });
  for (const prefix of ['/opt/homebrew/opt', '/usr/local/opt', '/home/linuxbrew/.linuxbrew/opt']) {
    const formulas = entries(`${root}${prefix}`);
    const versioned = formulas
      .map((f) => /^postgresql@(\d+)$/.exec(f)?.[1])
      .filter((m): m is string => m !== undefined)
      .sort(byNumberDesc)
      .map((m) => `postgresql@${m}`);
    for (const formula of [...versioned, ...formulas.filter((f) => f === 'postgresql')])
      found.push({ source: 'Homebrew', dir: `${root}${prefix}/${formula}/bin` });
  }
  const app = `${root}/Applications/Postgres.app/Contents/Versions`;
  const versions = entries(app);
  for (const v of [
    ...versions.filter((v) => v === 'latest'),
    ...versions.filter((v) => /^\d+(\.\d+)?$/.test(v)).sort(byNumberDesc),
  ])
    found.push({ source: 'Postgres.app', dir: `${app}/${v}/bin` });
  return found;
}

/** A PostgreSQL installation's server or client programs, all in one folder. */
export interface PgInstallation {
  readonly kind: 'server' | 'client';
  /** Folder holding the programs. */
  readonly dir: string;
  /** How it was found, e.g. `PATH`, `pg_config --bindir (/usr/bin/pg_config)`, `KB_PG_BIN_DIR`. */
  readonly source: string;
  /** e.g. 15.18 */
  readonly version: string;
  readonly major: number;
}

/** A lookup's outcome: what was found, or what is wrong and how to fix it. */
export type Lookup<T> =
  | { readonly ok: true; readonly value: T; readonly notes: readonly string[] }
  | { readonly ok: false; readonly problem: string; readonly fix: string };

type Probe = { ok: true; version: string; major: number } | { ok: false; present: boolean; reason: string };

function probePg(dir: string, tools: readonly string[], se: SearchEnv): Probe {
  const missing = tools.filter((t) => !isExecutable(join(dir, t)));
  if (missing.length > 0) return { ok: false, present: false, reason: `has no ${missing.join(', ')}` };
  const versionTool = tools[tools.length - 1] === 'postgres' ? 'postgres' : tools[0]!;
  const run = runTool(join(dir, versionTool), ['--version'], { env: { ...se.env } as NodeJS.ProcessEnv });
  const failure = describeFailure(run);
  if (failure) return { ok: false, present: true, reason: failure };
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(run.stdout);
  if (!m?.[1])
    return { ok: false, present: true, reason: `${versionTool} --version printed no PostgreSQL version` };
  const version = m[2] === undefined ? m[1] : `${m[1]}.${m[2]}`;
  const major = Number(m[1]);
  if (major < MINIMUM.postgresMajor)
    return {
      ok: false,
      present: true,
      reason: `holds PostgreSQL ${version}, older than ${MINIMUM.postgresMajor}`,
    };
  return { ok: true, version, major };
}

/** Find PostgreSQL's server (initdb, pg_ctl, postgres) or client (pg_dump, psql) programs. */
export function findPostgres(
  kind: 'server' | 'client',
  se: SearchEnv = currentSearchEnv(),
): Lookup<PgInstallation> {
  const tools = kind === 'server' ? PG_SERVER_TOOLS : PG_CLIENT_TOOLS;
  const what: Prerequisite = kind === 'server' ? 'postgres-server' : 'postgres-client';
  const label = `PostgreSQL ${kind} programs (${tools.join(', ')})`;
  const configured = configuredPgDir(se);
  if (configured) {
    const probe = probePg(configured.dir, tools, se);
    if (probe.ok)
      return {
        ok: true,
        value: {
          kind,
          dir: configured.dir,
          source: configured.setting,
          version: probe.version,
          major: probe.major,
        },
        notes: [],
      };
    return {
      ok: false,
      problem: `${configured.setting}=${configured.dir} ${probe.reason}`,
      fix: `point ${configured.setting} at the bin folder of PostgreSQL ${MINIMUM.postgresMajor} or newer, or unset it to search ${PG_LOOKUP_ORDER.slice(1).join(', ')}; to install PostgreSQL: ${hintFor(what, se, false)}`,
    };
  }
  const notes: string[] = [];
  const rejected: string[] = [];
  const seen = new Set<string>();
  for (const candidate of pgCandidates(se, notes)) {
    if (seen.has(candidate.dir)) continue;
    seen.add(candidate.dir);
    const probe = probePg(candidate.dir, tools, se);
    if (probe.ok)
      return {
        ok: true,
        value: {
          kind,
          dir: candidate.dir,
          source: candidate.source,
          version: probe.version,
          major: probe.major,
        },
        notes: [...notes, ...rejected.map((r) => `skipped ${r}`)],
      };
    if (probe.present) rejected.push(`${candidate.dir} (${candidate.source}): ${probe.reason}`);
  }
  return {
    ok: false,
    problem:
      `${label} ${MINIMUM.postgresMajor} or newer not found; searched ${PG_LOOKUP_ORDER.join(', ')}` +
      (rejected.length > 0 ? `; unusable: ${rejected.join('; ')}` : '') +
      (notes.length > 0 ? `; ${notes.join('; ')}` : ''),
    fix: hintFor(what, se),
  };
}

/** Whether `name` runs by name alone (is on the PATH). */
export function onPath(name: string, se: SearchEnv = currentSearchEnv()): boolean {
  return pathDirs(se).some((d) => isExecutable(join(d, name)));
}

/**
 * The environment a child running pg_dump/psql by name needs: `KB_PG_BIN_DIR` pointing at the
 * found client programs when they are not on the PATH; nothing otherwise.
 */
export function pgClientEnv(se: SearchEnv = currentSearchEnv()): Record<string, string> {
  if (PG_CLIENT_TOOLS.every((t) => onPath(t, se)) || configuredPgDir(se)) return {};
  const client = findPostgres('client', se);
  return client.ok ? { [PG_BIN_SETTING]: client.value.dir } : {};
}

/** Path of a PostgreSQL program in a found installation. */
export function pgTool(install: PgInstallation, tool: PgServerTool | PgClientTool): string {
  return join(install.dir, tool);
}

/** Like findPostgres, but throws a PrerequisiteError (message and fix) when nothing fits. */
export function requirePostgres(
  kind: 'server' | 'client',
  se: SearchEnv = currentSearchEnv(),
): PgInstallation {
  const found = findPostgres(kind, se);
  if (!found.ok) throw new PrerequisiteError(found.problem, found.fix);
  return found.value;
}

/**
 * For the local CLI: the path of pg_dump or psql, found in the documented order, or a
 * PrerequisiteError saying how to install it.
 */
export function pgClientBinary(tool: PgClientTool, env: SearchEnv['env'] = process.env): string {
  return pgTool(requirePostgres('client', { env, platform: process.platform }), tool);
}

/** The Python command-line tools the tests and the drill run. */
export type PythonTool = 'moto_server' | 'cfn-lint';

const PYTHON_TOOL_PREREQUISITE: Readonly<Record<PythonTool, Prerequisite>> = {
  moto_server: 'moto',
  'cfn-lint': 'cfn-lint',
};

/** A Python tool's program. */
export interface FoundTool {
  readonly name: PythonTool;
  readonly path: string;
  /** `PATH`, or the user folder it was found in. */
  readonly source: string;
  /** False when found outside the PATH (it still works for the harness, which uses the full path). */
  readonly onPath: boolean;
}

/** pip's and pipx's user folders, and Homebrew's bin folders, after the PATH. */
function userToolDirs(se: SearchEnv): Candidate[] {
  const home = homeDir(se);
  const root = systemRoot(se);
  const dirs: Candidate[] = [{ source: '~/.local/bin (pip --user, pipx)', dir: join(home, '.local/bin') }];
  const pipx = se.env.PIPX_BIN_DIR?.trim();
  if (pipx) dirs.push({ source: 'PIPX_BIN_DIR', dir: pipx });
  const macUser = join(home, 'Library/Python');
  for (const v of entries(macUser).sort(byNumberDesc))
    dirs.push({ source: `~/Library/Python/${v}/bin (pip --user)`, dir: join(macUser, v, 'bin') });
  for (const dir of ['/opt/homebrew/bin', '/usr/local/bin', '/home/linuxbrew/.linuxbrew/bin'])
    dirs.push({ source: 'Homebrew', dir: `${root}${dir}` });
  return dirs;
}

/** Find moto_server or cfn-lint. */
export function findPythonTool(name: PythonTool, se: SearchEnv = currentSearchEnv()): Lookup<FoundTool> {
  for (const dir of pathDirs(se)) {
    const path = join(dir, name);
    if (isExecutable(path))
      return { ok: true, value: { name, path, source: 'PATH', onPath: true }, notes: [] };
  }
  for (const candidate of userToolDirs(se)) {
    const path = join(candidate.dir, name);
    if (isExecutable(path))
      return {
        ok: true,
        value: { name, path, source: candidate.source, onPath: false },
        notes: [`${path} is not on the PATH; add ${candidate.dir} to PATH to run it by name`],
      };
  }
  return {
    ok: false,
    problem: `${name} not found on the PATH nor in ${userToolDirs(se)
      .map((c) => c.dir.replace(homeDir(se), '~'))
      .join(', ')}`,
    fix: hintFor(PYTHON_TOOL_PREREQUISITE[name], se),
  };
}

/** Like findPythonTool, but throws a PrerequisiteError (message and fix) when it is missing. */
export function requirePythonTool(name: PythonTool, se: SearchEnv = currentSearchEnv()): FoundTool {
  const found = findPythonTool(name, se);
  if (!found.ok) throw new PrerequisiteError(found.problem, found.fix);
  return found.value;
}

/**
 * The Python interpreter a pip-installed script runs with, from its `#!` line; pyenv shims are
 * resolved with `pyenv which`. Undefined when the script does not say.
 */
export function scriptInterpreter(path: string, se: SearchEnv): string | undefined {
  let head: string;
  try {
    head = readFileSync(path, 'utf8').slice(0, 4096);
  } catch {
    return undefined;
  }
  const shebang = /^#!\s*(\S+)(?:[ \t]+(\S+))?/.exec(head);
  if (shebang?.[1] && /python[\d.]*$/.test(shebang[1])) return shebang[1];
  if (shebang?.[1]?.endsWith('/env') && shebang[2] && /^python[\d.]*$/.test(shebang[2])) return shebang[2];
  const pyenv = /exec "([^"]+\/pyenv)" exec/.exec(head)?.[1];
  const pyenvRoot = /export PYENV_ROOT="([^"]+)"/.exec(head)?.[1];
  if (pyenv) {
    const name = path.split('/').pop() ?? '';
    const run = runTool(pyenv, ['which', name], {
      env: { ...se.env, ...(pyenvRoot ? { PYENV_ROOT: pyenvRoot } : {}) } as NodeJS.ProcessEnv,
    });
    const real = run.stdout.trim();
    if (!describeFailure(run) && real && real !== path) return scriptInterpreter(real, se);
  }
  return undefined;
}

/** A tool's version, or why it could not be read. */
export type VersionRead = { readonly version: string } | { readonly problem: string };

/** A pip package's version, asked of the Python that runs `tool`'s script. */
function packageVersion(tool: FoundTool, pkg: string, se: SearchEnv): VersionRead {
  const python = scriptInterpreter(tool.path, se);
  if (!python) return { problem: `could not tell which Python runs ${tool.path}` };
  const run = runTool(python, ['-c', `import importlib.metadata as m; print(m.version('${pkg}'))`], {
    env: { ...se.env } as NodeJS.ProcessEnv,
  });
  const failure = describeFailure(run);
  if (failure) return { problem: failure };
  const version = /^\d+(\.\d+)*/.exec(run.stdout.trim())?.[0];
  return version ? { version } : { problem: `${run.command} printed no version` };
}

/** moto's version (moto_server has no --version). */
export function motoVersion(tool: FoundTool, se: SearchEnv = currentSearchEnv()): VersionRead {
  return packageVersion(tool, 'moto', se);
}

/**
 * cfn-lint's version: from its Python's package metadata (a fraction of a second), else from
 * `cfn-lint --version` (several seconds: it loads every rule).
 */
export function cfnLintVersion(tool: FoundTool, se: SearchEnv = currentSearchEnv()): VersionRead {
  const fromMetadata = packageVersion(tool, 'cfn-lint', se);
  if ('version' in fromMetadata) return fromMetadata;
  const run = runTool(tool.path, ['--version'], { env: { ...se.env } as NodeJS.ProcessEnv });
  const failure = describeFailure(run);
  if (failure) return { problem: failure };
  const version = /(\d+\.\d+(?:\.\d+)?)/.exec(run.stdout + run.stderr)?.[1];
  return version ? { version } : { problem: `${run.command} printed no version` };
}
