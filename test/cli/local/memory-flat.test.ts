/**
 * What keeps the backup's and the restore's memory flat: ParallelGzip deflates on libuv's thread
 * pool (no worker thread, no heap per thread) with a bounded number of blocks in flight and no new
 * input while its output waits; GcPacer frees the dead read buffers as the pass goes; an aborted
 * compression leaves nothing running, so the process exits by itself.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type * as V8 from 'node:v8';
import type * as WorkerThreads from 'node:worker_threads';
import { join, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { buildSync } from 'esbuild';
import { BACKUP_PACE, GcPacer, collector, type GcFunction } from '../../../cli/local/gc-pacer';
import { ParallelGzip } from '../../../cli/local/parallel-gzip';

const ROOT = resolve(__dirname, '../../..');
const BLOCK = 256 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Text that compresses like SQL, `bytes` long. */
function text(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  // One random draw for all lines (one per line cost seconds of CPU for 24 MiB).
  const noise = randomBytes(Math.ceil(bytes / 64) * 6).toString('hex');
  for (let at = 0, i = 0; at < bytes; at += 64, i += 12) {
    out.write(`${at}\tentry ${noise.slice(i, i + 12)}\t{topic-${at % 17}}\n`, at);
  }
  return out;
}

/** Write `input` in 64 KiB pieces as fast as the stream accepts them, then end it. */
function feed(gz: ParallelGzip, input: Buffer): { accepted: () => number; done: Promise<void> } {
  let accepted = 0;
  const done = (async () => {
    for (let at = 0; at < input.length; at += 65536) {
      await new Promise<void>((res, rej) =>
        gz.write(input.subarray(at, at + 65536), (err) => (err ? rej(err) : res())),
      );
      accepted += 65536;
    }
    gz.end();
  })();
  return { accepted: () => accepted, done };
}

