/**
 * Reads a plain-format pg_dump as it streams past and understands it by its structure, the way
 * psql will execute it: SQL is lexed (strings, quoted identifiers, dollar quotes, comments and
 * psql's own statement-end rules, BEGIN ATOMIC bodies included), `COPY ... FROM stdin;` switches
 * to data lines until `\.`, and pg_dump's table-of-contents comments (`-- Name: ...; Type: ...`)
 * say which section a statement belongs to. From that it records:
 * - the tables the dump creates, schema-qualified, with partitions (ATTACH PARTITION) and
 *   inheritance children linked to their parent, so the rows of `public.knowledge_entries` are
 *   counted exactly (COPY writes one row per line) and `archive.knowledge_entries` is not ours;
 * - every statement or psql meta-command that could reach beyond the database the file is loaded
 *   into (see dump-rules.ts), and whether pg_dump's `\restrict` guard is there.
 *
 * Two uses: `new DumpScanner()` passes the bytes through unchanged and only observes (backup,
 * validate); `new DumpScanner({ gate: true })` is the restore's filter in front of psql: it lets
 * through only whole statements it has classified as harmless plus COPY data, replaces the file's
 * `\restrict`/`\unrestrict` lines by its own `\restrict` key (psql then refuses every other
 * meta-command), and fails the stream at the first problem before the offending statement is
 * passed on.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import {
  classifyStatement,
  formatQualifiedName,
  type DumpProblem,
  type ProblemKind,
  type QualifiedName,
  type Token,
} from './dump-rules';

export type { DumpProblem } from './dump-rules';

export const DUMP_HEADER = '-- PostgreSQL database dump';
export const DUMP_TRAILER = '-- PostgreSQL database dump complete';
/** The Knowledge Base tables a dump must contain, in schema public. */
export const KB_TABLES = ['knowledge_entries', 'embedding_cache'] as const;
export type KbTable = (typeof KB_TABLES)[number];
export const KB_SCHEMA = 'public';

/** Problems kept in the summary (the count is exact). */
const MAX_PROBLEMS = 20;
/** A single statement longer than this is refused (pg_dump's longest are function bodies). */
export const MAX_STATEMENT_BYTES = 64 * 1024 * 1024;
const NEWLINE = 0x0a;
const TOC_RE = /^-- (?:Data for )?Name: (.*); Type: (.*); Schema: (.*); Owner: (.*)$/;
const GUARD_RE = /^\\(restrict|unrestrict) ([A-Za-z0-9]+)\s*$/;
const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

export interface DumpTable {
  /** `public.knowledge_entries` (quoted where SQL needs it). */
  readonly name: string;
  readonly schema: string | undefined;
  readonly table: string;
  /** The table this one is a partition or inheritance child of, as in `name`. */
  readonly parent: string | undefined;
}

export interface DumpSummary {
  readonly header: boolean;
  readonly trailer: boolean;
  /** True when a COPY block was still open at the end (cut-off dump). */
  readonly unterminatedCopy: boolean;
  /** Tables created in the dump. */
  readonly tables: readonly DumpTable[];
  /** COPY rows per table (its own rows, without partitions), keyed by `DumpTable.name`. */
  readonly rowCounts: Readonly<Record<string, number>>;
  /** Uncompressed bytes seen. */
  readonly bytes: number;
  /** pg_dump's `\restrict` line came before the first statement. */
  readonly restrictGuard: boolean;
  /** The file drops, creates or reconnects to a database (`pg_dump --create [--clean]`). */
  readonly createsDatabase: boolean;
  /** The first problems found (at most 20); `problemCount` has them all. */
  readonly problems: readonly DumpProblem[];
  readonly problemCount: number;
  /** Roles the dump names (owners, grantees), sorted, without PUBLIC. */
  readonly roles: readonly string[];
}

/** The error a gating scanner fails the stream with. */
export class DumpContentError extends Error {
  override readonly name = 'DumpContentError';
  constructor(readonly problem: DumpProblem) {
    super(`line ${problem.line}: ${problem.detail}`);
  }
}

