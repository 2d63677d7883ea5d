import { editDistance } from '../../core/edit-distance';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['snapshotId', 'snapshotId', 0],
    ['snapshotid', 'snapshotId', 1],
    ['snapshotI', 'snapshotId', 1],
    ['snaphsotId', 'snapshotId', 2],
    ['kitten', 'sitting', 3],
    ['retentionday', 'backupretentiondays', 7],
  ])('%j to %j is %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});
