/**
 * Validation of a local backup file, in one streaming pass: readable, checksum matches its
 * `.sha256`, gzip stream complete, a complete pg_dump with both Knowledge Base tables, and a
 * plausible size against the previous backups in the same folder. Reads only the file system:
 * never connects to a database.
 */
import { createReadStream } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { CliLogger } from '../shared/logger';
import { checksumPathFor, listLocalBackups, readChecksumFile, sha256File } from './backup-files';
import {
  DUMP_HEADER,
  DUMP_TRAILER,
  DumpScanner,
  HashingStream,
  KB_TABLES,
  findKbTable,
  kbRowCount,
  type DumpSummary,
} from './dump-scanner';

/** A backup smaller than this fraction of the median of the previous ones fails the size check. */
export const MIN_SIZE_RATIO = 0.5;
/** How many previous backups the size check compares against. */
export const SIZE_HISTORY = 5;

export type CheckName = 'readable' | 'checksum' | 'gzip' | 'pg_dump' | 'content' | 'size';

export interface CheckResult {
  readonly name: CheckName;
  readonly ok: boolean;
  readonly detail: string;
}

export interface ValidationReport {
  readonly file: string;
  readonly valid: boolean;
  readonly checks: readonly CheckResult[];
  readonly bytes: number;
  /** SHA-256 of the file as read (undefined when unreadable). */
  readonly sha256: string | undefined;
  readonly summary: DumpSummary | undefined;
  readonly entryCount: number | undefined;
  readonly embeddingCacheCount: number | undefined;
}

export interface ValidateOptions {
  readonly file: string;
  readonly logger: CliLogger;
  /** Pass the size check even when much smaller than the previous backups (the data really shrank). */
  readonly allowSmall?: boolean;
  /** Accept a dump without pg_dump's `\restrict` guard (the user vouches for the file). */
  readonly trustedFile?: boolean;
}

/** How to re-dump a database so kb-dr accepts the file. */
export const REDUMP_HINT =
  're-dump without --create/--clean (`pg_dump --format=plain DBNAME | gzip > FILE`) or take a new backup with `scripts/backup-kb.sh --local`; the restore creates the new database itself';

/** Problems other than a --create dump's own statements, so none is hidden behind that message. */
function alsoProblems(summary: DumpSummary): string {
  const others = summary.problems.filter((p) => p.kind !== 'database' && p.kind !== 'connect');
  return others.length > 0
    ? `; it also holds: ${others
        .slice(0, 3)
        .map((p) => `line ${p.line}: ${p.detail}`)
        .join('; ')}`
    : '';
}

/** The content check: nothing in the file may reach beyond the database it is loaded into. */
export function contentCheck(summary: DumpSummary, trustedFile: boolean): CheckResult {
  if (summary.createsDatabase) {
    return {
      name: 'content',
      ok: false,
      detail: `this is a \`pg_dump --create\` (or --clean) dump: it drops, creates or reconnects to a database by name (${summary.problems
        .filter((p) => p.kind === 'database' || p.kind === 'connect')
        .slice(0, 3)
        .map((p) => `line ${p.line}: ${p.detail.split(':')[0]}`)
        .join(
          '; ',
        )}), which would act on the live database, not a new one; ${REDUMP_HINT}${alsoProblems(summary)}`,
    };
  }
  if (summary.problemCount > 0) {
    const shown = summary.problems.slice(0, 3).map((p) => `line ${p.line}: ${p.detail}`);
    const more = summary.problemCount - shown.length;
    return {
      name: 'content',
      ok: false,
      detail: `holds what a pg_dump of one database never writes: ${shown.join('; ')}${more > 0 ? ` (and ${more} more)` : ''}`,
    };
  }
  if (!summary.restrictGuard) {
    if (trustedFile)
      return {
        name: 'content',
        ok: true,
        detail: 'statements only; no \\restrict guard (accepted with --trusted-file)',
      };
    return {
      name: 'content',
      ok: false,
      detail:
        'no `\\restrict` line: the file was not written by pg_dump 15.14 or later (or the line was removed); take a new backup, or re-run with --trusted-file if you know where the file comes from',
    };
  }
  return {
    name: 'content',
    ok: true,
    detail: 'only statements pg_dump writes for one database; \\restrict guard present',
  };
}

