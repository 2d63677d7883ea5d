/**
 * Reads a plain-format pg_dump as it streams past (pass-through Transform) and records what a
 * complete Knowledge Base dump must contain: the header and trailer comments pg_dump writes,
 * the CREATE TABLE statements, and the number of COPY rows per table. COPY writes one row per
 * line (newlines inside values are escaped), so counting lines between `COPY ... FROM stdin;`
 * and `\.` gives the exact row counts of the dump's snapshot, with no second query that could
 * see a different state of a database under concurrent writes.
 *
 * Cost is one `indexOf('\n')` per line; only non-data lines are decoded to strings.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export const DUMP_HEADER = '-- PostgreSQL database dump';
export const DUMP_TRAILER = '-- PostgreSQL database dump complete';
/** The Knowledge Base tables a dump must contain. */
export const KB_TABLES = ['knowledge_entries', 'embedding_cache'] as const;
export type KbTable = (typeof KB_TABLES)[number];

/** Only the start of a line matters to the scanner; longer lines are cut in memory. */
const MAX_LINE_PREFIX = 4096;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const DOT = 0x2e;

export interface DumpSummary {
  readonly header: boolean;
  readonly trailer: boolean;
  /** True when a COPY block was still open at the end (cut-off dump). */
  readonly unterminatedCopy: boolean;
  /** Tables created in the dump, as pg_dump names them (e.g. `public.knowledge_entries`). */
  readonly tables: readonly string[];
  /** COPY rows per table, keyed as in `tables`. */
  readonly rowCounts: Readonly<Record<string, number>>;
  /** Uncompressed bytes seen. */
  readonly bytes: number;
}

/** `public.knowledge_entries`, `"Public"."x"` → `x` (unquoted last component). */
export function unqualifiedName(name: string): string {
  const last = name.match(/(?:"((?:[^"]|"")*)"|([^."]+))$/);
  if (!last) return name;
  return last[1] !== undefined ? last[1].replace(/""/g, '"') : (last[2] ?? name);
}

/** The dumped name of a Knowledge Base table in `summary`, if the dump created it. */
export function findKbTable(summary: DumpSummary, table: KbTable): string | undefined {
  return summary.tables.find((t) => unqualifiedName(t) === table);
}

/** Rows of a Knowledge Base table in the dump (0 when created but empty, undefined when absent). */
export function kbRowCount(summary: DumpSummary, table: KbTable): number | undefined {
  const name = findKbTable(summary, table);
  return name === undefined ? undefined : (summary.rowCounts[name] ?? 0);
}

/** Whether the summary describes a complete dump with both Knowledge Base tables. */
export function isCompleteKbDump(summary: DumpSummary): boolean {
  return (
    summary.header &&
    summary.trailer &&
    !summary.unterminatedCopy &&
    KB_TABLES.every((t) => findKbTable(summary, t) !== undefined)
  );
}

export class DumpScanner extends Transform {
  private carry: Buffer[] = [];
  private carryLength = 0;
  private lineNumber = 0;
  private copyTable: string | undefined;
  private header = false;
  private trailer = false;
  private readonly tables: string[] = [];
  private readonly rowCounts: Record<string, number> = {};
  private bytes = 0;
  private copyRows = 0;

  /** Rows of the COPY blocks seen so far, all tables (for progress reports). */
  get rowsSoFar(): number {
    return this.copyRows;
  }

  get bytesSoFar(): number {
    return this.bytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.scan(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.carryLength > 0) this.endLine(Buffer.alloc(0), 0);
    callback();
  }

  summary(): DumpSummary {
    return {
      header: this.header,
      trailer: this.trailer,
      unterminatedCopy: this.copyTable !== undefined,
      tables: [...this.tables],
      rowCounts: { ...this.rowCounts },
      bytes: this.bytes,
    };
  }

  private scan(chunk: Buffer): void {
    this.bytes += chunk.length;
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) {
        if (start < chunk.length) this.keep(chunk.subarray(start));
        return;
      }
      this.endLine(chunk.subarray(start, nl), nl - start);
      start = nl + 1;
    }
  }

  private keep(piece: Buffer): void {
    const room = MAX_LINE_PREFIX - Math.min(this.carryLength, MAX_LINE_PREFIX);
    if (room > 0) this.carry.push(Buffer.from(piece.subarray(0, room)));
    this.carryLength += piece.length;
  }

  /** `tail` is the rest of the line in the current chunk; `tailLength` its full length. */
  private endLine(tail: Buffer, tailLength: number): void {
    let line = tail;
    let length = tailLength;
    if (this.carryLength > 0) {
      this.keep(tail);
      line = Buffer.concat(this.carry);
      length = this.carryLength;
      this.carry = [];
      this.carryLength = 0;
    }
    this.lineNumber += 1;
    if (this.copyTable !== undefined) {
      if (length === 2 && line[0] === BACKSLASH && line[1] === DOT) {
        this.copyTable = undefined;
      } else {
        this.rowCounts[this.copyTable] = (this.rowCounts[this.copyTable] ?? 0) + 1;
        this.copyRows += 1;
      }
      return;
    }
    this.onStatementLine(line.subarray(0, MAX_LINE_PREFIX).toString('utf8'));
  }

  private onStatementLine(text: string): void {
    if (this.lineNumber <= 5 && text === DUMP_HEADER) this.header = true;
    if (text === DUMP_TRAILER) {
      this.trailer = true;
      return;
    }
    // After the trailer pg_dump writes only comment markers, blank lines and `\unrestrict`.
    if (this.trailer && text !== '' && !text.startsWith('--') && !text.startsWith('\\unrestrict')) {
      this.trailer = false;
    }
    if (text.startsWith('CREATE TABLE ')) {
      const name = text.slice('CREATE TABLE '.length).split(' (')[0]?.trim();
      if (name) this.tables.push(name);
    } else if (text.startsWith('COPY ') && text.endsWith(' FROM stdin;')) {
      const name = text.slice('COPY '.length).split(' (')[0]?.trim();
      if (name) {
        this.copyTable = name;
        this.rowCounts[name] ??= 0;
      }
    }
  }
}

/** Pass-through Transform computing the SHA-256 of everything that flows through it. */
export class HashingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private total = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.total += chunk.length;
    callback(null, chunk);
  }

  get bytes(): number {
    return this.total;
  }

  /** Hex digest; call once, after the stream finished. */
  digest(): string {
    return this.hash.digest('hex');
  }
}
