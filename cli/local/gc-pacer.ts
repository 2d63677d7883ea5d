/**
 * Keeps a streaming pass's memory flat. Every read from a pipe or a file gets a new buffer
 * (64-256 KiB) outside the JavaScript heap; V8 frees dead ones only when it collects, and it
 * collects by the heap's own small allocations, not by these buffers: reading 200 MB through
 * node took 84 MB of RSS, 40 MB of it dead buffers waiting. A minor collection (scavenge: the
 * young generation only, about 1 ms) every few MiB frees them as they die: 54 MB, for about
 * 0.3 ms per MiB. See test/cli/local/memory-flat.test.ts.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Collect after this many bytes passed. */
const PACE_BYTES = 4 * 1024 * 1024;

type GcFunction = (options?: { type?: 'minor' | 'major'; execution?: 'sync' | 'async' }) => void;

let cached: GcFunction | null | undefined;

/**
 * V8's collector, as `node --expose-gc` exposes it; enabled at run time so every way of starting
 * the CLI gets it. Undefined if this runtime refuses (then the pass runs as before, only larger).
 */
export function collector(): GcFunction | undefined {
  if (cached === undefined) {
    const exposed = (globalThis as { gc?: GcFunction }).gc;
    if (typeof exposed === 'function') {
      cached = exposed;
    } else {
      try {
        setFlagsFromString('--expose-gc');
        // The flag applies to contexts created from now on: a fresh one hands out its `gc`.
        const gc = runInNewContext('gc') as unknown;
        cached = typeof gc === 'function' ? (gc as GcFunction) : null;
      } catch {
        cached = null;
      }
    }
  }
  return cached ?? undefined;
}

/** A pass-through stream that runs a minor collection every PACE_BYTES; see the module comment. */
export class GcPacer extends Transform {
  private sinceGc = 0;
  private readonly gc = collector();
  /** Collections run (tests check that it paces). */
  collections = 0;

  constructor(private readonly paceBytes: number = PACE_BYTES) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.sinceGc += chunk.length;
    if (this.gc && this.sinceGc >= this.paceBytes) {
      this.sinceGc = 0;
      this.collections += 1;
      this.gc({ type: 'minor' });
    }
    callback(null, chunk);
  }
}