/** `text` as one shell word (single-quoted unless plainly safe), for commands printed in hints. */
export function shellQuote(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

function sinkStream(): Writable {
  return new Writable({ write: (_chunk, _enc, cb) => cb() });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function sizeCheck(file: string, bytes: number, allowSmall: boolean): Promise<CheckResult> {
  if (bytes === 0) return { name: 'size', ok: false, detail: 'the file is empty' };
  const previous = (await listLocalBackups(dirname(file)))
    .filter((b) => b.name < basename(file))
    .slice(-SIZE_HISTORY);
  const sizes: number[] = [];
  for (const b of previous) {
    const s = await stat(b.path).catch(() => undefined);
    if (s && s.size > 0) sizes.push(s.size);
  }
  if (sizes.length === 0)
    return { name: 'size', ok: true, detail: `${bytes} bytes (no previous backup to compare)` };
  const typical = median(sizes);
  const ratio = bytes / typical;
  const text = `${bytes} bytes, ${Math.round(ratio * 100)}% of the median of the ${sizes.length} previous backup(s)`;
  if (ratio >= MIN_SIZE_RATIO) return { name: 'size', ok: true, detail: text };
  if (allowSmall) return { name: 'size', ok: true, detail: `${text} (accepted with --allow-small)` };
  return {
    name: 'size',
    ok: false,
    detail: `${text}: suspiciously small; if the database really shrank, re-run with --allow-small`,
  };
}

/** What can be checked without reading the file through: its type and size, its `.sha256`, its size history. */
export interface FileChecks {
  readonly file: string;
  readonly bytes: number;
  readonly readable: CheckResult;
  /** The SHA-256 the `.sha256` names; undefined when that file fails (then `checksum` says why). */
  readonly expectedSha256: string | undefined;
  /** The checksum check's failure when the `.sha256` itself is missing or wrong; else undefined. */
  readonly checksum: CheckResult | undefined;
  readonly size: CheckResult;
}

/** The checks a restore makes before anything reads the file through (and validate reuses). */
export async function checkFile(options: { file: string; allowSmall?: boolean }): Promise<FileChecks> {
  const file = resolve(options.file);
  let bytes = 0;
  let readable: CheckResult;
  try {
    const s = await stat(file);
    if (!s.isFile()) {
      const kind = s.isFIFO()
        ? 'a named pipe (FIFO)'
        : s.isCharacterDevice()
          ? `a character device${file === '/dev/null' ? ' (/dev/null)' : ''}`
          : s.isDirectory()
            ? 'a directory'
            : s.isSocket()
              ? 'a socket'
              : 'not a regular file';
      throw Object.assign(new Error(`${file} is ${kind}, not a backup file`), { code: 'ENOTFILE' });
    }
    await access(file, constants.R_OK);
    bytes = s.size;
    readable = { name: 'readable', ok: true, detail: `${bytes} bytes` };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    readable = {
      name: 'readable',
      ok: false,
      detail:
        code === 'ENOTFILE'
          ? `${(err as Error).message}: pass a kb-backup-*.sql.gz file`
          : `${file} cannot be read (${code})`,
    };
    const unread = { ok: false, detail: 'not checked: file unreadable' };
    return {
      file,
      bytes,
      readable,
      expectedSha256: undefined,
      checksum: { name: 'checksum', ...unread },
      size: { name: 'size', ...unread },
    };
  }

  const checksumFile = checksumPathFor(file);
  const expected = await readChecksumFile(file).catch((err: unknown) => ({
    unreadable: (err as NodeJS.ErrnoException).code ?? String(err),
  }));
  const fail = (detail: string): CheckResult => ({ name: 'checksum', ok: false, detail });
  let checksum: CheckResult | undefined;
  let expectedSha256: string | undefined;
  if (expected !== undefined && typeof expected === 'object' && 'unreadable' in expected) {
    checksum = fail(
      `${basename(checksumFile)} cannot be read (${expected.unreadable}); check its permissions`,
    );
  } else if (expected === undefined) {
    checksum = fail(
      `${basename(checksumFile)} is missing; if you trust this file, regenerate it with \`cd ${shellQuote(dirname(file))} && sha256sum ${shellQuote(basename(file))} > ${shellQuote(basename(checksumFile))}\``,
    );
  } else if (expected === 'malformed') {
    checksum = fail(`${basename(checksumFile)} is not in sha256sum format`);
  } else if (expected.fileName !== basename(file)) {
    checksum = fail(`${basename(checksumFile)} is for ${expected.fileName}, not ${basename(file)}`);
  } else {
    expectedSha256 = expected.sha256;
  }
  const size = await sizeCheck(file, bytes, options.allowSmall ?? false);
  return { file, bytes, readable, expectedSha256, checksum, size };
}

/** What one pass over the file found: its hash, whether gzip read to the end, the dump's summary. */
export interface PassResult {
  readonly sha256: string;
  readonly gzipError: Error | undefined;
  readonly summary: DumpSummary;
}

/** The validation report from the file checks and one pass over the file. */
export function validationReport(
  pre: FileChecks,
  pass: PassResult | undefined,
  options: { trustedFile?: boolean },
): ValidationReport {
  const { file, bytes } = pre;
  const checks: CheckResult[] = [pre.readable];
  if (!pass) {
    for (const name of ['checksum', 'gzip', 'pg_dump', 'content'] as const)
      checks.push({ name, ok: false, detail: 'not checked: file unreadable' });
    checks.push(pre.size);
    return {
      file,
      valid: false,
      checks,
      bytes,
      sha256: undefined,
      summary: undefined,
      entryCount: undefined,
      embeddingCacheCount: undefined,
    };
  }
  const { sha256, gzipError, summary } = pass;
  const checksumFile = basename(checksumPathFor(file));
  checks.push(
    pre.checksum ??
      (pre.expectedSha256 !== sha256
        ? {
            name: 'checksum',
            ok: false,
            detail: `SHA-256 ${sha256} does not match ${pre.expectedSha256} in ${checksumFile}`,
          }
        : { name: 'checksum', ok: true, detail: `SHA-256 ${sha256} matches ${checksumFile}` }),
  );
  checks.push(
    gzipError
      ? { name: 'gzip', ok: false, detail: `the gzip stream is damaged or cut off (${gzipError.message})` }
      : { name: 'gzip', ok: true, detail: `complete, ${summary.bytes} bytes of SQL` },
  );

  const problems: string[] = [];
  if (!summary.header) problems.push(`no "${DUMP_HEADER}" header`);
  if (!summary.trailer) problems.push(`no "${DUMP_TRAILER}" trailer`);
  if (summary.unterminatedCopy) problems.push('a COPY block is cut off');
  for (const t of KB_TABLES) if (!findKbTable(summary, t)) problems.push(`table public.${t} missing`);
  const entryCount = kbRowCount(summary, 'knowledge_entries');
  const embeddingCacheCount = kbRowCount(summary, 'embedding_cache');
  checks.push(
    problems.length > 0
      ? { name: 'pg_dump', ok: false, detail: `not a complete Knowledge Base dump: ${problems.join(', ')}` }
      : {
          name: 'pg_dump',
          ok: true,
          detail: `complete dump: ${entryCount} knowledge_entries, ${embeddingCacheCount} embedding_cache rows`,
        },
  );
  checks.push(
    gzipError
      ? { name: 'content', ok: false, detail: 'not checked: the gzip stream is damaged' }
      : contentCheck(summary, options.trustedFile ?? false),
  );
  checks.push(pre.size);
  const valid = checks.every((c) => c.ok);
  return { file, valid, checks, bytes, sha256, summary, entryCount, embeddingCacheCount };
}

/** Validate `options.file`; the report says PASS/FAIL per check and never throws for a bad file. */
export async function validateBackup(options: ValidateOptions): Promise<ValidationReport> {
  const pre = await checkFile(options);
  if (!pre.readable.ok) return validationReport(pre, undefined, options);
  options.logger.info('validating backup', { file: pre.file, bytes: pre.bytes });
  const hasher = new HashingStream();
  const scanner = new DumpScanner();
  let gzipError: Error | undefined;
  try {
    await pipeline(createReadStream(pre.file), hasher, createGunzip(), scanner, sinkStream());
  } catch (err) {
    gzipError = err as Error;
  }
  // A broken gzip stream stops the pass early; finish the checksum with a plain read.
  const sha256 = gzipError ? await sha256File(pre.file) : hasher.digest();
  const report = validationReport(pre, { sha256, gzipError, summary: scanner.summary() }, options);
  options.logger.info(report.valid ? 'backup is valid' : 'backup is NOT valid', {
    file: pre.file,
    failed: report.checks.filter((c) => !c.ok).map((c) => c.name),
  });
  return report;
}

/** The PASS/FAIL report, one line per check. */
export function formatValidationReport(report: ValidationReport): string {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines = report.checks.map((c) => `${c.ok ? 'PASS' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}`);
  const failed = report.checks.filter((c) => !c.ok).length;
  lines.push(
    report.valid ? `VALID    ${report.file}` : `INVALID  ${report.file} (${failed} check(s) failed)`,
  );
  return `${lines.join('\n')}\n`;
}
