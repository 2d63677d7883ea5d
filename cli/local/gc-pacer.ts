/**
 * Keeps a streaming pass's memory flat. Every read from a pipe or a file gets a new buffer
 * (64-256 KiB) outside the JavaScript heap; V8 frees dead ones only when it collects, and it
 * collects by the heap's own small allocations, not by these buffers: reading 200 MB through
 * node took 84 MB of RSS, 40 MB of it dead buffers waiting. A minor collection (scavenge: the
 * young generation only, about 1 ms) every few MiB frees them as they die.
 *
 * A buffer still in flight at two scavenges (a block being deflated, output waiting for the disk)
 * is promoted to the old generation, where only a major collection frees it: pacing too often
 * promotes more. Measured at 50,000 entries (the backup's peak RSS, same load): a scavenge every
 * 4 MiB 66-68 MB, every 1 MiB 60-61 MB, every 512 KiB 67 MB, every 256 KiB 87 MB and growing.
 * The backup also runs a full collection every 64 MiB (`gc()`, about 8 ms: a dozen per GiB of
 * SQL) to free the promoted ones. Without it the backup's RSS crept up all the way: 55 MB at
 * 50,000 entries, 60 at 200,000, 67 at 500,000, the dead buffers V8 counted growing from 3 to 13 MB.
 * Only `gc()` with no argument frees them: on Node 20.20, `gc({ type: 'major' })` took 0.6 ms and
 * left 12.5 MB of dead promoted buffers allocated, `gc()` 8 ms and freed them all
 * (test/cli/local/memory-flat.test.ts checks that `gc()` does).
 *
 * `gc` is the collector `node --expose-gc` exposes: the built CLI's `#!` line and scripts/*.sh
 * start node with that flag (scripts/build-cli.mjs, scripts/lib/run-cli.sh). Started otherwise
 * (`node dist/kb-dr.js`), the pass runs unpaced: the same result, with more memory.
 * See test/cli/local/memory-flat.test.ts.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** How often to collect. */
export interface GcPace {
  /** A minor collection after this many bytes passed. */
  readonly minorEveryBytes: number;
  /** A full collection (`gc()`) instead, after this many bytes. @default never */
  readonly majorEveryBytes?: number;
}

/** The pace for restore (cli/local/load-dump.ts): a scavenge every 4 MiB. */
export const DEFAULT_PACE: GcPace = { minorEveryBytes: 4 * 1024 * 1024 };

/** The backup's pace: a scavenge every MiB and a full collection every 64 MiB (module comment). */
export const BACKUP_PACE: GcPace = { minorEveryBytes: 1024 * 1024, majorEveryBytes: 64 * 1024 * 1024 };

export type GcFunction = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

/** V8's collector if node was started with --expose-gc, else undefined (the pass runs unpaced). */
export function collector(): GcFunction | undefined {
  const exposed = (globalThis as { gc?: unknown }).gc;
  return typeof exposed === 'function' ? (exposed as GcFunction) : undefined;
}

/** A pass-through stream that collects at a pace; see the module comment. */
export class GcPacer extends Transform {
  private readonly pace: GcPace;
  private readonly gc: GcFunction | undefined;
  private sinceMinor = 0;
  private sinceMajor = 0;
  /** Collections run (tests check that it paces). */
  collections = 0;
  majorCollections = 0;

  /**
   * @param pace bytes between collections; a number is a minor collection every that many bytes
   * @param gc the collector @default collector()
   */
  constructor(pace: GcPace | number = DEFAULT_PACE, gc: GcFunction | undefined = collector()) {
    super();
    this.pace = typeof pace === 'number' ? { minorEveryBytes: pace } : pace;
    this.gc = gc;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.gc) {
      this.sinceMinor += chunk.length;
      this.sinceMajor += chunk.length;
      const major = this.pace.majorEveryBytes;
      if (major !== undefined && this.sinceMajor >= major) {
        this.sinceMajor = 0;
        this.sinceMinor = 0;
        this.collections += 1;
        this.majorCollections += 1;
        // No argument: see the module comment (`{ type: 'major' }` leaves dead buffers allocated).
        this.gc();
      } else if (this.sinceMinor >= this.pace.minorEveryBytes) {
        this.sinceMinor = 0;
        this.collections += 1;
        this.gc({ type: 'minor' });
      }
    }
    callback(null, chunk);
  }
}
