/**
 * gzip on several cores, as pigz does: the input is cut into blocks that are deflated at the same
 * time, each block primed with the 32 KiB before it as its dictionary (so matches still reach back
 * across the cut and the output stays as small as one deflate stream), each ended by a sync flush
 * (byte-aligned, not final) and the last by a final block. The blocks, written in order behind one
 * gzip header and followed by the CRC-32 and length of the whole input, are ONE ordinary gzip
 * member: `gunzip`, `zcat` and Node's zlib read it as usual.
 *
 * The blocks are deflated by zlib's asynchronous API, which runs on libuv's thread pool: the same
 * cores as worker threads, without a JavaScript heap per thread (two worker threads cost about
 * 40 MB of RSS). Memory is bounded: at most `2 × threads` blocks are in flight, and no more input
 * is taken while the output waits for the disk.
 */
import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { constants, crc32, deflateRaw } from 'node:zlib';

/** Bytes of input per block. */
const BLOCK_BYTES = 256 * 1024;
/** Back-references reach this far: each block's dictionary is the end of the previous one. */
const WINDOW_BYTES = 32 * 1024;
/** Compressed output waiting for the next stream beyond this: take no more input. */
const OUTPUT_LIMIT_BYTES = 512 * 1024;

interface Job {
  readonly id: number;
  readonly data: Buffer;
  readonly length: number;
  readonly dictionary: Buffer;
  readonly last: boolean;
}

export interface ParallelGzipOptions {
  /** @default 6 (gzip's default) */
  readonly level?: number;
  /**
   * Blocks deflated at the same time. @default the machine's available parallelism, at most one
   * less than libuv's thread pool (UV_THREADPOOL_SIZE, 4 by default) so file reads and writes
   * always find a free thread; at least 1
   */
  readonly threads?: number;
}

/** gzip's 10-byte header: deflate, no name, no time, unknown OS. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff]);

function defaultThreads(): number {
  const pool = Number(process.env.UV_THREADPOOL_SIZE) || 4;
  return Math.max(1, Math.min(availableParallelism(), pool - 1));
}

/** A Transform that gzips what passes through it on several threads; see the module comment. */
export class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly threads: number;
  private readonly maxInFlight: number;
  private readonly queue: Job[] = [];
  /** Deflated blocks that arrived ahead of their turn. */
  private readonly done = new Map<number, Buffer>();
  private running = 0;
  private nextId = 0;
  private nextOut = 0;
  /** The block being filled, and blocks whose deflate has finished, to be filled again. */
  private block: Buffer | undefined;
  private blockBytes = 0;
  private readonly spare: Buffer[] = [];
  private previousTail = Buffer.alloc(0);
  private crc = 0;
  private length = 0;
  private headerWritten = false;
  /** Called when a block is written out or the output drains (a blocked write or the flush goes on). */
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private stopped = false;
  /** The last push found the output buffer full: wait for the next stream to read. */
  private outputFull = false;

  constructor(options: ParallelGzipOptions = {}) {
    super({ readableHighWaterMark: OUTPUT_LIMIT_BYTES });
    this.level = options.level ?? 6;
    this.threads = Math.max(1, options.threads ?? defaultThreads());
    this.maxInFlight = this.threads * 2;
  }

  /** Blocks submitted and not yet written out (queued, deflating, or waiting for their turn). */
  get blocksInFlight(): number {
    return this.nextId - this.nextOut;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.crc = crc32(chunk, this.crc);
    this.length += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      this.block ??= this.spare.pop() ?? Buffer.allocUnsafe(BLOCK_BYTES);
      const n = Math.min(chunk.length - at, BLOCK_BYTES - this.blockBytes);
      chunk.copy(this.block, this.blockBytes, at, at + n);
      this.blockBytes += n;
      at += n;
      if (this.blockBytes === BLOCK_BYTES) this.submit(false);
    }
    this.whenRoom(callback);
  }

  override _read(size: number): void {
    this.outputFull = false;
    super._read(size);
    // Not now: the reader takes what it reads out of the buffer after this returns, and a write
    // resumed now would still find it full (and stop until a next read that never comes).
    process.nextTick(() => this.wakeUp());
  }

  override _flush(callback: TransformCallback): void {
    this.block ??= this.spare.pop() ?? Buffer.allocUnsafe(BLOCK_BYTES);
    this.submit(true);
    const finish = () => {
      if (this.failure) return callback(this.failure);
      if (this.nextOut < this.nextId) {
        this.wake = finish;
        return;
      }
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(this.crc >>> 0, 0);
      trailer.writeUInt32LE(this.length % 2 ** 32, 4);
      this.push(trailer);
      callback();
    };
    finish();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Deflates already running finish on their own (milliseconds) and are ignored; queued ones
    // never start, and nothing keeps the process alive.
    this.stopped = true;
    this.queue.length = 0;
    this.done.clear();
    this.spare.length = 0;
    this.wake = undefined;
    callback(error);
  }

  /** Wait while too many blocks are in flight or too much output waits (memory stays flat). */
  private whenRoom(callback: TransformCallback): void {
    if (this.failure) return callback(this.failure);
    if (this.blocksInFlight < this.maxInFlight && !this.outputFull) return callback();
    this.wake = () => this.whenRoom(callback);
  }

  private submit(last: boolean): void {
    const data = this.block!;
    const length = this.blockBytes;
    this.block = undefined;
    this.blockBytes = 0;
    this.queue.push({ id: this.nextId, data, length, dictionary: this.previousTail, last });
    this.nextId += 1;
    // The next block's dictionary: a copy, since this block's memory is filled again once deflated.
    this.previousTail = Buffer.from(data.subarray(Math.max(0, length - WINDOW_BYTES), length));
    this.dispatch();
  }

  private dispatch(): void {
    while (!this.stopped && this.running < this.threads && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running += 1;
      deflateRaw(
        job.data.subarray(0, job.length),
        {
          level: this.level,
          finishFlush: job.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
          ...(job.dictionary.length > 0 ? { dictionary: job.dictionary } : {}),
        },
        (err, out) => this.finished(job, err, out),
      );
    }
  }

  private finished(job: Job, err: Error | null, out: Buffer): void {
    this.running -= 1;
    if (this.stopped) return;
    if (err) {
      this.fail(err);
      return;
    }
    if (this.spare.length < this.maxInFlight) this.spare.push(job.data);
    this.done.set(job.id, out);
    while (this.done.has(this.nextOut)) {
      if (!this.headerWritten) {
        this.push(GZIP_HEADER);
        this.headerWritten = true;
      }
      if (!this.push(this.done.get(this.nextOut))) this.outputFull = true;
      this.done.delete(this.nextOut);
      this.nextOut += 1;
    }
    this.dispatch();
    this.wakeUp();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wakeUp();
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
