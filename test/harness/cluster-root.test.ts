import { tmpdir } from 'node:os';
import { clusterRoot, writableTmpfs } from '../../harness/cluster-root';

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
