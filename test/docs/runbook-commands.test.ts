/**
 * The documents' commands cannot go stale: every command line in the shell blocks of the runbook,
 * the README and the local-backup guide that invokes our tools is checked with the real parsers
 * (the CLI's commander program and its flag checks, package.json's scripts, the drill's own
 * option parser), and every console event the runbook names must be valid for its function.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ZodMiniType as ZodType } from 'zod/mini';
import { planFor } from '../../cli/plans/plan-for';
import type { RestoreFlags } from '../../cli/plans/restore';
import { KbDrError } from '../../core/errors';
import { parseEvent, type EventSpec } from '../../lambda/shared/handler-response';
import { LATEST } from '../../lambda/shared/restore-common';
import { isKbSnapshotId, isValidDbInstanceId } from '../../core/naming';
import { PROMOTE_RESTORE_EVENT } from '../../lambda/promote-restore/promote-restore';
import { RESTORE_PITR_EVENT, parseTargetTime } from '../../lambda/restore-pitr/restore-pitr';
import { RESTORE_SNAPSHOT_EVENT } from '../../lambda/restore-snapshot/restore-snapshot';
import { RESTORE_STATUS_EVENT } from '../../lambda/restore-status/restore-status';
import { VALIDATE_BACKUP_EVENT } from '../../lambda/validate-backup/validate-backup';
import { VERIFY_RESTORE_EVENT } from '../../lambda/verify-restore/verify-restore';
import { VERIFY_DOCS, verifyRoleSql } from '../../lambda/shared/verify-settings';
import { DEFAULTS } from '../../lib/config';
import { FUNCTIONS } from '../../core/functions';
import { CommanderError } from 'commander';
import { drillProgram } from '../../drill/index';
import { DRILL_STEPS } from '../../drill/steps';
import { docCommands, headingAnchors, type DocCommand } from '../support/doc-commands';

const execFileAsync = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const RUNBOOK = 'docs/DISASTER-RECOVERY-RUNBOOK.md';
const LOCAL_GUIDE = 'docs/local-backup.md';
/** The README and every document in docs/: a new document is checked without being listed here. */
const DOCUMENTS = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
];
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const packageScripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

/**
 * Commands that are not ours and that the documents may show (set-up, AWS, PostgreSQL). Any other
 * command word fails the test, so nothing unchecked slips into a shell block.
 */
const EXTERNAL_COMMANDS = new Set(['export', 'cd', 'aws', 'psql', 'dropdb', 'sha256sum', 'ls', 'cdk']);

/** The restore functions' event checks, by the `docs/events/<function>.<name>.json` prefix. */
const EVENT_SPECS: Readonly<Record<string, EventSpec<ZodType>>> = {
  'restore-snapshot': RESTORE_SNAPSHOT_EVENT,
  'restore-pitr': RESTORE_PITR_EVENT,
  'restore-status': RESTORE_STATUS_EVENT,
  'validate-backup': VALIDATE_BACKUP_EVENT,
  'promote-restore': PROMOTE_RESTORE_EVENT,
  'verify-restore': VERIFY_RESTORE_EVENT,
};

/** What a check concluded about one command line: undefined when accepted, else why not. */
type Verdict = string | undefined;

