/** Backup files made by hand for the restore tests: any SQL, gzipped, with a matching .sha256. */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

/** The SQL inside a kb-backup-*.sql.gz. */
export function readDumpSql(file: string): string {
  return gunzipSync(readFileSync(file)).toString('utf8');
}

/** Write `sql` as `dir/name` (gzipped) with a `.sha256` that matches, as a backup the tool wrote. */
export function writeDumpFile(dir: string, sql: string, name = 'kb-backup-20261122-020000.sql.gz'): string {
  const path = join(dir, name);
  const content = gzipSync(sql);
  writeFileSync(path, content);
  writeFileSync(
    `${path}.sha256`,
    `${createHash('sha256').update(content).digest('hex')}  ${basename(path)}\n`,
  );
  return path;
}

/** `sql` with `extra` inserted just before pg_dump's trailer comment. */
export function beforeTrailer(sql: string, extra: string): string {
  const at = sql.indexOf('--\n-- PostgreSQL database dump complete');
  if (at < 0) throw new Error('no pg_dump trailer in the SQL');
  return `${sql.slice(0, at)}${extra}\n\n${sql.slice(at)}`;
}

/** `sql` without pg_dump's `\restrict` / `\unrestrict` lines. */
export function withoutRestrictGuard(sql: string): string {
  return sql.replace(/^\\(un)?restrict .*\n/gm, '');
}
