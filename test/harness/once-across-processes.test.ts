/**
 * Making a thing once across jest's workers (harness/once-across-processes.ts): the maker holds a
 * lock file with its pid, the others wait for its result, and a dead maker's lock is taken over.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockIsStale, onceAcrossProcesses } from '../../harness/once-across-processes';

let dir: string;
let lock: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kb-once-'));
  lock = join(dir, 'thing.lock');
  file = join(dir, 'thing');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const readThing = (): string | undefined => (existsSync(file) ? readFileSync(file, 'utf8') : undefined);
/** The pid of a process that has exited. */
const deadPid = (): string =>
  spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
    .stdout;

describe('onceAcrossProcesses', () => {
  it('makes the thing once, under the lock, and leaves no lock; later calls read it', () => {
    let made = 0;
    const make = () => {
      made += 1;
      expect(readFileSync(lock, 'utf8')).toBe(String(process.pid)); // held while making
      writeFileSync(file, 'ours');
      return 'ours';
    };

    expect(onceAcrossProcesses(lock, readThing, make)).toBe('ours');
    expect(onceAcrossProcesses(lock, readThing, make)).toBe('ours');
    expect(made).toBe(1);
    expect(existsSync(lock)).toBe(false);
  });

  it('waits for a live process holding the lock and takes its thing instead of making another', async () => {
    // Prepare: a live process holds the lock and writes the thing half a second later.
    const maker = spawn('sh', ['-c', `sleep 0.5; printf theirs > "$1.tmp" && mv "$1.tmp" "$1"`, 'sh', file]);
    writeFileSync(lock, String(maker.pid));

    // Act
    const got = onceAcrossProcesses(lock, readThing, () => 'ours (should not be made)');

    // Assess
    expect(got).toBe('theirs');
    await new Promise((r) => maker.on('close', r));
  });

  it('takes over the lock of a maker that died, and makes the thing itself', () => {
    writeFileSync(lock, deadPid());

    expect(onceAcrossProcesses(lock, readThing, () => 'ours')).toBe('ours');
    expect(existsSync(lock)).toBe(false);
  });

  it('makes the thing itself after waitMs on a holder that never finishes (and leaves its lock alone)', () => {
    writeFileSync(lock, String(process.ppid)); // alive for the whole test, never makes anything

    expect(onceAcrossProcesses(lock, readThing, () => 'ours', 300)).toBe('ours');
    expect(readFileSync(lock, 'utf8')).toBe(String(process.ppid));
  });
});

describe('lockIsStale', () => {
  it('is false while the holder runs and true once it has exited', () => {
    writeFileSync(lock, String(process.pid));
    expect(lockIsStale(lock)).toBe(false);

    writeFileSync(lock, deadPid());
    expect(lockIsStale(lock)).toBe(true);
  });

  it.each([
    ['empty (being written)', ''],
    ['garbage', 'not-a-pid'],
  ])('a lock file %s is stale only once older than a minute', (_label, content) => {
    writeFileSync(lock, content);
    expect(lockIsStale(lock)).toBe(false);

    const old = new Date(Date.now() - 61_000);
    utimesSync(lock, old, old);
    expect(lockIsStale(lock)).toBe(true);
  });

  it('a lock that went meanwhile is not stale (look again)', () => {
    expect(lockIsStale(lock)).toBe(false);
  });
});