/** The values the deployed functions would refuse (default configuration), for RDS flags. */
function rdsValueProblems(
  flags: Pick<RestoreFlags, 'targetInstance' | 'targetTime' | 'snapshotId'>,
): string[] {
  const problems: string[] = [];
  const { targetInstance, targetTime, snapshotId } = flags;
  if (targetInstance !== undefined) {
    if (!isValidDbInstanceId(targetInstance))
      problems.push(`--target-instance=${targetInstance} is not an RDS id`);
    else if (!targetInstance.toLowerCase().startsWith(DEFAULTS.restoreInstancePrefix))
      problems.push(
        `--target-instance=${targetInstance} lacks the restore prefix ${DEFAULTS.restoreInstancePrefix}`,
      );
  }
  if (snapshotId !== undefined && snapshotId.toLowerCase() !== LATEST && !isKbSnapshotId(snapshotId))
    problems.push(`--snapshot-id=${snapshotId} is not "latest" or a kb-snapshot-* id`);
  if (targetTime !== undefined && targetTime.toLowerCase() !== LATEST) {
    try {
      parseTargetTime(targetTime);
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  return problems;
}

/**
 * Check `kb-dr <argv>` with exactly what the CLI runs: `planFor` parses it with the CLI's own
 * commander program (unknown commands and options, missing values) and then the command's plan
 * builder (every other check, including the values the deployed functions would refuse). Nothing runs.
 */
async function checkCliArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string>>,
): Promise<Verdict> {
  try {
    await planFor([...argv], env);
  } catch (err) {
    if (err instanceof KbDrError) return err.userMessage;
    throw err;
  }
  return undefined;
}

/** `scripts/<name>.sh` → the `kb-dr` command it runs (read from the script itself). */
function scriptCommand(path: string): string | undefined {
  const file = join(ROOT, 'scripts', path.replace(/^(\.\/)?scripts\//, ''));
  if (!existsSync(file)) return undefined;
  return /(?:bin\/kb-dr\.ts|lib\/run-cli\.sh)"?\s+(\w+)\s+"\$@"/.exec(readFileSync(file, 'utf8'))?.[1];
}

/**
 * What the drill's own option parser (drill/index.ts's `drillProgram`, what `npm run drill` runs)
 * says about `args`: its `--help` text, or the error it stops with. Asked in this process, as the
 * CLI's parser is: a spawned drill costs seconds of CPU for the same answer. 'rejects an invalid
 * drill value' below runs `npm run drill` for real once, and test/drill/preflight.test.ts runs the
 * drill's entry point with `--entries N --out DIR`.
 */
function drillParserSays(args: readonly string[]): { help: string } | { error: string } {
  let out = '';
  let err = '';
  const program = drillProgram()
    .exitOverride()
    .configureOutput({ writeOut: (t) => (out += t), writeErr: (t) => (err += t) });
  try {
    // Values are parsed before help is shown, so an invalid value still fails here.
    program.parse([...args, '--help'], { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError && e.code === 'commander.helpDisplayed') return { help: out };
    if (e instanceof CommanderError) return { error: err.trim() || e.message };
    throw e;
  }
  return { error: 'the drill did not show its help for --help' };
}

/** Options the drill declares, from its own `--help`; an invalid value is refused by its parser. */
function checkDrillArgs(args: readonly string[]): Verdict {
  const said = drillParserSays(args);
  if ('error' in said) return said.error;
  const help = said.help;
  const declared = new Map<string, boolean>();
  for (const m of help.matchAll(/^\s+(?:-\w, )?(--[\w-]+)( [<[])?/gm))
    declared.set(m[1] ?? '', Boolean(m[2]));
  for (let i = 0; i < args.length; i++) {
    const [name = '', inline] = (args[i] ?? '').split(/=(.*)/s);
    if (!name.startsWith('-')) return `unexpected argument ${name}`;
    const takesValue = declared.get(name);
    if (takesValue === undefined) return `unknown drill option ${name}`;
    if (takesValue && inline === undefined && (args[++i] === undefined || args[i]?.startsWith('-')))
      return `drill option ${name} needs a value`;
  }
  return undefined;
}

/**
 * AWS CLI commands, checked against the AWS API models in botocore (installed with moto), from
 * which the AWS CLI generates its commands and options: the operation exists, every option is a
 * parameter of it (exact name; booleans also as `--no-…`), and required parameters are given.
 */
const AWS_MODEL_CHECK = `
import json, sys
import botocore.session
from botocore import xform_name
GLOBAL = {"--query", "--output", "--region", "--profile", "--no-cli-pager", "--endpoint-url"}
# Commands the AWS CLI adds on top of the API models (v2), with the options they take.
CUSTOM = {("logs", "tail"): {"--since", "--follow", "--filter-pattern", "--format", "--log-stream-names"}}
session = botocore.session.get_session()
services = set(session.get_available_services())
out = []
for argv in json.load(sys.stdin):
    service, operation, args = argv[0], argv[1], argv[2:]
    flags = [a.split("=", 1)[0] for a in args if a.startswith("--")]
    if (service, operation) in CUSTOM:
        bad = [f for f in flags if f not in CUSTOM[(service, operation)] | GLOBAL]
        out.append(f"aws {service} {operation}: unknown option {bad[0]}" if bad else None)
        continue
    if service not in services:
        out.append(f"aws {service}: no such service")
        continue
    model = session.get_service_model(service)
    ops = {xform_name(o, "-"): o for o in model.operation_names}
    if operation not in ops:
        out.append(f"aws {service} {operation}: no such operation")
        continue
    shape = model.operation_model(ops[operation]).input_shape
    members = shape.members if shape else {}
    known = {}
    for name, member in members.items():
        known["--" + xform_name(name, "-")] = name
        if member.type_name == "boolean":
            known["--no-" + xform_name(name, "-")] = name
    bad = [f for f in flags if f not in known and f not in GLOBAL]
    given = {known[f] for f in flags if f in known}
    missing = [m for m in (shape.required_members if shape else []) if m not in given]
    if bad:
        out.append(f"aws {service} {operation}: unknown option {bad[0]}")
    elif missing:
        out.append(f"aws {service} {operation}: missing --{xform_name(missing[0], '-')}")
    else:
        out.append(None)
print(json.dumps(out))
`;

/** Check AWS CLI command lines (words after `aws`); one verdict per command. */
async function checkAwsCommands(argvs: readonly (readonly string[])[]): Promise<Verdict[]> {
  const child = execFile('python3', ['-c', AWS_MODEL_CHECK], { maxBuffer: 1 << 20 });
  child.stdin?.end(JSON.stringify(argvs));
  const stdout = await new Promise<string>((resolveOut, reject) => {
    let text = '';
    let errors = '';
    child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (errors += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolveOut(text)
        : reject(new Error(`the AWS model check needs python3 with botocore: ${errors}`)),
    );
  });
  return (JSON.parse(stdout) as (string | null)[]).map((v) => v ?? undefined);
}

/** Check one of our command lines; undefined when accepted, the reason otherwise. */
async function checkCommand(cmd: Pick<DocCommand, 'words' | 'env'>): Promise<Verdict> {
  const [first = '', ...rest] = cmd.words;
  if (/(^|\/)scripts\/[\w./-]+\.sh$/.test(first)) {
    const rel = first.slice(first.indexOf('scripts/'));
    if (!existsSync(join(ROOT, rel))) return `${rel} does not exist`;
    const command = scriptCommand(rel);
    return command ? checkCliArgs([command, ...rest], cmd.env) : undefined;
  }
  if (first === 'npx' && rest[0] === 'kb-dr') return checkCliArgs(rest.slice(1), cmd.env);
  if (first === 'npx' && rest[0] === 'cdk') return undefined;
  if (first === 'npm') {
    const [sub = '', script = '', ...more] = rest;
    if (sub === 'ci' && !script) return undefined;
    if (sub === 'test') return packageScripts.test ? undefined : 'package.json has no test script';
    if (sub !== 'run')
      return `npm ${sub} is not a command the documents may use (npm ci, npm test, npm run X)`;
    if (!(script in packageScripts)) return `package.json has no script "${script}"`;
    const args = more[0] === '--' ? more.slice(1) : more;
    if (args.length > 0 && more[0] !== '--') return `npm run ${script} passes arguments only after --`;
    if (script === 'kb-dr') return checkCliArgs(args, cmd.env);
    if (script === 'drill') return checkDrillArgs(args);
    return args.length > 0 ? `npm run ${script} takes no arguments here` : undefined;
  }
  if (EXTERNAL_COMMANDS.has(first)) return undefined;
  return `"${first}" is neither one of our tools nor a known external command (test/docs/runbook-commands.test.ts)`;
}

const ours = (c: DocCommand) =>
  /(^|\/)scripts\/[\w./-]+\.sh$/.test(c.words[0] ?? '') ||
  (c.words[0] === 'npx' && c.words[1] === 'kb-dr') ||
  c.words[0] === 'npm';

const commands = DOCUMENTS.flatMap((doc) => docCommands(doc, read(doc)));
const label = (c: DocCommand) => `${c.file}:${c.line}: ${c.words.join(' ')}`;

describe('commands in the documents', () => {
  it.each([
    [
      RUNBOOK,
      [
        'backup-kb.sh --rds',
        'restore-kb.sh --rds',
        'restore-kb.sh --pitr',
        'validate-backup.sh --snapshot-id',
        'kb-dr find-backup --before',
        'kb-dr find-backup --rds',
        'kb-dr recover-entries --backup-file',
        'kb-dr recover-entries --from-instance',
        '--confirm',
      ],
    ],
    [
      LOCAL_GUIDE,
      [
        'backup-kb.sh --local',
        'backup-kb.sh --local --prune',
        'validate-backup.sh --backup-file',
        'restore-kb.sh --local --backup-file',
        'restore-kb.sh --local --rollback',
        'kb-dr recover-entries --backup-file',
      ],
    ],
    ['README.md', ['npm ci', 'npm run drill', 'npm test', 'npm run doctor', 'npx cdk deploy --all']],
    ['docs/DRILL.md', ['npm run drill -- --entries']],
  ])('%s shows the commands it is the home of', (doc, needles) => {
    const lines = commands.filter((c) => c.file === doc).map((c) => c.words.join(' '));
    expect(needles.filter((needle) => !lines.some((line) => line.includes(needle)))).toEqual([]);
  });

  it('finds our tools in the README and in every guide', () => {
    for (const doc of [RUNBOOK, 'README.md', LOCAL_GUIDE, 'docs/RTO-RPO.md', 'docs/DRILL.md'])
      expect(commands.filter((c) => c.file === doc && ours(c)).length).toBeGreaterThan(0);
  });

  it('keeps the two commands CI runs from the README exactly as .ci/run runs them', () => {
    const readme = commands.filter((c) => c.file === 'README.md').map((c) => c.source);
    expect(readme).toEqual(expect.arrayContaining(['npm ci && npm run drill', 'npm ci && npm test']));
    const ci = read('.ci/run');
    for (const line of ['npm ci', 'npm run doctor', 'npm test', 'npm run drill --'])
      expect(ci).toContain(`\n${line}`);
  });

  it.each(commands.filter(ours).map((c) => [label(c), c] as const))('%s', async (_label, cmd) => {
    expect(await checkCommand(cmd)).toBeUndefined();
  });

  it('uses no other commands than ours and the known external ones', () => {
    const unknown = commands.filter(
      (c) =>
        !ours(c) &&
        !EXTERNAL_COMMANDS.has(c.words[0] ?? '') &&
        !(c.words[0] === 'npx' && c.words[1] === 'cdk'),
    );
    expect(unknown.map(label)).toEqual([]);
  });
});

describe('AWS CLI commands in the documents', () => {
  const aws = commands.filter((c) => c.words[0] === 'aws');
  let verdicts: Verdict[] = [];
  beforeAll(async () => {
    verdicts = await checkAwsCommands([
      ...aws.map((c) => c.words.slice(1)),
      ['rds', 'modify-db-instance', '--db-instance-identifer', 'kb-prod'],
      ['rds', 'delete-db-instance', '--skip-final-snapshot'],
      ['rds', 'restore-everything'],
    ]);
  });

  it.each(aws.map((c, i) => [label(c), i] as const))('%s', (_label, i) => {
    expect(verdicts[i]).toBeUndefined();
  });

  it('rejects a misspelled option, a missing required parameter and an unknown operation', () => {
    expect(verdicts.slice(aws.length)).toEqual([
      'aws rds modify-db-instance: unknown option --db-instance-identifer',
      'aws rds delete-db-instance: missing --db-instance-identifier',
      'aws rds restore-everything: no such operation',
    ]);
  });
});

describe('the checker itself', () => {
  it.each([
    [
      'a misspelled option',
      'scripts/restore-kb.sh --rds --snapshot=x --target-instance=kb-restore-1',
      /unknown option '--snapshot=x'/,
    ],
    [
      'a missing required flag',
      'scripts/restore-kb.sh --rds --snapshot-id=latest',
      /--target-instance is required/,
    ],
    ['a missing option value', 'scripts/validate-backup.sh --backup-file', /argument missing/],
    ['an unknown command', 'npx kb-dr frobnicate', /unknown command 'frobnicate'/],
    ['no mode', 'scripts/backup-kb.sh', /say where to act/],
    [
      'a PITR time without a zone',
      'scripts/restore-kb.sh --pitr --target-time=2026-11-22T01:30 --target-instance=kb-restore-pitr-1',
      /has no time zone/,
    ],
    [
      'a target without the restore prefix',
      'scripts/restore-kb.sh --rds --snapshot-id=latest --target-instance=kb-prod-copy',
      /restore prefix/,
    ],
    [
      'promotion without a production id',
      'scripts/restore-kb.sh --rds --force-production --target-instance=kb-restore-1',
      /which production instance/,
    ],
    ['a script that does not exist', 'scripts/restore-everything.sh --local', /does not exist/],
    ['an npm script that does not exist', 'npm run restore', /no script "restore"/],
    ['an unknown drill option', 'npm run drill -- --entreis 10', /unknown drill option --entreis/],
    ['an unknown command word', 'rm -rf backups', /neither one of our tools/],
    ['find-backup without a zone', 'npx kb-dr find-backup --before=2026-11-22T14:05', /has no time zone/],
    [
      'recover-entries with a SQL-ish tag',
      'npx kb-dr recover-entries --backup-file=f.sql.gz --tag="x\' OR 1=1"',
      /is not a tag/,
    ],
    [
      'recover-entries from production',
      'npx kb-dr recover-entries --from-instance=kb-prod',
      /not a restored instance/,
    ],
  ])('rejects %s', async (_what, line, reason) => {
    const [cmd] = docCommands('inline', `\`\`\`sh\n${line}\n\`\`\``);
    expect(cmd).toBeDefined();
    expect(await checkCommand(cmd!)).toMatch(reason);
  });

  it('rejects an invalid drill value', async () => {
    // Prepare
    const line = 'npm run drill -- --entries 0';
    const [cmd] = docCommands('inline', `\`\`\`sh\n${line}\n\`\`\``);
    // Act: the check, and the command itself (the one real run of `npm run drill` in this file)
    const verdict = await checkCommand(cmd!);
    const real = await execFileAsync('npm', ['run', 'drill', '--', '--entries', '0'], { cwd: ROOT }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code?: number; stderr?: string }) => ({ code: err.code, stderr: err.stderr ?? '' }),
    );
    // Assess: the in-process parser refuses it with exactly what the real drill prints
    expect(verdict).toMatch(/must be a whole number/);
    expect(real.code).toBe(1);
    expect(real.stderr).toContain(verdict);
  });

  it('accepts promotion when the production id comes from an export earlier in the block', async () => {
    const found = docCommands(
      'inline',
      '```sh\nexport KB_DB_INSTANCE_ID=kb-prod\nscripts/restore-kb.sh --rds --force-production --target-instance=kb-restore-1 # promote\n```',
    );
    expect(found.map((c) => c.words[0])).toEqual(['export', 'scripts/restore-kb.sh']);
    expect(await checkCommand(found[1]!)).toBeUndefined();
  });

  it('splits chains, drops redirections and comments, and reads only prompts in console blocks', () => {
    const found = docCommands(
      'inline',
      [
        '```console',
        '$ cd /srv/kb && KB_BACKUP_RETENTION_DAYS=14 scripts/backup-kb.sh --local --prune >> backups/backup.log 2>&1 # nightly',
        'backup:    backups/kb-backup-20261122-020000.sql.gz',
        '```',
      ].join('\n'),
    );
    expect(found.map((c) => [c.words, c.env])).toEqual([
      [['cd', '/srv/kb'], {}],
      [['scripts/backup-kb.sh', '--local', '--prune'], { KB_BACKUP_RETENTION_DAYS: '14' }],
    ]);
  });
});

describe('console events the runbook names', () => {
  const runbook = read(RUNBOOK);
  const referenced = [...new Set(runbook.match(/docs\/events\/[\w.-]+\.json/g) ?? [])];

  it('names at least one event of every restore function', () => {
    const functions = new Set(referenced.map((p) => p.split('/').pop()!.split('.')[0]));
    expect([...functions].sort()).toEqual(Object.keys(EVENT_SPECS).sort());
  });

  it.each(referenced)('%s exists and is valid for its function', (path) => {
    const spec = EVENT_SPECS[path.split('/').pop()!.split('.')[0] ?? ''];
    expect(spec).toBeDefined();
    expect(existsSync(join(ROOT, path))).toBe(true);
    const event = JSON.parse(read(path)) as Record<string, unknown>;
    expect(() => parseEvent(spec!, event)).not.toThrow();
    const problems = rdsValueProblems({
      ...(typeof event.targetInstanceId === 'string' ? { targetInstance: event.targetInstanceId } : {}),
      ...(typeof event.snapshotId === 'string' ? { snapshotId: event.snapshotId } : {}),
      ...(typeof event.targetTime === 'string' ? { targetTime: event.targetTime } : {}),
    });
    expect(problems).toEqual([]);
  });

  it('names only event files that exist', () => {
    const files = new Set(readdirSync(join(ROOT, 'docs/events')).map((f) => `docs/events/${f}`));
    expect(referenced.filter((p) => !files.has(p))).toEqual([]);
  });
});

/** Every code file of ours outside test/, for the document links the code prints or sets. */
function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Why `link`, written in `from` (a file path from the root), does not resolve; undefined when it does. */
function brokenLink(from: string, link: string): string | undefined {
  const [file = '', anchor] = link.split('#');
  const target = file ? resolve(join(ROOT, from, '..'), file) : join(ROOT, from);
  if (!existsSync(target)) return `${link}: no file ${target.slice(ROOT.length + 1)}`;
  if (anchor === undefined || !target.endsWith('.md')) return undefined;
  return headingAnchors(readFileSync(target, 'utf8')).has(anchor)
    ? undefined
    : `${link}: no heading #${anchor}`;
}

/** Relative Markdown links `[text](target)` of a document (not URLs, not mailto:). */
const relativeLinks = (markdown: string) =>
  [...markdown.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? '').filter((link) => !/^[a-z]+:/.test(link));

describe('links and anchors', () => {
  it('has a section for every runbook anchor the stacks link to (alarm descriptions, dashboard)', () => {
    const linked = readdirSync(join(ROOT, 'lib/constructs'))
      .flatMap((f) => [...read(`lib/constructs/${f}`).matchAll(/DISASTER-RECOVERY-RUNBOOK\.md#([\w-]+)/g)])
      .map((m) => m[1]);
    expect(linked).toEqual(expect.arrayContaining(['kb-backupfailure', 'kb-backupdurationhigh']));
  });

  it('resolves every docs/*.md#section the code names (alarm descriptions, answers, hints)', () => {
    const named = ['core', 'lambda', 'lib', 'cli', 'harness', 'drill', 'bench', 'bin']
      .flatMap(sourceFiles)
      .flatMap((file) =>
        [...read(file).matchAll(/\b(docs\/[\w.-]+\.md)(#[\w-]+)?/g)].map((m) => `${m[1]}${m[2] ?? ''}`),
      );
    expect(named.length).toBeGreaterThan(5);
    expect([...new Set(named)].map((link) => brokenLink('README.md', link)).filter(Boolean)).toEqual([]);
  });

  it.each(DOCUMENTS)('%s links only to files and sections that exist', (doc) => {
    expect(
      relativeLinks(read(doc))
        .map((link) => brokenLink(doc, link))
        .filter(Boolean),
    ).toEqual([]);
  });

  it('reports a missing file, a missing section and a same-page section that does not exist', () => {
    expect(brokenLink('README.md', 'docs/NOPE.md')).toMatch(/no file docs\/NOPE\.md/);
    expect(brokenLink('README.md', 'docs/DRILL.md#no-such-step')).toMatch(/no heading #no-such-step/);
    expect(brokenLink('docs/DRILL.md', '#steps')).toBeUndefined();
    expect(brokenLink('docs/DRILL.md', '#nope')).toMatch(/no heading #nope/);
    expect(brokenLink('docs/PROOF.md', 'events/restore-pitr.latest.json')).toBeUndefined();
    expect(relativeLinks('[a](docs/x.md) [b](https://example.com) [c](mailto:x@y) [d](#e)')).toEqual([
      'docs/x.md',
      '#e',
    ]);
  });
});

describe('one home per topic', () => {
  it("lists the drill's steps in docs/DRILL.md as the drill runs them, by the titles it prints", () => {
    const documented = [...read('docs/DRILL.md').matchAll(/^### (\d+)\. (.+)$/gm)].map((m) => [
      Number(m[1]),
      m[2],
    ]);
    expect(documented).toEqual(DRILL_STEPS.map((step, i) => [i + 1, step.title]));
  });

  it('tables every function of the catalog in docs/ARCHITECTURE.md, once, and every lambda/ folder is one', () => {
    const table = read('docs/ARCHITECTURE.md').split('## Functions')[1] ?? '';
    const rows = [...table.matchAll(/^\| `kb-dr-([\w-]+)` \|/gm)].map((m) => m[1]);
    expect(rows).toEqual([...FUNCTIONS]);
    const folders = readdirSync(join(ROOT, 'lambda'), { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name !== 'shared')
      .map((e) => e.name);
    expect(folders.sort()).toEqual([...FUNCTIONS].sort());
  });

  it.each([
    ['the dashboard guide', /^\| \*\*Hours since last successful backup\*\* \|/m, RUNBOOK],
    ['the functions table', /^\| `kb-dr-verify-restore` \|/m, 'docs/ARCHITECTURE.md'],
    ['the layout', /^lambda\/shared\/ +runtime adapters/m, 'docs/ARCHITECTURE.md'],
    ['the local restore steps', /^\d\. creates a new database `<name>_restoring_<timestamp>`/m, LOCAL_GUIDE],
    ['the local error messages', /^\| `no database name is set` \|/m, LOCAL_GUIDE],
    ['the CLI environment table', /^\| `KB_RESTORE_POLL_SECONDS` \|/m, RUNBOOK],
    ['the drill options', /^- `--entries N`/m, 'docs/DRILL.md'],
  ])('%s is in one document only', (_topic, pattern, home) => {
    expect(DOCUMENTS.filter((doc) => pattern.test(read(doc)))).toEqual([home]);
  });
});

describe('verification set-up in the runbook', () => {
  it('quotes the exact SQL that creates the read-only login role', () => {
    const quoted = read(RUNBOOK)
      .split('\n')
      .map((l) => l.trim())
      .join('\n');
    expect(quoted).toContain(verifyRoleSql());
  });

  it('has the section NOT_CONFIGURED results point to', () => {
    const [file, anchor] = VERIFY_DOCS.split('#');
    expect(file).toBe(RUNBOOK);
    expect(headingAnchors(read(RUNBOOK)).has(anchor ?? '')).toBe(true);
  });
});
