/**
 * ParallelGzip writes one ordinary gzip member: gunzip tests it and gives back exactly the input,
 * whatever the block boundaries, and it is not larger than gzip's default level by more than 10%.
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ParallelGzip } from '../../../cli/local/parallel-gzip';

async function gzipParallel(input: Buffer, pieces: number, threads: number): Promise<Buffer> {
  const out: Buffer[] = [];
  const size = Math.max(1, Math.ceil(input.length / pieces));
  const chunks =
    input.length === 0
      ? []
      : Array.from({ length: Math.ceil(input.length / size) }, (_, i) =>
          input.subarray(i * size, (i + 1) * size),
        );
  await pipeline(
    Readable.from(chunks),
    new ParallelGzip({ threads }),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

/** SQL-like text: repetitive enough to compress, with random parts, about `bytes` long. */
function sqlLike(bytes: number): Buffer {
  const lines: string[] = [];
  let total = 0;
  for (let i = 0; total < bytes; i += 1) {
    const line = `${i}\tHow to ${randomBytes(8).toString('hex')}\tEntry ${i} first line\\nsecond line\t{topic-${i % 17},team-${i % 5}}\t{${Array.from({ length: 16 }, () => (Math.random() * 2 - 1).toFixed(6)).join(',')}}\n`;
    lines.push(line);
    total += line.length;
  }
  return Buffer.from(lines.join(''));
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('ParallelGzip', () => {
  it.each([
    ['empty input', 0, 1, 2],
    ['less than one block', 1000, 3, 2],
    ['exactly one block', 1024 * 1024, 7, 2],
    ['several blocks in odd pieces, one thread', 3 * 1024 * 1024 + 17, 13, 1],
    ['several blocks in odd pieces, three threads', 5 * 1024 * 1024 + 5, 29, 3],
  ])('round-trips %s through gunzip -t and gunzip -c', async (_what, bytes, pieces, threads) => {
    const input = sqlLike(bytes).subarray(0, bytes);
    const gz = await gzipParallel(input, pieces, threads);
    const dir = mkdtempSync(join(tmpdir(), 'pgz-'));
    try {
      const file = join(dir, 'x.sql.gz');
      writeFileSync(file, gz);
      expect(spawnSync('gunzip', ['-t', file]).status).toBe(0);
      const back = spawnSync('gunzip', ['-c', file], { maxBuffer: 64 * 1024 * 1024 });
      expect(back.status).toBe(0);
      expect(sha(back.stdout)).toBe(sha(input));
      expect(sha(gunzipSync(gz))).toBe(sha(input));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is at most 10% larger than gzip at its default level', async () => {
    const input = sqlLike(6 * 1024 * 1024);
    const ours = await gzipParallel(input, 40, 2);
    expect(ours.length).toBeLessThanOrEqual(gzipSync(input).length * 1.1);
  });
});
