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
import type * as WorkerThreads from 'node:worker_threads';
import { join, resolve } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync } from 'node:zlib';
import { GcPacer, collector } from '../../../cli/local/gc-pacer';
import { ParallelGzip } from '../../../cli/local/parallel-gzip';

const ROOT = resolve(__dirname, '../../..');
const BLOCK = 256 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** Text that compresses like SQL, `bytes` long. */
function text(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let at = 0; at < bytes; at += 64) {
    Buffer.from(`${at}\tentry ${randomBytes(6).toString('hex')}\t{topic-${at % 17}}\n`).copy(out, at);
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
      // Act: a leaked thread or handle would keep it alive until the timeout kills it.
      const r = spawnSync(join(ROOT, 'node_modules/.bin/tsx'), [program], {
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
  it('has the collector at hand without node --expose-gc', () => {
    expect(typeof collector()).toBe('function');
  });

  it('passes every byte through unchanged and collects once per pace', async () => {
    // Prepare: 10 MiB in 128 KiB pieces, a collection every MiB.
    const input = randomBytes(10 * 1024 * 1024);
    const pacer = new GcPacer(1024 * 1024);
    const out: Buffer[] = [];

    // Act
    await pipeline(
      Readable.from(Array.from({ length: 80 }, (_, i) => input.subarray(i * 131072, (i + 1) * 131072))),
      pacer,
      new Writable({
        write(chunk: Buffer, _e, cb) {
          out.push(chunk);
          cb();
        },
      }),
    );

    // Assess
    expect(sha(Buffer.concat(out))).toBe(sha(input));
    expect(pacer.collections).toBe(10);
  });
});
