/**
 * The restore's load, spread over two database sessions. Loading a dump is bound by the server
 * parsing COPY rows, one backend at a time; pg_dump's rows are independent of each other, so a
 * second psql session (the helper) takes a share of every large COPY block's rows while the main
 * session takes the rest, and both backends work at once. Everything else (the schema before the
 * data, and the indexes, constraints and privileges after it) runs only in the main session, in
 * file order: before any statement after a block, the helper must have committed its share of
 * that block (it answers a marker query once its `\.` has been processed), so the statements see
 * every row, exactly as with one session.
 *
 * The helper runs under its own `\restrict` key and is given only what the gate vetted: the
 * dump's session settings (so it reads the rows as the main session does), the block's own
 * `COPY ... FROM stdin;` statement, row lines, `\.`, and our marker query. A block whose COPY
 * statement shares its lines with another statement, and any block smaller than
 * `helperAfterBytes`, is loaded by the main session alone.
 *
 * Either session failing stops both; the caller drops the scratch database. The rest of the file
 * is still read (and discarded) so the validation report describes the whole file.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Writable, type Readable } from 'node:stream';
import type { KbDrError } from '../../core/errors';
import { conninfo, pgBinary, type PgConnection } from './connection';
import type { GatePiece } from './dump-scanner';
import { translateSpawnError } from './pg-errors';

/** A psql process fed on its standard input, which may go away (it stopped at an error). */
export class SessionInput {
  private gone = false;
  private ended = false;
  private exitCode: number | null | undefined;
  private stderrText = '';
  /** Marker lines psql printed (sessions started with `answers`), and who waits for which. */
  private readonly answers = new Set<string>();
  private readonly waiting = new Map<string, () => void>();
  readonly exited: Promise<{ code: number | null; spawnError: KbDrError | undefined }>;

