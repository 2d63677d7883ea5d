/** Helpers shared by the CLI tests: loggers that capture, temp folders, file corruption. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConnection, type PgConnection } from '../../cli/local/connection';
import { createCliLogger, type CliLogger } from '../../cli/shared/logger';
import type { TestPostgres } from '../../harness/postgres';

export interface CapturingLogger {
  readonly logger: CliLogger;
  /** Everything logged so far, one JSON object per line. */
  text(): string;
}

export function capturingLogger(): CapturingLogger {
  let buffer = '';
  const stream = {
    write: (chunk: string) => {
      buffer += chunk;
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  return { logger: createCliLogger({ stream, format: 'json', level: 'DEBUG' }), text: () => buffer };
}

/** A connection to `database` on the test cluster, as the CLI would resolve it from KB_DB_*. */
export function connectionTo(
  pg: TestPostgres,
  database: string,
  extra: Record<string, string> = {},
): PgConnection {
  return resolveConnection({ PATH: process.env.PATH, ...pg.env(database), ...extra });
}

export function tempDir(pg: TestPostgres, name: string): string {
  return mkdtempSync(join(pg.dir, `${name}-`));
}

/** All entries in a folder, hidden ones included. */
export function listAll(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** Overwrite one byte in the middle of `file` with its bitwise complement, using dd. */
export function corruptMiddleByte(file: string): void {
  const offset = Math.floor(statSync(file).size / 2);
  const original = execFileSync('dd', [`if=${file}`, 'bs=1', `skip=${offset}`, 'count=1', 'status=none']);
  const flipped = Buffer.from([(original[0] ?? 0) ^ 0xff]);
  execFileSync('dd', [`of=${file}`, 'bs=1', `seek=${offset}`, 'count=1', 'conv=notrunc', 'status=none'], {
    input: flipped,
  });
}

/** Cut `file` to half its size. */
export function truncateToHalf(file: string): void {
  execFileSync('truncate', ['-s', String(Math.floor(statSync(file).size / 2)), file]);
}

/** A clock returning the given instants in turn (then the last one), so backup names differ. */
export function clock(...isoTimes: string[]): () => Date {
  let i = 0;
  return () => new Date(isoTimes[Math.min(i++, isoTimes.length - 1)]!);
}
