import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterRoot, serverCanReach, serverTmpdir, writableTmpfs } from '../../harness/cluster-root';

describe('clusterRoot', () => {
  it('takes KB_TEST_PG_ROOT first, under jest or not', () => {
    expect(clusterRoot({ KB_TEST_PG_ROOT: '/srv/pg', JEST_WORKER_ID: '1' })).toBe('/srv/pg');
    expect(clusterRoot({ KB_TEST_PG_ROOT: '/srv/pg' })).toBe('/srv/pg');
  });

  it('outside jest (the drill, the benchmarks) uses the system temp folder', () => {
    expect(clusterRoot({})).toBe(tmpdir());
  });

  it('under jest uses /dev/shm only when it is a writable tmpfs with room', () => {
    expect(clusterRoot({ JEST_WORKER_ID: '1' })).toBe(writableTmpfs('/dev/shm') ? '/dev/shm' : tmpdir());
  });
});

describe('writableTmpfs', () => {
  it('is false for a folder that does not exist', () => {
    expect(writableTmpfs('/nonexistent/kb-dr')).toBe(false);
  });

  it('is false for a file system that is not a tmpfs', () => {
    expect(writableTmpfs('/proc')).toBe(false);
  });
});

describe('serverCanReach and serverTmpdir (as root, the servers run as postgres)', () => {
  let parent: string;
  beforeEach(() => {
    parent = mkdtempSync(join(tmpdir(), 'kb-reach-'));
    chmodSync(parent, 0o755);
  });
  afterEach(() => {
    rmSync(parent, { recursive: true, force: true });
  });

  it('a folder under a 0700 one (a root TMPDIR from mktemp -d) is out of reach, even when 1777 itself', () => {
    const closed = join(parent, 'closed');
    const open = join(closed, 'open');
    mkdirSync(open, { recursive: true });
    chmodSync(closed, 0o700);
    chmodSync(open, 0o1777);

    expect(serverCanReach(open, true)).toBe(false);
    expect(serverCanReach(closed, true)).toBe(false);
    expect(serverCanReach(parent, true)).toBe(true);
    // Not root: the server runs as us, and reaches whatever we reach.
    expect(serverCanReach(open, false)).toBe(true);
  });

  it('a folder that does not exist is out of reach', () => {
    expect(serverCanReach(join(parent, 'missing'), true)).toBe(false);
  });

  it('falls back to /tmp only when TMPDIR is out of reach', () => {
    const closed = join(parent, 'closed');
    mkdirSync(closed, { mode: 0o700 });
    expect(serverTmpdir(true, closed)).toBe('/tmp');
    expect(serverTmpdir(false, closed)).toBe(closed);
    expect(serverTmpdir(true, parent)).toBe(parent);
  });
});
