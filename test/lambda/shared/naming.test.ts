import {
  exportTaskIdFor,
  isKbSnapshotId,
  isValidDbInstanceId,
  manifestKey,
  parseSnapshotTime,
  snapshotIdFor,
  snapshotIdForExportTask,
} from '../../../lambda/shared/naming';

describe('snapshot naming', () => {
  it('names a snapshot after the UTC scheduled time', () => {
    expect(snapshotIdFor(new Date('2026-11-22T02:00:00Z'))).toBe('kb-snapshot-20261122-020000');
    expect(snapshotIdFor(new Date('2026-11-22T03:04:05+01:00'))).toBe('kb-snapshot-20261122-020405');
  });

  it('round-trips the time through the id', () => {
    const t = new Date('2026-01-02T23:59:58Z');
    expect(parseSnapshotTime(snapshotIdFor(t))?.toISOString()).toBe(t.toISOString());
  });

  it('rejects ids that are not kb-dr snapshots or encode impossible dates', () => {
    expect(isKbSnapshotId('rds:kb-prod-2026-11-22-02-00')).toBe(false);
    expect(isKbSnapshotId('kb-snapshot-20261332-250000')).toBe(false);
    expect(isKbSnapshotId('kb-snapshot-20261122-020000-extra')).toBe(false);
  });
});

describe('export task naming', () => {
  it('derives an id RDS accepts: starts with a letter, single hyphens, no trailing hyphen, <= 60 chars', () => {
    for (const attempt of [1, 2, 17]) {
      const id = exportTaskIdFor('kb-snapshot-20261122-020000', attempt);
      expect(id).toMatch(/^[a-zA-Z](?:[a-zA-Z0-9]|-(?!-))*[a-zA-Z0-9]$/);
      expect(id.length).toBeLessThanOrEqual(60);
      expect(snapshotIdForExportTask(id)).toBe('kb-snapshot-20261122-020000');
    }
    expect(exportTaskIdFor('kb-snapshot-20261122-020000', 2)).not.toBe(
      exportTaskIdFor('kb-snapshot-20261122-020000'),
    );
  });

  it('refuses to derive an export id from a foreign snapshot', () => {
    expect(() => exportTaskIdFor('rds:kb-prod-2026-11-22')).toThrow(/not a kb-dr snapshot id/);
  });
});

describe('other names', () => {
  it('keys manifests by snapshot id', () => {
    expect(manifestKey('kb-snapshot-20261122-020000')).toBe('manifests/kb-snapshot-20261122-020000.json');
  });

  it.each([
    ['kb-prod', true],
    ['a', true],
    ['1kb', false],
    ['kb--prod', false],
    ['kb-prod-', false],
    ['kb_prod', false],
    ['k'.repeat(64), false],
  ])('instance id %s valid: %s', (id, ok) => {
    expect(isValidDbInstanceId(id)).toBe(ok);
  });
});
