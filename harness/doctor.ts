#!/usr/bin/env node
/**
 * `npm run doctor`: checks every prerequisite of the drill, the tests and a deploy, one line per
 * item (PASS, WARN or FAIL, what was found, the fix). Exit code 1 when anything the drill or the
 * tests need is missing; WARN lines (strace, AWS credentials, ...) never fail it. The drill runs
 * the `drill` subset first (`preflight`) and stops before step 1 when one fails.
 */
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { serverTmpdir } from './cluster-root';
import { join, resolve } from 'node:path';
import { MINIMUM } from './install-hints';
import { describeFailure, runTool } from './process';
import {
  cfnLintVersion,
  compareVersions,
  currentSearchEnv,
  findPostgres,
  findPythonTool,
  hintFor,
  isExecutable,
  motoVersion,
  onPath,
  pgTool,
  platformKind,
  type PgInstallation,
  type SearchEnv,
} from './toolchain';

export type Status = 'PASS' | 'WARN' | 'FAIL';
/** What needs an item: a FAIL of a `drill` or `tests` item makes the doctor exit non-zero. */
export type Need = 'drill' | 'tests' | 'deploy' | 'optional';

export interface CheckResult {
  readonly id: string;
  readonly label: string;
  readonly neededBy: readonly Need[];
  readonly status: Status;
  /** What was found (version, folder, how it was found), or what is wrong. */
  readonly found: string;
  /** How to fix it; set on WARN and FAIL. */
  readonly fix?: string;
}

/** Everything a check reads, injectable so tests can fake the machine. */
export interface DoctorContext {
  readonly se: SearchEnv;
  /** The project folder (cdk.json, node_modules). */
  readonly root: string;
  /** e.g. v20.20.2 */
  readonly nodeVersion: string;
  /** Current user id; 0 runs the test cluster as `postgres` through runuser. */
  readonly uid: number | undefined;
}

export function currentContext(): DoctorContext {
  return {
    se: currentSearchEnv(),
    root: resolve(__dirname, '..'),
    nodeVersion: process.version,
    uid: process.getuid?.(),
  };
}

type Outcome = Pick<CheckResult, 'status' | 'found' | 'fix'>;

interface Check {
  readonly id: string;
  readonly label: string;
  readonly neededBy: readonly Need[];
  run(ctx: DoctorContext, memo: Memo): Outcome;
}

/** Lookups shared by several checks, made once per run. */
class Memo {
  private server?: ReturnType<typeof findPostgres>;
  private client?: ReturnType<typeof findPostgres>;
  constructor(private readonly ctx: DoctorContext) {}
  pgServer(): ReturnType<typeof findPostgres> {
    return (this.server ??= findPostgres('server', this.ctx.se));
  }
  pgClient(): ReturnType<typeof findPostgres> {
    return (this.client ??= findPostgres('client', this.ctx.se));
  }
}

const pass = (found: string): Outcome => ({ status: 'PASS', found });
const warn = (found: string, fix: string): Outcome => ({ status: 'WARN', found, fix });
const fail = (found: string, fix: string): Outcome => ({ status: 'FAIL', found, fix });

function describeInstall(i: PgInstallation): string {
  return `PostgreSQL ${i.version} in ${i.dir} (found by ${i.source})`;
}

const nodeCheck: Check = {
  id: 'node',
  label: 'Node.js',
  neededBy: ['drill', 'tests', 'deploy'],
  run(ctx) {
    const read = /^v?(\d+)\.(\d+)/.exec(ctx.nodeVersion);
    if (!read) {
      return fail(
        `could not read a version from ${JSON.stringify(ctx.nodeVersion)} (${MINIMUM.node} or newer needed)`,
        hintFor('node', ctx.se),
      );
    }
    const [major, minor] = [Number(read[1]), Number(read[2])];
    const [needMajor = 0, needMinor = 0] = MINIMUM.node.split('.').map(Number);
    return major > needMajor || (major === needMajor && minor >= needMinor)
      ? pass(`${ctx.nodeVersion} (${MINIMUM.node} or newer needed)`)
      : fail(`${ctx.nodeVersion} is older than ${MINIMUM.node}`, hintFor('node', ctx.se));
  },
};

