/**
 * gzip on several cores, as pigz does: the input is cut into blocks, worker threads deflate them
 * at the same time, each block primed with the 32 KiB before it as its dictionary (so matches
 * still reach back across the cut and the output stays as small as one deflate stream), each
 * ended by a sync flush (byte-aligned, not final) and the last by a final block. The blocks,
 * written in order behind one gzip header and followed by the CRC-32 and length of the whole
 * input, are ONE ordinary gzip member: `gunzip`, `zcat` and Node's zlib read it as usual.
 */
import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { crc32 } from 'node:zlib';

/** Bytes of input per block. */
const BLOCK_BYTES = 1024 * 1024;
/** Back-references reach this far: each block's dictionary is the end of the previous one. */
const WINDOW_BYTES = 32 * 1024;

// The worker, as source: it runs the same way bundled (dist/kb-dr.js), under tsx and under jest.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
parentPort.on('message', ({ id, data, length, dictionary, last, level }) => {
  const options = { level, finishFlush: last ? zlib.constants.Z_FINISH : zlib.constants.Z_SYNC_FLUSH };
  if (dictionary.length > 0) options.dictionary = dictionary;
  const out = zlib.deflateRawSync(data.subarray(0, length), options);
  // The input block goes back to be filled again: no new block memory per block.
  parentPort.postMessage({ id, out, block: data }, [out.buffer, data.buffer]);
});
`;

interface Job {
  readonly id: number;
  readonly data: Uint8Array;
  readonly length: number;
  readonly dictionary: Buffer;
  readonly last: boolean;
}

export interface ParallelGzipOptions {
  /** @default 6 (gzip's default) */
  readonly level?: number;
  /** @default the machine's available parallelism, at least 1 */
  readonly threads?: number;
}

/** gzip's 10-byte header: deflate, no name, no time, unknown OS. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff]);

/** A Transform that gzips what passes through it on several threads; see the module comment. */
export class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly workers: Worker[] = [];
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  /** Deflated blocks that arrived ahead of their turn. */
  private readonly done = new Map<number, Buffer>();
  private nextId = 0;
  private nextOut = 0;
  /** The block being filled, and the blocks the workers gave back. */
  private block: Uint8Array | undefined;
  private blockBytes = 0;
  private readonly spare: Uint8Array[] = [];
  private previousTail = Buffer.alloc(0);
  private crc = 0;
  private length = 0;
  private headerWritten = false;
  /** Called when a block is written out (so a blocked write or the flush can go on). */
  private wake: (() => void) | undefined;
  private failure: Error | undefined;
  private readonly maxInFlight: number;

  constructor(options: ParallelGzipOptions = {}) {
    super();
    this.level = options.level ?? 6;
    const threads = Math.max(1, options.threads ?? availableParallelism());
    this.maxInFlight = threads * 2;
    for (let i = 0; i < threads; i += 1) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.on('message', (m: { id: number; out: Uint8Array; block: Uint8Array }) =>
        this.finished(worker, m),
      );
      worker.on('error', (err) => this.fail(err));
      this.workers.push(worker);
      this.idle.push(worker);
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.crc = crc32(chunk, this.crc);
    this.length += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      this.block ??= this.spare.pop() ?? new Uint8Array(BLOCK_BYTES);
      const n = Math.min(chunk.length - at, BLOCK_BYTES - this.blockBytes);
      this.block.set(chunk.subarray(at, at + n), this.blockBytes);
      this.blockBytes += n;
      at += n;
      if (this.blockBytes === BLOCK_BYTES) this.submit(false);
    }
    this.whenRoom(callback);
  }

  override _flush(callback: TransformCallback): void {
    this.block ??= this.spare.pop() ?? new Uint8Array(BLOCK_BYTES);
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
      void this.stopWorkers();
      callback();
    };
    finish();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    void this.stopWorkers();
    callback(error);
  }

  private async stopWorkers(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.terminate()));
  }

  /** Wait while too many blocks are in flight (keeps memory flat when the disk is slow). */
  private whenRoom(callback: TransformCallback): void {
    if (this.failure) return callback(this.failure);
    if (this.nextId - this.nextOut < this.maxInFlight) return callback();
    this.wake = () => this.whenRoom(callback);
  }

  private submit(last: boolean): void {
    const data = this.block!;
    const length = this.blockBytes;
    this.block = undefined;
    this.blockBytes = 0;
    const job: Job = { id: this.nextId, data, length, dictionary: this.previousTail, last };
    this.nextId += 1;
    // The next block's dictionary: a copy, since this block's memory goes to the worker.
    this.previousTail = Buffer.from(data.subarray(Math.max(0, length - WINDOW_BYTES), length));
    this.queue.push(job);
    this.dispatch();
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const job = this.queue.shift()!;
      worker.postMessage(
        {
          id: job.id,
          data: job.data,
          length: job.length,
          dictionary: job.dictionary,
          last: job.last,
          level: this.level,
        },
        [job.data.buffer as ArrayBuffer],
      );
    }
  }

  private finished(worker: Worker, message: { id: number; out: Uint8Array; block: Uint8Array }): void {
    this.idle.push(worker);
    if (this.spare.length < this.maxInFlight) this.spare.push(message.block);
    this.done.set(
      message.id,
      Buffer.from(message.out.buffer, message.out.byteOffset, message.out.byteLength),
    );
    while (this.done.has(this.nextOut)) {
      if (!this.headerWritten) {
        this.push(GZIP_HEADER);
        this.headerWritten = true;
      }
      this.push(this.done.get(this.nextOut));
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