  constructor(
    readonly child: ChildProcessByStdio<Writable, Readable | null, Readable>,
    binary: string,
  ) {
    const close = () => {
      this.gone = true;
      child.stdin.emit('drain');
    };
    child.stdin.on('error', close);
    child.stdin.on('close', close);
    child.on('exit', close);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (this.stderrText.length < 65536) this.stderrText += d;
    });
    let partial = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith(MARKER)) continue;
        this.answers.add(line);
        this.waiting.get(line)?.();
        this.waiting.delete(line);
      }
    });
    child.on('close', () => {
      for (const resolveWait of this.waiting.values()) resolveWait();
      this.waiting.clear();
    });
    this.exited = new Promise((resolveExit) => {
      child.on('error', (err) => resolveExit({ code: null, spawnError: translateSpawnError(binary, err) }));
      child.on('close', (code) => {
        this.exitCode = code;
        resolveExit({ code, spawnError: undefined });
      });
    });
  }

  /** psql has exited or closed its input: what is written now is discarded. */
  get closed(): boolean {
    return this.gone;
  }

  /** psql exited before we ended its input: it stopped at an error, or was killed. */
  get failedEarly(): boolean {
    return this.exitCode !== undefined && !this.ended;
  }

  /** Bytes waiting in the pipe to psql. */
  get backlog(): number {
    return this.child.stdin.writableLength;
  }

  /** Can take more without waiting (or is gone, and takes anything). */
  get hasRoom(): boolean {
    return this.gone || !this.child.stdin.writableNeedDrain;
  }

  stderr(): string {
    return this.stderrText;
  }

  /** psql has printed `marker` (see {@link marker}). */
  hasAnswered(line: string): boolean {
    return this.answers.has(line);
  }

  /** Resolves once psql has printed `line`, or has exited without printing it. */
  answered(line: string): Promise<void> {
    if (this.answers.has(line) || this.exitCode !== undefined) return Promise.resolve();
    return new Promise((resolveWait) => this.waiting.set(line, resolveWait));
  }

  /** Queue `bytes` for psql (discarded once it has gone away). */
  write(bytes: Buffer): void {
    if (!this.gone) this.child.stdin.write(bytes);
  }

  /** Resolves once psql has taken what was queued (or has gone away). */
  drained(): Promise<void> {
    if (this.hasRoom) return Promise.resolve();
    return new Promise((resolveDrain) => this.child.stdin.once('drain', () => resolveDrain()));
  }

  async send(bytes: Buffer): Promise<void> {
    this.write(bytes);
    await this.drained();
  }

  end(): void {
    this.ended = true;
    if (!this.gone) this.child.stdin.end();
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/** psql reading statements for `database` from standard input, stopping at the first error. */
export function sessionCommand(
  conn: PgConnection,
  database: string,
  options: { readonly answers: boolean },
): { readonly binary: string; readonly args: string[] } {
  const args = ['-X', '-q', '-v', 'ON_ERROR_STOP=1'];
  if (options.answers) args.push('-A', '-t');
  args.push('-d', conninfo(conn, database), '-f', '-');
  return { binary: pgBinary(conn, 'psql'), args };
}

/** Start {@link sessionCommand}; with `answers`, its standard output is read (the helper's markers). */
export function startSession(
  conn: PgConnection,
  database: string,
  env: NodeJS.ProcessEnv,
  options: { readonly answers: boolean },
): SessionInput {
  const { binary, args } = sessionCommand(conn, database, options);
  const child = options.answers
    ? spawn(binary, args, { env, stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(binary, args, { env, stdio: ['pipe', 'ignore', 'pipe'] });
  return new SessionInput(child, binary);
}

const MARKER = 'kb-dr copy block ';

/** The line a session prints once it has run every statement before {@link markerQuery}. */
export function marker(block: number, what: 'ready' | 'loaded'): string {
  return `${MARKER}${block} ${what}`;
}

function markerQuery(block: number, what: 'ready' | 'loaded'): Buffer {
  return Buffer.from(`SELECT '${marker(block, what)}';\n`);
}

export interface CopySessionsOptions {
  /**
   * The session every statement goes to (its input already carries the gate's `\restrict`),
   * started with `answers`: it says when it has reached a block, so the helper never runs its
   * COPY before the table exists.
   */
  readonly main: SessionInput;
  /** Starts the helper session (psql with `answers`), when a block is large enough to share. */
  readonly startHelper: () => SessionInput;
  /** A block's rows go to the main session alone until this many bytes of them have passed. */
  readonly helperAfterBytes: number;
}

interface Block {
  readonly number: number;
  /** The COPY statement, when the helper may run it as it is. */
  readonly statement: Buffer | undefined;
  rowBytes: number;
  helperJoined: boolean;
}

/**
 * The end of the restore's pipeline in `pieces` mode: routes each {@link GatePiece} to a session.
 * Never fails the pipeline: a session's failure is read from its exit by the caller.
 */
export class CopySessions extends Writable {
  private helper: SessionInput | undefined;
  /** Session settings seen so far, repeated to the helper when it starts. */
  private readonly settings: Buffer[] = [];
  private block: Block | undefined;
  private blocks = 0;
  /** The last block the helper took part in, until it has said it committed its share. */
  private outstanding: number | undefined;
  /** A session failed (or the caller stopped us): nothing more is passed on to either. */
  private stopped = false;
  /** The session that failed first, by itself (not killed by us). */
  private failedFirst: SessionInput | undefined;
  private turn = 0;
  /** Bytes of rows each session was given (for the report and the tests). */
  readonly rowBytes = { main: 0, helper: 0 };

  constructor(private readonly options: CopySessionsOptions) {
    super({ objectMode: true, highWaterMark: 1 });
    options.main.exited.then(() => this.onExit(options.main)).catch(() => undefined);
  }

  /** The helper session, if one was started. */
  get helperSession(): SessionInput | undefined {
    return this.helper;
  }

  /** The session whose own failure stopped the load, if one did. */
  get failure(): SessionInput | undefined {
    return this.failedFirst;
  }

  override _write(
    piece: GatePiece,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.route(piece).then(
      () => callback(),
      (err: unknown) => callback(err as Error),
    );
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.caughtUp().then(
      () => {
        // Ended even when stopped: a session still running then finishes and exits by itself.
        this.helper?.end();
        this.options.main.end();
        callback();
      },
      (err: unknown) => callback(err as Error),
    );
  }

  /**
   * Stop: pass nothing more on and kill both sessions (a failure, or an interruption), so neither
   * loads on, and a wait for the helper's answer ends with its exit.
   */
  stop(): void {
    this.stopped = true;
    this.options.main.kill();
    this.helper?.kill();
  }

  private async route(piece: GatePiece): Promise<void> {
    if (this.stopped) return;
    const main = this.options.main;
    switch (piece.kind) {
      case 'sql':
        // A statement after a block sees all of its rows: the helper's share is committed first.
        if (piece.statements > 0) await this.caughtUp();
        if (piece.setting) {
          this.settings.push(piece.bytes);
          this.helper?.write(piece.bytes);
        }
        await main.send(piece.bytes);
        return;
      case 'copy-begin':
        this.blocks += 1;
        this.block = {
          number: this.blocks,
          statement: piece.alone ? piece.bytes : undefined,
          rowBytes: 0,
          helperJoined: false,
        };
        // The main session says when everything before this COPY has run (the table exists).
        if (piece.alone) main.write(markerQuery(this.blocks, 'ready'));
        await main.send(piece.bytes);
        return;
      case 'copy-rows':
        await this.sendRows(piece.bytes);
        return;
      case 'copy-end': {
        const block = this.block;
        this.block = undefined;
        main.write(piece.bytes);
        if (block?.helperJoined && this.helper) {
          this.outstanding = block.number;
          this.helper.write(Buffer.from('\\.\n'));
          this.helper.write(markerQuery(block.number, 'loaded'));
        }
        await main.drained();
        return;
      }
    }
  }

  /**
   * Rows to whichever session can take them now (the one with less waiting in its pipe): neither
   * backend waits while the other has work queued. Waits only when both pipes are full.
   */
  private async sendRows(bytes: Buffer): Promise<void> {
    const main = this.options.main;
    const block = this.block;
    let helper: SessionInput | undefined;
    if (block?.statement !== undefined) {
      block.rowBytes += bytes.length;
      // The helper joins a block once it is large enough and the main session has reached it.
      if (
        block.rowBytes > this.options.helperAfterBytes &&
        (block.helperJoined || main.hasAnswered(marker(block.number, 'ready')))
      ) {
        helper = this.helper ?? this.startHelper();
      }
    }
    if (!helper || !block) {
      this.rowBytes.main += bytes.length;
      await main.send(bytes);
      return;
    }
    while (!main.hasRoom && !helper.hasRoom && !this.stopped) {
      await Promise.race([main.drained(), helper.drained()]);
    }
    this.turn += 1;
    const toHelper =
      main.hasRoom && helper.hasRoom
        ? helper.backlog < main.backlog || (helper.backlog === main.backlog && this.turn % 2 === 0)
        : helper.hasRoom;
    if (!toHelper) {
      this.rowBytes.main += bytes.length;
      main.write(bytes);
      return;
    }
    if (!block.helperJoined) {
      block.helperJoined = true;
      helper.write(block.statement!);
    }
    this.rowBytes.helper += bytes.length;
    helper.write(bytes);
  }

  private startHelper(): SessionInput {
    const helper = this.options.startHelper();
    this.helper = helper;
    helper.exited.then(() => this.onExit(helper)).catch(() => undefined);
    // Its own guard: psql then refuses every meta-command but `\unrestrict <key>`.
    helper.write(Buffer.from(`\\restrict ${randomBytes(24).toString('hex')}\n`));
    for (const setting of this.settings) helper.write(setting);
    return helper;
  }

  /** The helper has committed its share of the last block it was given. */
  private async caughtUp(): Promise<void> {
    const n = this.outstanding;
    const helper = this.helper;
    if (n === undefined || helper === undefined || this.stopped) return;
    // Resolves on the answer, or on the helper's exit (it failed, or stop() killed it).
    await helper.answered(marker(n, 'loaded'));
    this.outstanding = undefined;
  }

  /** A session went away before its input ended: it failed (or was killed); stop both. */
  private onExit(session: SessionInput): void {
    if (!session.failedEarly) return;
    if (!this.stopped) this.failedFirst = session;
    this.stop();
  }
}