/** The Knowledge Base table `public.<table>` in `summary`, if the dump created it. */
export function findKbTable(summary: DumpSummary, table: KbTable): DumpTable | undefined {
  return summary.tables.find((t) => t.schema === KB_SCHEMA && t.table === table);
}

/** Rows of a table with all its partitions/children, as `SELECT count(*)` on it sees them. */
export function tableRowCount(summary: DumpSummary, name: string): number {
  const children = new Map<string, string[]>();
  for (const t of summary.tables) {
    if (t.parent !== undefined) children.set(t.parent, [...(children.get(t.parent) ?? []), t.name]);
  }
  let total = 0;
  const seen = new Set<string>();
  const stack = [name];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (seen.has(current)) continue;
    seen.add(current);
    total += summary.rowCounts[current] ?? 0;
    stack.push(...(children.get(current) ?? []));
  }
  return total;
}

/** Rows of a Knowledge Base table in the dump (0 when created but empty, undefined when absent). */
export function kbRowCount(summary: DumpSummary, table: KbTable): number | undefined {
  const found = findKbTable(summary, table);
  return found === undefined ? undefined : tableRowCount(summary, found.name);
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

type LexMode = 'normal' | 'squote' | 'equote' | 'dquote' | 'dollar' | 'block';

export interface DumpScannerOptions {
  /** Filter for psql: pass only vetted statements, fail at the first problem. @default false */
  readonly gate?: boolean;
  /**
   * With `gate`: leave out ownership and privilege statements (`ALTER ... OWNER TO`, GRANT,
   * REVOKE, ALTER DEFAULT PRIVILEGES), so the restoring user owns everything. @default false
   */
  readonly portable?: boolean;
  /**
   * With `gate`: at the first problem, stop passing anything on but read on to the end without
   * failing the stream, so `summary()` describes the whole file (one pass serves both the load
   * and the validation report); `stoppedAt` says why it stopped. @default false (fail the stream)
   */
  readonly observeAfterProblem?: boolean;
  /**
   * With `gate` (not `portable`): the roles the server has. The gate stops passing statements on
   * at the first one naming another role (psql would fail there); it is not a problem of the file,
   * so `summary().roles` lists every role and the caller says which are missing.
   */
  readonly knownRoles?: ReadonlySet<string>;
  /**
   * With `gate`: push {@link GatePiece} objects instead of bytes, so the loader can spread COPY
   * rows over several sessions. The bytes are the same, in the same order. @default false
   */
  readonly pieces?: boolean;
}

/**
 * What the gate passes on, in `pieces` mode. Concatenating every piece's `bytes` gives exactly
 * what byte mode passes on.
 * - `sql`: `statements` statements (0: only comments, blank lines or the gate's own `\restrict`
 *   line) for the main session; `setting` when every statement in it only sets a session setting
 *   (`SET ...`, `SELECT pg_catalog.set_config`), which another session loading COPY rows must
 *   repeat to read them the same way. The gate passes no transaction control (dump-rules.ts
 *   refuses BEGIN, COMMIT, ...), so every statement commits by itself.
 * - `copy-begin`: the line(s) ending in `COPY ... FROM stdin;`; `alone` when they hold no other
 *   statement, so another session can run them as they are.
 * - `copy-rows`: whole data lines of the open COPY block (rows are independent of each other).
 * - `copy-end`: the `\.` line that ends the block.
 */
export type GatePiece =
  | { readonly kind: 'sql'; readonly bytes: Buffer; readonly statements: number; readonly setting: boolean }
  | { readonly kind: 'copy-begin'; readonly bytes: Buffer; readonly table: string; readonly alone: boolean }
  | { readonly kind: 'copy-rows'; readonly bytes: Buffer }
  | { readonly kind: 'copy-end'; readonly bytes: Buffer };

export class DumpScanner extends Transform {
  private readonly gate: boolean;
  private readonly portable: boolean;
  private readonly observeAfterProblem: boolean;
  private readonly knownRoles: ReadonlySet<string> | undefined;
  private readonly pieces: boolean;
  /** Gate: why it stopped passing statements on (then it only observes). */
  private stopped: DumpProblem | undefined;
  /** Gate: statements ended in the pending lines, and how many of them are left out. */
  private pendingStatements = 0;
  private pendingSkipped = 0;
  /** Gate: statements in the pending lines that only set a session setting. */
  private pendingSettings = 0;
  /** The `\restrict` key the gate puts in front of the file for psql. */
  readonly restrictKey = randomBytes(24).toString('hex');
  private carry: Buffer[] = [];
  private carryLength = 0;
  private lineNumber = 0;
  private header = false;
  private trailer = false;
  private bytes = 0;
  private copyRows = 0;
  private copyTable: string | undefined;
  private readonly tables = new Map<string, DumpTable>();
  private readonly parents = new Map<string, string>();
  private readonly rowCounts: Record<string, number> = {};
  private readonly problems: DumpProblem[] = [];
  private problemCount = 0;
  private readonly roles = new Set<string>();
  private restrictGuard = false;
  private statementsSeen = 0;
  private createsDatabase = false;
  private tocType: string | undefined;
  // Lexer state, carried across lines.
  private mode: LexMode = 'normal';
  private dollarTag = '';
  private blockDepth = 0;
  private parenDepth = 0;
  private beginDepth = 0;
  private identifierCount = 0;
  private identifiers = '';
  private tokens: Token[] = [];
  private tokenText = '';
  private statementLine = 0;
  private statementBytes = 0;
  /** Gate: lines of the statement(s) not yet known to be harmless. */
  private pending: Buffer[] = [];
  private failed: DumpContentError | undefined;

  constructor(options: DumpScannerOptions = {}) {
    const pieces = (options.gate ?? false) && (options.pieces ?? false);
    // Pieces hold gunzip's chunks (up to 256 KiB each): keep as few waiting as byte mode's 16 KiB does.
    super(pieces ? { readableObjectMode: true, readableHighWaterMark: 1 } : {});
    this.gate = options.gate ?? false;
    this.portable = options.portable ?? false;
    this.observeAfterProblem = options.observeAfterProblem ?? false;
    this.knownRoles = options.knownRoles;
    this.pieces = pieces;
    if (this.gate)
      this.pass({
        kind: 'sql',
        bytes: Buffer.from(`\\restrict ${this.restrictKey}\n`),
        statements: 0,
        setting: false,
      });
  }

  /** Gate: pass `piece` on, as an object in `pieces` mode, else as its bytes. */
  private pass(piece: GatePiece): void {
    this.push(this.pieces ? piece : piece.bytes);
  }

  /** Rows of the COPY blocks seen so far, all tables (for progress reports). */
  get rowsSoFar(): number {
    return this.copyRows;
  }

  get bytesSoFar(): number {
    return this.bytes;
  }

  /** Gate: the problem (or role) at which it stopped passing statements on, if it did. */
  get stoppedAt(): DumpProblem | undefined {
    return this.stopped;
  }

  /** A gate still passing statements on. */
  private get forwarding(): boolean {
    return this.gate && this.stopped === undefined;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    if (!this.gate) {
      this.scan(chunk);
      callback(null, chunk);
      return;
    }
    this.scan(chunk);
    callback(this.failed ?? null);
  }

  override _flush(callback: TransformCallback): void {
    if (this.carryLength > 0) this.endLine(Buffer.concat(this.carry));
    this.carry = [];
    this.carryLength = 0;
    if (this.forwarding && (this.tokens.length > 0 || this.mode !== 'normal')) {
      this.report('structure', 'the file ends inside a statement');
    }
    if (this.forwarding) this.flushPending();
    callback(this.failed ?? null);
  }

  summary(): DumpSummary {
    const tables = [...this.tables.values()].map((t) => ({ ...t, parent: this.parents.get(t.name) }));
    return {
      header: this.header,
      trailer: this.trailer,
      unterminatedCopy: this.copyTable !== undefined,
      tables,
      rowCounts: { ...this.rowCounts },
      bytes: this.bytes,
      restrictGuard: this.restrictGuard,
      createsDatabase: this.createsDatabase,
      problems: [...this.problems],
      problemCount: this.problemCount,
      roles: [...this.roles].sort(),
    };
  }

  private scan(chunk: Buffer): void {
    let start = 0;
    while (!this.failed) {
      if (this.copyTable !== undefined && this.carryLength === 0) {
        start = this.copyRun(chunk, start);
        if (this.copyTable !== undefined) {
          if (start < chunk.length) this.keep(chunk.subarray(start));
          return;
        }
        continue;
      }
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) {
        if (start < chunk.length) this.keep(chunk.subarray(start));
        return;
      }
      let line = chunk.subarray(start, nl + 1);
      if (this.carryLength > 0) {
        this.keep(line);
        line = Buffer.concat(this.carry);
        this.carry = [];
        this.carryLength = 0;
      }
      this.endLine(line);
      start = nl + 1;
    }
  }

  /**
   * The whole COPY data lines of `chunk` from `start`, counted and passed on as one piece (the
   * bulk of a dump: no per-line copies or strings), through the `\.` line that ends the block if
   * it is there. Returns where it stopped: after that line, or at a line the chunk cuts off.
   */
  private copyRun(chunk: Buffer, start: number): number {
    let pos = start;
    let rows = 0;
    let ended = false;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, pos);
      if (nl === -1) break;
      const endMarker =
        chunk[pos] === 0x5c &&
        chunk[pos + 1] === 0x2e &&
        (nl === pos + 2 || (nl === pos + 3 && chunk[pos + 2] === 0x0d));
      pos = nl + 1;
      if (endMarker) {
        ended = true;
        break;
      }
      rows += 1;
    }
    const table = this.copyTable!;
    this.rowCounts[table] = (this.rowCounts[table] ?? 0) + rows;
    this.copyRows += rows;
    this.lineNumber += rows + (ended ? 1 : 0);
    if (ended) this.copyTable = undefined;
    if (this.forwarding && pos > start) {
      if (!ended) this.pass({ kind: 'copy-rows', bytes: chunk.subarray(start, pos) });
      else {
        const marker = chunk.lastIndexOf(NEWLINE, pos - 2) + 1;
        const rowsEnd = Math.max(marker, start);
        if (rowsEnd > start) this.pass({ kind: 'copy-rows', bytes: chunk.subarray(start, rowsEnd) });
        this.pass({ kind: 'copy-end', bytes: chunk.subarray(rowsEnd, pos) });
      }
    }
    return pos;
  }

  private keep(piece: Buffer): void {
    // Observing a COPY data line needs only its start; everything else is kept whole.
    const limit = this.copyTable !== undefined && !this.forwarding ? 16 : Number.POSITIVE_INFINITY;
    const room = limit - Math.min(this.carryLength, limit);
    if (room > 0) this.carry.push(Buffer.from(piece.subarray(0, Math.min(piece.length, room))));
    this.carryLength += piece.length;
  }

  /** One line, with its newline if it had one. */
  private endLine(raw: Buffer): void {
    this.lineNumber += 1;
    if (this.copyTable !== undefined) {
      const end = raw.length >= 2 && raw[0] === 0x5c && raw[1] === 0x2e;
      const rest = raw.subarray(2).toString('latin1');
      const ends = end && (rest === '' || rest === '\n' || rest === '\r\n');
      if (ends) {
        this.copyTable = undefined;
      } else {
        this.rowCounts[this.copyTable] = (this.rowCounts[this.copyTable] ?? 0) + 1;
        this.copyRows += 1;
      }
      if (this.forwarding) this.pass({ kind: ends ? 'copy-end' : 'copy-rows', bytes: raw });
      return;
    }
    let text = raw.toString('utf8');
    if (text.endsWith('\n')) text = text.slice(0, -1);
    const statementOpen = this.tokens.length > 0 || this.mode !== 'normal';
    const guard = !statementOpen ? GUARD_RE.exec(text) : null;
    if (guard) {
      // pg_dump's own pair; the gate replaces them by its own key.
      if (guard[1] === 'restrict' && this.statementsSeen === 0) this.restrictGuard = true;
      return;
    }
    if (!statementOpen) {
      if (this.lineNumber <= 5 && text === DUMP_HEADER) this.header = true;
      if (text === DUMP_TRAILER) this.trailer = true;
      const toc = TOC_RE.exec(text);
      if (toc) this.tocType = toc[2];
    }
    if (this.forwarding) this.pending.push(raw);
    this.lexLine(text);
    if (this.forwarding && this.tokens.length === 0 && this.mode === 'normal') this.flushPending();
  }

  private flushPending(): void {
    if (this.pendingSkipped > 0 && this.pendingSkipped < this.pendingStatements) {
      this.report('structure', 'an ownership or privilege statement shares its lines with another statement');
      return;
    }
    if (this.pendingSkipped === 0 && this.pending.length > 0) {
      const bytes = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
      if (this.copyTable !== undefined) {
        this.pass({
          kind: 'copy-begin',
          bytes,
          table: this.copyTable,
          alone: this.pendingStatements === 1,
        });
      } else {
        const setting = this.pendingStatements > 0 && this.pendingSettings === this.pendingStatements;
        this.pass({ kind: 'sql', bytes, statements: this.pendingStatements, setting });
      }
    }
    this.pending = [];
    this.pendingStatements = 0;
    this.pendingSkipped = 0;
    this.pendingSettings = 0;
  }

  private report(kind: ProblemKind, detail: string, line = this.lineNumber): void {
    const found: DumpProblem = { line, kind, detail };
    this.problemCount += 1;
    if (this.problems.length < MAX_PROBLEMS) this.problems.push(found);
    if (this.forwarding) this.stop(found);
  }

  /** Gate: pass nothing more on; fail the stream unless it observes to the end. */
  private stop(why: DumpProblem): void {
    this.stopped = why;
    this.pending = [];
    if (!this.observeAfterProblem) this.failed = new DumpContentError(why);
  }

  private addToken(token: Token): void {
    if (this.tokens.length === 0) {
      this.statementLine = this.lineNumber;
      this.statementBytes = 0;
    }
    this.tokens.push(token);
  }

  private lexLine(line: string): void {
    this.statementBytes += line.length + 1;
    if (this.statementBytes > MAX_STATEMENT_BYTES && (this.tokens.length > 0 || this.mode !== 'normal')) {
      this.report('structure', `a statement longer than ${MAX_STATEMENT_BYTES / 1024 / 1024} MiB`);
      this.tokens = [];
      this.mode = 'normal';
      return;
    }
    let i = 0;
    const n = line.length;
    while (i < n && !this.failed) {
      if (this.mode !== 'normal') {
        i = this.lexQuoted(line, i);
        continue;
      }
      const c = line[i]!;
      if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
        i += 1;
      } else if (c === '-' && line[i + 1] === '-') {
        return; // comment to the end of the line
      } else if (c === '/' && line[i + 1] === '*') {
        this.mode = 'block';
        this.blockDepth = 1;
        i += 2;
      } else if (c === "'") {
        this.mode = 'squote';
        this.tokenText = '';
        i += 1;
      } else if (c === '"') {
        this.mode = 'dquote';
        this.tokenText = '';
        i += 1;
      } else if (c === '$') {
        const tag = DOLLAR_TAG.exec(line.slice(i, i + 256));
        if (tag) {
          this.mode = 'dollar';
          this.dollarTag = tag[0];
          this.tokenText = '';
          i += tag[0].length;
        } else {
          this.addToken({ kind: 'punct', value: '$' });
          i += 1;
        }
      } else if (c === '\\') {
        this.metaCommand(line.slice(i));
        return; // psql takes the rest of the line as the command's arguments
      } else if (c === ';') {
        i += 1;
        if (this.parenDepth === 0 && this.beginDepth === 0) {
          this.endStatement(line.slice(i));
          if (this.copyTable !== undefined) return;
        } else {
          this.addToken({ kind: 'punct', value: ';' });
        }
      } else if (WORD_START.test(c)) {
        let j = i + 1;
        while (j < n && WORD_CHAR.test(line[j]!)) j += 1;
        const text = line.slice(i, j);
        const upper = text.toUpperCase();
        i = j;
        if (line[i] === "'" && (upper === 'E' || upper === 'B' || upper === 'X' || upper === 'N')) {
          this.mode = upper === 'E' ? 'equote' : 'squote';
          this.tokenText = '';
          i += 1;
        } else if (upper === 'U' && line[i] === '&' && (line[i + 1] === "'" || line[i + 1] === '"')) {
          this.mode = line[i + 1] === "'" ? 'squote' : 'dquote';
          this.tokenText = '';
          i += 2;
        } else {
          this.onWord(upper);
          this.addToken({ kind: 'word', value: upper });
        }
      } else if (c >= '0' && c <= '9') {
        let j = i + 1;
        while (j < n && /[0-9.eE_]/.test(line[j]!)) j += 1;
        this.addToken({ kind: 'number', value: line.slice(i, j) });
        i = j;
      } else {
        if (c === '(') this.parenDepth += 1;
        else if (c === ')' && this.parenDepth > 0) this.parenDepth -= 1;
        this.addToken({ kind: 'punct', value: c });
        i += 1;
      }
    }
    if (this.mode === 'squote' || this.mode === 'equote' || this.mode === 'dquote' || this.mode === 'dollar')
      this.appendText('\n');
  }

  /** psql's heuristic for SQL-standard function bodies: `;` inside BEGIN ... END does not end it. */
  private onWord(upper: string): void {
    if (this.identifierCount === 0) this.identifiers = '';
    if (['CREATE', 'FUNCTION', 'PROCEDURE', 'OR', 'REPLACE'].includes(upper) && this.identifiers.length < 4)
      this.identifiers += upper[0]!.toLowerCase();
    else if (this.identifiers.length < 4) this.identifiers += ' ';
    this.identifierCount += 1;
    const id = this.identifiers;
    const inRoutine =
      id[0] === 'c' &&
      (id[1] === 'f' ||
        id[1] === 'p' ||
        (id[1] === 'o' && id[2] === 'r' && (id[3] === 'f' || id[3] === 'p')));
    if (!inRoutine || this.parenDepth !== 0) return;
    if (upper === 'BEGIN') this.beginDepth += 1;
    else if (upper === 'CASE' && this.beginDepth >= 1) this.beginDepth += 1;
    else if (upper === 'END' && this.beginDepth > 0) this.beginDepth -= 1;
  }

  private appendText(s: string): void {
    if (this.tokenText.length < 4096) this.tokenText += s;
  }

  /** Continue a string, quoted identifier, dollar quote or block comment; returns the new index. */
  private lexQuoted(line: string, i: number): number {
    const n = line.length;
    switch (this.mode) {
      case 'block': {
        let j = i;
        while (j < n) {
          if (line[j] === '/' && line[j + 1] === '*') {
            this.blockDepth += 1;
            j += 2;
          } else if (line[j] === '*' && line[j + 1] === '/') {
            this.blockDepth -= 1;
            j += 2;
            if (this.blockDepth === 0) {
              this.mode = 'normal';
              return j;
            }
          } else j += 1;
        }
        return n;
      }
      case 'dollar': {
        const end = line.indexOf(this.dollarTag, i);
        if (end < 0) {
          this.appendText(line.slice(i));
          return n;
        }
        this.appendText(line.slice(i, end));
        this.closeLiteral('string');
        return end + this.dollarTag.length;
      }
      case 'squote':
      case 'dquote': {
        const q = this.mode === 'squote' ? "'" : '"';
        let j = i;
        while (j < n) {
          const k = line.indexOf(q, j);
          if (k < 0) {
            this.appendText(line.slice(j));
            return n;
          }
          this.appendText(line.slice(j, k));
          if (line[k + 1] === q) {
            this.appendText(q);
            j = k + 2;
            continue;
          }
          this.closeLiteral(this.mode === 'squote' ? 'string' : 'ident');
          return k + 1;
        }
        return n;
      }
      case 'equote': {
        let j = i;
        while (j < n) {
          const c = line[j]!;
          if (c === '\\') {
            this.appendText(line.slice(j, j + 2));
            j += 2;
          } else if (c === "'" && line[j + 1] === "'") {
            this.appendText("'");
            j += 2;
          } else if (c === "'") {
            this.closeLiteral('string');
            return j + 1;
          } else {
            this.appendText(c);
            j += 1;
          }
        }
        return n;
      }
      default:
        return i;
    }
  }

  private closeLiteral(kind: 'string' | 'ident'): void {
    this.addToken({ kind, value: this.tokenText });
    this.tokenText = '';
    this.mode = 'normal';
  }

  private metaCommand(text: string): void {
    const command = /^\\([^\s\\]*)/.exec(text)?.[1] ?? '';
    const shown = text.trim().length > 60 ? `${text.trim().slice(0, 60)}...` : text.trim();
    if (command === 'connect' || command === 'c') {
      this.createsDatabase = true;
      this.report('connect', `\`${shown}\` connects to another database`);
    } else if (command === 'restrict' || command === 'unrestrict') {
      this.report('meta-command', `\`${shown}\` is not on a line of its own between statements`);
    } else {
      this.report(
        'meta-command',
        `the psql meta-command \`${shown}\` (a backup file may not run psql commands)`,
      );
    }
  }

  private endStatement(restOfLine: string): void {
    const tokens = this.tokens;
    const line = this.statementLine;
    this.tokens = [];
    this.parenDepth = 0;
    this.beginDepth = 0;
    this.identifierCount = 0;
    if (tokens.length === 0) return;
    this.statementsSeen += 1;
    this.pendingStatements += 1;
    if (this.trailer) this.trailer = false;
    const effect = classifyStatement(tokens);
    if (effect.type === 'none' && isSessionSetting(tokens)) this.pendingSettings += 1;
    switch (effect.type) {
      case 'problem':
        if (effect.kind === 'database' && /^(DROP|CREATE) DATABASE/.test(effect.detail))
          this.createsDatabase = true;
        this.report(effect.kind, effect.detail, line);
        return;
      case 'table': {
        const name = formatQualifiedName(effect.table);
        this.tables.set(name, {
          name,
          schema: effect.table.schema,
          table: effect.table.name,
          parent: undefined,
        });
        const parent = effect.inherits[0];
        if (parent && effect.inherits.length === 1) this.parents.set(name, formatQualifiedName(parent));
        return;
      }
      case 'attach':
        this.parents.set(formatQualifiedName(effect.child), formatQualifiedName(effect.parent));
        return;
      case 'roles': {
        for (const r of effect.roles) this.roles.add(r);
        if (this.portable) this.pendingSkipped += 1;
        const unknown = this.portable
          ? undefined
          : effect.roles.find((r) => this.knownRoles?.has(r) === false);
        if (unknown !== undefined && this.forwarding) {
          this.stop({
            line,
            kind: 'role',
            detail: `names the role ${unknown}, which this server does not have`,
          });
        }
        return;
      }
      case 'copy': {
        if (this.tocType !== 'TABLE DATA') {
          this.report('structure', 'a COPY outside a TABLE DATA section of pg_dump', line);
          return;
        }
        if (restOfLine.trim() !== '') {
          this.report('structure', 'text after `COPY ... FROM stdin;` on the same line', line);
          return;
        }
        const name = formatQualifiedName(effect.table);
        this.copyTable = name;
        this.rowCounts[name] ??= 0;
        return;
      }
      default:
        return;
    }
  }
}

/**
 * `SET name ...` (not ROLE or SESSION AUTHORIZATION, which the rules refuse) or
 * `SELECT pg_catalog.set_config(...)`: statements that change only the session's settings.
 */
function isSessionSetting(tokens: readonly Token[]): boolean {
  const first = tokens[0];
  if (first?.kind !== 'word') return false;
  if (first.value === 'SET') return true;
  return (
    first.value === 'SELECT' &&
    tokens.length > 4 &&
    tokens[1]?.value === 'PG_CATALOG' &&
    tokens[2]?.value === '.' &&
    tokens[3]?.value === 'SET_CONFIG' &&
    tokens[4]?.value === '('
  );
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

export type { QualifiedName };
