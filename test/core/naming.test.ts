import { loadRuntimeConfig } from '../../lambda/shared/env';
import {
  exportTaskIdFor,
  isKbSnapshotId,
  isValidDbInstanceId,
  manifestKey,
  normaliseInstanceId,
  parseSnapshotTime,
  sameInstanceId,
  snapshotIdFor,
  snapshotIdForExportTask,
} from '../../core/naming';

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

describe('instance id normalisation', () => {
  it('compares instance ids as RDS does: case-insensitively, lower case', () => {
    expect(normaliseInstanceId(' KB-Prod ')).toBe('kb-prod');
    expect(sameInstanceId('KB-Prod', 'kb-prod')).toBe(true);
    expect(sameInstanceId('kb-prod', 'kb-prod-2')).toBe(false);
    expect(sameInstanceId(undefined, 'kb-prod')).toBe(false);
  });

  it('reads a mixed-case KB_DB_INSTANCE_ID at cold start as the lower-case id RDS reports', () => {
    const config = loadRuntimeConfig({
      KB_DB_INSTANCE_ID: 'KB-Prod',
      KB_BACKUP_BUCKET: 'b',
      KB_EXPORT_ROLE_ARN: 'arn:aws:iam::123456789012:role/r',
      KB_KMS_KEY_ARN: 'arn:aws:kms:us-east-1:123456789012:key/k',
    });
    expect(config.dbInstanceId).toBe('kb-prod');
    expect(config.productionInstanceIds).toEqual(['kb-prod']);
  });
});