describe('ParallelGzip memory', () => {
  it('takes no more input while its output is not read: a bounded number of blocks in flight', async () => {
    // Prepare: 24 MiB of input, nobody reading the output yet.
    const input = text(24 * 1024 * 1024);
    const gz = new ParallelGzip({ threads: 2 });
    const fed = feed(gz, input);

    // Act: let it work until it stops accepting input.
    let last = -1;
    while (fed.accepted() !== last) {
      last = fed.accepted();
      await new Promise((r) => setTimeout(r, 300));
    }

    // Assess: it stalled long before the end, with at most 2 x threads blocks held.
    expect(fed.accepted()).toBeLessThan(8 * 1024 * 1024);
    expect(gz.blocksInFlight).toBeLessThanOrEqual(4);
    expect(gz.readableLength).toBeLessThan(512 * 1024 + BLOCK);

    // ...and once read, the output is the whole input, as one gzip member.
    const out: Buffer[] = [];
    await Promise.all([
      fed.done,
      pipeline(
        gz,
        new Writable({
          write(chunk: Buffer, _e, cb) {
            out.push(chunk);
            cb();
          },
        }),
      ),
    ]);
    expect(sha(gunzipSync(Buffer.concat(out)))).toBe(sha(input));
  });

  it('starts no worker thread (the old version started one per core)', async () => {
    // Prepare: count Worker constructions.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const wt = require('node:worker_threads') as typeof WorkerThreads;
    const spy = jest.spyOn(wt, 'Worker');

    // Act
    const input = text(3 * 1024 * 1024);
    const out: Buffer[] = [];
    await pipeline(
      Readable.from([input]),
      new ParallelGzip({ threads: 2 }),
      new Writable({
        write(chunk: Buffer, _e, cb) {
          out.push(chunk);
          cb();
        },
      }),
    );

    // Assess
    expect(spy).not.toHaveBeenCalled();
    expect(sha(gunzipSync(Buffer.concat(out)))).toBe(sha(input));
    spy.mockRestore();
  });

  it('leaves nothing running when aborted mid-way: the process exits by itself', () => {
    // Prepare: a program that compresses an endless input and aborts after 3 MiB, then just returns.
    const dir = mkdtempSync(join(tmpdir(), 'pgz-abort-'));
    const program = join(dir, 'abort.ts');
    writeFileSync(
      program,
      `import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ParallelGzip } from ${JSON.stringify(join(ROOT, 'cli/local/parallel-gzip'))};
const controller = new AbortController();
let read = 0;
const endless = new Readable({ read() { read += 65536; if (read > 3 * 1024 * 1024) controller.abort(); this.push(Buffer.alloc(65536, 'a')); } });
pipeline(endless, new ParallelGzip({ threads: 2 }), new Writable({ write(_c, _e, cb) { cb(); } }), { signal: controller.signal })
  .then(() => console.log('finished?'), (err: Error) => console.log('stopped: ' + err.name));
`,
    );
    try {
      // Bundled into plain JavaScript first (esbuild, as the CLI is built): node runs it alone,
      // without tsx's loader and its second node process.
      const bundle = join(dir, 'abort.js');
      buildSync({
        entryPoints: [program],
        outfile: bundle,
        bundle: true,
        platform: 'node',
        logLevel: 'error',
      });

      // Act: a leaked thread or handle would keep it alive until the timeout kills it.
      const r = spawnSync(process.execPath, [bundle], {
        encoding: 'utf8',
        timeout: 60_000,
        killSignal: 'SIGKILL',
      });

      // Assess
      expect(r.signal).toBeNull();
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toBe('stopped: AbortError');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('GcPacer', () => {
  /** A stand-in for V8's collector that records what it was asked to do. */
  const recorder = () => {
    const calls: string[] = [];
    const gc: GcFunction = (options) =>
      void calls.push(options === undefined ? 'full' : String(options.type));
    return { gc, calls };
  };

  /** Pass `pieces` chunks of `size` bytes through `pacer`; returns the sha256 of what came out. */
  async function pass(pacer: GcPacer, pieces: readonly Buffer[]): Promise<string> {
    const hash = createHash('sha256');
    await pipeline(
      Readable.from(pieces),
      pacer,
      new Writable({
        write(chunk: Buffer, _e, cb) {
          hash.update(chunk);
          cb();
        },
      }),
    );
    return hash.digest('hex');
  }

  it('uses the collector node --expose-gc gives, and sets no V8 flag at run time to get one', () => {
    // Prepare: a process with no gc (jest's), then one with it; watch v8.setFlagsFromString.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const v8 = require('node:v8') as typeof V8;
    const setFlags = jest.spyOn(v8, 'setFlagsFromString');
    const global = globalThis as { gc?: unknown };
    const saved = global.gc;
    const exposed = () => undefined;
    try {
      // Act
      delete global.gc;
      const without = collector();
      global.gc = exposed;
      const withGc = collector();

      // Assess: nothing enabled behind node's back (the old version called setFlagsFromString).
      expect(without).toBeUndefined();
      expect(withGc).toBe(exposed);
      expect(setFlags).not.toHaveBeenCalled();
    } finally {
      if (saved === undefined) delete global.gc;
      else global.gc = saved;
      setFlags.mockRestore();
    }
  });

  it('passes every byte through unchanged and runs a minor collection once per pace', async () => {
    // Prepare: 10 MiB in 128 KiB pieces, a collection every MiB.
    const input = randomBytes(10 * 1024 * 1024);
    const { gc, calls } = recorder();
    const pacer = new GcPacer(1024 * 1024, gc);

    // Act
    const out = await pass(
      pacer,
      Array.from({ length: 80 }, (_, i) => input.subarray(i * 131072, (i + 1) * 131072)),
    );

    // Assess
    expect(out).toBe(sha(input));
    expect(calls).toEqual(Array.from({ length: 10 }, () => 'minor'));
    expect(pacer.collections).toBe(10);
  });

  it("paces the backup with a scavenge every MiB and a full collection every 64 MiB (promoted buffers can't pile up)", async () => {
    // Prepare: 200 MiB passed as the same 1 MiB piece (no memory needed), the backup's pace.
    const piece = randomBytes(1024 * 1024);
    const { gc, calls } = recorder();
    const pacer = new GcPacer(BACKUP_PACE, gc);

    // Act
    await pass(
      pacer,
      Array.from({ length: 200 }, () => piece),
    );

    // Assess: at MiB 64, 128 and 192 a full collection, gc() with no argument (instead of that
    // MiB's minor one); every other MiB a minor one.
    expect(calls).toHaveLength(200);
    expect(calls.flatMap((type, i) => (type === 'full' ? [i + 1] : []))).toEqual([64, 128, 192]);
    expect(calls.filter((type) => type !== 'full').every((type) => type === 'minor')).toBe(true);
    expect(pacer.majorCollections).toBe(3);
  });

  it('frees dead buffers promoted to the old generation with gc() (what the full collection calls)', () => {
    // Prepare: 12.5 MiB of buffers kept through three scavenges (promoted), then dropped.
    const program = `
      let kept = Array.from({ length: 200 }, () => Buffer.allocUnsafeSlow(65536));
      for (let i = 0; i < 3; i += 1) gc({ type: 'minor' });
      const before = process.memoryUsage().arrayBuffers;
      kept = null;
      gc();
      // V8 may finish releasing the memory on a helper thread; the next collection waits for it.
      gc();
      console.log(JSON.stringify({ before, after: process.memoryUsage().arrayBuffers }));`;

    // Act
    const r = spawnSync(process.execPath, ['--expose-gc', '-e', program], { encoding: 'utf8' });

    // Assess
    expect(r.status).toBe(0);
    const { before, after } = JSON.parse(r.stdout) as { before: number; after: number };
    expect(before).toBeGreaterThanOrEqual(200 * 65536);
    expect(after).toBeLessThan(1024 * 1024);
  });

  it('runs unpaced when node was started without --expose-gc: the same bytes, no collection', async () => {
    // Prepare
    const input = randomBytes(3 * 1024 * 1024);
    const pacer = new GcPacer(BACKUP_PACE, undefined);

    // Act
    const out = await pass(pacer, [input.subarray(0, 1 << 20), input.subarray(1 << 20)]);

    // Assess
    expect(out).toBe(sha(input));
    expect(pacer.collections).toBe(0);
  });
});
