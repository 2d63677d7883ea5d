/**
 * The shell entry points the runbook names, run as a developer would: from another folder,
 * configured only by environment variables, judged by exit code and output.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { corruptMiddleByte, tempDir } from '../support/cli-fixtures';
import { freePort } from '../../harness/moto';
import {
  createKbDatabase,
  entryCount,
  kbFingerprint,
  seedSql,
  type TestPostgres,
} from '../../harness/postgres';
import { sharedPostgres } from '../support/shared-services';

const ROOT = resolve(__dirname, '../..');
const script = (name: string) => join(ROOT, 'scripts', name);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run a script with stdin that is not a terminal (closed pipe), in `cwd`, with `env` on top of PATH. */
function run(name: string, args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(script(name), args, {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

let pg: TestPostgres;
let cwd: string;
let backupFile: string;

beforeAll(async () => {
  pg = await sharedPostgres();
  await createKbDatabase(pg, 'kb', 150);
  cwd = tempDir(pg, 'cwd');
});

afterAll(async () => {
  await pg?.stop();
});

describe('scripts/backup-kb.sh --local', () => {
  it('writes a verified backup into ./backups of the current folder and prints path, checksum, size, entries, duration', async () => {
    const result = await run('backup-kb.sh', ['--local'], pg.env('kb'), cwd);

    expect(result.stderr).not.toContain('error:');
    expect(result.code).toBe(0);
    const files = readdirSync(join(cwd, 'backups'));
    expect(files).toHaveLength(2);
    backupFile = join(
      cwd,
      'backups',
      files.find((f) => f.endsWith('.sql.gz'))!,
    );
    expect(result.stdout).toContain(`backup:    ${backupFile}`);
    expect(result.stdout).toMatch(/checksum: {2}[0-9a-f]{64}/);
    expect(result.stdout).toMatch(/size: {6}[\d.]+ KiB compressed/);
    expect(result.stdout).toContain('entries:   150 knowledge_entries');
    expect(result.stdout).toMatch(/duration: {2}\d/);
    expect(result.stdout + result.stderr).not.toContain(pg.password);
  });

  it('exits 1 with one sentence saying what to do when the server is unreachable', async () => {
    const dir = tempDir(pg, 'down');
    const env = { ...pg.env('kb'), KB_DB_PORT: String(await freePort()), KB_BACKUP_LOCAL_PATH: dir };

    const result = await run('backup-kb.sh', ['--local'], env, cwd);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^error: pg_dump failed: cannot reach PostgreSQL at 127\.0\.0\.1:\d+ .*; start the database server/m,
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('falls back to the PG* variables when KB_DB_* are not set', async () => {
    const dir = tempDir(pg, 'pgvars');
    const env = {
      PGHOST: pg.host,
      PGPORT: String(pg.port),
      PGUSER: pg.user,
      PGPASSWORD: pg.password,
      PGDATABASE: 'kb',
    };

    const result = await run('backup-kb.sh', ['--local', '--dir', dir], env, cwd);

    expect(result.code).toBe(0);
    expect(readdirSync(dir)).toHaveLength(2);
  });

  it('prunes backups older than KB_BACKUP_RETENTION_DAYS with --prune and keeps the new one', async () => {
    // Prepare: two copies of a valid backup named 40 and 35 days back.
    const dir = tempDir(pg, 'prune');
    const old = ['kb-backup-20200101-020000.sql.gz', 'kb-backup-20200106-020000.sql.gz'];
    for (const name of old) {
      copyFileSync(backupFile, join(dir, name));
      const digest = createHash('sha256').update(readFileSync(backupFile)).digest('hex');
      writeFileSync(join(dir, `${name}.sha256`), `${digest}  ${name}\n`); // as kb-dr writes it
    }

    const result = await run(
      'backup-kb.sh',
      ['--local', '--prune'],
      { ...pg.env('kb'), KB_BACKUP_LOCAL_PATH: dir, KB_BACKUP_RETENTION_DAYS: '30' },
      cwd,
    );

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/pruned: {4}2 backup\(s\) older than 30 days; 1 kept/);
    expect(readdirSync(dir).filter((f) => f.startsWith('kb-backup-2020'))).toEqual([]);
    expect(readdirSync(dir)).toHaveLength(2);
  });

  it('invokes --rds as <prefix>-backup, refused before any AWS call when no region is set', async () => {
    const result = await run('backup-kb.sh', ['--rds', '--yes'], pg.env('kb'), cwd);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: no AWS region to invoke kb-dr-backup; set AWS_REGION');
  });

  it('exits 2 on an unknown option', async () => {
    const result = await run('backup-kb.sh', ['--local', '--nope'], pg.env('kb'), cwd);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--nope'");
  });
});

describe('scripts/validate-backup.sh', () => {
  it('prints PASS for every check and exits 0 on a good backup', async () => {
    const result = await run('validate-backup.sh', [`--backup-file=${backupFile}`], {}, cwd);

    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').filter((l) => l.startsWith('PASS'))).toHaveLength(6);
    expect(result.stdout).toContain('VALID');
  });

  it('prints FAIL lines and exits 1 on a corrupted copy', async () => {
    const dir = tempDir(pg, 'bad');
    const copy = join(dir, 'kb-backup-20261122-020000.sql.gz');
    copyFileSync(backupFile, copy);
    corruptMiddleByte(copy);

    const result = await run('validate-backup.sh', [`--backup-file=${copy}`], {}, cwd);

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^FAIL {2}checksum/m);
    expect(result.stdout).toMatch(/^INVALID/m);
  });
});

describe('scripts/restore-kb.sh --local', () => {
  it('refuses to restore without --yes when stdin is not a terminal, exits 2 and changes nothing', async () => {
    const before = await pg.databases();

    const result = await run('restore-kb.sh', ['--local', `--backup-file=${backupFile}`], pg.env('kb'), cwd);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'refusing to continue without confirmation: stdin is not a terminal; re-run with --yes',
    );
    expect(await pg.databases()).toEqual(before);
  });

  it('restores with --yes, prints a summary, and --rollback puts the previous data back', async () => {
    // Prepare
    await pg.sql('kb', seedSql(10, { from: 1001 }));
    const beforeRestore = await kbFingerprint(pg, 'kb');

    // Act
    const restore = await run(
      'restore-kb.sh',
      ['--local', `--backup-file=${backupFile}`, '--yes'],
      pg.env('kb'),
      cwd,
    );

    // Assess
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain('entries:   150 knowledge_entries');
    expect(restore.stdout).toMatch(/old data: {2}kept as database kb_pre_restore_\d{8}_\d{6}_\d{3}/);
    expect(await entryCount(pg, 'kb')).toBe(150);

    const rollback = await run('restore-kb.sh', ['--local', '--rollback', '--yes'], pg.env('kb'), cwd);

    expect(rollback.code).toBe(0);
    expect(rollback.stdout).toMatch(/rolled back: kb is now the data kept as kb_pre_restore_/);
    expect(await kbFingerprint(pg, 'kb')).toBe(beforeRestore);
  });

  it('asks for --backup-file or --rollback, exiting 2 (refused, nothing changed)', async () => {
    const result = await run('restore-kb.sh', ['--local', '--yes'], pg.env('kb'), cwd);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pass either --backup-file=FILE or --rollback');
  });
});