const pgServerCheck: Check = {
  id: 'postgres-server',
  label: 'PostgreSQL server',
  neededBy: ['drill', 'tests'],
  run(_ctx, memo) {
    const found = memo.pgServer();
    return found.ok
      ? pass(`initdb, pg_ctl, postgres: ${describeInstall(found.value)}`)
      : fail(found.problem, found.fix);
  },
};

const pgClientCheck: Check = {
  id: 'postgres-client',
  label: 'PostgreSQL client',
  neededBy: ['drill', 'tests'],
  run(ctx, memo) {
    const found = memo.pgClient();
    if (!found.ok) return fail(found.problem, found.fix);
    const client = found.value;
    const server = memo.pgServer();
    if (server.ok && client.major < server.value.major)
      return fail(
        `${describeInstall(client)} is older than the server programs (${server.value.version}): pg_dump refuses newer servers`,
        hintFor('postgres-client', ctx.se),
      );
    const byName = onPath('pg_dump', ctx.se) && onPath('psql', ctx.se);
    return pass(
      `pg_dump, psql: ${describeInstall(client)}` +
        (byName ? '' : '; not on the PATH, so the drill and tests hand KB_PG_BIN_DIR to the CLI'),
    );
  },
};

/** initdb into a temporary folder, start the server on a private socket only, stop it. */
const clusterCheck: Check = {
  id: 'postgres-cluster',
  label: 'PostgreSQL cluster',
  neededBy: ['drill', 'tests'],
  run(ctx, memo) {
    const server = memo.pgServer();
    if (!server.ok)
      return fail('not tried: the server programs are missing (above)', hintFor('postgres-server', ctx.se));
    const asRoot = ctx.uid === 0;
    const env = { ...ctx.se.env } as NodeJS.ProcessEnv;
    let ids: { uid: number; gid: number } | undefined;
    if (asRoot) {
      const uid = runTool('id', ['-u', 'postgres'], { env });
      const gid = runTool('id', ['-g', 'postgres'], { env });
      const notRun = [uid, gid].find((r) => r.startError);
      if (notRun)
        return fail(
          `running as root, could not look up the "postgres" user to run the server as: ${describeFailure(notRun)}`,
          'put the coreutils `id` (and util-linux `runuser`) on the PATH',
        );
      if (describeFailure(uid) || describeFailure(gid))
        return fail(
          'running as root, and there is no "postgres" user to run the server as (initdb refuses root)',
          'create it (sudo useradd --system --home /var/lib/postgresql postgres; the Debian packages do this) or run as a normal user',
        );
      ids = { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
    }
    const wrap = (cmd: string, args: string[]) =>
      asRoot
        ? runTool('runuser', ['-u', 'postgres', '--', cmd, ...args], { env })
        : runTool(cmd, args, { env });
    const dir = mkdtempSync(join(serverTmpdir(), 'kb-doctor-pg-'));
    try {
      if (ids) chownSync(dir, ids.uid, ids.gid);
      chmodSync(dir, 0o755);
      const data = join(dir, 'data');
      const log = join(dir, 'server.log');
      const how = asRoot ? ' as the postgres user (runuser), since this is root' : ' as the current user';
      const init = wrap(pgTool(server.value, 'initdb'), [
        '-D',
        data,
        '-U',
        'postgres',
        '--auth=trust',
        '--no-sync',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
      ]);
      const initFailure = describeFailure(init);
      if (initFailure)
        return fail(
          `initdb${how} failed: ${initFailure}`,
          'read the output above; a cluster must be creatable in a temporary folder as this user',
        );
      // No TCP listener at all: the check touches no network, only a socket in its own folder.
      const start = wrap(pgTool(server.value, 'pg_ctl'), [
        '-D',
        data,
        '-l',
        log,
        '-w',
        '-t',
        '30',
        '-o',
        `-c listen_addresses= -k ${dir} -c fsync=off`,
        'start',
      ]);
      const startFailure = describeFailure(start);
      if (startFailure) {
        let serverLog = '';
        try {
          serverLog = readFileSync(log, 'utf8').trim().split('\n').slice(-5).join(' | ');
        } catch {
          serverLog = '(no server log)';
        }
        return fail(
          `pg_ctl start${how} failed: ${startFailure}; server log: ${serverLog}`,
          'read the server log above (shared memory, permissions of the temporary folder, locale C.UTF-8)',
        );
      }
      const stop = wrap(pgTool(server.value, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      const stopFailure = describeFailure(stop);
      if (stopFailure)
        return fail(`pg_ctl stop failed: ${stopFailure}`, 'stop it by hand: kill the postmaster');
      return pass(`a throwaway cluster started and stopped${how} (PostgreSQL ${server.value.version})`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

const motoCheck: Check = {
  id: 'moto',
  label: 'moto_server',
  neededBy: ['drill', 'tests'],
  run(ctx) {
    const found = findPythonTool('moto_server', ctx.se);
    if (!found.ok) return fail(found.problem, found.fix);
    const where = `${found.value.path} (${found.value.source})`;
    const version = motoVersion(found.value, ctx.se);
    if ('problem' in version)
      return warn(
        `${where}; its version could not be read: ${version.problem}`,
        `make sure it is moto ${MINIMUM.moto} or newer: ${hintFor('moto', ctx.se)}`,
      );
    if (compareVersions(version.version, MINIMUM.moto) < 0)
      return fail(
        `moto ${version.version} at ${where} is older than ${MINIMUM.moto}`,
        hintFor('moto', ctx.se),
      );
    return pass(
      `moto ${version.version} at ${where}${found.notes.length ? `; ${found.notes.join('; ')}` : ''}`,
    );
  },
};

const cfnLintCheck: Check = {
  id: 'cfn-lint',
  label: 'cfn-lint',
  neededBy: ['tests'],
  run(ctx) {
    const found = findPythonTool('cfn-lint', ctx.se);
    if (!found.ok) return fail(found.problem, found.fix);
    // scripts/ci/check-synth.sh runs it by name.
    if (!found.value.onPath) return fail(`${found.value.path} is not on the PATH`, found.notes.join('; '));
    const version = cfnLintVersion(found.value, ctx.se);
    if ('problem' in version)
      return fail(`${found.value.path}: ${version.problem}`, hintFor('cfn-lint', ctx.se));
    if (compareVersions(version.version, MINIMUM.cfnLint) < 0)
      return fail(
        `cfn-lint ${version.version} is older than ${MINIMUM.cfnLint}`,
        hintFor('cfn-lint', ctx.se),
      );
    return pass(`cfn-lint ${version.version} at ${found.value.path}`);
  },
};

const straceCheck: Check = {
  id: 'strace',
  label: 'strace',
  neededBy: ['optional'],
  run(ctx) {
    if (ctx.se.platform !== 'linux')
      return warn(`not available on ${ctx.se.platform}`, hintFor('strace', ctx.se));
    return onPath('strace', ctx.se)
      ? pass('strace on the PATH: `npm test` proves synth opens no network connection')
      : warn(
          'not installed: `npm test` still synthesizes, but cannot prove synth opens no network connection',
          hintFor('strace', ctx.se),
        );
  },
};

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

const cdkCliCheck: Check = {
  id: 'cdk-cli',
  label: 'CDK CLI',
  neededBy: ['tests', 'deploy'],
  run(ctx) {
    const pkg = join(ctx.root, 'node_modules', 'aws-cdk', 'package.json');
    const bin = join(ctx.root, 'node_modules', '.bin', 'cdk');
    if (!existsSync(pkg) || !isExecutable(bin))
      return fail(`no CDK CLI in ${join(ctx.root, 'node_modules')}`, 'run npm ci in the project folder');
    const cli = (readJson(pkg) as { version?: string }).version ?? 'unknown';
    const libPkg = join(ctx.root, 'node_modules', 'aws-cdk-lib', 'package.json');
    const lib = existsSync(libPkg)
      ? ((readJson(libPkg) as { version?: string }).version ?? 'unknown')
      : 'missing';
    if (!cli.startsWith('2.'))
      return fail(
        `aws-cdk ${cli}: this app needs the 2.x CLI (2.1148.x with aws-cdk-lib 2.276.x)`,
        'run npm ci (package-lock.json pins it)',
      );
    return pass(`aws-cdk ${cli} with aws-cdk-lib ${lib} (npx cdk runs this one)`);
  },
};

const cdkNetworkCheck: Check = {
  id: 'cdk-network',
  label: 'CDK network',
  neededBy: ['tests', 'deploy'],
  run(ctx) {
    const file = join(ctx.root, 'cdk.json');
    let cdk: { notices?: unknown; versionReporting?: unknown; context?: Record<string, unknown> };
    try {
      cdk = readJson(file) as typeof cdk;
    } catch (err) {
      return fail(`cannot read ${file}: ${(err as Error).message}`, 'restore cdk.json from git');
    }
    const wrong = [
      cdk.notices === false ? undefined : '"notices": false',
      cdk.versionReporting === false ? undefined : '"versionReporting": false',
      cdk.context?.['cli-telemetry'] === false ? undefined : '"context": {"cli-telemetry": false}',
    ].filter((w): w is string => w !== undefined);
    if (wrong.length > 0)
      return fail(
        `cdk.json lets the CDK CLI reach the network (missing ${wrong.join(', ')})`,
        `set ${wrong.join(', ')} in cdk.json`,
      );
    if (ctx.se.env.CDK_DISABLE_VERSION_CHECK !== '1' && ctx.se.env.CDK_DISABLE_VERSION_CHECK !== 'true')
      return warn(
        'cdk.json: notices, versionReporting and cli-telemetry off; CDK_DISABLE_VERSION_CHECK is not set, so `npx cdk` by hand may look up new versions (npm test and CI set it)',
        'export CDK_DISABLE_VERSION_CHECK=1',
      );
    return pass('cdk.json: notices, versionReporting and cli-telemetry off; CDK_DISABLE_VERSION_CHECK=1');
  },
};

/** Profiles named in an AWS shared config or credentials file. */
function iniSections(path: string): Map<string, Record<string, string>> {
  const sections = new Map<string, Record<string, string>>();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return sections;
  }
  let current: Record<string, string> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const header = /^\[\s*(?:profile\s+)?([^\]]+?)\s*\]$/.exec(line);
    if (header?.[1]) {
      current = sections.get(header[1]) ?? {};
      sections.set(header[1], current);
    } else if (current) {
      const kv = /^([\w-]+)\s*=\s*(.*)$/.exec(line);
      if (kv?.[1]) current[kv[1]] = kv[2] ?? '';
    }
  }
  return sections;
}

/** Credentials and region for the `--rds` commands, read from files and variables only (no call). */
const awsCheck: Check = {
  id: 'aws',
  label: 'AWS (optional)',
  neededBy: ['optional'],
  run(ctx) {
    const env = ctx.se.env;
    const home = env.HOME || '';
    const profile = env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || 'default';
    const config = iniSections(env.AWS_CONFIG_FILE || join(home, '.aws', 'config')).get(profile) ?? {};
    const creds = iniSections(env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials')).get(
      profile,
    );
    const source =
      env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? 'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY'
        : env.AWS_WEB_IDENTITY_TOKEN_FILE
          ? 'AWS_WEB_IDENTITY_TOKEN_FILE'
          : env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI
            ? 'container credentials'
            : creds?.aws_access_key_id
              ? `profile ${profile} (credentials file)`
              : config.sso_session || config.sso_start_url
                ? `profile ${profile} (IAM Identity Center; run aws sso login if expired)`
                : config.role_arn || config.credential_process
                  ? `profile ${profile} (${config.role_arn ? 'role_arn' : 'credential_process'})`
                  : undefined;
    const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || config.region;
    const regionFrom = env.AWS_REGION
      ? 'AWS_REGION'
      : env.AWS_DEFAULT_REGION
        ? 'AWS_DEFAULT_REGION'
        : `profile ${profile}`;
    const missing = [source ? undefined : 'credentials', region ? undefined : 'region'].filter(Boolean);
    if (missing.length > 0)
      return warn(
        `no AWS ${missing.join(' and ')} found for profile ${profile}: only --rds commands and deploys need them, the drill and tests never do`,
        'aws configure (or aws configure sso), or export AWS_PROFILE=<profile> AWS_REGION=<region>',
      );
    return pass(
      `for --rds commands and deploys: credentials from ${source}, region ${region} (from ${regionFrom}); not verified: the doctor calls no AWS API`,
    );
  },
};

/** Every check, in the order printed. */
export const ALL_CHECKS: readonly Check[] = [
  nodeCheck,
  pgServerCheck,
  pgClientCheck,
  clusterCheck,
  motoCheck,
  cfnLintCheck,
  straceCheck,
  cdkCliCheck,
  cdkNetworkCheck,
  awsCheck,
];

/** What the drill needs. */
export const DRILL_CHECK_IDS = [
  'node',
  'postgres-server',
  'postgres-client',
  'postgres-cluster',
  'moto',
] as const;

/** Run the checks of `scope`; a check that throws is a FAIL with its message, never a crash. */
export function runChecks(ctx: DoctorContext, scope: 'all' | 'drill' = 'all'): CheckResult[] {
  const memo = new Memo(ctx);
  const checks =
    scope === 'all'
      ? ALL_CHECKS
      : ALL_CHECKS.filter((c) => (DRILL_CHECK_IDS as readonly string[]).includes(c.id));
  return checks.map((check) => {
    let outcome: Outcome;
    try {
      outcome = check.run(ctx, memo);
    } catch (err) {
      outcome = fail(
        `the check itself failed: ${err instanceof Error ? err.message : String(err)}`,
        'report this with the output of npm run doctor',
      );
    }
    return { id: check.id, label: check.label, neededBy: check.neededBy, ...outcome };
  });
}

/** Whether a result stops the drill or the tests. */
export function isBlocking(r: CheckResult): boolean {
  return r.status === 'FAIL' && r.neededBy.some((n) => n === 'drill' || n === 'tests');
}

/** One line per item: status, label, what was found, the fix. */
export function formatResults(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.label.length));
  return results
    .map(
      (r) => `${r.status.padEnd(4)}  ${r.label.padEnd(width)}  ${r.found}${r.fix ? `; fix: ${r.fix}` : ''}`,
    )
    .join('\n');
}

/** The closing line and the exit code. */
export function verdict(results: readonly CheckResult[]): { line: string; exitCode: number } {
  const blocking = results.filter(isBlocking);
  const count = (s: Status) => results.filter((r) => r.status === s).length;
  const totals = `${count('PASS')} PASS, ${count('WARN')} WARN, ${count('FAIL')} FAIL`;
  if (blocking.length > 0)
    return {
      line: `doctor: ${totals}; missing for the drill or the tests: ${blocking.map((r) => r.label).join(', ')}. Apply the fix on each FAIL line, then run npm run doctor again.`,
      exitCode: 1,
    };
  return { line: `doctor: ${totals}; everything the drill and the tests need is here.`, exitCode: 0 };
}

/**
 * The drill's preflight: the drill's checks. `text` is the lines to print (with, on failure, why
 * the drill stops); `found` what each check found, for the report.
 */
export function preflight(ctx: DoctorContext = currentContext()): {
  ok: boolean;
  text: string;
  found: string[];
} {
  const results = runChecks(ctx, 'drill');
  const blocking = results.filter(isBlocking);
  const text = formatResults(results);
  const found = results.map((r) => `${r.label}: ${r.found}`);
  return blocking.length === 0
    ? { ok: true, text, found }
    : {
        ok: false,
        found,
        text: `${text}\n\ndrill stopped before step 1: ${blocking.map((r) => r.label).join(', ')} ${blocking.length === 1 ? 'is' : 'are'} missing or unusable. Apply the fix on each FAIL line above (npm run doctor checks everything).`,
      };
}

export function main(
  ctx: DoctorContext = currentContext(),
  write: (text: string) => void = (t) => void process.stdout.write(t),
): number {
  write(
    `kb-dr doctor: prerequisites of the drill, the tests and a deploy (${platformKind(ctx.se)}, ${ctx.se.platform})\n\n`,
  );
  const results = runChecks(ctx);
  const { line, exitCode } = verdict(results);
  write(`${formatResults(results)}\n\n${line}\n`);
  return exitCode;
}

if (require.main === module) process.exit(main());
